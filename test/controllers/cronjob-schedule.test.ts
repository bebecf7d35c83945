// Tables for cronjob-schedule.ts: next run times in UTC and other zones, across both DST changes
// (robfig/cron semantics: a time in the spring-forward gap is skipped, one in the fall-back hour
// runs twice), descriptors, what ParseStandard refuses, upstream's mostRecentScheduleTime and the
// requeue delay, the Job name and the scheduled-timestamp annotation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobNameFor, mostRecentScheduleTime, nextScheduleDelayMs, nextScheduleTime, parseSchedule, rfc1123z, scheduledTimestamp, timeZoneError } from '../../src/controllers/cronjob-schedule.js';

const T = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

describe('parseSchedule().next', () => {
  const cases: [string, string | undefined, string, string][] = [
    // schedule, timeZone, after, expected next (UTC)
    ['*/1 * * * *', undefined, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00.000Z'],
    ['*/1 * * * *', undefined, '2026-01-01T00:00:30.500Z', '2026-01-01T00:01:00.000Z'],
    ['*/15 * * * *', undefined, '2026-01-01T00:14:59Z', '2026-01-01T00:15:00.000Z'],
    ['@hourly', undefined, '2026-01-01T00:00:00Z', '2026-01-01T01:00:00.000Z'],
    ['@daily', undefined, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'],
    ['@midnight', undefined, '2026-01-01T10:00:00Z', '2026-01-02T00:00:00.000Z'],
    ['@weekly', undefined, '2026-01-01T00:00:00Z', '2026-01-04T00:00:00.000Z'], // a Sunday
    ['@monthly', undefined, '2026-01-15T00:00:00Z', '2026-02-01T00:00:00.000Z'],
    ['@yearly', undefined, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['@annually', undefined, '2026-06-01T00:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['@every 90s', undefined, '2026-01-01T00:00:00.400Z', '2026-01-01T00:01:30.000Z'],
    ['0 9 * * 1-5', undefined, '2026-01-02T10:00:00Z', '2026-01-05T09:00:00.000Z'], // Fri → Mon
    ['0 0 1 * MON', undefined, '2026-01-01T00:00:00Z', '2026-01-05T00:00:00.000Z'], // dom OR dow
    ['0 0 29 2 *', undefined, '2026-01-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    // Zones: 09:00 in Tokyo (UTC+9), in Kolkata (UTC+5:30), in New York in winter and summer.
    ['0 9 * * *', 'Asia/Tokyo', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'],
    ['0 9 * * *', 'Asia/Kolkata', '2026-01-01T00:00:00Z', '2026-01-01T03:30:00.000Z'],
    ['0 9 * * *', 'America/New_York', '2026-01-01T00:00:00Z', '2026-01-01T14:00:00.000Z'],
    ['0 9 * * *', 'America/New_York', '2026-07-01T00:00:00Z', '2026-07-01T13:00:00.000Z'],
    ['TZ=Asia/Tokyo 0 9 * * *', undefined, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'],
    ['CRON_TZ=Asia/Tokyo 0 9 * * *', 'Europe/Paris', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'],
    // Spring forward in New York, 2026-03-08 02:00 EST → 03:00 EDT: 02:30 does not exist that
    // day, so it next runs on the 9th; an hourly job goes 01:00 EST → 03:00 EDT.
    ['30 2 * * *', 'America/New_York', '2026-03-08T05:00:00Z', '2026-03-09T06:30:00.000Z'],
    ['0 * * * *', 'America/New_York', '2026-03-08T06:00:00Z', '2026-03-08T07:00:00.000Z'],
    ['0 3 * * *', 'America/New_York', '2026-03-08T05:00:00Z', '2026-03-08T07:00:00.000Z'],
    // Fall back, 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice and runs twice.
    ['30 1 * * *', 'America/New_York', '2026-11-01T04:00:00Z', '2026-11-01T05:30:00.000Z'],
    ['30 1 * * *', 'America/New_York', '2026-11-01T05:30:00Z', '2026-11-01T06:30:00.000Z'],
    ['30 1 * * *', 'America/New_York', '2026-11-01T06:30:00Z', '2026-11-02T06:30:00.000Z'],
    ['0 * * * *', 'America/New_York', '2026-11-01T05:00:00Z', '2026-11-01T06:00:00.000Z'],
    ['0 * * * *', 'America/New_York', '2026-11-01T06:00:00Z', '2026-11-01T07:00:00.000Z'],
    // Europe: the last Sunday of March, 02:00 CET → 03:00 CEST.
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-30T00:30:00.000Z'],
  ];
  for (const [sched, tz, after, want] of cases) {
    test(`${sched}${tz ? ` in ${tz}` : ''} after ${after} → ${want}`, () => {
      assert.equal(iso(parseSchedule(sched, tz).next(T(after))), want);
    });
  }

  const bad: [string, string | undefined, RegExp][] = [
    ['* * * *', undefined, /expected exactly 5 fields/],
    ['0 * * * * *', undefined, /expected exactly 5 fields/],
    ['@reboot', undefined, /unrecognized descriptor/],
    ['@every', undefined, /unrecognized descriptor/],
    ['@every x', undefined, /invalid duration/],
    ['61 * * * *', undefined, /./],
    ['0 0 L * *', undefined, /unsupported/],
    ['0 0 * * 1#2', undefined, /unsupported/],
    ['0 0 31 2 *', undefined, /./],
    ['0 0 * * *', 'Mars/Olympus', /provided bad location Mars\/Olympus: unknown time zone Mars\/Olympus/],
  ];
  for (const [sched, tz, re] of bad) {
    test(`refuses ${JSON.stringify(sched)}${tz ? ` in ${tz}` : ''}`, () => {
      assert.throws(() => parseSchedule(sched, tz), re);
    });
  }

  test('month and day names are fine', () => {
    assert.equal(iso(parseSchedule('0 0 * JUL WED').next(T('2026-01-01T00:00:00Z'))), '2026-07-01T00:00:00.000Z');
  });
});

describe('time zones', () => {
  test('Go LoadLocation names', () => {
    assert.equal(timeZoneError(''), undefined);
    assert.equal(timeZoneError('UTC'), undefined);
    assert.equal(timeZoneError('Europe/Paris'), undefined);
    assert.equal(timeZoneError('Nope/Nowhere'), 'unknown time zone Nope/Nowhere');
  });
  test('scheduled timestamp annotation is RFC 3339 in the zone', () => {
    assert.equal(scheduledTimestamp(T('2026-01-01T00:05:00Z')), '2026-01-01T00:05:00Z');
    assert.equal(scheduledTimestamp(T('2026-01-01T00:05:00Z'), 'Asia/Kolkata'), '2026-01-01T05:35:00+05:30');
    assert.equal(scheduledTimestamp(T('2026-01-01T14:00:00Z'), 'America/New_York'), '2026-01-01T09:00:00-05:00');
    assert.equal(scheduledTimestamp(T('2026-01-01T14:00:00Z'), 'Europe/London'), '2026-01-01T14:00:00Z');
  });
  test('RFC1123Z and job names', () => {
    assert.equal(rfc1123z(T('2026-01-01T00:05:00Z')), 'Thu, 01 Jan 2026 00:05:00 +0000');
    assert.equal(jobNameFor('tick', T('2026-01-01T00:05:00Z')), `tick-${T('2026-01-01T00:05:00Z') / 60000}`);
  });
});

describe('mostRecentScheduleTime and friends', () => {
  const every = parseSchedule('*/1 * * * *');
  const created = T('2026-01-01T00:00:00Z');
  test('nothing due before the first run', () => {
    assert.deepEqual(nextScheduleTime({ createdMs: created }, created + 30_000, every), { tooMany: false, error: undefined });
    assert.equal(nextScheduleDelayMs({ createdMs: created }, created + 30_000, every), 30_100);
  });
  test('the first run is due at its minute', () => {
    const r = nextScheduleTime({ createdMs: created }, created + 60_000, every);
    assert.equal(r.scheduledMs, created + 60_000);
    assert.equal(r.tooMany, false);
  });
  test('after downtime only the most recent missed time is due', () => {
    const r = nextScheduleTime({ createdMs: created, lastScheduleMs: created + 60_000 }, created + 10 * 60_000 + 5_000, every);
    assert.equal(r.scheduledMs, created + 10 * 60_000);
    assert.equal(r.tooMany, false);
    const m = mostRecentScheduleTime({ createdMs: created, lastScheduleMs: created + 60_000 }, created + 10 * 60_000 + 5_000, every, false);
    assert.equal(m.missed, 'few');
  });
  test('more than 100 missed is "many"', () => {
    const r = nextScheduleTime({ createdMs: created }, created + 200 * 60_000, every);
    assert.equal(r.scheduledMs, created + 200 * 60_000);
    assert.equal(r.tooMany, true);
  });
  test('the starting deadline narrows the window', () => {
    const st = { createdMs: created, startingDeadlineSeconds: 30 };
    assert.equal(nextScheduleTime(st, created + 200 * 60_000, every).tooMany, false);
    assert.equal(nextScheduleTime(st, created + 200 * 60_000 + 10_000, every).scheduledMs, created + 200 * 60_000);
    // 45 s late for a 30 s deadline: the window starts after it, nothing due.
    const hourly = parseSchedule('@hourly');
    assert.equal(nextScheduleTime(st, created + 3_600_000 + 45_000, hourly).scheduledMs, undefined);
  });
  test('a processed schedule time requeues for the next one', () => {
    assert.equal(nextScheduleDelayMs({ createdMs: created, lastScheduleMs: created + 60_000 }, created + 61_000, every), 59_100);
  });
  test('after many missed the requeue aims from now', () => {
    const hourly = parseSchedule('@hourly');
    assert.equal(nextScheduleDelayMs({ createdMs: created }, created + 3 * 3_600_000 + 60_000, hourly), 3_600_000 - 60_000 + 100);
  });
});
