// The SQLite Store: kine's single-table log on one better-sqlite3 connection, one writer process.
//
// Writes are group-committed: every create/update/delete issued in the same event-loop turn is
// queued and applied in one transaction at the next setImmediate. Each write is still checked on
// its own (against the state left by the writes before it in the batch) and its promise settles
// only after the COMMIT has returned, so an acknowledged write is on disk. One commit (one fsync
// under synchronous=FULL) then serves a whole batch, which is what makes durable writes cheap.
//
// Watches need no polling: this process is the only writer, so after each commit the store hands
// the batch's events to its WatchHub. better-sqlite3 is synchronous, so a watch's replay read and
// its subscription happen in one synchronous block that no commit can interleave with: no gap, no
// duplicate.

import Database from 'better-sqlite3';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type WatchCallbacks,
  type WatchHandle,
} from './store.js';
import { SCHEMA, Statements, keyRange, type EventRow, type KvRow } from './sqlite-schema.js';
import { WatchHub } from './watch-hub.js';

/**
 * How hard a commit waits for the disk (SQLite's `synchronous` in WAL mode).
 * - NORMAL: the commit is written to the WAL but not fsynced; it survives `kill -9` of this
 *   process (the OS holds the data) but the last commits can be lost on power loss or a kernel
 *   crash.
 * - FULL: the WAL is fsynced at every commit; it survives power loss too.
 *
 * The default is FULL. Measured on the 2-core target machine by bench/store.ts (2 KB values):
 * with 20 concurrent writers and group commit, FULL gave 7,600–20,000 creates/s across runs and
 * NORMAL 8,300–21,000/s, because one fsync covers a whole batch; a lone writer (one commit per
 * write) showed the fsync's cost: FULL 700–5,900/s against NORMAL 5,500–16,000/s. FULL is far
 * above the 1,000 creates/s the apiserver needs, so there is no reason to give up power-loss
 * durability (etcd, whose place this store takes, fsyncs every commit too). NORMAL is for tests
 * and throwaway clusters.
 */
export type Durability = 'NORMAL' | 'FULL';

export interface SqliteStoreOptions {
  /** Default 'FULL'; see Durability. */
  durability?: Durability;
}

/** Revisions per compaction transaction: keeps each synchronous delete short for the event loop. */
const COMPACT_CHUNK = 10_000;

interface PendingWrite {
  op: 'create' | 'update' | 'delete';
  key: string;
  value: string;
  expected: number | undefined;
  resolve(kv: KeyValue): void;
  reject(err: unknown): void;
}

function kvOf(row: KvRow): KeyValue {
  return { key: row[0], value: row[1], createRevision: row[2], modRevision: row[3] };
}

function eventOf(row: EventRow): StoreEvent {
  const [rev, key, value, createRevision, deleted, prevRev, prevValue, prevCreate] = row;
  const ev: StoreEvent = { type: deleted ? 'DELETE' : 'PUT', kv: { key, value, createRevision, modRevision: rev } };
  if (prevRev !== null) ev.prevKv = { key, value: prevValue!, createRevision: prevCreate!, modRevision: prevRev };
  return ev;
}

/** Store statistics, for tests and metrics. */
export interface SqliteStoreStats {
  /** Rows in the history log (every kept revision, including the latest of each key). */
  historyRows: number;
  /** Pages in the database file, and how many of them are free for reuse. */
  pages: number;
  freePages: number;
}

/**
 * A Store persisted in one SQLite file (WAL mode). Contract as in store.ts. Only one SqliteStore
 * (one process) may open a file at a time: watches are fed by this process's own commits.
 * After close(), every call rejects with an Error and open watches end with onError.
 */
export class SqliteStore implements Store {
  private readonly st: Statements;
  private rev: number;
  private compacted: number;
  private closed = false;
  private readonly hub = new WatchHub();
  private pending: PendingWrite[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly commitBatch: (batch: PendingWrite[], out: Array<KeyValue | StoreError>, events: StoreEvent[]) => void;

  /** Opens (creating if needed) the store in file `path`. Throws if the file is not usable. */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    // No busy wait: the file is ours alone, so a lock held means another process has it.
    const db = new Database(path, { timeout: 0 });
    try {
      // Exclusive: this process's in-memory revision counter and watch fan-out assume it is the
      // only writer, so a second process opening the same file must fail, not interleave.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.durability ?? 'FULL'}`);
      // Reads through mmap skip a read() and a copy per page: a 10,000-object list took a third
      // of the time in bench/store.ts. Address space only; the OS page cache holds the data.
      db.pragma('mmap_size = 268435456');
      // A big batch or compaction can swell the WAL; give the space back after checkpoints.
      db.pragma('journal_size_limit = 67108864');
      db.exec(SCHEMA);
      return new SqliteStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(private readonly db: Database.Database) {
    this.st = new Statements(db);
    this.compacted = this.st.getMeta.get('compacted') ?? 0;
    this.rev = Math.max(this.st.maxRev.get() ?? 0, this.compacted);
    this.commitBatch = db.transaction((batch: PendingWrite[], out: Array<KeyValue | StoreError>, events: StoreEvent[]) => {
      for (let i = 0; i < batch.length; i++) {
        try {
          out[i] = this.apply(batch[i]!, events);
        } catch (err) {
          // An expected outcome fails only its own write; anything else aborts the batch.
          if (!(err instanceof StoreError)) throw err;
          out[i] = err;
        }
      }
    });
  }

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
    const row = this.st.getCurrent.get(key);
    return row && kvOf(row);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const at = opts.revision ?? 0;
    if (at > 0 && at < this.compacted) throw new CompactedError(at, this.compacted);
    // A revision in the future is read as the latest (there is nothing newer to show).
    const revision = at > 0 && at < this.rev ? at : this.rev;
    const range = keyRange(prefix, opts.after);
    const limit = opts.limit ?? 0;
    // Ask for one more than the limit: its presence is what `more` means.
    const want = limit > 0 ? limit + 1 : 0;
    const rows = revision === this.rev ? this.st.listLatest(range, want) : this.st.listAt(range, revision, want);
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    return { kvs: rows.map(kvOf), revision, more };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    return this.st.count(keyRange(prefix));
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue('create', key, value, undefined);
  }

  update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.enqueue('update', key, value, expectedModRevision);
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.enqueue('delete', key, '', expectedModRevision);
  }

