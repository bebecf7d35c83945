// The scheduling queue (Kubernetes' PriorityQueue): pods waiting to be scheduled.
//   active        — ready now, highest priority first, then oldest first;
//   backoff       — failed recently; wait 1 s, doubling per attempt up to 10 s, then go active;
//   unschedulable — no node fits; they wait for a cluster event that could change that (a node
//                   added or changed, a pod deleted) rather than being polled, and are flushed
//                   back after 5 minutes at the latest, as upstream does.
import type { Clock } from '../util/clock.js';
import type { Pod } from './framework.js';

export interface QueuedPod {
  pod: Pod;
  key: string;
  attempts: number;
  /** When the pod first entered the queue (for ordering and latency). */
  firstSeen: number;
  /** When it last became active. */
  enqueued: number;
}

export interface QueueOptions {
  clock: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  unschedulableTimeoutMs?: number;
}

const keyOf = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;
const priorityOf = (pod: Pod) => pod.spec?.priority ?? 0;

/** A binary heap over active pods: priority desc, then enqueue time asc. */
class Heap {
  private a: QueuedPod[] = [];
  private readonly pos = new Map<string, number>();
  private less(x: QueuedPod, y: QueuedPod): boolean {
    const px = priorityOf(x.pod);
    const py = priorityOf(y.pod);
    return px !== py ? px > py : x.enqueued < y.enqueued;
  }
  private swap(i: number, j: number): void {
    const t = this.a[i]!;
    this.a[i] = this.a[j]!;
    this.a[j] = t;
    this.pos.set(this.a[i]!.key, i);
    this.pos.set(this.a[j]!.key, j);
  }
  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.a[i]!, this.a[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }
  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.a.length && this.less(this.a[l]!, this.a[m]!)) m = l;
      if (r < this.a.length && this.less(this.a[r]!, this.a[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
  get size(): number {
    return this.a.length;
  }
  has(key: string): boolean {
    return this.pos.has(key);
  }
  push(q: QueuedPod): void {
    this.a.push(q);
    this.pos.set(q.key, this.a.length - 1);
    this.up(this.a.length - 1);
  }
  pop(): QueuedPod | undefined {
    const top = this.a[0];
    if (!top) return undefined;
    this.remove(top.key);
    return top;
  }
  get(key: string): QueuedPod | undefined {
    const i = this.pos.get(key);
    return i === undefined ? undefined : this.a[i];
  }
  remove(key: string): QueuedPod | undefined {
    const i = this.pos.get(key);
    if (i === undefined) return undefined;
    const q = this.a[i]!;
    const last = this.a.pop()!;
    this.pos.delete(key);
    if (i < this.a.length) {
      this.a[i] = last;
      this.pos.set(last.key, i);
      this.down(i);
      this.up(i);
    }
    return q;
  }
}

export class SchedulingQueue {
  private readonly active = new Heap();
  private readonly backoff = new Map<string, { q: QueuedPod; until: number; timer: { cancel(): void } }>();
  private readonly unschedulable = new Map<string, { q: QueuedPod; since: number }>();
  /** Pods popped and being scheduled: their updates are kept until done(). */
  private readonly inFlight = new Map<string, Pod | null>();
  private waiter: ((q: QueuedPod | undefined) => void) | undefined;
  private closed = false;
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly unschedulableTimeout: number;
  private flushTimer: { cancel(): void } | undefined;

  constructor(opts: QueueOptions) {
    this.clock = opts.clock;
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.unschedulableTimeout = opts.unschedulableTimeoutMs ?? 300_000;
    this.scheduleFlush();
  }

  /** A new or changed pending pod. A pod already queued keeps its place but gets the new object. */
  add(pod: Pod): void {
    const key = keyOf(pod);
    if (this.inFlight.has(key)) {
      this.inFlight.set(key, pod);
      return;
    }
    const existing = this.active.get(key) ?? this.backoff.get(key)?.q ?? this.unschedulable.get(key)?.q;
    if (existing) {
      existing.pod = pod;
      // a pending pod that changed may now fit: give it another try
      const u = this.unschedulable.get(key);
      if (u) {
        this.unschedulable.delete(key);
        this.activate(u.q);
      }
      return;
    }
    const now = this.clock.now();
    this.activate({ pod, key, attempts: 0, firstSeen: now, enqueued: now });
  }

  /** The pod was deleted or bound elsewhere: forget it. */
  delete(pod: Pod): void {
    const key = keyOf(pod);
    this.active.remove(key);
    const b = this.backoff.get(key);
    if (b) {
      b.timer.cancel();
      this.backoff.delete(key);
    }
    this.unschedulable.delete(key);
    if (this.inFlight.has(key)) this.inFlight.set(key, null);
  }

  /** The next pod to schedule; waits for one. Resolves undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const q = this.active.pop();
    if (q) {
      this.inFlight.set(q.key, q.pod);
      return Promise.resolve(q);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Scheduling of `q` is over (bound, or requeued with one of the methods below). */
  done(q: QueuedPod): void {
    this.inFlight.delete(q.key);
  }

  /**
   * No node fits `q` now. It waits for a cluster event — unless one already happened while it
   * was being scheduled (`eventsSince`), in which case it goes straight to backoff.
   */
  addUnschedulable(q: QueuedPod, eventsDuringCycle: boolean): void {
    const latest = this.takeLatest(q);
    if (latest === null) return;
    q.attempts++;
    if (eventsDuringCycle) return this.addBackoff(q);
    this.unschedulable.set(q.key, { q, since: this.clock.now() });
  }

  /** A transient failure (binding error): retry after the pod's backoff. */
  addBackoff(q: QueuedPod): void {
    if (this.takeLatest(q) === null) return;
    const delay = Math.min(this.maxBackoff, this.initialBackoff * 2 ** Math.max(0, q.attempts - 1));
    const until = this.clock.now() + delay;
    const timer = this.clock.setTimeout(() => {
      this.backoff.delete(q.key);
      this.activate(q);
    }, delay);
    this.backoff.set(q.key, { q, until, timer });
  }

  /** Something changed that could make unschedulable pods fit: move them all on. */
  moveAllToActiveOrBackoff(): void {
    const now = this.clock.now();
    for (const [key, u] of this.unschedulable) {
      this.unschedulable.delete(key);
      const backoffEnd = u.since + Math.min(this.maxBackoff, this.initialBackoff * 2 ** Math.max(0, u.q.attempts - 1));
      if (backoffEnd > now) this.addBackoff(u.q);
      else this.activate(u.q);
    }
  }

  /** Replaces the queued copy with the newest object seen while in flight; null if deleted. */
  private takeLatest(q: QueuedPod): Pod | null | undefined {
    const latest = this.inFlight.get(q.key);
    this.inFlight.delete(q.key);
    if (latest === null) return null;
    if (latest) q.pod = latest;
    return latest;
  }

  private activate(q: QueuedPod): void {
    if (this.closed) return;
    q.enqueued = this.clock.now();
    const w = this.waiter;
    if (w && this.active.size === 0) {
      this.waiter = undefined;
      this.inFlight.set(q.key, q.pod);
      w(q);
      return;
    }
    this.active.push(q);
  }

  private scheduleFlush(): void {
    this.flushTimer = this.clock.setTimeout(() => {
      const now = this.clock.now();
      for (const [key, u] of this.unschedulable) {
        if (now - u.since >= this.unschedulableTimeout) {
          this.unschedulable.delete(key);
          this.activate(u.q);
        }
      }
      this.scheduleFlush();
    }, 30_000);
  }

  sizes(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }

  close(): void {
    this.closed = true;
    this.flushTimer?.cancel();
    for (const b of this.backoff.values()) b.timer.cancel();
    this.backoff.clear();
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}
