// Node agent figures, everything real: `skiff server` (API server + SQLite, controllers,
// scheduler) in one process and `skiff agent --runtime process` in another, on this machine, with
// pods that are real processes in their own network namespaces.
//   1. pod startup: 100 one-container pods (`sleep 3600`) created at 10/s; for each, the time
//      from its create to the first watch event showing it Running (p50/p99/max);
//   2. the agent's own memory (RSS of the agent process, the containers not counted) idle, and
//      with the 100 pods running;
//   3. teardown: deleting all 100 until the last is gone.
// Anchor: issue 5's targets (p50 ≤ 300 ms, p99 ≤ 1 s, ≤ 100 MB for 100 pods); Kubernetes' SLO is
// p99 ≤ 5 s, observed clusters do 2–3 s. Runs the built CLI (dist/) when there is one, as users
// do; `npm run build` first. Writes bench/results/node.json.
//   npx tsx bench/node.ts [--pods 100] [--rate 10]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resourceFor } from '../src/api/kinds.js';
import type { KubeObject } from '../src/api/types.js';
import { createClient } from '../src/client/client.js';
import { createHttpTransport } from '../src/client/http.js';

const { values } = parseArgs({ options: { pods: { type: 'string' }, rate: { type: 'string' } } });
const N = Number(values.pods ?? 100);
const RATE = Number(values.rate ?? 10);
const ROOT = resolve(import.meta.dirname, '..');
const PODS = resourceFor('', 'v1', 'pods');
const NODES = resourceFor('', 'v1', 'nodes');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// The built CLI when there is one (what `npx skiff` runs; tsx's compiler would add ~40 MB to every
// process's RSS), else the sources through tsx.
const BUILT = existsSync(join(ROOT, 'dist', 'cli', 'main.js'));
const CLI = BUILT ? [join(ROOT, 'bin', 'skiff.js')] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

function skiff(args: string[], ready: RegExp): Promise<{ proc: ChildProcess; out: string }> {
  const proc = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, SKIFF_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`not ready: ${args[0]}: ${out}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(t);
        res({ proc, out });
      }
    });
    proc.on('exit', (c) => rej(new Error(`${args[0]} exited ${c}: ${out}`)));
  });
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.removeAllListeners('exit');
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
  await done;
  clearTimeout(t);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-node-'));
  const procs: ChildProcess[] = [];
  try {
    const server = await skiff(['server', '--data-dir', join(dir, 'server'), '--port', '0', '--bind-address', '127.0.0.1', '--cluster-cidr', '10.99.0.0/16'], /KUBECONFIG/);
    procs.push(server.proc);
    const url = /ready at (https:\/\/\S+)/.exec(server.out)![1]!;
    const token = readFileSync(join(dir, 'server', 'admin.token'), 'utf8').trim();
    const ca = join(dir, 'server', 'pki', 'ca.crt');
    const agentStart = Date.now();
    const agent = await skiff(['agent', '--server', url, '--token-file', join(dir, 'server', 'admin.token'), '--ca-file', ca, '--runtime', 'process', '--name', 'bench', '--node-ip', '127.0.0.1', '--data-dir', join(dir, 'agent')], /joined/);
    procs.push(agent.proc);
    const client = createClient(createHttpTransport({ server: url, token, ca: readFileSync(ca, 'utf8'), userAgent: 'bench-node' }));
    // the node is Ready with a pod CIDR
    for (let i = 0; i < 600; i++) {
      const n = await client.get(NODES, 'bench').catch(() => undefined);
      if ((n?.spec as { podCIDR?: string } | undefined)?.podCIDR) break;
      await sleep(50);
    }
    const agentReadyMs = Date.now() - agentStart;
    await sleep(2000);
    const idleRss = rssMb(agent.proc.pid!);

    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const watch = await client.watch(PODS, { namespace: 'default' });
    void (async () => {
      for await (const ev of watch) {
        const o = ev.object as KubeObject & { status?: { phase?: string } };
        const name = o.metadata?.name ?? '';
        if (o.status?.phase === 'Running' && !running.has(name) && created.has(name)) running.set(name, Date.now());
      }
    })().catch(() => undefined);

    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const name = `p-${i}`;
      created.set(name, Date.now());
      void client
        .create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } })
        .catch((e) => console.error('create failed', String(e)));
    }
    const deadline = Date.now() + 120_000;
    while (running.size < N && Date.now() < deadline) await sleep(50);
    const lat = [...running.entries()].map(([n, t]) => t - created.get(n)!);
    await sleep(2000);
    const busyRss = rssMb(agent.proc.pid!);

    const d0 = Date.now();
    for (let i = 0; i < N; i++) await client.delete(PODS, `p-${i}`, { namespace: 'default' }).catch(() => undefined);
    while (Date.now() - d0 < 120_000) {
      const l = await client.list(PODS, { namespace: 'default' });
      if (l.items.length === 0) break;
      await sleep(100);
    }
    const deleteAllMs = Date.now() - d0;
    watch.close();
    client.close();

    const result = {
      machine: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) },
      cli: BUILT ? 'dist (npm run build)' : 'src via tsx',
      pods: N,
      ratePerSecond: RATE,
      agentJoinToPodCidrMs: agentReadyMs,
      startup: { running: running.size, p50Ms: r1(pct(lat, 50)), p99Ms: r1(pct(lat, 99)), maxMs: r1(Math.max(...lat)) },
      agentRssMb: { idle: r1(idleRss), with100Pods: r1(busyRss), delta: r1(busyRss - idleRss) },
      deleteAllMs,
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'node.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const p of procs.reverse()) await stopProc(p);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
