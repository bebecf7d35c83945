// Many deadlines on one timer: a min-heap of (time, callback) with a single Clock timer armed for
// the earliest. Thousands of simulated pods each waiting a few seconds cost one heap entry apiece,
// not one runtime timer apiece, and a FakeClock drives the whole queue in tests.
import type { Clock } from './clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A cancellable scheduled callback. Cancelling twice, or after it ran, does nothing. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Callbacks run in deadline order (ties in scheduling order), each at or after its deadline,
 * never synchronously from `schedule`. A callback that throws is reported to `onError` (default:
 * ignored) and does not stop the others. After `stop()` nothing runs and no Clock timer is left
 * armed.
 */
export class TimerQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private armed: { at: number; timer: { cancel(): void } } | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  /** Runs `fn` at clock time `at` (ms since the epoch, as clock.now()). */
  scheduleAt(at: number, fn: () => void): TimerHandle {
    if (this.stopped) return { cancel() {} };
    const e: Entry = { at, seq: ++this.seq, fn, cancelled: false };
    this.push(e);
    this.arm();
    return { cancel: () => void (e.cancelled = true) };
  }

  /** Runs `fn` after `ms` milliseconds. */
  scheduleIn(ms: number, fn: () => void): TimerHandle {
    return this.scheduleAt(this.clock.now() + Math.max(0, ms), fn);
  }

  /** Entries waiting (cancelled ones may still be counted until their deadline passes). */
  size(): number {
    return this.heap.length;
  }

  /** Drops every entry and disarms the clock timer. Idempotent; later schedules are ignored. */
  stop(): void {
    this.stopped = true;
    this.heap = [];
    this.armed?.timer.cancel();
    this.armed = undefined;
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || this.stopped) return;
    if (this.armed && this.armed.at <= top.at) return;
    this.armed?.timer.cancel();
    const at = top.at;
    this.armed = { at, timer: this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now())) };
  }

  private fire(): void {
    this.armed = undefined;
    const now = this.clock.now();
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > now || this.stopped) break;
      this.pop();
      if (top.cancelled) continue;
      try {
        top.fn();
      } catch (e) {
        this.onError(e);
      }
    }
    this.arm();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
