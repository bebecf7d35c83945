// Scheduler figures through the real API server and SQLite store (in-process client), with
// simulated nodes — Kubernetes' scheduler_perf "SchedulingBasic" shape: nodes of 4 CPU / 32 GiB /
// 110 pods, pods asking 100m CPU / 500 MiB. Pending pods are created first with the scheduler
// stopped, then the scheduler starts and the time to bind them all is measured (pure scheduling
// throughput), with each pod's latency from queueing to an acknowledged binding.
//   npx tsx bench/scheduler.ts                # 5,000 nodes + 1,000 existing pods, 10,000 new pods; then 500/1,000
//   npx tsx bench/scheduler.ts --nodes 500 --pods 1000 --existing 0
// Anchor: Kubernetes' scheduler_perf SchedulingBasic 5000 nodes/10,000 pods threshold, 680 pods/s
// (on a many-core CI machine). Writes bench/results/scheduler.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resourceFor } from '../src/api/kinds.js';
import type { KubeObject } from '../src/api/types.js';
import { startApiServer } from '../src/apiserver/server.js';
import type { Client } from '../src/client/client.js';
import { SimNodePool } from '../src/node/sim-nodes.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { setLogLevel } from '../src/util/log.js';

const { values } = parseArgs({ options: { 'no-kubelets': { type: 'boolean' }, nodes: { type: 'string' }, pods: { type: 'string' }, existing: { type: 'string' }, only: { type: 'string' } } });
setLogLevel('warn');
const PODS = resourceFor('', 'v1', 'pods');
const ROOT = resolve(import.meta.dirname, '..');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

function pod(name: string, node?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'bench' } },
    spec: {
      ...(node ? { nodeName: node } : {}),
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '100m', memory: '500Mi' } } }],
    },
  };
}

async function createAll(client: Client, n: number, make: (i: number) => KubeObject, concurrency = 32): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await client.create(PODS, make(next++));
    }),
  );
}

function plainNodes(client: Client, n: number): { start(): Promise<void>; stop(): void } {
  const NODES = resourceFor('', 'v1', 'nodes');
  return {
    async start() {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < n) {
            const name = `sim-${next++}`;
            const res = { cpu: '4', memory: '32Gi', pods: '110' };
            await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, status: { capacity: res, allocatable: res, conditions: [{ type: 'Ready', status: 'True' }] } });
          }
        }),
      );
    },
    stop() {},
  };
}

interface Scenario {
  nodes: number;
  existing: number;
  pods: number;
  leaseRenewMs: number;
}

async function run(s: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-sched-'));
  const srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
  const client = srv.client('bench');
  // --no-kubelets: plain Node objects, nothing driving the pods (scheduler_perf's setting)
  const pool = values['no-kubelets'] ? plainNodes(client, s.nodes) : new SimNodePool(srv.client('sim-kubelet'), {
    names: Array.from({ length: s.nodes }, (_, i) => `sim-${i}`),
    capacity: { cpu: '4', memory: '32Gi', pods: '110' },
    startDelayMs: 3_600_000, // no kubelet status churn during the measurement
    renewIntervalMs: s.leaseRenewMs,
  });
  try {
    let t = performance.now();
    await pool.start();
    const registerMs = performance.now() - t;
    await createAll(client, s.existing, (i) => pod(`existing-${i}`, `sim-${i % s.nodes}`));
    t = performance.now();
    await createAll(client, s.pods, (i) => pod(`pending-${i}`));
    const createMs = performance.now() - t;

    const scheduler = new Scheduler(srv.client('default-scheduler'));
    t = performance.now();
    await scheduler.start();
    const deadline = Date.now() + 600_000;
    while (scheduler.stats.scheduled < s.pods && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const schedMs = performance.now() - t;
    const stats = scheduler.stats;
    await scheduler.stop();
    return {
      ...s,
      registerNodesMs: Math.round(registerMs),
      createPendingPodsMs: Math.round(createMs),
      scheduled: stats.scheduled,
      bindErrors: stats.bindErrors,
      podsPerSecond: Math.round(stats.scheduled / (schedMs / 1000)),
      // latency from the scheduler first queueing the pod to its binding being acknowledged; with
      // all pods queued at once this includes the time spent waiting behind the others
      queueToBindP50Ms: r1(pct(stats.latenciesMs, 50)),
      queueToBindP99Ms: r1(pct(stats.latenciesMs, 99)),
      // one scheduling attempt: off the queue → filter, score, assume → binding acknowledged
      attemptP50Ms: r1(pct(stats.attemptLatenciesMs, 50)),
      attemptP99Ms: r1(pct(stats.attemptLatenciesMs, 99)),
    };
  } finally {
    pool.stop();
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const scenarios: Scenario[] = values.nodes
  ? [{ nodes: Number(values.nodes), pods: Number(values.pods ?? 1000), existing: Number(values.existing ?? 0), leaseRenewMs: 10_000 }]
  : [
      { nodes: 5000, existing: 1000, pods: 10_000, leaseRenewMs: 10_000 },
      { nodes: 500, existing: 0, pods: 1000, leaseRenewMs: 10_000 },
      // lease renewals' cost: 1,000 nodes renewing every 10 s, against renewals switched off
      { nodes: 1000, existing: 0, pods: 5000, leaseRenewMs: 10_000 },
      { nodes: 1000, existing: 0, pods: 5000, leaseRenewMs: 3_600_000 },
    ];

const results = [];
for (const s of scenarios) {
  const r = await run(s);
  console.log(JSON.stringify(r));
  results.push(r);
}
const out = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  anchor: 'scheduler_perf SchedulingBasic 5000 nodes / 10000 pods: >= 680 pods/s upstream; issue 3 target >= 1000 pods/s here',
  results,
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/scheduler.json'), JSON.stringify(out, null, 2) + '\n');
