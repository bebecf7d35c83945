// CronJob schedules, pure (pkg/controller/cronjob/utils.go of Kubernetes 1.32 over robfig/cron's
// ParseStandard). Parsing and the field arithmetic are cron-parser's; this file adds what
// Kubernetes does on top: only the standard 5 fields or a descriptor (@hourly … @midnight,
// `@every <duration>`), the `TZ=`/`CRON_TZ=` prefix, time zones as Go's LoadLocation accepts them,
// and robfig/cron's wall-clock semantics across DST: a run time is an instant whose local wall
// time matches the fields, so a time skipped by the spring-forward gap does not run that day and
// a time repeated by the fall-back runs twice. On top of that: the most recent missed schedule
// time (mostRecentScheduleTime), the next requeue delay and the Job name and scheduled-timestamp
// annotation.
import { CronExpressionParser, type CronExpression } from 'cron-parser';

/** A parsed schedule: the first run time strictly after `afterMs` (whole seconds, ms epoch). */
export interface Schedule {
  next(afterMs: number): number;
}

/** robfig/cron's descriptors, as 5-field expressions. */
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const NAMES = /JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT/gi;

/** Go's time.LoadLocation: '' and 'UTC' are UTC, 'Local' the machine's zone, else an IANA name.
 *  Returns the error text for an unknown zone. */
