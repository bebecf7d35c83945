// The CRI log writer: records are `<RFC3339Nano> <stream> <F|P> <text>`, lines are split per stream,
// long lines become partial records, and an unfinished last line is written on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCriLogWriter, rfc3339Nano } from '../../src/node/runtime/cri-log.js';

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-crilog-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('timestamps have nine fractional digits in UTC', () => {
  assert.equal(rfc3339Nano(new Date('2024-01-01T00:00:00.123Z'), 456789), '2024-01-01T00:00:00.123456789Z');
  assert.equal(rfc3339Nano(new Date('2024-01-01T00:00:00.000Z')), '2024-01-01T00:00:00.000000000Z');
});

test('chunks become one record per line, streams kept apart, partial lines marked P', () =>
  withDir(async (dir) => {
    const path = join(dir, 'logs', '0.log');
    const w = createCriLogWriter(path, { maxLine: 8, now: () => new Date('2024-01-01T00:00:00.000Z') });
    w.write('stdout', 'hel');
    w.write('stderr', 'oops\n');
    w.write('stdout', 'lo\nabcdefghijkl\nend');
    await w.close();
    await w.close();
    const records = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ').slice(1).join(' '));
    assert.deepEqual(records, ['stderr F oops', 'stdout F hello', 'stdout P abcdefgh', 'stdout F ijkl', 'stdout F end']);
  }));
