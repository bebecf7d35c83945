// Container cgroups for the process runtime (issue 5, point 6): one cgroup per container that holds
// its processes, enforces resources.limits (memory, cpu quota, cpu shares/weight), tells an OOM kill
// apart from any other SIGKILL, and lets the runtime kill everything a container left behind.
// Both layouts are supported: cgroup v1 (one hierarchy per controller under /sys/fs/cgroup/<ctrl>,
// including the "hybrid" layout with an empty v2 tree at /sys/fs/cgroup/unified) and pure cgroup v2
// (/sys/fs/cgroup/cgroup.controllers). Paths are plain files; no systemd involvement.
import { existsSync, readFileSync, readdirSync, rmdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
const CFS_PERIOD_US = 100_000;

export type CgroupSupport = { ok: true; version: 1 | 2 } | { ok: false; reason: string };

/**
 * Which cgroup layout this machine has and whether this process may use it (root, the controllers
 * mounted). Never throws; the reason is a sentence fit for a Node condition.
 */
export function cgroupSupport(root = CGROUP_ROOT): CgroupSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `resource limits need Linux cgroups, this is ${process.platform}` };
  const uid = process.getuid?.();
  if (uid !== 0) return { ok: false, reason: `resource limits need root to manage cgroups, running as uid ${uid ?? 'unknown'}` };
  if (existsSync(join(root, 'cgroup.controllers'))) {
    const have = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    const missing = ['memory', 'cpu', 'pids'].filter((c) => !have.includes(c));
    if (missing.length > 0) return { ok: false, reason: `cgroup v2 lacks the ${missing.join(', ')} controller(s)` };
    return { ok: true, version: 2 };
  }
  const missing = V1_CONTROLLERS.filter((c) => !existsSync(join(root, c, 'cgroup.procs')));
  if (missing.length > 0) return { ok: false, reason: `cgroup v1 controller(s) ${missing.join(', ')} not mounted under ${root}` };
  return { ok: true, version: 1 };
}

export interface CgroupLimits {
  memoryLimitBytes?: number;
  cpuLimitMillis?: number;
  cpuRequestMillis?: number;
}

/** One cgroup (a relative path such as `skiff/ab12cd34/pod<uid>/app`) across every controller. */
export interface Cgroup {
  version: 1 | 2;
  /** The directories whose cgroup.procs a process writes its pid to, to join the cgroup. */
  dirs: string[];
  /** How many times the kernel's OOM killer killed a process in this cgroup. */
  oomKills(): number;
  /** The pids in the cgroup right now. */
  pids(): number[];
  /** SIGKILLs every process until the cgroup is empty (bounded); returns how many were killed. */
  killAll(): Promise<number>;
  /** Kills what is left and removes the directories. Idempotent. */
  remove(): Promise<number>;
}

/** Directories of `rel` in each hierarchy (one for v2, one per controller for v1). */
export function cgroupDirs(version: 1 | 2, rel: string, root = CGROUP_ROOT): string[] {
  return version === 2 ? [join(root, rel)] : V1_CONTROLLERS.map((c) => join(root, c, rel));
}

function tryWrite(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

// v2: a child gets memory/cpu/pids only if every ancestor enables them in cgroup.subtree_control.
function enableV2Controllers(root: string, rel: string): void {
  let dir = root;
  for (const part of rel.split('/').slice(0, -1)) {
    writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +cpu +pids');
    dir = join(dir, part);
    mkdirSync(dir, { recursive: true });
  }
  writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +cpu +pids');
}

/** Kubernetes' MilliCPUToShares: requests.cpu → cpu.shares (at least 2). */
export function milliCpuToShares(millis: number | undefined): number {
  if (millis === undefined || millis <= 0) return 2;
  return Math.max(2, Math.floor((millis * 1024) / 1000));
}

/** The kubelet's conversion of cpu.shares to cgroup v2 cpu.weight (1..10000). */
export function sharesToWeight(shares: number): number {
  return Math.min(10_000, Math.max(1, 1 + Math.floor(((shares - 2) * 9999) / 262142)));
}

/** limits.cpu → CFS quota in µs per 100 ms period (at least 1 ms, as the kubelet does). */
export function milliCpuToQuota(millis: number): number {
  return Math.max(1000, Math.floor((millis * CFS_PERIOD_US) / 1000));
}

/**
 * Creates (or takes over, after killing whatever is in it) the cgroup `rel` and writes its limits.
 * Throws when the directories cannot be made; a limit the kernel refuses throws too, naming it.
 */
export function createCgroup(version: 1 | 2, rel: string, limits: CgroupLimits, root = CGROUP_ROOT): Cgroup {
  const dirs = cgroupDirs(version, rel, root);
  // Another runtime's shutdown may rmdir the shared `skiff` parent between our mkdirs: retry.
  for (let i = 0; ; i++) {
    try {
      if (version === 2) enableV2Controllers(root, rel);
      for (const d of dirs) mkdirSync(d, { recursive: true });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 5) throw e;
    }
  }
  const cg = openCgroup(version, rel, root);
  const set = (file: string, value: string): void => {
    const path = version === 2 ? join(dirs[0]!, file) : join(root, file.split('.')[0]!, rel, file);
    try {
      writeFileSync(path, value);
    } catch (e) {
      throw new Error(`cannot set ${file}=${value}: ${(e as Error).message}`);
    }
  };
  const shares = milliCpuToShares(limits.cpuRequestMillis);
  if (version === 1) {
    set('memory.limit_in_bytes', limits.memoryLimitBytes !== undefined ? String(limits.memoryLimitBytes) : '-1');
    // Without swap accounting a v1 memcg would swap instead of hitting its limit; keep it in RAM.
    tryWrite(join(root, 'memory', rel, 'memory.swappiness'), '0');
    set('cpu.cfs_period_us', String(CFS_PERIOD_US));
    set('cpu.cfs_quota_us', limits.cpuLimitMillis !== undefined ? String(milliCpuToQuota(limits.cpuLimitMillis)) : '-1');
    set('cpu.shares', String(shares));
  } else {
    set('memory.max', limits.memoryLimitBytes !== undefined ? String(limits.memoryLimitBytes) : 'max');
    if (existsSync(join(dirs[0]!, 'memory.swap.max'))) set('memory.swap.max', '0');
    set('cpu.max', `${limits.cpuLimitMillis !== undefined ? milliCpuToQuota(limits.cpuLimitMillis) : 'max'} ${CFS_PERIOD_US}`);
    set('cpu.weight', String(sharesToWeight(shares)));
  }
  return cg;
}

function readPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A handle on an existing cgroup (or one that may not exist any more); never throws. */
export function openCgroup(version: 1 | 2, rel: string, root = CGROUP_ROOT): Cgroup {
  const dirs = cgroupDirs(version, rel, root);
  const main = version === 2 ? dirs[0]! : join(root, 'memory', rel);
  const pids = (): number[] => [...new Set(dirs.flatMap(readPids))];
  const killAll = async (): Promise<number> => {
    const killed = new Set<number>();
    if (version === 2 && existsSync(join(main, 'cgroup.kill'))) {
      for (const p of pids()) killed.add(p);
      tryWrite(join(main, 'cgroup.kill'), '1');
    }
    // Forks can race with the loop; a bounded number of passes until nothing is left.
    for (let i = 0; i < 200; i++) {
      const now = pids();
      if (now.length === 0) break;
      for (const p of now) {
        killed.add(p);
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await sleep(i < 10 ? 5 : 25);
    }
    return killed.size;
  };
  return {
    version,
    dirs,
    oomKills() {
      try {
        const file = version === 2 ? join(main, 'memory.events') : join(main, 'memory.oom_control');
        const m = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
        return m ? Number(m[1]) : 0;
      } catch {
        return 0;
      }
    },
    pids,
    killAll,
    async remove() {
      const n = await killAll();
      for (const d of dirs) await removeTree(d);
      return n;
    },
  };
}

/**
 * Removes a cgroup directory and every cgroup below it, deepest first, killing what runs inside.
 * A directory that stays busy (a process in uninterruptible sleep) is retried a bounded number of
 * times, then reported by throwing. Missing directories are fine.
 */
export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await removeTree(join(dir, e.name));
  }
  for (let i = 0; i < 100; i++) {
    for (const p of readPids(dir)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (i === 99) throw new Error(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
    }
    await sleep(20);
  }
}

/** Every pid in the cgroup `rel` and below it, in every hierarchy (for counting leftovers). */
export function pidsInTree(version: 1 | 2, rel: string, root = CGROUP_ROOT): number[] {
  const out = new Set<number>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const p of readPids(dir)) out.add(p);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  for (const d of cgroupDirs(version, rel, root)) walk(d);
  return [...out];
}

/** Removes the directory if it is an empty cgroup (no children, no processes); never throws. */
export function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* in use by another runtime, or gone */
  }
}

/**
 * Whether cgroups can actually be made and limited under `rel` (say, inside a container whose
 * cgroup namespace root holds processes, v2 refuses to delegate controllers). Leaves nothing
 * behind; the reason is a sentence for a Node condition.
 */
export function probeCgroups(version: 1 | 2, rel: string, root = CGROUP_ROOT): { ok: true } | { ok: false; reason: string } {
  try {
    createCgroup(version, rel, { memoryLimitBytes: 1 << 30, cpuLimitMillis: 1000, cpuRequestMillis: 100 }, root);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `cannot create limited cgroups under ${root}: ${(e as Error).message}` };
  } finally {
    for (const d of cgroupDirs(version, rel, root)) removeIfEmpty(d);
  }
}
