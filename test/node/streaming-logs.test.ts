// The CRI log reader behind `kubectl logs`, on real files: partial lines joined, timestamps,
// tail, since, byte limits, and follow that streams appended lines and ends when the container stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCriLine, parseLogQuery, streamLog, type LogOptions } from '../../src/node/streaming/logs.js';
import { until } from '../support/eventually.js';

const FILE = [
  '2026-01-01T00:00:01.000000001Z stdout F one',
  '2026-01-01T00:00:02.000000002Z stderr P tw',
  '2026-01-01T00:00:02.500000000Z stderr F o',
  '2026-01-01T00:00:03.000000003Z stdout F ',
  '2026-01-01T00:00:04.000000004Z stdout F four',
  '',
].join('\n');

function withFile(content: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-logs-'));
  const path = join(dir, '0.log');
  writeFileSync(path, content);
  return fn(path).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function read(path: string, opts: Partial<LogOptions>, running = () => false): Promise<string> {
  let out = '';
  await streamLog(path, { follow: false, timestamps: false, ...opts }, running, { write: (s) => ((out += s), true) });
  return out;
}

test('a CRI line is split into time, stream, partial flag and text', () => {
  assert.deepEqual(parseCriLine('2026-01-01T00:00:01Z stdout F hello world'), { time: '2026-01-01T00:00:01Z', stream: 'stdout', partial: false, text: 'hello world' });
  assert.deepEqual(parseCriLine('2026-01-01T00:00:01Z stderr P '), { time: '2026-01-01T00:00:01Z', stream: 'stderr', partial: true, text: '' });
  assert.equal(parseCriLine('garbage'), undefined);
});

const cases: { name: string; opts: Partial<LogOptions>; want: string }[] = [
  { name: 'the whole log prints each line, partials joined', opts: {}, want: 'one\ntwo\n\nfour\n' },
  { name: 'timestamps prefix each line with the time of its first part', opts: { timestamps: true }, want: '2026-01-01T00:00:01.000000001Z one\n2026-01-01T00:00:02.000000002Z two\n2026-01-01T00:00:03.000000003Z \n2026-01-01T00:00:04.000000004Z four\n' },
  { name: 'tailLines keeps the last whole lines', opts: { tailLines: 2 }, want: '\nfour\n' },
  { name: 'tailLines 0 prints nothing', opts: { tailLines: 0 }, want: '' },
  { name: 'since drops lines logged before the instant', opts: { sinceMs: Date.parse('2026-01-01T00:00:03Z') }, want: '\nfour\n' },
  { name: 'limitBytes cuts the output', opts: { limitBytes: 6 }, want: 'one\ntw' },
];
for (const c of cases) {
  test(c.name, () => withFile(FILE, async (path) => assert.equal(await read(path, c.opts), c.want)));
}

test('a missing log file reads as empty', async () => {
  assert.equal(await read('/nonexistent/skiff/0.log', {}), '');
});

test('query parameters are parsed and bad ones are refused', () => {
  const q = new URLSearchParams('follow=true&tailLines=3&timestamps=true&sinceSeconds=10&limitBytes=5&previous=true');
  assert.deepEqual(parseLogQuery(q, 100_000), { follow: true, timestamps: true, previous: true, tailLines: 3, limitBytes: 5, sinceMs: 90_000 });
  assert.throws(() => parseLogQuery(new URLSearchParams('tailLines=x'), 0), /tailLines/);
  assert.throws(() => parseLogQuery(new URLSearchParams('sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z'), 0), /at most one/);
});

test('follow streams appended lines and ends once the container stopped and the file is drained', () =>
  withFile('2026-01-01T00:00:01Z stdout F first\n', async (path) => {
    let running = true;
    let out = '';
    const done = streamLog(path, { follow: true, timestamps: false }, () => running, { write: (s) => ((out += s), true) });
    await until(() => assert.equal(out, 'first\n'));
    appendFileSync(path, '2026-01-01T00:00:02Z stdout P sec\n2026-01-01T00:00:02Z std');
    appendFileSync(path, 'out F ond\n');
    await until(() => assert.equal(out, 'first\nsecond\n'));
    appendFileSync(path, '2026-01-01T00:00:03Z stdout F last\n');
    running = false;
    await done;
    assert.equal(out, 'first\nsecond\nlast\n');
  }));

test('follow ends when aborted, and when the sink refuses more', () =>
  withFile('2026-01-01T00:00:01Z stdout F first\n', async (path) => {
    const abort = new AbortController();
    let out = '';
    const done = streamLog(path, { follow: true, timestamps: false }, () => true, { write: (s) => ((out += s), true) }, abort.signal);
    await until(() => assert.equal(out, 'first\n'));
    abort.abort();
    await done;
    let writes = 0;
    await streamLog(path, { follow: true, timestamps: false }, () => true, { write: () => (writes++, false) });
    assert.equal(writes, 1);
  }));
