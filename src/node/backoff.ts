// The CrashLoopBackOff of the node agent, as the kubelet does it: client-go's flowcontrol.Backoff
// (no jitter) driven by kuberuntime's doBackOff. A container that exits and should restart is
// restarted at once the first time; each later restart waits base, 2×base, 4×base … capped at max
// (10 s doubling to 5 min), counted from the moment the last instance *finished*. The count starts
// over when a container ran long enough: when its finish is more than `resetAfterMs` (10 min) after
// the previous restart (the kubelet's HasExpiredFunc, fixed at 600 s whatever the cap). Pure
// arithmetic on times the caller passes in; no timers, so a FakeClock or real times both work.

/** Which container a back-off belongs to. A new spec hash starts a fresh back-off, as the kubelet's
 *  getStableKey (pod name, namespace, uid, container name and the container spec's hash). */
export interface BackoffKey {
  podUid: string;
  podName: string;
  namespace: string;
  container: string;
  /** A hash of the container's spec, when the caller has one: changing the spec resets the back-off. */
  specHash?: string;
}

export interface ContainerBackoffOptions {
  /** First delay (kubelet: 10 s). */
  baseMs?: number;
  /** Cap (kubelet: MaxContainerBackOff, 300 s). A cap below the base lowers the base to it. */
  maxMs?: number;
  /** A container that finished this long after its last restart starts over (kubelet: 600 s). */
  resetAfterMs?: number;
}

/** What `tryRestart` decided. `waiting` means: do not start it now, report CrashLoopBackOff. */
export type BackoffDecision =
  | { waiting: false }
  | {
      waiting: true;
      /** How long until a restart is allowed. */
      remainingMs: number;
      /** state.waiting.message: `back-off 10s restarting failed container=c pod=p_ns(uid)`. */
      message: string;
      /** The BackOff event's message: `Back-off restarting failed container c in pod p_ns(uid)`. */
      event: string;
    };

interface Entry {
  backoffMs: number;
  /** When next() last moved this entry: about when the current instance was started. */
  lastUpdate: number;
  podUid: string;
}

export const DEFAULT_BACKOFF_BASE_MS = 10_000;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;
export const DEFAULT_BACKOFF_RESET_MS = 600_000;

/**
 * Per-container restart back-off. Not thread-affine, no timers: callers pass times (ms since the
 * epoch, as Clock.now()). Entries live until `forget(podUid)` or `gc(now)`.
 */
export class ContainerBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
  private entries = new Map<string, Entry>();

  constructor(options: ContainerBackoffOptions = {}) {
    const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.maxMs = max;
    this.baseMs = Math.min(base, max);
    this.resetAfterMs = options.resetAfterMs ?? DEFAULT_BACKOFF_RESET_MS;
  }

  /** The current delay for the key (0 when it has none): what the waiting message shows. */
  get(key: BackoffKey): number {
    return this.entries.get(keyString(key))?.backoffMs ?? 0;
  }

  /**
   * Moves the key's back-off to its next step (flowcontrol.Backoff.Next) and returns the new delay:
   * base for a new or expired entry, else double, capped. `finishedAt` is when the last instance
   * finished; `now` is recorded as the restart time.
   */
  next(key: BackoffKey, finishedAt: number, now: number): number {
    const id = keyString(key);
    const e = this.entries.get(id);
    let backoffMs: number;
    if (!e || this.expired(finishedAt, e.lastUpdate)) backoffMs = this.baseMs;
    else backoffMs = Math.min(e.backoffMs * 2, this.maxMs);
    this.entries.set(id, { backoffMs, lastUpdate: now, podUid: key.podUid });
    return backoffMs;
  }

  /**
   * Whether a container that finished at `finishedAt` must still wait (IsInBackOffSince): it has an
   * unexpired entry and less than the current delay has passed since it finished.
   */
  inBackoff(key: BackoffKey, finishedAt: number, now: number): BackoffDecision {
    const e = this.entries.get(keyString(key));
    if (!e || this.expired(finishedAt, e.lastUpdate)) return { waiting: false };
    const elapsed = now - finishedAt;
    if (elapsed >= e.backoffMs) return { waiting: false };
    const pod = formatPod(key);
    return {
      waiting: true,
      remainingMs: e.backoffMs - elapsed,
      message: `back-off ${formatGoDuration(e.backoffMs)} restarting failed container=${key.container} pod=${pod}`,
      event: `Back-off restarting failed container ${key.container} in pod ${pod}`,
    };
  }

  /**
   * The kubelet's doBackOff for an exited container the restart policy wants restarted: either
   * `waiting` (report CrashLoopBackOff, try again after remainingMs), or allowed — and then the
   * back-off has already moved on (next), so the caller must start the container now.
   */
  tryRestart(key: BackoffKey, finishedAt: number, now: number): BackoffDecision {
    const d = this.inBackoff(key, finishedAt, now);
    if (!d.waiting) this.next(key, finishedAt, now);
    return d;
  }

  /** Drops every entry of a pod (the pod is gone). */
  forget(podUid: string): void {
    for (const [id, e] of this.entries) if (e.podUid === podUid) this.entries.delete(id);
  }

  /** Drops entries that would start over anyway (flowcontrol.Backoff.GC); call now and then. */
  gc(now: number): void {
    for (const [id, e] of this.entries) if (this.expired(now, e.lastUpdate)) this.entries.delete(id);
  }

  /** Entries held (for tests and metrics). */
  size(): number {
    return this.entries.size;
  }

  private expired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > this.resetAfterMs;
  }
}

function keyString(k: BackoffKey): string {
  return `${k.podName}_${k.namespace}_${k.podUid}_${k.container}_${k.specHash ?? ''}`;
}

/** The kubelet's format.Pod: `name_namespace(uid)`. */
export function formatPod(p: { podName: string; namespace: string; podUid: string }): string {
  return `${p.podName}_${p.namespace}(${p.podUid})`;
}

/**
 * A duration as Go's time.Duration.String() prints it: `10s`, `1m20s`, `5m0s`, `1h0m0s`, `100ms`,
 * `1.5s`, `0s` — the form the kubelet's back-off message uses.
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    out = `${trimNumber(rest)}ms`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = `${trimNumber(rest / 1000)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

// 1.5 → "1.5", 20 → "20", 0.1 + 0.2 rounding noise removed (millisecond precision is all we keep).
function trimNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
