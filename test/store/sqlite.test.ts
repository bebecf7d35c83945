import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore, type Durability } from '../../src/store/sqlite.js';
import type { StoreEvent } from '../../src/store/store.js';
import { storeConformance } from './conformance.js';

/** A fresh temporary directory, removed by the returned function. */
function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

storeConformance('sqlite', async () => {
  const t = tempDir();
  const store = SqliteStore.open(join(t.dir, 'store.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      t.remove();
    },
  };
});

test('sqlite: reopening the file keeps every key, revision and the kept history', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'store.db');
    const s1 = SqliteStore.open(file);
    await s1.create('/r/a', 'a1'); // 1
    await s1.create('/r/b', 'b1'); // 2
    await s1.update('/r/a', 'a2'); // 3
    await s1.create('/r/c', 'c1'); // 4
    await s1.compact(2);
    await s1.delete('/r/c'); // 5
    const before = await s1.list('/r/');
    await s1.close();

    const s2 = SqliteStore.open(file);
    assert.equal(await s2.currentRevision(), 5);
    assert.equal(await s2.compactedRevision(), 2);
    assert.deepEqual(await s2.list('/r/'), before);
    assert.deepEqual(await s2.get('/r/a'), { key: '/r/a', value: 'a2', createRevision: 1, modRevision: 3 });
    const events: StoreEvent[] = [];
    const h = await s2.watch('/r/', 2, { onEvents: (evs) => events.push(...evs) });
    for (let i = 0; i < 100 && events.length < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(events.map((e) => `${e.type} ${e.kv.key}@${e.kv.modRevision}`), ['PUT /r/a@3', 'PUT /r/c@4', 'DELETE /r/c@5']);
    h.close();
    // The newest row (a delete) is compacted away: the counter must not go back.
    await s2.compact(5);
    await s2.close();
    const s3 = SqliteStore.open(file);
    assert.equal(await s3.currentRevision(), 5);
    assert.equal((await s3.create('/r/d', 'd1')).modRevision, 6);
    await s3.close();
  } finally {
    t.remove();
  }
});

test('sqlite: a second store cannot open a file that is already open', async () => {
  const t = tempDir();
  const file = join(t.dir, 'store.db');
  const first = SqliteStore.open(file);
  try {
    await first.create('/a', '1');
    assert.throws(() => SqliteStore.open(file), /locked/);
    assert.equal((await first.get('/a'))?.value, '1');
  } finally {
    await first.close();
  }
  const again = SqliteStore.open(file);
  assert.equal((await again.get('/a'))?.value, '1');
  await again.close();
  t.remove();
});

test('sqlite: after compaction, repeated updates of the same keys reuse the file instead of growing it', async () => {
  const t = tempDir();
  const store = SqliteStore.open(join(t.dir, 'store.db'), { durability: 'NORMAL' });
  try {
    const keys = Array.from({ length: 50 }, (_, i) => `/grow/${i}`);
    const value = (n: number) => JSON.stringify({ n, pad: 'p'.repeat(2000) });
    await Promise.all(keys.map((k) => store.create(k, value(0))));
    const pagesAfterCycle: number[] = [];
    for (let cycle = 1; cycle <= 8; cycle++) {
      for (let round = 0; round < 20; round++) await Promise.all(keys.map((k) => store.update(k, value(round))));
      assert.equal(store.stats().historyRows, keys.length * 21);
      await store.compact(await store.currentRevision());
      assert.equal(store.stats().historyRows, keys.length, 'only the latest row of each key is kept');
      pagesAfterCycle.push(store.stats().pages);
    }
    // Steady state: the pages freed by one compaction hold the next cycle's history.
    assert.equal(pagesAfterCycle[7], pagesAfterCycle[2], `pages per cycle: ${pagesAfterCycle.join(' ')}`);
    assert.equal((await store.list('/grow/')).kvs.length, keys.length);
  } finally {
    await store.close();
    t.remove();
  }
});

const writerScript = fileURLToPath(new URL('./fixtures/sqlite-writer.ts', import.meta.url));

/** Runs the writer child, SIGKILLs it after `killAfter` acks, returns the acknowledged key → revision. */
async function killMidStream(file: string, durability: Durability, killAfter: number): Promise<Map<string, number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, file, durability], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Map<string, number>();
  let stderr = '';
  let buf = '';
  let killed = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^ack (\S+) (\d+)$/.exec(line);
      if (m) acked.set(m[1]!, Number(m[2]));
    }
    if (!killed && acked.size >= killAfter) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  assert.equal(signal, 'SIGKILL', `the writer should be killed mid-stream (exit ${code}): ${stderr}`);
  return acked;
}

for (const durability of ['NORMAL', 'FULL'] as const) {
  test(`sqlite: every write acknowledged before kill -9 is there after reopening (${durability})`, async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'store.db');
      const acked = await killMidStream(file, durability, 2000);
      assert.ok(acked.size >= 2000);
      const store = SqliteStore.open(file);
      try {
        const live = await store.list('/kill/');
        const found = new Map(live.kvs.map((kv) => [kv.key, kv.modRevision]));
        const missing = [...acked].filter(([k, rev]) => found.get(k) !== rev);
        assert.deepEqual(missing, [], 'acknowledged writes lost or changed');
        // Unacknowledged writes may or may not have landed, but the history has no holes.
        assert.deepEqual(
          live.kvs.map((kv) => kv.modRevision).sort((a, b) => a - b),
          Array.from({ length: live.kvs.length }, (_, i) => i + 1),
        );
        assert.equal(await store.currentRevision(), live.kvs.length);
      } finally {
        await store.close();
      }
    } finally {
      t.remove();
    }
  });
}
