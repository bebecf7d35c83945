// An in-memory Store for unit tests: the same semantics as the SQLite store (one global revision
// counter, revisioned deletes, replay-then-live watches, compaction), kept as an append-only log
// array plus a map of each live key's latest log entry. Nothing is persisted.

import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type WatchCallbacks,
  type WatchHandle,
} from './store.js';
import { WatchHub } from './watch-hub.js';

/** One row of history: a write at revision `rev`. A delete row carries the key's last value. */
interface Entry {
  rev: number;
  key: string;
  value: string;
  createRevision: number;
  /** The row this write superseded in the same life of the key (0 for a create). */
  prevRevision: number;
  deleted: boolean;
}

function kvOf(e: Entry): KeyValue {
  return { key: e.key, value: e.value, createRevision: e.createRevision, modRevision: e.rev };
}

/**
 * A Store held in memory. Contract as in store.ts; every method is async and answers from the
 * state as of the call (writes apply immediately, in call order). After close(), every call
 * rejects and watches end with an error.
 */
export class MemoryStore implements Store {
  /** History in revision order (binary-searchable by rev). */
  private log: Entry[] = [];
  private readonly current = new Map<string, Entry>();
  private rev = 0;
  private compacted = 0;
  private closed = false;
  private readonly hub = new WatchHub();

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compacted;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen();
    const e = this.current.get(key);
    return e && kvOf(e);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const at = opts.revision ?? 0;
    if (at > 0 && at < this.compacted) throw new CompactedError(at, this.compacted);
    // A revision in the future is read as the latest (there is nothing newer to show).
    const revision = at > 0 && at < this.rev ? at : this.rev;
    const latest = revision === this.rev ? [...this.current.values()] : this.entriesAt(revision);
    const after = opts.after;
    const matching = latest
      .filter((e) => e.key.startsWith(prefix) && (after === undefined || e.key > after))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const limit = opts.limit ?? 0;
    const more = limit > 0 && matching.length > limit;
    const kvs = (more ? matching.slice(0, limit) : matching).map(kvOf);
    return { kvs, revision, more };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    let n = 0;
    for (const key of this.current.keys()) if (key.startsWith(prefix)) n++;
    return n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkOpen();
    if (this.current.has(key)) throw new KeyExistsError(key);
    const rev = ++this.rev;
    const e: Entry = { rev, key, value, createRevision: rev, prevRevision: 0, deleted: false };
    this.append(e, { type: 'PUT', kv: kvOf(e) });
    return kvOf(e);
  }

  async update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    this.checkOpen();
    const cur = this.checked(key, expectedModRevision);
    const rev = ++this.rev;
    const e: Entry = { rev, key, value, createRevision: cur.createRevision, prevRevision: cur.rev, deleted: false };
    this.append(e, { type: 'PUT', kv: kvOf(e), prevKv: kvOf(cur) });
    return kvOf(e);
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.checkOpen();
    const cur = this.checked(key, expectedModRevision);
    const rev = ++this.rev;
    const e: Entry = { rev, key, value: cur.value, createRevision: cur.createRevision, prevRevision: cur.rev, deleted: true };
    this.append(e, { type: 'DELETE', kv: kvOf(e), prevKv: kvOf(cur) });
    return kvOf(e);
  }

  async watch(prefix: string, afterRevision: number, cb: WatchCallbacks): Promise<WatchHandle> {
    this.checkOpen();
    if (afterRevision < this.compacted) throw new CompactedError(afterRevision, this.compacted);
    // Replay and subscribe in one synchronous block: no write can land in between.
    const replay: StoreEvent[] = [];
    for (let i = this.indexAfter(afterRevision); i < this.log.length; i++) {
      const e = this.log[i]!;
      if (e.key.startsWith(prefix)) replay.push(this.eventOf(e));
    }
    return this.hub.subscribe(prefix, replay, cb);
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.rev) throw new RangeError(`cannot compact to ${revision}: current revision is ${this.rev}`);
    if (revision <= this.compacted) return;
    // Keep, per key, the newest row at or below `revision` unless it is a delete: it is either the
    // key's live value or the prevKv of the first event above `revision`. Everything else at or
    // below goes. (The same rule as the SQLite store.)
    const newest = new Map<string, number>();
    for (const e of this.log) {
      if (e.rev > revision) break;
      newest.set(e.key, e.rev);
    }
    this.log = this.log.filter((e) => e.rev > revision || (!e.deleted && newest.get(e.key) === e.rev));
    this.compacted = revision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.closeAll(new Error('store is closed'));
  }

  /** Number of history rows kept (for tests of compaction). */
  historySize(): number {
    return this.log.length;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  private checked(key: string, expectedModRevision: number | undefined): Entry {
    const cur = this.current.get(key);
    if (!cur) throw new KeyNotFoundError(key);
    if (expectedModRevision !== undefined && expectedModRevision !== cur.rev) {
      throw new RevisionMismatchError(key, kvOf(cur));
    }
    return cur;
  }

  private append(e: Entry, event: StoreEvent): void {
    this.log.push(e);
    if (e.deleted) this.current.delete(e.key);
    else this.current.set(e.key, e);
    this.hub.publish([event]);
  }

  /** The live rows as of `revision` (newest row per key at or below it, not a delete). */
  private entriesAt(revision: number): Entry[] {
    const newest = new Map<string, Entry>();
    for (const e of this.log) {
      if (e.rev > revision) break;
      newest.set(e.key, e);
    }
    return [...newest.values()].filter((e) => !e.deleted);
  }

  private eventOf(e: Entry): StoreEvent {
    const ev: StoreEvent = { type: e.deleted ? 'DELETE' : 'PUT', kv: kvOf(e) };
    if (e.prevRevision > 0) {
      const prev = this.log[this.indexAfter(e.prevRevision - 1)];
      if (prev && prev.rev === e.prevRevision) ev.prevKv = kvOf(prev);
    }
    return ev;
  }

  /** Index of the first log row with rev > `revision`. */
  private indexAfter(revision: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid]!.rev <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
