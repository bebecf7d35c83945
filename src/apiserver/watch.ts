// WATCH: events of one resource from a revision, filtered by namespace and selectors, from the
// watch cache's window (or, for older revisions still in the store, from a store replay), with
// Kubernetes' selector transitions (an object that stops matching is DELETED for this watcher,
// one that starts matching is ADDED), initial events for resourceVersion ""/"0", bookmarks,
// and a server-side timeout.
import { errors } from '../api/errors.js';
import type { ResourceType } from '../api/kinds.js';
import { apiVersionOfResource } from '../api/kinds.js';
import type { KubeObject, WatchEventType } from '../api/types.js';
import { CompactedError, type StoreEvent } from '../store/store.js';
import { compileFilter } from './filter.js';
import type { Registry } from './registry.js';
import type { CacheEvent, CachedObject } from './watch-cache.js';
import { decode } from './watch-cache.js';

export interface WatchQuery {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

/** Where events go: the HTTP stream or an in-process iterator. */
export interface WatchSink {
  /** `obj` is a cached object (never mutate) or, for bookmarks, a synthetic one. */
  event(type: WatchEventType, obj: CachedObject | KubeObject): void;
  /** The watch ended on the server's side (timeout, shutdown). */
  end(): void;
}

export interface WatchOptions {
  bookmarkIntervalMs: number;
}

/** Starts a watch; resolves once it is registered (events flow from then on). Returns a stop function. */
export async function startWatch(reg: Registry, rt: ResourceType, namespace: string | undefined, q: WatchQuery, sink: WatchSink, opts: WatchOptions): Promise<() => void> {
  const filter = compileFilter(rt, q.labelSelector, q.fieldSelector);
  const prefix = reg.prefix(rt, namespace);
  const inScope = (o: CachedObject) => o.key.startsWith(prefix) && filter.match(o.obj);
  let lastRev = 0;
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];

  const deliver = (ev: CacheEvent) => {
    if (stopped || ev.rev <= lastRev) return;
    lastRev = ev.rev;
    const now = inScope(ev.cur);
    const before = ev.prev ? inScope(ev.prev) : false;
    if (ev.type === 'ADDED') {
      if (now) sink.event('ADDED', ev.cur);
    } else if (ev.type === 'MODIFIED') {
      if (now && before) sink.event('MODIFIED', ev.cur);
      else if (now) sink.event('ADDED', ev.cur);
      else if (before) sink.event('DELETED', ev.cur);
    } else if (before || now) {
      sink.event('DELETED', ev.cur);
    }
  };

  const rvParam = q.resourceVersion ?? '';
  let unsubscribe: () => void = () => {};
  let storeWatch: { close(): void } | undefined;

  if (rvParam === '' || rvParam === '0' || q.sendInitialEvents) {
    if (rvParam === '') await reg.cache.sync();
    // initial state as ADDED events, then live: done in one tick, so nothing falls in between
    lastRev = reg.cache.revision;
    const initial = reg.cache.list(rt, namespace).filter((o) => filter.match(o.obj));
    unsubscribe = reg.cache.subscribe(rt, deliver);
    for (const o of initial) sink.event('ADDED', o);
    if (q.sendInitialEvents && q.allowWatchBookmarks) sink.event('BOOKMARK', bookmark(rt, lastRev, true));
  } else {
    if (!/^\d+$/.test(rvParam)) throw errors.badRequest(`invalid resource version: ${rvParam}`);
    const from = Number(rvParam);
    // history at or below the compacted revision is gone, from the cache's window as from the store
    const compacted = await reg.store.compactedRevision();
    if (from < compacted) throw errors.expired(`too old resource version: ${from} (${compacted + 1})`);
    const replay = reg.cache.eventsSince(rt, from);
    if (replay) {
      lastRev = from;
      unsubscribe = reg.cache.subscribe(rt, deliver);
      for (const ev of replay) deliver(ev);
    } else {
      // Older than the cache's window: replay from the store's history, if it still has it.
      lastRev = from;
      try {
        storeWatch = await reg.store.watch(prefix, from, {
          onEvents: (evs) => {
            for (const e of evs) deliver(storeToCacheEvent(rt, e));
          },
          onError: () => finish(),
        });
      } catch (e) {
        if (e instanceof CompactedError) throw errors.expired(`too old resource version: ${from} (${e.compacted + 1})`);
        throw e;
      }
    }
  }

  const finish = () => {
    if (stopped) return;
    stop();
    sink.end();
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    storeWatch?.close();
    for (const t of timers) clearTimeout(t);
  };

  if (q.allowWatchBookmarks) {
    const tick = () => {
      if (stopped) return;
      sink.event('BOOKMARK', bookmark(rt, Math.max(lastRev, reg.cache.revision)));
      timers[0] = setTimeout(tick, opts.bookmarkIntervalMs);
      timers[0].unref();
    };
    timers[0] = setTimeout(tick, opts.bookmarkIntervalMs);
    timers[0].unref();
  }
  // kube-apiserver ends watches after timeoutSeconds, or a random 30–60 minutes
  const timeoutMs = q.timeoutSeconds && q.timeoutSeconds > 0 ? q.timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
  const t = setTimeout(finish, timeoutMs);
  t.unref();
  timers.push(t);
  return stop;
}

function storeToCacheEvent(rt: ResourceType, e: StoreEvent): CacheEvent {
  const cur = decode(rt, e.kv);
  const prev = e.prevKv ? decode(rt, e.prevKv) : undefined;
  const type = e.type === 'DELETE' ? 'DELETED' : prev ? 'MODIFIED' : 'ADDED';
  return { rev: e.kv.modRevision, type, rt, key: e.kv.key, cur, ...(prev ? { prev } : {}) };
}

function bookmark(rt: ResourceType, rev: number, initialEventsEnd = false): KubeObject {
  return {
    kind: rt.kind,
    apiVersion: apiVersionOfResource(rt),
    metadata: { resourceVersion: String(rev), ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
  };
}
