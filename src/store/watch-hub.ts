// In-process fan-out of committed store events to watchers, shared by every Store implementation
// that has a single writer process (memory, SQLite).
//
// Why a queue per watcher: a store publishes synchronously right after its commit, inside its own
// write path. Calling user callbacks there would let a slow or throwing callback break the commit
// path, and would deliver events before the writer's own promise settles in surprising orders.
// So publish() only appends to each matching watcher's queue; delivery happens in a microtask, in
// queue order. Because the replay batch is put in the queue at subscription time, before any live
// batch can be appended, replay always precedes live events for that watcher.

import type { StoreEvent, WatchCallbacks, WatchHandle } from './store.js';

interface Watcher {
  prefix: string;
  cb: WatchCallbacks;
  /** Pending batches; an Error entry ends the watch after the batches before it are delivered. */
  queue: Array<StoreEvent[] | Error>;
  scheduled: boolean;
  closed: boolean;
}

/** A copy the receiving watcher owns (the Store contract: returned objects are the caller's). */
function copyEvent(e: StoreEvent): StoreEvent {
  const out: StoreEvent = { type: e.type, kv: { ...e.kv } };
  if (e.prevKv) out.prevKv = { ...e.prevKv };
  return out;
}

/**
 * Fans out committed events to subscribers by key prefix.
 *
 * Contract: `subscribe` must be called in the same synchronous block as the replay read, and
 * `publish` in the same synchronous block as the commit; on a single JS thread that makes replay
 * and live delivery gap-free and duplicate-free. Each watcher receives its own copies of events.
 * A callback that throws ends that watcher only (its onError receives the thrown error).
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  /** Number of open watchers (for metrics and tests). */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Registers a watcher on `prefix`. `replay` (already filtered to the prefix, revision order) is
   * delivered first, as one batch, if non-empty. Returns a handle whose close() is idempotent.
   */
  subscribe(prefix: string, replay: StoreEvent[], cb: WatchCallbacks): WatchHandle {
    const w: Watcher = { prefix, cb, queue: [], scheduled: false, closed: false };
    this.watchers.add(w);
    if (replay.length > 0) this.enqueue(w, replay.map(copyEvent));
    return {
      close: () => {
        w.closed = true;
        w.queue.length = 0;
        this.watchers.delete(w);
      },
    };
  }

  /** Hands one commit's events (revision order) to every watcher whose prefix matches. */
  publish(events: StoreEvent[]): void {
    if (events.length === 0) return;
    for (const w of this.watchers) {
      let batch: StoreEvent[] | undefined;
      for (const e of events) {
        if (!e.kv.key.startsWith(w.prefix)) continue;
        (batch ??= []).push(copyEvent(e));
      }
      if (batch) this.enqueue(w, batch);
    }
  }

  /** Ends every watcher with `err` (after the events already queued for it). */
  closeAll(err: Error): void {
    for (const w of this.watchers) this.enqueue(w, err);
    this.watchers.clear();
  }

  private enqueue(w: Watcher, item: StoreEvent[] | Error): void {
    w.queue.push(item);
    if (w.scheduled) return;
    w.scheduled = true;
    queueMicrotask(() => this.drain(w));
  }

  private drain(w: Watcher): void {
    w.scheduled = false;
    while (!w.closed && w.queue.length > 0) {
      const item = w.queue.shift()!;
      if (item instanceof Error) {
        this.end(w, item);
        return;
      }
      try {
        w.cb.onEvents(item);
      } catch (err) {
        this.end(w, err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
  }

  private end(w: Watcher, err: Error): void {
    w.closed = true;
    w.queue.length = 0;
    this.watchers.delete(w);
    try {
      w.cb.onError?.(err);
    } catch {
      // The watcher is already gone; a throwing onError has nobody left to report to.
    }
  }
}
