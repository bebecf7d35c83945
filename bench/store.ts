// Store benchmark: prints figures and writes bench/results/store.json. Never run by the tests.
//   node --import tsx bench/store.ts
//
// Anchor: what the apiserver needs from its store on the 2-core target machine (the task's
// budget): ≥ 1,000 durable creates/s with 20 concurrent writers, get p99 ≤ 5 ms, a list of 10,000
// objects well under 300 ms (the apiserver also serializes, so the store's share must be small).
// Both SQLite durability modes are measured, with group commit (20 writers) and without (1 writer,
// one commit per write), so the cost of an fsync per commit is visible.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore, type Durability } from '../src/store/sqlite.js';

/** A ~2 KB JSON object shaped like a small Pod. */
function podJson(i: number): string {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'default',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { app: 'bench', tier: 'backend', index: String(i) },
      annotations: { note: 'n'.repeat(900) },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1.0',
          command: ['/bin/app', '--port=8080'],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          env: Array.from({ length: 8 }, (_, k) => ({ name: `VAR_${k}`, value: `value-${k}-${i}` })),
        },
      ],
      restartPolicy: 'Always',
      nodeName: 'node-1',
    },
    status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  };
  return JSON.stringify(pod);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function ms(ns: bigint): number {
  return Number(ns) / 1e6;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function withStore<T>(durability: Durability, body: (s: SqliteStore) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
  const store = SqliteStore.open(join(dir, 'store.db'), { durability });
  try {
    return await body(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates `total` keys with `writers` concurrent loops; returns creates per second. */
async function creates(s: SqliteStore, writers: number, total: number, prefix: string): Promise<number> {
  const perWriter = Math.ceil(total / writers);
  const values = Array.from({ length: 64 }, (_, i) => podJson(i));
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let n = 0; n < perWriter; n++) await s.create(`${prefix}${w}/${n}`, values[n % 64]!);
    }),
  );
  return (writers * perWriter) / (ms(process.hrtime.bigint() - start) / 1000);
}

/**
 * Latencies (ms) of `n` gets of existing keys, each awaited on its own. With `viaLoop`, each get
 * starts from a macrotask and its latency includes the wait for the event loop, as a get coming
 * from an HTTP request would (so commits running meanwhile count against it).
 */
async function gets(s: SqliteStore, keys: string[], n: number, viaLoop = false): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[(i * 7919) % keys.length]!;
    const t = process.hrtime.bigint();
    if (viaLoop) await new Promise((r) => setImmediate(r));
    const kv = await s.get(key);
    lat.push(ms(process.hrtime.bigint() - t));
    if (!kv) throw new Error(`missing ${key}`);
  }
  return lat.sort((a, b) => a - b);
}

/**
 * Get latencies (via the event loop) while 20 writers create 2 KB objects, each pausing `pauseMs`
 * after every create (0: flat out). Returns the write rate reached and the get percentiles.
 */
async function getsUnderLoad(s: SqliteStore, keys: string[], pauseMs: number) {
  const value = podJson(0);
  let stop = false;
  let written = 0;
  const start = process.hrtime.bigint();
  const writers = Array.from({ length: 20 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      await s.create(`/registry/load-${pauseMs}/${w}/${n}`, value);
      written++;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  const lat: number[] = [];
  while (ms(process.hrtime.bigint() - start) < 3000) lat.push(...(await gets(s, keys, 100, true)));
  stop = true;
  await Promise.all(writers);
  lat.sort((a, b) => a - b);
  return {
    createsPerSecond: Math.round(written / (ms(process.hrtime.bigint() - start) / 1000)),
    gets: lat.length,
    getP50Ms: round(percentile(lat, 50), 4),
    getP99Ms: round(percentile(lat, 99), 4),
    getMaxMs: round(lat[lat.length - 1]!, 2),
  };
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      sqlite: (new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string),
    },
    anchor: { createsPerSecond: 1000, getP99Ms: 5, list10kMs: 300 },
  };

  for (const durability of ['NORMAL', 'FULL'] as const) {
    const r = await withStore(durability, async (s) => {
      const grouped = await creates(s, 20, 20_000, '/bench/grouped/');
      const single = await creates(s, 1, durability === 'FULL' ? 500 : 5_000, '/bench/single/');
      return { createsPerSecond20Writers: Math.round(grouped), createsPerSecond1Writer: Math.round(single) };
    });
    results[durability] = r;
    console.log(`${durability}: ${r.createsPerSecond20Writers} creates/s with 20 writers, ${r.createsPerSecond1Writer}/s with 1 writer`);
  }

  // Reads, on a store of 10,000 pods under one prefix (the chosen default durability: FULL).
  results.reads = await withStore('FULL', async (s) => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `/registry/pods/default/pod-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 500) {
      await Promise.all(keys.slice(i, i + 500).map((k, j) => s.create(k, podJson(i + j))));
    }
    const idle = await gets(s, keys, 20_000);
    // Gets while 20 writers create (a commit, its fsync and WAL checkpoints block the event loop):
    // at the rate the apiserver must sustain, and with the writers flat out.
    const paced = await getsUnderLoad(s, keys, 18);
    const saturated = await getsUnderLoad(s, keys, 0);
    const listMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 7; i++) {
      const t = process.hrtime.bigint();
      const res = await s.list('/registry/pods/');
      listMs.push(ms(process.hrtime.bigint() - t));
      if (res.kvs.length !== keys.length) throw new Error(`listed ${res.kvs.length}`);
      bytes = res.kvs.reduce((n, kv) => n + kv.value.length, 0);
    }
    listMs.sort((a, b) => a - b);
    const t = process.hrtime.bigint();
    const page = await s.list('/registry/pods/', { limit: 500 });
    const pageMs = ms(process.hrtime.bigint() - t);
    return {
      getP50Ms: round(percentile(idle, 50), 4),
      getP99Ms: round(percentile(idle, 99), 4),
      getWhileCreatingPaced: paced,
      getWhileCreatingFlatOut: saturated,
      list10kMedianMs: round(percentile(listMs, 50)),
      list10kMaxMs: round(listMs[listMs.length - 1]!),
      list10kValueMiB: round(bytes / 2 ** 20),
      list500PageMs: round(pageMs, 3),
      pageMore: page.more,
    };
  });
  console.log('reads:', results.reads);

  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('store.json', dir), JSON.stringify(results, null, 2) + '\n');
  console.log('machine:', results.machine);
  console.log('written: bench/results/store.json');
}

await main();
