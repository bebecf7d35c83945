// Workload controller figures, everything real but the machines: API server + SQLite, every
// controller of controllers/index.ts plus the local-path provisioner, the scheduler, node IPAM
// and simulated nodes (pods start at once; Job pods succeed jobPodRunMs after starting).
//   1. an Indexed Job of 1,000 completions, parallelism 100, on 100 nodes: create → Complete;
//   2. a DaemonSet over 1,000 nodes: create → numberAvailable = desiredNumberScheduled = 1,000;
//   3. a 100-replica Parallel StatefulSet with a volume claim template (local-path, provisioned
//      when each pod lands on a node): create → readyReplicas = 100.
// Anchor: issue 7's targets (≤ 20 s, ≤ 15 s, ≤ 15 s). Writes bench/results/workloads.json.
//   npx tsx bench/workloads.ts [--job-pod-run-ms 100]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resourceFor } from '../src/api/kinds.js';
import type { KubeObject } from '../src/api/types.js';
import { startApiServer } from '../src/apiserver/server.js';
import { startController, stopInformers, type InformerMap } from '../src/controllers/controller.js';
import { CONTROLLERS } from '../src/controllers/index.js';
import { createLocalPathProvisioner, ensureLocalPathStorageClass } from '../src/controllers/local-path-provisioner.js';
import { startNodeIpam } from '../src/controllers/node-ipam.js';
import { SimNodePool } from '../src/node/sim-nodes.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { setLogLevel } from '../src/util/log.js';

const { values } = parseArgs({ options: { 'job-pod-run-ms': { type: 'string' } } });
setLogLevel('warn');
const JOB_POD_RUN_MS = Number(values['job-pod-run-ms'] ?? 100);
const ROOT = resolve(import.meta.dirname, '..');
const JOBS = resourceFor('batch', 'v1', 'jobs');
const DAEMONSETS = resourceFor('apps', 'v1', 'daemonsets');
const STATEFULSETS = resourceFor('apps', 'v1', 'statefulsets');

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-workloads-'));
// 1,000 nodes need more than 256 /24s
const srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
const client = srv.client('bench');
const ipam = startNodeIpam(srv.client('node-ipam-controller'), { clusterCidr: '100.64.0.0/10' });
const informers: InformerMap = new Map();
await ensureLocalPathStorageClass(client);
const defs = [...CONTROLLERS, createLocalPathProvisioner({ baseDir: join(dir, 'storage') })];
const controllers = defs.map((def) => startController(def, srv.client(def.name), { informers }));
const scheduler = new Scheduler(srv.client('default-scheduler'));
await scheduler.start();
const pools: SimNodePool[] = [];
const addNodes = async (names: string[]) => {
  const pool = new SimNodePool(srv.client('sim-kubelet'), { names, startDelayMs: 0, jobPodRunMs: JOB_POD_RUN_MS, maxInflightWrites: 16 });
  await pool.start();
  pools.push(pool);
};

const template = (labels: Record<string, string>, extra: object = {}) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }], ...extra } });
const st = async (rt: typeof JOBS, name: string) => ((await client.get(rt, name, { namespace: 'default' })).status ?? {}) as Record<string, unknown>;

const results: Record<string, unknown> = {};
try {
  await addNodes(Array.from({ length: 100 }, (_, i) => `sim-${i}`));
  // 1. Indexed Job
  let t = performance.now();
  await client.create(JOBS, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'indexed', namespace: 'default' }, spec: { completions: 1000, parallelism: 100, completionMode: 'Indexed', template: template({ app: 'indexed' }, { restartPolicy: 'Never' }) } } as KubeObject);
  const done = await waitUntil(async () => ((await st(JOBS, 'indexed')).conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false, 120_000);
  results.indexedJob = { completions: 1000, parallelism: 100, nodes: 100, jobPodRunMs: JOB_POD_RUN_MS, completeMs: done ? Math.round(performance.now() - t) : 'timed out' };
  await client.delete(JOBS, 'indexed', { namespace: 'default', propagationPolicy: 'Background' });

  // 2. DaemonSet over 1,000 nodes
  await addNodes(Array.from({ length: 900 }, (_, i) => `sim-${100 + i}`));
  t = performance.now();
  await client.create(DAEMONSETS, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'everywhere', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'everywhere' } }, template: template({ app: 'everywhere' }) } } as KubeObject);
  const ds = await waitUntil(async () => {
    const s = await st(DAEMONSETS, 'everywhere');
    return s.desiredNumberScheduled === 1000 && s.numberAvailable === 1000;
  }, 120_000);
  results.daemonSet = { nodes: 1000, availableMs: ds ? Math.round(performance.now() - t) : 'timed out' };
  await client.delete(DAEMONSETS, 'everywhere', { namespace: 'default', propagationPolicy: 'Background' });

  // 3. Parallel StatefulSet with claims
  t = performance.now();
  await client.create(STATEFULSETS, {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      serviceName: 'db',
      replicas: 100,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: 'db' } },
      template: template({ app: 'db' }),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  } as KubeObject);
  const sts = await waitUntil(async () => (await st(STATEFULSETS, 'db')).readyReplicas === 100, 120_000);
  results.statefulSet = { replicas: 100, podManagementPolicy: 'Parallel', claims: 100, readyMs: sts ? Math.round(performance.now() - t) : 'timed out' };
} finally {
  await scheduler.stop();
  await Promise.all(controllers.map((c) => c.stop()));
  stopInformers(informers);
  for (const p of pools) p.stop();
  ipam.stop();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
}
const out = { machine: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) }, anchor: 'issue 7: Indexed Job ≤ 20 s, DaemonSet over 1,000 nodes ≤ 15 s, 100-replica Parallel StatefulSet ≤ 15 s', ...results };
console.log(JSON.stringify(out, null, 2));
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'workloads.json'), JSON.stringify(out, null, 2) + '\n');