export function timeZoneError(tz: string): string | undefined {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone ${tz}`;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function zoneName(tz: string | undefined): string | undefined {
  if (!tz || tz === 'UTC') return 'UTC';
  return tz === 'Local' ? undefined : tz;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall clock in zone `tz` at instant `ms`. */
function wallClock(ms: number, tz: string | undefined): Wall {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zoneName(tz),
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(key, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) {
    if (part.type === 'weekday') p.weekday = WEEKDAYS.indexOf(part.value);
    else if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return p as unknown as Wall;
}

/** The zone's offset from UTC at instant `ms`, in ms (east positive). */
export function zoneOffsetMs(ms: number, tz: string | undefined): number {
  const p = wallClock(ms, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** Go's time.ParseDuration for what `@every` takes (h, m, s, ms, us/µs, ns; fractions allowed). */
function parseGoDuration(s: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;
  if (s === '' || s === '0') throw new Error(`time: invalid duration "${s}"`);
  let total = 0;
  re.lastIndex = 0;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) throw new Error(`time: invalid duration "${s}"`);
    total += Number(m[1]) * (units[m[2] ?? 's'] ?? 0);
  }
  return total;
}

const MINUTE = 60_000;

/**
 * cron.ParseStandard with Kubernetes' time zone: `schedule` may start with `TZ=<zone>` or
 * `CRON_TZ=<zone>` (which then wins), else runs in `timeZone` (UTC when unset). Throws an Error
 * whose message says what is wrong.
 */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  let spec = schedule.trim();
  let tz = timeZone;
  const prefix = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(spec);
  if (prefix) {
    tz = prefix[1];
    spec = spec.slice(prefix[0].length).trim();
  }
  if (tz !== undefined) {
    const err = timeZoneError(tz);
    if (err) throw new Error(`provided bad location ${tz}: ${err}`);
  }
  if (spec.startsWith('@every ')) {
    const ms = Math.max(1000, Math.round(parseGoDuration(spec.slice(7).trim()) / 1000) * 1000);
    return { next: (after) => Math.floor(after / 1000) * 1000 + ms };
  }
  if (spec.startsWith('@')) {
    const d = DESCRIPTORS[spec];
    if (!d) throw new Error(`unrecognized descriptor: ${spec}`);
    spec = d;
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${spec}`);
  if (fields.some((f) => /[LWH#]/i.test(f.replace(NAMES, '')))) throw new Error(`unsupported syntax in ${spec}`);
  const zone = zoneName(tz);
  const expr: CronExpression = CronExpressionParser.parse(spec, { tz: zone, strict: false });
  // cron-parser reports impossible dates (Feb 31) only when iterating: find out now.
  // (reset() would drop the zone: parse again from each starting point.)
  const raw = (from: number): number => CronExpressionParser.parse(spec, { tz: zone, strict: false, currentDate: new Date(from) }).next().getTime();
  raw(Date.UTC(2000, 0, 1));
  const f = expr.fields;
  const sets = {
    minute: new Set<number>(f.minute.values as number[]),
    hour: new Set<number>(f.hour.values as number[]),
    dom: new Set<number>(f.dayOfMonth.values as number[]),
    month: new Set<number>(f.month.values as number[]),
    dow: new Set<number>((f.dayOfWeek.values as number[]).map((d) => d % 7)),
  };
  const domStar = f.dayOfMonth.isWildcard || f.dayOfMonth.hasQuestionMarkChar;
  const dowStar = f.dayOfWeek.isWildcard || f.dayOfWeek.hasQuestionMarkChar;
  // robfig/cron's dayMatches: both days restricted → either; else both.
  const includes = (ms: number): boolean => {
    if (ms % MINUTE !== 0) return false;
    const w = wallClock(ms, tz);
    if (!sets.minute.has(w.minute) || !sets.hour.has(w.hour) || !sets.month.has(w.month)) return false;
    const d = sets.dom.has(w.day);
    const wd = sets.dow.has(w.weekday);
    return domStar || dowStar ? d && wd : d || wd;
  };

  return {
    next(after: number): number {
      const from = Math.floor(after / 1000) * 1000;
      // cron-parser's candidate; a time it moved out of a spring-forward gap does not match the
      // fields on the wall clock and is skipped, as robfig/cron does.
      let c = raw(from);
      for (let i = 0; i < 1000 && (c <= from || !includes(c)); i++) c = raw(Math.max(c, from));
      // Around a DST change cron-parser misses wall times: the second occurrence of a repeated
      // one and some just after a gap. Look at the minutes themselves within three hours of it.
      const H3 = 3 * 3_600_000;
      const off = zoneOffsetMs(from, tz);
      let lo: number | undefined;
      let hi = 0;
      if (off !== zoneOffsetMs(c, tz)) {
        let a = from;
        let b = c;
        while (b - a > MINUTE) {
          const mid = Math.floor((a + b) / 2 / 1000) * 1000;
          if (zoneOffsetMs(mid, tz) === off) a = mid;
          else b = mid;
        }
        lo = Math.max(from, b - H3);
        hi = Math.min(c, b + H3);
      } else if (zoneOffsetMs(from - H3, tz) !== off) {
        lo = from;
        hi = Math.min(c, from + H3);
      }
      if (lo !== undefined) {
        for (let m = Math.floor(lo / MINUTE) * MINUTE + MINUTE; m < hi; m += MINUTE) if (m > from && includes(m)) return m;
      }
      return c;
    },
  };
}

export type MissedSchedules = 'none' | 'few' | 'many';

export interface ScheduleState {
  /** metadata.creationTimestamp, ms. */
  createdMs: number;
  /** status.lastScheduleTime, ms. */
  lastScheduleMs?: number;
  startingDeadlineSeconds?: number;
}

export interface MostRecent {
  earliestMs: number;
  /** The most recent schedule time not after now, if any since earliest. */
  mostRecentMs?: number;
  missed: MissedSchedules;
  error?: string;
}

/** mostRecentScheduleTime (utils.go): the last run time at or before `now` since the last
 *  schedule time (or creation, or the starting deadline), and roughly how many were missed. */
export function mostRecentScheduleTime(st: ScheduleState, now: number, sched: Schedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = st.lastScheduleMs ?? st.createdMs;
  if (includeStartingDeadline && st.startingDeadlineSeconds !== undefined) {
    const deadline = now - st.startingDeadlineSeconds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  const t1 = sched.next(earliest);
  const t2 = sched.next(t1);
  if (now < t1) return { earliestMs: earliest, missed: 'none' };
  if (now < t2) return { earliestMs: earliest, mostRecentMs: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliestMs: earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = sched.next(potentialEarliest); t <= now; t = sched.next(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliestMs: earliest, mostRecentMs: mostRecent, missed };
}

/** nextScheduleTime: the unmet schedule time to start a Job for now, if any (the starting
 *  deadline applied); `tooMany` when more than 100 were missed (upstream warns). */
export function nextScheduleTime(st: ScheduleState, now: number, sched: Schedule): { scheduledMs?: number; tooMany: boolean; error?: string } {
  const r = mostRecentScheduleTime(st, now, sched, true);
  if (r.mostRecentMs === undefined || r.mostRecentMs > now) return { tooMany: false, error: r.error };
  return { scheduledMs: r.mostRecentMs, tooMany: r.missed === 'many', error: r.error };
}

/** Upstream's padding after the next schedule time, against clock skew. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

/** nextScheduleTimeDuration: how long until the next schedule time (plus 100 ms). */
export function nextScheduleDelayMs(st: ScheduleState, now: number, sched: Schedule): number {
  const r = mostRecentScheduleTime(st, now, sched, false);
  let base: number;
  if (r.error) base = now;
  else if (r.mostRecentMs === undefined) base = r.missed === 'none' ? r.earliestMs : now;
  else base = r.mostRecentMs;
  return sched.next(base) + NEXT_SCHEDULE_DELTA_MS - now;
}

/** getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function jobNameFor(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/** The batch.kubernetes.io/cronjob-scheduled-timestamp value: RFC 3339 in the CronJob's zone,
 *  as Go formats it (`Z` for a zero offset). */
export function scheduledTimestamp(scheduledMs: number, timeZone?: string): string {
  const off = zoneOffsetMs(scheduledMs, timeZone);
  const wall = new Date(Math.floor(scheduledMs / 1000) * 1000 + off).toISOString().slice(0, 19);
  if (off === 0) return `${wall}Z`;
  const a = Math.abs(off) / 60_000;
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${wall}${off < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** Go's time.RFC1123Z of an instant in UTC, as the MissSchedule event prints it. */
export function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
