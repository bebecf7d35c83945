// API server figures, measured against `skiff up` started the way a user starts it (the built
// CLI, a fresh data dir, the default SQLite store), over HTTPS with the admin token:
//   time from spawn to /readyz, idle RSS, create and get latencies with 20 concurrent clients,
//   durable creates per second, a list of 10,000 pods, watch delivery to 100 watchers.
// Prints the figures and writes bench/results/api.json. Anchors: the targets of issue 2.
//   npm run build && npx tsx bench/api.ts [--pods 10000] [--creates 4000] [--profile DIR (CPU profile of the server)]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { datastore: { type: 'string' }, rate: { type: 'string' }, writers: { type: 'string' }, pods: { type: 'string' }, creates: { type: 'string' }, watchers: { type: 'string' }, profile: { type: 'string' } } });
const PODS = Number(values.pods ?? 10_000);
const CREATES = Number(values.creates ?? 4_000);
const WATCHERS = Number(values.watchers ?? 100);
const WRITERS = Number(values.writers ?? 20);
const RATE = Number(values.rate ?? 1000);
const ROOT = resolve(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

/** CPU time (jiffies) by kind from /proc/stat: on a VM, `steal` is time the host gave to others. */
function cpuTimes(): { busy: number; steal: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

async function main() {
  const cpu0 = cpuTimes();
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
  const port = await freePort();
  const t0 = performance.now();
  const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];
  const proc = spawn(process.execPath, [...profile, join(ROOT, 'bin/skiff.js'), 'up', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1', '--no-local-node', ...(values.datastore ? ['--datastore', values.datastore.replace('DATA_DIR', dataDir)] : [])], {
    env: { ...process.env, SKIFF_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let ca = '';
  let token = '';

  const call = (method: string, path: string, body?: unknown, accept?: string): Promise<{ status: number; text: string }> =>
    new Promise((res, rej) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port, method, path, agent, ca, headers: { Authorization: `Bearer ${token}`, ...(data ? { 'Content-Type': 'application/json' } : {}), ...(accept ? { Accept: accept } : {}) } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', rej);
      req.end(data);
    });

  try {
    // 1. start-up: spawn → /readyz answers 200 (the PKI is generated on this first start)
    let readyMs = NaN;
    for (let i = 0; i < 3000; i++) {
      try {
        ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
        const r = await call('GET', '/readyz');
        if (r.status === 200) {
          readyMs = performance.now() - t0;
          break;
        }
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await new Promise((r) => setTimeout(r, 2000));
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) / 1024;

    await call('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });

    // 2. creates, 20 writers. Closed loop: each writer sends its next create as soon as the last
    // is acknowledged (every acknowledged write is durable) — the most the machine sustains,
    // client included. Paced: the same 20 writers offering RATE creates/s in total — the latency
    // a client sees at that load, without the queueing a saturated closed loop adds.
    const createBody = (name: string, i: number) => ({ metadata: { name, labels: { app: 'bench' } }, data: { v: String(i), pad: 'x'.repeat(512) } });
    const closed = async (n: number, op: (i: number) => Promise<void>) => {
      const lat: number[] = [];
      let next = 0;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (next < n) {
            const i = next++;
            const s = performance.now();
            await op(i);
            lat.push(performance.now() - s);
          }
        }),
      );
      return { lat, perSec: n / ((performance.now() - t) / 1000) };
    };
    const paced = async (n: number, rate: number, op: (i: number) => Promise<void>) => {
      const lat: number[] = [];
      const interval = (1000 * WRITERS) / rate;
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          const start = performance.now() + (w * interval) / WRITERS;
          for (let k = 0, i = w; i < n; k++, i += WRITERS) {
            const due = start + k * interval;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            const s = performance.now();
            await op(i);
            lat.push(performance.now() - s);
          }
        }),
      );
      return lat;
    };
    const create = (prefix: string) => async (i: number) => {
      const r = await call('POST', '/api/v1/namespaces/bench/configmaps', createBody(`${prefix}-${i}`, i));
      if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.text}`);
    };
    const get = (prefix: string) => async (i: number) => {
      const r = await call('GET', `/api/v1/namespaces/bench/configmaps/${prefix}-${i}`);
      if (r.status !== 200) throw new Error(`get ${i}: ${r.status}`);
    };
    const createClosed = await closed(CREATES, create('cm'));
    const createPaced = await paced(CREATES, RATE, create('pc'));
    // 3. gets, the same two ways
    const getClosed = await closed(CREATES, get('cm'));
    const getPaced = await paced(CREATES, RATE * 2, get('cm'));

    // 4. watch delivery to 100 watchers
    const watchLat: number[] = [];
    const sentAt = new Map<string, number>();
    const list = JSON.parse((await call('GET', '/api/v1/namespaces/bench/configmaps?limit=1')).text) as { metadata: { resourceVersion: string } };
    const rv = list.metadata.resourceVersion;
    let opened = 0;
    const open: import('node:http').ClientRequest[] = [];
    await new Promise<void>((res) => {
      for (let i = 0; i < WATCHERS; i++) {
        const req = request({ host: '127.0.0.1', port, path: `/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=${rv}&fieldSelector=metadata.namespace%3Dbench`, agent: false, ca, headers: { Authorization: `Bearer ${token}` } }, (r) => {
          let buf = '';
          r.on('data', (d: Buffer) => {
            const now = performance.now();
            buf += d.toString();
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              const name = /"name":"(w-\d+)"/.exec(line)?.[1];
              const at = name ? sentAt.get(name) : undefined;
              if (at !== undefined) watchLat.push(now - at);
            }
          });
          if (++opened === WATCHERS) res();
        });
        req.end();
        open.push(req);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 50; i++) {
      const name = `w-${i}`;
      sentAt.set(name, performance.now());
      await call('POST', '/api/v1/namespaces/bench/configmaps', { metadata: { name }, data: { v: String(i) } });
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const w of open) w.destroy();

    // 5. a list of 10,000 pods
    let nextPod = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (nextPod < PODS) {
          const i = nextPod++;
          const r = await call('POST', '/api/v1/namespaces/bench/pods', {
            metadata: { name: `pod-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
            spec: { containers: [{ name: 'app', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'INDEX', value: String(i) }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
          });
          if (r.status !== 201) throw new Error(`pod ${i}: ${r.status} ${r.text}`);
        }
      }),
    );
    const listJson: number[] = [];
    const listTable: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      let s = performance.now();
      const r = await call('GET', '/api/v1/namespaces/bench/pods');
      listJson.push(performance.now() - s);
      bytes = r.text.length;
      s = performance.now();
      await call('GET', '/api/v1/namespaces/bench/pods', undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
      listTable.push(performance.now() - s);
    }

    const cpu1 = cpuTimes();
    const results = {
      cpuStealPercent: r2((100 * (cpu1.steal - cpu0.steal)) / Math.max(1, cpu1.total - cpu0.total)),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      anchor: 'issue 2 targets: create p99 <= 20 ms, get p99 <= 5 ms, >= 1000 creates/s, list 10k pods <= 300 ms, watch to 100 watchers <= 50 ms, up to /readyz <= 1 s, idle RSS <= 150 MB',
      upToReadyzMs: r2(readyMs),
      idleRssMb: r2(rssMb),
      writers: WRITERS,
      createsPerSecClosedLoop: Math.round(createClosed.perSec),
      createClosedLoopP50Ms: r2(pct(createClosed.lat, 50)),
      createClosedLoopP99Ms: r2(pct(createClosed.lat, 99)),
      pacedCreatesPerSec: RATE,
      createP50Ms: r2(pct(createPaced, 50)),
      createP99Ms: r2(pct(createPaced, 99)),
      getsPerSecClosedLoop: Math.round(getClosed.perSec),
      getClosedLoopP99Ms: r2(pct(getClosed.lat, 99)),
      pacedGetsPerSec: RATE * 2,
      getP50Ms: r2(pct(getPaced, 50)),
      getP99Ms: r2(pct(getPaced, 99)),
      watchers: WATCHERS,
      watchEventsDelivered: watchLat.length,
      watchP50Ms: r2(pct(watchLat, 50)),
      watchP99Ms: r2(pct(watchLat, 99)),
      listPods: PODS,
      listBytes: bytes,
      listJsonMedianMs: r2(pct(listJson, 50)),
      listTableMedianMs: r2(pct(listTable, 50)),
    };
    console.log(JSON.stringify(results, null, 2));
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/api.json'), JSON.stringify(results, null, 2) + '\n');
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    agent.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
