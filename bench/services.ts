// Service proxy programming latency (issue 6's figure): with 1,000 Services and 10,000 endpoints
// (10 per Service, one EndpointSlice each) in the real API server, the proxy programs nftables in
// a network namespace this script makes; then, one at a time, an endpoint of a random Service is
// flipped ready ↔ not ready through the API, and the time from the API write to the proxy's apply
// callback (nft has committed the transaction to the kernel) is measured. Also the pure costs at
// that scale: computeRules, a full render, a one-service diff, and the first full apply. Last, the
// data path: a pod streams --throughput-mb MiB over TCP to another pod's IP and then to a ClusterIP
// in front of it (the node namespace holding all 1,000 services' rules), best of 3 each.
// Anchor: issue 6's target p99 ≤ 1 s; Kubernetes' network programming SLO is 30 s, large clusters
// measure 10–25 s. Needs root and nft. Writes bench/results/services.json.
// Anchor for the data path: issue 6's pod-to-service ≥ 80% of pod-to-pod.
//   npx tsx bench/services.ts [--services 1000] [--endpoints 10] [--changes 200] [--throughput-mb 1000]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { resourceFor } from '../src/api/kinds.js';
import type { KubeObject } from '../src/api/types.js';
import type { Client } from '../src/client/client.js';
import { startApiServer } from '../src/apiserver/server.js';
import { diffNft, renderNft } from '../src/proxy/nft.js';
import { startProxy } from '../src/proxy/proxier.js';
import { computeRules, type Model } from '../src/proxy/rules.js';
import { setLogLevel } from '../src/util/log.js';
import { createLab } from '../test/proxy/netlab.js';

const { values } = parseArgs({ options: { services: { type: 'string' }, endpoints: { type: 'string' }, changes: { type: 'string' }, 'throughput-mb': { type: 'string' } } });
setLogLevel('warn');
const N_SVC = Number(values.services ?? 1000);
const N_EP = Number(values.endpoints ?? 10);
const CHANGES = Number(values.changes ?? 200);
const THROUGHPUT_MB = Number(values['throughput-mb'] ?? 1000);
const ROOT = resolve(import.meta.dirname, '..');
const SERVICES = resourceFor('', 'v1', 'services');
const SLICES = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
const CLUSTER_CIDR = '10.42.0.0/16';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const timed = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const v = fn();
  return [v, performance.now() - t];
};

function endpointIp(svc: number, ep: number): string {
  const n = svc * N_EP + ep;
  return `10.42.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}

function sliceOf(svc: number, notReady: Set<number>): KubeObject {
  const s: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `s${svc}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': `s${svc}` } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: N_EP }, (_, e) => ({ addresses: [endpointIp(svc, e)], conditions: { ready: !notReady.has(e) }, nodeName: 'bench' })),
  };
  return s as unknown as KubeObject;
}

const SINK = `
require('node:net').createServer((c) => { c.on('data', () => {}); c.on('end', () => c.end('ok')); }).listen(9000, () => console.log('up'));`;
const STREAM = (host: string, mib: number) => `
const c = require('node:net').connect(9000, '${host}');
const buf = Buffer.alloc(1 << 20, 7);
let left = ${mib};
const t0 = process.hrtime.bigint();
const pump = () => { while (left > 0) { left--; if (!c.write(buf)) return c.once('drain', pump); } c.end(); };
c.on('connect', pump);
c.on('data', () => { const s = Number(process.hrtime.bigint() - t0) / 1e9; console.log((${mib} / s).toFixed(1)); });`;

