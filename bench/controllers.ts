// Controller figures, everything real but the machines: API server + SQLite, the controllers of
// controllers/index.ts, the scheduler, node IPAM, and 100 simulated nodes whose pods start at
// once (startDelayMs 0).
//   1. a Deployment scaled from 0 to 3,000 replicas: time until 3,000 pods are Running;
//   2. a rolling update (25%/25%) of a 1,000-replica Deployment: time until it is complete as
//      `kubectl rollout status` judges it;
//   3. churn: bare pods created and deleted at a paced rate; create latency p50/p99.
// Anchor: issue 4's targets (≤ 15 s, ≤ 30 s, ≥ 100 creates+deletes/s with create p99 ≤ 100 ms);
// Kubernetes' own load tests run at 10–20 pods/s. Writes bench/results/controllers.json.
//   npx tsx bench/controllers.ts [--replicas 3000] [--rolling 1000] [--churn-rate 100] [--churn-seconds 20]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resourceFor } from '../src/api/kinds.js';
import type { KubeObject } from '../src/api/types.js';
import { startApiServer } from '../src/apiserver/server.js';
import { createInformer } from '../src/client/informer.js';
import { startController, stopInformers, type InformerMap } from '../src/controllers/controller.js';
import { CONTROLLERS } from '../src/controllers/index.js';
import { startNodeIpam } from '../src/controllers/node-ipam.js';
import { SimNodePool } from '../src/node/sim-nodes.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { setLogLevel } from '../src/util/log.js';

const { values } = parseArgs({ options: { replicas: { type: 'string' }, rolling: { type: 'string' }, 'churn-rate': { type: 'string' }, 'churn-seconds': { type: 'string' } } });
setLogLevel('warn');
const REPLICAS = Number(values.replicas ?? 3000);
const ROLLING = Number(values.rolling ?? 1000);
const CHURN_RATE = Number(values['churn-rate'] ?? 100);
const CHURN_SECONDS = Number(values['churn-seconds'] ?? 20);
const ROOT = resolve(import.meta.dirname, '..');
const PODS = resourceFor('', 'v1', 'pods');
const DEPLOYMENTS = resourceFor('apps', 'v1', 'deployments');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

function deployment(name: string, replicas: number, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-ctrl-'));
const srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
const client = srv.client('bench');
const ipam = startNodeIpam(srv.client('node-ipam-controller'), { clusterCidr: '10.42.0.0/16' });
const pool = new SimNodePool(srv.client('sim-kubelet'), { names: Array.from({ length: 100 }, (_, i) => `sim-${i}`), startDelayMs: 0, maxInflightWrites: 16 });
await pool.start();
const informers: InformerMap = new Map();
const controllers = CONTROLLERS.map((def) => startController(def, srv.client(def.name), { informers }));
const scheduler = new Scheduler(srv.client('default-scheduler'));
await scheduler.start();

// Running pods by deployment label, from one informer
const pods = createInformer(client, PODS);
pods.start();
await pods.waitForSync();
const running = (app: string) => pods.cache.list().filter((p) => p.metadata.labels?.app === app && (p.status as { phase?: string } | undefined)?.phase === 'Running' && !p.metadata.deletionTimestamp).length;

const results: Record<string, unknown> = {};
try {
  if (CONTROLLERS.length === 0) throw new Error('no controllers registered in src/controllers/index.ts');
  // 1. scale 0 → REPLICAS
  await client.create(DEPLOYMENTS, deployment('scale', 0, 'nginx:1.25'));
  let t = performance.now();
  await client.patch(DEPLOYMENTS, 'scale', 'merge', { spec: { replicas: REPLICAS } }, { namespace: 'default' });
  const scaledOk = await waitUntil(() => running('scale') >= REPLICAS, 120_000);
  results.scaleTo = REPLICAS;
  results.scaleToRunningMs = scaledOk ? Math.round(performance.now() - t) : 'timed out';
  await client.delete(DEPLOYMENTS, 'scale', { namespace: 'default' });

  // 2. rolling update of ROLLING replicas
  await client.create(DEPLOYMENTS, deployment('roll', ROLLING, 'nginx:1.25'));
  await waitUntil(() => running('roll') >= ROLLING, 120_000);
  t = performance.now();
  const updated = await client.patch(DEPLOYMENTS, 'roll', 'strategic', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.26' }] } } } }, { namespace: 'default' });
  const generation = updated.metadata.generation ?? 0;
  const rolled = await waitUntil(async () => {
    const d = await client.get(DEPLOYMENTS, 'roll', { namespace: 'default' });
    const st = (d.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; replicas?: number; availableReplicas?: number };
    return (st.observedGeneration ?? 0) >= generation && st.updatedReplicas === ROLLING && st.replicas === ROLLING && (st.availableReplicas ?? 0) >= ROLLING;
  }, 180_000);
  results.rollingReplicas = ROLLING;
  results.rollingUpdateMs = rolled ? Math.round(performance.now() - t) : 'timed out';

  // 3. churn of bare pods: CHURN_RATE creates/s, each deleted a second later
  const lat: number[] = [];
  const total = CHURN_RATE * CHURN_SECONDS;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / CHURN_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      (async () => {
        const s = performance.now();
        await client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `churn-${i}`, namespace: 'default', labels: { app: 'churn' } }, spec: { containers: [{ name: 'c', image: 'pause' }] } });
        lat.push(performance.now() - s);
        await new Promise((r) => setTimeout(r, 1000));
        await client.delete(PODS, `churn-${i}`, { namespace: 'default', gracePeriodSeconds: 0 });
      })(),
    );
  }
  await Promise.all(inflight);
  results.churnCreatesPerSec = CHURN_RATE;
  results.churnCreateP50Ms = r1(pct(lat, 50));
  results.churnCreateP99Ms = r1(pct(lat, 99));
} finally {
  pods.stop();
  await scheduler.stop();
  await Promise.all(controllers.map((c) => c.stop()));
  stopInformers(informers);
  pool.stop();
  ipam.stop();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
}
const out = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  anchor: 'issue 4 targets: 0→3000 Running <= 15 s; 1000-replica rolling update <= 30 s; >= 100 creates+deletes/s with create p99 <= 100 ms',
  ...results,
};
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/controllers.json'), JSON.stringify(out, null, 2) + '\n');
