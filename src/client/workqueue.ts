// The rate-limited work queue of client-go (k8s.io/client-go/util/workqueue), which every
// controller drains: keys, not objects, so a burst of events for one object is one reconcile;
// a key being processed is never handed out twice at once; failures back off per key.
// Time comes from an injected Clock, so tests advance a FakeClock instead of sleeping.
import { realClock, type Clock } from '../util/clock.js';

/** Per-key exponential backoff (client-go's ItemExponentialFailureRateLimiter): the n-th failure
 *  of a key waits base·2ⁿ ms, capped at max. */
export interface RateLimiter<K> {
  /** How long to wait before retrying `key`, counting this as one more failure. */
  when(key: K): number;
  /** Failures counted for `key` since it was last forgotten. */
  numRequeues(key: K): number;
  /** Stops tracking `key`: its next failure starts again from the base delay. */
  forget(key: K): void;
}

/** client-go's DefaultControllerRateLimiter, item part: 5 ms base, 1000 s cap. */
export const DEFAULT_BASE_DELAY_MS = 5;
export const DEFAULT_MAX_DELAY_MS = 1000 * 1000;

export function exponentialRateLimiter<K>(baseMs = DEFAULT_BASE_DELAY_MS, maxMs = DEFAULT_MAX_DELAY_MS): RateLimiter<K> {
  const failures = new Map<K, number>();
  return {
    when(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      // 2^n overflows to Infinity long before n gets big; the cap handles it.
      return Math.min(baseMs * 2 ** n, maxMs);
    },
    numRequeues: (key) => failures.get(key) ?? 0,
    forget: (key) => void failures.delete(key),
  };
}

export interface WorkQueue<K = string> {
  /** Queues `key` unless it is already queued. A key being processed is queued again only once
   *  `done(key)` is called, so no two workers ever hold the same key. Ignored after shutDown. */
  add(key: K): void;
  /** Adds `key` after `ms` (now when ms <= 0). Several delays for one key keep the earliest. */
  addAfter(key: K, ms: number): void;
  /** Adds `key` after its rate limiter's next backoff (one more failure for the key). */
  addRateLimited(key: K): void;
  /** Clears the key's failure count: call it when the key was processed successfully. Does not
   *  remove the key from the queue. */
  forget(key: K): void;
  /** Failures counted for `key` (rate-limited adds since it was last forgotten). */
  numRequeues(key: K): number;
  /** The next key to process, waiting for one if the queue is empty. Resolves `undefined` once
   *  the queue is shut down (also for callers already waiting): workers should then stop. The
   *  caller must call `done(key)` when finished with it. */
  get(): Promise<K | undefined>;
  /** Marks `key` processed; if it was added meanwhile it goes back in the queue. */
  done(key: K): void;
  /** Stops the queue: pending gets resolve undefined, delayed adds are cancelled (no timers left
   *  behind), later adds are ignored. Queued keys are dropped, not drained. Idempotent. */
  shutDown(): void;
  isShuttingDown(): boolean;
  /** Keys waiting to be handed out (not counting those being processed or delayed). */
  len(): number;
}

export interface WorkQueueOptions<K> {
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
}

export function createWorkQueue<K = string>(opts: WorkQueueOptions<K> = {}): WorkQueue<K> {
  const clock = opts.clock ?? realClock;
  const limiter = opts.rateLimiter ?? exponentialRateLimiter<K>();
  const queue: K[] = [];
  let head = 0; // queue[head..] are waiting; compacted lazily so get() stays O(1)
  const dirty = new Set<K>(); // needs processing (queued, or re-added while processing)
  const processing = new Set<K>();
  const waiters: ((key: K | undefined) => void)[] = [];
  const delayed = new Map<K, { at: number; timer: { cancel(): void } }>();
  let shuttingDown = false;

  function push(key: K): void {
    const w = waiters.shift();
    if (w) {
      // Hand it straight to a waiting worker: it is being processed from now on.
      dirty.delete(key);
      processing.add(key);
      w(key);
    } else {
      queue.push(key);
    }
  }

  function take(): K {
    const key = queue[head] as K;
    head++;
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    dirty.delete(key);
    processing.add(key);
    return key;
  }

  const q: WorkQueue<K> = {
    add(key) {
      if (shuttingDown || dirty.has(key)) return;
      dirty.add(key);
      if (processing.has(key)) return;
      push(key);
    },
    addAfter(key, ms) {
      if (shuttingDown) return;
      if (ms <= 0) return q.add(key);
      const at = clock.now() + ms;
      const existing = delayed.get(key);
      if (existing) {
        if (existing.at <= at) return;
        existing.timer.cancel();
      }
      const timer = clock.setTimeout(() => {
        delayed.delete(key);
        q.add(key);
      }, ms);
      delayed.set(key, { at, timer });
    },
    addRateLimited(key) {
      q.addAfter(key, limiter.when(key));
    },
    forget: (key) => limiter.forget(key),
    numRequeues: (key) => limiter.numRequeues(key),
    get() {
      if (shuttingDown) return Promise.resolve(undefined);
      if (head < queue.length) return Promise.resolve(take());
      return new Promise((resolve) => waiters.push(resolve));
    },
    done(key) {
      if (!processing.delete(key)) return;
      if (dirty.has(key) && !shuttingDown) push(key);
    },
    shutDown() {
      if (shuttingDown) return;
      shuttingDown = true;
      for (const d of delayed.values()) d.timer.cancel();
      delayed.clear();
      queue.length = 0;
      head = 0;
      dirty.clear();
      for (const w of waiters.splice(0)) w(undefined);
    },
    isShuttingDown: () => shuttingDown,
    len: () => queue.length - head,
  };
  return q;
}
