// An informer (client-go's Reflector + shared informer, one resource type): LIST, then WATCH from
// the list's resourceVersion, keeping a local cache current and telling handlers what changed.
// When the server says the history is gone (410 Expired, as a refused watch or an ERROR event) it
// lists again and reconciles the cache with the new list; when a watch simply ends (server
// timeout) or the server cannot be reached for a moment, it watches again from the last
// resourceVersion seen. Failures back off (0.8 s doubling to 30 s, as client-go's reflector). Controllers read the cache and never call the API to read.
import type { ResourceType } from '../api/kinds.js';
import { isStatusError, StatusError } from '../api/errors.js';
import type { KubeObject, Status, WatchEvent } from '../api/types.js';
import { realClock, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { createIndexer, objectCacheKey, type Indexer } from './cache.js';
import type { Client, ListOptions } from './client.js';
import type { WatchStream } from './transport.js';

const log = logger('informer');

export interface InformerOptions {
  /** Only this namespace (all namespaces when absent). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every resyncMs, onUpdate(obj, obj) is called for every cached object (0/absent: never), so
   *  level-triggered controllers revisit everything now and then. */
  resyncMs?: number;
  /** LIST page size (default 500, as client-go). */
  pageSize?: number;
  clock?: Clock;
  /** Backoff after a failed list or watch: first delay and cap, in ms (default 800 and 30 000). */
  backoffMs?: { initial: number; max: number };
}

/**
 * Handlers receive the cache's own objects: they must not mutate them (clone first). A handler
 * that throws is logged and does not stop the informer. Semantics:
 * - onAdd(obj): an object appeared (also, once per cached object, for a handler added after sync).
 * - onUpdate(old, new): an object changed (on a relist: only if its resourceVersion changed; on a
 *   resync: old === new).
 * - onDelete(obj): an object went away; `obj` is its final state as the server sent it, or the last
 *   state the cache knew when the deletion was only noticed by a relist.
 */
export interface Informer<T extends KubeObject = KubeObject> {
  /** The local cache (namespace index built in; add your own with addIndexer before start). */
  readonly cache: Indexer<T>;
  onAdd(fn: (obj: T) => void): void;
  onUpdate(fn: (oldObj: T, newObj: T) => void): void;
  onDelete(fn: (obj: T) => void): void;
  /** True once the first LIST has been put in the cache (and handlers called for it). */
  hasSynced(): boolean;
  /** Resolves when hasSynced(); rejects if the informer is stopped first. */
  waitForSync(): Promise<void>;
  /** Begins listing and watching. Idempotent; an informer cannot be restarted after stop(). */
  start(): void;
  /** Ends the watch and every timer; no handler is called afterwards. Idempotent. */
  stop(): void;
  /** The resourceVersion the informer has caught up to ("" before the first list). */
  lastSyncResourceVersion(): string;
}

/** A watch shorter than this that delivered nothing counts as a failure (client-go's "very short
 *  watch"), so a server that keeps closing watches is not hammered. */
const SHORT_WATCH_MS = 1000;

function isRetriableWatchError(e: unknown): boolean {
  if (isStatusError(e)) return e.code === 429;
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

export function createInformer<T extends KubeObject = KubeObject>(client: Client, rt: ResourceType, opts: InformerOptions = {}): Informer<T> {
  const clock = opts.clock ?? realClock;
  const cache = createIndexer<T>();
  const addFns: ((o: T) => void)[] = [];
  const updateFns: ((a: T, b: T) => void)[] = [];
  const deleteFns: ((o: T) => void)[] = [];
  const syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const backoff = { initial: opts.backoffMs?.initial ?? 800, max: opts.backoffMs?.max ?? 30_000 };
  let delay = backoff.initial;
  let synced = false;
  let started = false;
  let stopped = false;
  let rv = '';
  let stream: WatchStream<T> | undefined;
  let sleeping: { timer: { cancel(): void }; wake: () => void } | undefined;
  let resyncTimer: { cancel(): void } | undefined;

  const baseQuery = (): ListOptions => ({
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
  });

  function call<A extends unknown[]>(fns: ((...a: A) => void)[], ...args: A): void {
    for (const fn of fns) {
      if (stopped) return;
      try {
        fn(...args);
      } catch (e) {
        log.error('event handler failed', { resource: rt.plural, error: String(e) });
      }
    }
  }

  /** Waits on the injected clock; stop() wakes it early. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        sleeping = undefined;
        resolve();
      }, ms);
      sleeping = { timer, wake: resolve };
    });
  }

  /** LIST every page, then reconcile the cache with the result (a relist is a diff, not a reset). */
  async function listAndReplace(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let listRv = '';
    do {
      const page = await client.list<T>(rt, { ...baseQuery(), limit: opts.pageSize ?? 500, ...(cont ? { continue: cont } : {}) });
      if (stopped) return;
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      listRv = page.metadata.resourceVersion ?? '';
    } while (cont);
    // List items carry no apiVersion/kind; give them the kind's, as client-go's decoding does.
    for (const it of items) {
      it.apiVersion ??= rt.group ? `${rt.group}/${rt.version}` : rt.version;
      it.kind ??= rt.kind;
    }
    const fresh = new Map(items.map((o) => [objectCacheKey(o), o] as const));
    const gone = cache.list().filter((o) => !fresh.has(objectCacheKey(o)));
    const before = new Map(cache.list().map((o) => [objectCacheKey(o), o] as const));
    cache.replace(items);
    rv = listRv;
    for (const o of gone) call(deleteFns, o);
    for (const [key, o] of fresh) {
      const old = before.get(key);
      if (!old) call(addFns, o);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) call(updateFns, old, o);
    }
    if (!synced && !stopped) {
      synced = true;
      for (const w of syncWaiters.splice(0)) w.resolve();
    }
  }

  /** Applies one watch event. Returns 'expired' for a 410 ERROR event; throws for other errors. */
  function apply(ev: WatchEvent<T>): 'ok' | 'expired' {
    if (ev.type === 'ERROR') {
      const status = ev.object as unknown as Status;
      if (status.code === 410) return 'expired';
      throw new StatusError(status);
    }
    const obj = ev.object;
    const objRv = obj.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (objRv) rv = objRv;
      return 'ok';
    }
    obj.apiVersion ??= rt.group ? `${rt.group}/${rt.version}` : rt.version;
    obj.kind ??= rt.kind;
    const key = objectCacheKey(obj);
    const old = cache.get(key);
    if (ev.type === 'DELETED') {
      cache.delete(key);
      if (objRv) rv = objRv;
      call(deleteFns, obj);
    } else {
      cache.update(obj);
      if (objRv) rv = objRv;
      if (old) call(updateFns, old, obj);
      else call(addFns, obj);
    }
    return 'ok';
  }

  /** One WATCH from `rv`: 'ended' when the server closed it, 'expired' on 410. */
  async function watchOnce(): Promise<'ended' | 'expired'> {
    // As client-go: a random timeout between 5 and 10 minutes spreads reconnections out.
    const timeoutSeconds = Math.floor(300 * (1 + Math.random()));
    const s = await client.watch<T>(rt, { ...baseQuery(), resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds });
    if (stopped) {
      s.close();
      return 'ended';
    }
    stream = s;
    const began = clock.now();
    let events = 0;
    try {
      for await (const ev of s) {
        if (stopped) break;
        events++;
        if (apply(ev) === 'expired') return 'expired';
        delay = backoff.initial; // a working watch resets the backoff
      }
    } finally {
      s.close();
      stream = undefined;
    }
    if (!stopped && events === 0 && clock.now() - began < SHORT_WATCH_MS) {
      throw new Error(`very short watch: ${rt.plural}: unexpected watch close - watch lasted less than a second and no items received`);
    }
    return 'ended';
  }

  async function run(): Promise<void> {
    let needList = true;
    while (!stopped) {
      try {
        if (needList) {
          await listAndReplace();
          needList = false;
        }
        if (stopped) break;
        if ((await watchOnce()) === 'expired') {
          log.debug('watch expired, relisting', { resource: rt.plural, resourceVersion: rv });
          needList = true;
        }
      } catch (e) {
        if (stopped) break;
        if (isStatusError(e) && e.code === 410) {
          log.debug('watch refused as expired, relisting', { resource: rt.plural, resourceVersion: rv });
          needList = true; // history compacted: relist at once, as client-go does
          continue;
        }
        // A server that is restarting or throttling: keep the resourceVersion and watch again
        // after the backoff, so a short outage costs no relist (client-go's isWatchErrorRetriable).
        const rewatch = !needList && isRetriableWatchError(e);
        log.warn(rewatch ? 'watch failed, retrying' : 'list/watch failed, relisting', { resource: rt.plural, error: e instanceof Error ? e.message : String(e), retryInMs: delay });
        if (!rewatch) needList = true;
        await sleep(delay);
        delay = Math.min(delay * 2, backoff.max);
      }
    }
  }

  function scheduleResync(): void {
    if (!opts.resyncMs || stopped) return;
    resyncTimer = clock.setTimeout(() => {
      if (synced) for (const o of cache.list()) call(updateFns, o, o);
      scheduleResync();
    }, opts.resyncMs);
  }

  return {
    cache,
    onAdd(fn) {
      addFns.push(fn);
      // A late handler still learns about every object, as client-go's AddEventHandler does.
      if (synced) for (const o of cache.list()) call([fn], o);
    },
    onUpdate: (fn) => void updateFns.push(fn),
    onDelete: (fn) => void deleteFns.push(fn),
    hasSynced: () => synced,
    waitForSync() {
      if (synced) return Promise.resolve();
      if (stopped) return Promise.reject(new Error(`informer for ${rt.plural} stopped before it synced`));
      return new Promise((resolve, reject) => syncWaiters.push({ resolve, reject }));
    },
    start() {
      if (started || stopped) return;
      started = true;
      scheduleResync();
      void run();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      stream?.close();
      resyncTimer?.cancel();
      if (sleeping) {
        sleeping.timer.cancel();
        sleeping.wake();
        sleeping = undefined;
      }
      for (const w of syncWaiters.splice(0)) w.reject(new Error(`informer for ${rt.plural} stopped before it synced`));
    },
    lastSyncResourceVersion: () => rv,
  };
}