/** MiB/s from a pod to another pod's IP and to a ClusterIP in front of it (best of 3 each). */
async function throughput(c: Client): Promise<{ podToPodMiBs: number; podToServiceMiBs: number; ratio: number }> {
  const lab = createLab();
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  try {
    const a = lab.addPod('a', '10.77.1.2');
    const cl = lab.addPod('c', '10.77.1.4');
    const { spawn } = await import('node:child_process');
    const sink = spawn('ip', ['netns', 'exec', a, process.execPath, '-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => sink.stdout!.once('data', r));
    const svc = (await c.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'sink', namespace: 'default' }, spec: { ports: [{ port: 9000 }], selector: { app: 'sink' } } } as KubeObject)) as unknown as Service;
    await c.create(SLICES, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'sink-abcde', namespace: 'default', labels: { 'kubernetes.io/service-name': 'sink' } }, addressType: 'IPv4', ports: [{ name: '', port: 9000, protocol: 'TCP' }], endpoints: [{ addresses: ['10.77.1.2'], conditions: { ready: true } }] } as unknown as KubeObject);
    proxy = await startProxy({ client: c, nodeName: 'bench', nodeIPs: [lab.nodeIP], clusterCidr: lab.clusterCidr, instance: `benchtp${process.pid}`, netns: lab.node, mode: 'nftables' });
    await proxy.ready();
    const best = async (host: string) => {
      let top = 0;
      for (let i = 0; i < 3; i++) top = Math.max(top, Number(await lab.run(cl, STREAM(host, THROUGHPUT_MB))));
      return top;
    };
    const podToPodMiBs = await best('10.77.1.2');
    const podToServiceMiBs = await best(svc.spec!.clusterIP!);
    sink.kill('SIGKILL');
    return { podToPodMiBs, podToServiceMiBs, ratio: Math.round((podToServiceMiBs / podToPodMiBs) * 100) / 100 };
  } finally {
    await proxy?.stop();
    lab.destroy();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-svc-'));
  const ns = `pxb-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
  const c = srv.client('bench-services');
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  try {
    const clusterIPs: string[] = [];
    const notReady = Array.from({ length: N_SVC }, () => new Set<number>());
    const tSetup = performance.now();
    for (let i = 0; i < N_SVC; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, N_SVC - i) }, async (_, k) => {
          const n = i + k;
          const svc = (await c.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${n}`, namespace: 'default' }, spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: `s${n}` } } } as KubeObject)) as unknown as Service;
          clusterIPs[n] = svc.spec!.clusterIP!;
          await c.create(SLICES, sliceOf(n, notReady[n]!));
        }),
      );
    }
    const setupMs = performance.now() - tSetup;

    // pure costs at this scale
    const services = (await c.list(SERVICES)).items as unknown as Service[];
    const slices = (await c.list(SLICES)).items as unknown as EndpointSlice[];
    const input = { services, slices, nodeName: 'bench', nodeIPs: ['192.168.250.1'], clusterCidr: CLUSTER_CIDR };
    const [model, computeMs] = timed(() => computeRules(input));
    const [full, renderMs] = timed(() => renderNft(model, 'bench'));
    const changed = slices.map((s, i) => (i === 0 ? { ...s, endpoints: s.endpoints.slice(1) } : s));
    const [model2] = timed(() => computeRules({ ...input, slices: changed }));
    const [diff, diffMs] = timed(() => diffNft(model, model2, 'bench'));
    // what the proxier does per change: fragments of unchanged services come from its cache
    const cache = new Map();
    const cached = computeRules(input, cache);
    const changedRv = changed.map((s, i) => (i === 0 ? { ...s, metadata: { ...s.metadata, resourceVersion: `${s.metadata?.resourceVersion}x` } } : s));
    const [cached2, cachedComputeMs] = timed(() => computeRules({ ...input, slices: changedRv }, cache));
    const [, cachedDiffMs] = timed(() => diffNft(cached, cached2, 'bench'));

    // the proxy, and flips measured from the API write to the apply callback
    let waiter: { check: (m: Model) => boolean; resolve: () => void } | undefined;
    const tStart = performance.now();
    proxy = await startProxy({
      client: c, nodeName: 'bench', nodeIPs: ['192.168.250.1'], clusterCidr: CLUSTER_CIDR, instance: `bench${process.pid}`, netns: ns, mode: 'nftables',
      onApplied: (m) => {
        if (waiter?.check(m)) waiter.resolve();
      },
    });
    await proxy.ready();
    const firstApplyMs = performance.now() - tStart;
    const latencies: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const i = Math.floor(Math.random() * N_SVC);
      const e = Math.floor(Math.random() * N_EP);
      const set = notReady[i]!;
      if (set.has(e)) set.delete(e);
      else if (set.size < N_EP - 1) set.add(e);
      else set.delete([...set][0]!);
      const want = N_EP - set.size;
      const key = `${clusterIPs[i]} . tcp . 80`;
      const done = new Promise<void>((resolve) => {
        waiter = {
          check: (m) => {
            const chain = m.chains[m.maps['service-ips']?.elements[key]?.slice(5) ?? ''];
            return !!chain?.rules.at(-1)?.includes(`numgen random mod ${want} `);
          },
          resolve,
        };
      });
      const t0 = performance.now();
      const cur = await c.get(SLICES, `s${i}-abcde`, { namespace: 'default' });
      const next = sliceOf(i, set);
      await c.update(SLICES, { ...next, metadata: { ...next.metadata, resourceVersion: cur.metadata.resourceVersion } });
      await done;
      latencies.push(performance.now() - t0);
      waiter = undefined;
    }
    await proxy.stop();
    proxy = undefined;
    const dataPath = THROUGHPUT_MB > 0 ? await throughput(c) : undefined;
    const result = {
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: r1(totalmem() / 2 ** 30), node: process.version },
      anchor: 'issue 6: readiness change → forwarding updated p99 ≤ 1000 ms at 1,000 services / 10,000 endpoints (Kubernetes SLO 30 s)',
      services: N_SVC,
      endpoints: N_SVC * N_EP,
      setupMs: Math.round(setupMs),
      computeRulesMs: r1(computeMs),
      renderFullMs: r1(renderMs),
      fullScriptKiB: Math.round(full.length / 1024),
      diffOneServiceMs: r1(diffMs),
      diffOneServiceLines: diff.split('\n').length - 1,
      cachedComputeOneServiceMs: r1(cachedComputeMs),
      cachedDiffOneServiceMs: r1(cachedDiffMs),
      firstFullApplyMs: Math.round(firstApplyMs),
      changes: latencies.length,
      dataPath: dataPath ? { mib: THROUGHPUT_MB, ...dataPath, anchor: 'pod-to-service ≥ 0.8 × pod-to-pod' } : undefined,
      programmingMs: { p50: r1(pct(latencies, 50)), p90: r1(pct(latencies, 90)), p99: r1(pct(latencies, 99)), max: r1(Math.max(...latencies)) },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/services.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await proxy?.stop();
    await srv.stop();
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
