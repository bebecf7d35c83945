// Human durations as kubectl shows them (AGE, DURATION, LAST SEEN, "5 (3m ago)"): the two
// functions of k8s.io/apimachinery/pkg/util/duration, with their odd precision rules kept exactly,
// because users read `3m2s` vs `3m` as information. Pure: the caller supplies "now".

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's int(x) conversion of a float: truncation toward zero. */
function trunc(x: number): number {
  return Math.trunc(x);
}

/**
 * duration.HumanDuration: ~2-3 significant figures (`45s`, `119s`, `3m2s`, `10m`, `5h3m`, `2d3h`,
 * `400d`, `2y3d`). A duration slightly negative (down to -1.999s, clock skew) reads `0s`; more
 * negative than that reads `<invalid>`. `ms` is in milliseconds.
 */
export function humanDuration(ms: number): string {
  const seconds = trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = trunc(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${trunc(hours / 24)}d`;
  const years = trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const dy = trunc(hours / 24) % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/**
 * duration.ShortHumanDuration: one unit only (`59s`, `5m`, `23h`, `364d`, `2y`), the same
 * clock-skew tolerance as humanDuration. `ms` is in milliseconds.
 */
export function shortHumanDuration(ms: number): string {
  const seconds = trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = trunc(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = trunc(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${trunc(hours / 24)}d`;
  return `${trunc(hours / 24 / 365)}y`;
}

/** Parses a metav1.Time / MicroTime string; undefined when absent, empty or unparseable (Go's
 *  zero time, which serializes as null). */
export function parseTime(ts: unknown): number | undefined {
  if (typeof ts !== 'string' || ts === '') return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** translateTimestampSince: the age of a timestamp at `now` (epoch ms), `<unknown>` when the
 *  timestamp is absent. */
export function timestampSince(ts: unknown, now: number): string {
  const t = parseTime(ts);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}
