// Container cgroups on this machine's real hierarchy (v1 hybrid here, v2 elsewhere): limits land
// in the kernel's files, a process that joins is listed and killed, an OOM kill is counted, and
// removal leaves no directory behind. Every cgroup lives under skiff-test-<random> and is removed
// in after(), whatever happened.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirs,
  cgroupSupport,
  createCgroup,
  milliCpuToQuota,
  milliCpuToShares,
  openCgroup,
  removeTree,
  sharesToWeight,
} from '../../src/node/cgroups.js';
import { eventually } from '../support/eventually.js';

const support = cgroupSupport();
const base = `skiff-test-${randomBytes(4).toString('hex')}`;
const pids: number[] = [];

after(async () => {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (support.ok) for (const d of cgroupDirs(support.version, base)) await removeTree(d);
});

function version(): 1 | 2 {
  assert.ok(support.ok, `this test needs cgroups: ${support.ok ? '' : support.reason}`);
  return support.version;
}

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8').trim();

/** Starts sh that joins the cgroup and then runs `script`; resolves with the child. */
function runIn(dirs: string[], script: string) {
  const child = spawn('sh', ['-c', `for d in "$@"; do echo $$ > "$d/cgroup.procs"; done; ${script}`, 'sh', ...dirs], { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  pids.push(child.pid!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, exited };
}

test('conversions follow the kubelet', () => {
  const cases: Array<[string, number, number]> = [
    ['no request gets the minimum of 2 shares', milliCpuToShares(undefined), 2],
    ['a quarter cpu is 256 shares', milliCpuToShares(250), 256],
    ['one cpu is 1024 shares', milliCpuToShares(1000), 1024],
    ['2 shares are weight 1', sharesToWeight(2), 1],
    ['1024 shares are weight 39', sharesToWeight(1024), 39],
    ['half a cpu is 50 ms per 100 ms', milliCpuToQuota(500), 50_000],
    ['a tiny limit still gets 1 ms', milliCpuToQuota(1), 1000],
  ];
  for (const [name, got, want] of cases) assert.equal(got, want, name);
});

test('this machine supports cgroups (root, controllers mounted)', () => {
  assert.equal(support.ok, true, support.ok ? '' : support.reason);
});

test('limits are written to the kernel files of the cgroup', async () => {
  const v = version();
  const cg = createCgroup(v, `${base}/limits`, { memoryLimitBytes: 64 << 20, cpuLimitMillis: 250, cpuRequestMillis: 500 });
  const [dir] = cg.dirs;
  assert.ok(dir);
  if (v === 1) {
    assert.equal(read(join('/sys/fs/cgroup/memory', base, 'limits'), 'memory.limit_in_bytes'), String(64 << 20));
    assert.equal(read(join('/sys/fs/cgroup/cpu', base, 'limits'), 'cpu.cfs_quota_us'), '25000');
    assert.equal(read(join('/sys/fs/cgroup/cpu', base, 'limits'), 'cpu.shares'), '512');
  } else {
    assert.equal(read(dir, 'memory.max'), String(64 << 20));
    assert.equal(read(dir, 'cpu.max'), '25000 100000');
    assert.equal(read(dir, 'cpu.weight'), String(sharesToWeight(512)));
  }
  await cg.remove();
  for (const d of cg.dirs) assert.ok(!existsSync(d));
});

test('processes that join are listed, and killAll kills them and their children', async () => {
  const v = version();
  const cg = createCgroup(v, `${base}/kill`, {});
  const { child, exited } = runIn(cg.dirs, 'sleep 1000 & sleep 1000');
  await eventually('sh and its two sleeps are in the cgroup', () => cg.pids().length === 3);
  assert.ok(cg.pids().includes(child.pid!));
  assert.ok((await cg.killAll()) >= 3);
  assert.deepEqual(cg.pids(), []);
  assert.equal((await exited).signal, 'SIGKILL');
  await cg.remove();
  await cg.remove(); // idempotent
  for (const d of cg.dirs) assert.ok(!existsSync(d));
});

test('a process over the memory limit is OOM-killed and counted', async () => {
  const v = version();
  const cg = createCgroup(v, `${base}/oom`, { memoryLimitBytes: 32 << 20 });
  assert.equal(cg.oomKills(), 0);
  const { exited } = runIn(cg.dirs, `exec python3 -c 'a = []\nwhile True: a.append(bytearray(4 << 20))'`);
  const r = await exited;
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(cg.oomKills() >= 1);
  await cg.remove();
});

test('openCgroup on a missing cgroup is harmless', async () => {
  const cg = openCgroup(version(), `${base}/never-made`);
  assert.deepEqual(cg.pids(), []);
  assert.equal(cg.oomKills(), 0);
  assert.equal(await cg.remove(), 0);
});

// This machine's controllers live in v1 hierarchies, so the v2 kernel semantics (OOM counting in
// memory.events, cgroup.kill) cannot run here; what can be checked is that the v2 layout is
// detected and the v2 files are written with the v2 values, on a directory laid out as cgroup2 is.
test('the cgroup v2 layout: detected, controllers enabled down the path, v2 limit files written', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const root = mkdtempSync(join(tmpdir(), 'skiff-cgroup2-'));
  try {
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    assert.deepEqual(cgroupSupport(root), { ok: true, version: 2 });
    const rel = 'skiff/ab12cd34/podu1/app.0123456789ab';
    createCgroup(2, rel, { memoryLimitBytes: 64 * 1024 * 1024, cpuLimitMillis: 500, cpuRequestMillis: 250 }, root);
    assert.equal(read(root, 'cgroup.subtree_control'), '+memory +cpu +pids');
    assert.equal(read(join(root, 'skiff', 'ab12cd34', 'podu1'), 'cgroup.subtree_control'), '+memory +cpu +pids');
    const dir = join(root, rel);
    assert.equal(read(dir, 'memory.max'), String(64 * 1024 * 1024));
    assert.equal(read(dir, 'cpu.max'), '50000 100000');
    assert.equal(read(dir, 'cpu.weight'), String(sharesToWeight(milliCpuToShares(250))));
    createCgroup(2, 'skiff/ab12cd34/podu1/nolimits.0123456789ab', {}, root);
    assert.equal(read(join(root, 'skiff/ab12cd34/podu1/nolimits.0123456789ab'), 'memory.max'), 'max');
    assert.equal(read(join(root, 'skiff/ab12cd34/podu1/nolimits.0123456789ab'), 'cpu.max'), 'max 100000');
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu io\n');
    assert.deepEqual(cgroupSupport(root), { ok: false, reason: 'cgroup v2 lacks the memory, pids controller(s)' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
