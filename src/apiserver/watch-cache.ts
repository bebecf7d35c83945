// The apiserver's view of the store, kept in memory (kube-apiserver's watch cache): every live
// object decoded once, with its JSON ready to send, plus a window of recent events. Lists, gets
// and watches are served from here; one store watch feeds everything, and one fan-out serves all
// watchers, so a hundred `kubectl get -w` cost one decode per change, not a hundred queries.
//
// Consistency: the cache follows the store's revision. Readers that need to see their own
// writes call waitFor(revision) first; with the SQLite store, events arrive before a write is
// acknowledged, so the wait is nearly always free.
import { RESOURCES, keyPrefix, type ResourceType } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { KeyValue, Store, StoreEvent, WatchHandle } from '../store/store.js';
import { logger } from '../util/log.js';

const log = logger('watch-cache');

/** A decoded object. Shared by every reader: never mutate `obj`. */
export interface CachedObject {
  key: string;
  rt: ResourceType;
  obj: KubeObject;
  /** `JSON.stringify(obj)`, computed once. */
  json: string;
  rev: number;
}

export interface CacheEvent {
  rev: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rt: ResourceType;
  key: string;
  /** The object after the change (for DELETED: its last state, with the delete's resourceVersion). */
  cur: CachedObject;
  /** The object before the change (absent for ADDED). */
  prev?: CachedObject;
}

export type CacheListener = (ev: CacheEvent) => void;

// What registry.encode() writes first: `{"apiVersion":"…","kind":"…","metadata":{`.
const HEAD = /^\{(?:"apiVersion":"[^"\\]*",)?(?:"kind":"[^"\\]*",)?"metadata":\{/;

export function decode(rt: ResourceType, kv: KeyValue, rev = kv.modRevision): CachedObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  const version = String(rev);
  obj.metadata.resourceVersion = version;
  // The stored JSON lacks only the resourceVersion (encode() strips it): splice it in rather
  // than serialize the object again.
  const head = HEAD.exec(kv.value);
  let json: string;
  if (head) {
    const at = head[0].length;
    const field = `"resourceVersion":${JSON.stringify(version)}`;
    json = kv.value.slice(0, at) + field + (kv.value[at] === '}' ? '' : ',') + kv.value.slice(at);
  } else {
    json = JSON.stringify(obj);
  }
  return { key: kv.key, rt, obj, json, rev };
}

/** Maps a storage key to its resource type by the longest matching prefix. */
function resourceOfKey(key: string): ResourceType | undefined {
  let best: ResourceType | undefined;
  let bestLen = 0;
  for (const rt of RESOURCES) {
    const p = keyPrefix(rt);
    if (key.startsWith(p) && p.length > bestLen) {
      best = rt;
      bestLen = p.length;
    }
  }
  return best;
}

const WINDOW = 20_000;

export class WatchCache {
  private readonly byResource = new Map<ResourceType, Map<string, CachedObject>>();
  private readonly listeners = new Map<ResourceType, Set<CacheListener>>();
  private readonly window: CacheEvent[] = [];
  private waiters: { rev: number; resolve: () => void }[] = [];
  private storeWatch?: WatchHandle;
  /** Events above this revision are all in `window` (or the window is empty and none happened). */
  private windowStart: number;
  private rev: number;
  private readonly keyTypes = new Map<string, ResourceType | null>();

  private constructor(private readonly store: Store, rev: number) {
    this.rev = rev;
    this.windowStart = rev;
    for (const rt of RESOURCES) this.byResource.set(rt, new Map());
  }

  /** Loads every object and follows the store from there on. */
  static async start(store: Store): Promise<WatchCache> {
    const all = await store.list('/registry/');
    const cache = new WatchCache(store, all.revision);
    for (const kv of all.kvs) {
      const rt = cache.typeOf(kv.key);
      if (rt) cache.byResource.get(rt)!.set(kv.key, decode(rt, kv));
    }
    cache.storeWatch = await store.watch('/registry/', all.revision, {
      onEvents: (evs) => cache.apply(evs),
      onError: (err) => log.error('store watch ended', { err: err.message }),
    });
    return cache;
  }

  private typeOf(key: string): ResourceType | undefined {
    const prefixEnd = key.lastIndexOf('/');
    const dir = key.slice(0, prefixEnd + 1);
    let rt = this.keyTypes.get(dir);
    if (rt === undefined) {
      rt = resourceOfKey(key) ?? null;
      this.keyTypes.set(dir, rt);
    }
    return rt ?? undefined;
  }

  private apply(events: StoreEvent[]): void {
    for (const e of events) {
      const rt = this.typeOf(e.kv.key);
      const rev = e.kv.modRevision;
      if (rev > this.rev) this.rev = rev;
      if (!rt) continue;
      const objects = this.byResource.get(rt)!;
      const prev = objects.get(e.kv.key);
      let ev: CacheEvent;
      if (e.type === 'DELETE') {
        objects.delete(e.kv.key);
        ev = { rev, type: 'DELETED', rt, key: e.kv.key, cur: decode(rt, e.kv, rev), ...(prev ? { prev } : {}) };
      } else {
        const cur = decode(rt, e.kv);
        objects.set(e.kv.key, cur);
        ev = { rev, type: prev ? 'MODIFIED' : 'ADDED', rt, key: e.kv.key, cur, ...(prev ? { prev } : {}) };
      }
      this.window.push(ev);
      const ls = this.listeners.get(rt);
      if (ls) for (const l of ls) l(ev);
    }
    if (this.window.length > WINDOW) {
      const drop = this.window.length - WINDOW;
      this.windowStart = this.window[drop - 1]!.rev;
      this.window.splice(0, drop);
    }
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.rev <= this.rev);
      this.waiters = this.waiters.filter((w) => w.rev > this.rev);
      for (const w of ready) w.resolve();
    }
  }

  get revision(): number {
    return this.rev;
  }

  /** Resolves once the cache has seen every write up to `rev`. */
  waitFor(rev: number): Promise<void> {
    if (rev <= this.rev) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rev, resolve }));
  }

  /** Waits until the cache reflects everything the store has acknowledged. */
  async sync(): Promise<void> {
    await this.waitFor(await this.store.currentRevision());
  }

  get(rt: ResourceType, key: string): CachedObject | undefined {
    return this.byResource.get(rt)!.get(key);
  }

  /** Live objects of a resource (in a namespace if given), in key order. */
  list(rt: ResourceType, namespace?: string): CachedObject[] {
    const all = [...this.byResource.get(rt)!.values()];
    const prefix = namespace !== undefined && rt.namespaced ? keyPrefix(rt, namespace) : undefined;
    const out = prefix ? all.filter((o) => o.key.startsWith(prefix)) : all;
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  count(rt: ResourceType): number {
    return this.byResource.get(rt)!.size;
  }

  /**
   * Events of `rt` with revision > `rev`, or undefined when the window no longer reaches back
   * that far (the caller then replays from the store, or answers 410).
   */
  eventsSince(rt: ResourceType, rev: number): CacheEvent[] | undefined {
    if (rev < this.windowStart) return undefined;
    let lo = 0;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.window[mid]!.rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return this.window.slice(lo).filter((e) => e.rt === rt);
  }

  /** Calls `fn` for every future event of `rt`, synchronously as the cache applies it. */
  subscribe(rt: ResourceType, fn: CacheListener): () => void {
    let set = this.listeners.get(rt);
    if (!set) this.listeners.set(rt, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  stop(): void {
    this.storeWatch?.close();
    this.listeners.clear();
  }
}