  async watch(prefix: string, afterRevision: number, cb: WatchCallbacks): Promise<WatchHandle> {
    this.checkOpen();
    if (afterRevision < this.compacted) throw new CompactedError(afterRevision, this.compacted);
    // Read and subscribe in one synchronous block: no commit can land in between.
    const replay = afterRevision < this.rev ? this.st.events(keyRange(prefix), afterRevision).map(eventOf) : [];
    return this.hub.subscribe(prefix, replay, cb);
  }

  /**
   * Drops history at or below `revision`. Per key, the newest row at or below it is kept unless it
   * is a delete: it is either the key's live value or the prevKv of the key's first event above
   * `revision`, so replays from any revision ≥ `revision` stay complete. The new compacted revision
   * is recorded first (so no reader can start below it), then rows are deleted in chunks with the
   * event loop free in between. Throws RangeError for a revision above the current one.
   */
  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.rev) throw new RangeError(`cannot compact to ${revision}: current revision is ${this.rev}`);
    if (revision <= this.compacted) return;
    this.st.setMeta.run('compacted', revision);
    this.compacted = revision;
    let lo = (this.st.minRev.get() ?? revision) - 1;
    while (lo < revision) {
      const hi = Math.min(lo + COMPACT_CHUNK, revision);
      this.st.compactRange.run({ lo, hi, c: revision });
      lo = hi;
      if (lo < revision) {
        await new Promise((resolve) => setImmediate(resolve));
        this.checkOpen();
      }
    }
  }

  /** Commits writes already queued, ends watches, closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) {
      clearImmediate(this.flushTimer);
      this.flush();
    }
    this.closed = true;
    this.hub.closeAll(new Error('store is closed'));
    this.db.close();
  }

  /** Sizes of the history and the file, for tests and metrics. */
  stats(): SqliteStoreStats {
    this.checkOpen();
    return {
      historyRows: this.st.logRows.get()!,
      pages: this.db.pragma('page_count', { simple: true }) as number,
      freePages: this.db.pragma('freelist_count', { simple: true }) as number,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  private enqueue(op: PendingWrite['op'], key: string, value: string, expected: number | undefined): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<KeyValue>((resolve, reject) => {
      this.pending.push({ op, key, value, expected, resolve, reject });
      this.flushTimer ??= setImmediate(this.flush);
    });
  }

  /** Commits every queued write in one transaction, then publishes events and settles promises. */
  private readonly flush = (): void => {
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const startRev = this.rev;
    const out: Array<KeyValue | StoreError> = new Array(batch.length);
    const events: StoreEvent[] = [];
    try {
      this.commitBatch(batch, out, events);
    } catch (err) {
      // Rolled back: nothing of this batch exists, so its revisions are free again.
      this.rev = startRev;
      for (const w of batch) w.reject(err);
      return;
    }
    this.hub.publish(events);
    for (let i = 0; i < batch.length; i++) {
      const r = out[i]!;
      if (r instanceof StoreError) batch[i]!.reject(r);
      else batch[i]!.resolve(r);
    }
  };

  /** Checks and applies one write inside the batch transaction; throws StoreError on a failed check. */
  private apply(w: PendingWrite, events: StoreEvent[]): KeyValue {
    const row = this.st.getCurrent.get(w.key);
    if (w.op === 'create') {
      if (row) throw new KeyExistsError(w.key);
      const rev = this.rev + 1;
      this.st.insertLog.run(rev, w.key, w.value, rev, 0, 0);
      this.st.insertCurrent.run(w.key, rev);
      this.rev = rev;
      const kv = { key: w.key, value: w.value, createRevision: rev, modRevision: rev };
      events.push({ type: 'PUT', kv });
      return { ...kv };
    }
    if (!row) throw new KeyNotFoundError(w.key);
    const cur = kvOf(row);
    if (w.expected !== undefined && w.expected !== cur.modRevision) throw new RevisionMismatchError(w.key, cur);
    const rev = this.rev + 1;
    if (w.op === 'update') {
      this.st.insertLog.run(rev, w.key, w.value, cur.createRevision, cur.modRevision, 0);
      this.st.updateCurrent.run(rev, w.key);
    } else {
      this.st.insertLog.run(rev, w.key, cur.value, cur.createRevision, cur.modRevision, 1);
      this.st.deleteCurrent.run(w.key);
    }
    this.rev = rev;
    const value = w.op === 'update' ? w.value : cur.value;
    const kv = { key: w.key, value, createRevision: cur.createRevision, modRevision: rev };
    events.push({ type: w.op === 'update' ? 'PUT' : 'DELETE', kv, prevKv: cur });
    return { ...kv };
  }
}
