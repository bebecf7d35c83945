// What the process runtime leaves on the node's own filesystem for a pod, and how it takes it away:
// a small state file per sandbox (so a restarted agent knows what its predecessor made), mount
// points it had to create on the host for bind mounts, and mounts under the pod's directory.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmdirSync, statSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Mount } from './runtime.js';

/** What is written to `<stateDir>/sandboxes/<id>.json`. */
export interface SandboxState {
  id: string;
  podUid: string;
  podDir: string;
  isolated: boolean;
  /** Host paths the runtime created as mount points, in creation order (removed in reverse). */
  createdPaths: string[];
}

function stateFile(stateDir: string, id: string): string {
  return join(stateDir, 'sandboxes', `${id}.json`);
}

/** Writes the state atomically (rename), so a crash never leaves half a file. */
export function saveState(stateDir: string, s: SandboxState): void {
  const f = stateFile(stateDir, s.id);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f + '.tmp', JSON.stringify(s));
  renameSync(f + '.tmp', f);
}

export function deleteState(stateDir: string, id: string): void {
  try {
    unlinkSync(stateFile(stateDir, id));
  } catch {
    /* already gone */
  }
}

/** Every readable sandbox state under stateDir (unreadable files are skipped). */
export function loadStates(stateDir: string): SandboxState[] {
  const dir = join(stateDir, 'sandboxes');
  if (!existsSync(dir)) return [];
  const out: SandboxState[] = [];
  for (const n of readdirSync(dir)) {
    if (!n.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as SandboxState);
    } catch {
      /* a torn or foreign file: ignore */
    }
  }
  return out;
}

/**
 * Makes sure every mount's target exists on the host (a directory for a directory source, an
 * empty file for a file source), creating missing parents; returns the paths it created, outermost
 * first, so they can be removed again. Targets inside another mount of the same container are left
 * to the shim (they exist only in the container's view).
 */
export function createMountPoints(mounts: Mount[]): string[] {
  const created: string[] = [];
  for (const [i, m] of mounts.entries()) {
    const insideEarlier = mounts.slice(0, i).some((o) => m.containerPath.startsWith(o.containerPath.replace(/\/+$/, '') + '/'));
    if (insideEarlier || existsSync(m.containerPath)) continue;
    let isDir = true;
    try {
      isDir = statSync(m.hostPath).isDirectory();
    } catch {
      /* missing source: the shim reports the mount failure */
    }
    const missing: string[] = [];
    for (let p = isDir ? m.containerPath : dirname(m.containerPath); !existsSync(p); p = dirname(p)) missing.unshift(p);
    for (const p of missing) {
      mkdirSync(p);
      created.push(p);
    }
    if (!isDir) {
      writeFileSync(m.containerPath, '', { flag: 'wx' });
      created.push(m.containerPath);
    }
  }
  return created;
}

/**
 * Every mount point in any mount namespace on the machine (one mountinfo read per namespace).
 * Needed because rmdir of a directory that is a mount point in another namespace succeeds since
 * Linux 3.18 and silently detaches that mount: another pod (of this agent or another one on the
 * machine) may have a bind mount on a mount point this pod created.
 */
export function mountPointsEverywhere(): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
        const p = line.split(' ')[4];
        if (p !== undefined) out.add(unescapeMountinfo(p));
      }
    } catch {
      /* the process went away, or is not ours to read */
    }
  }
  return out;
}

/**
 * Removes created mount points, newest first, only while they are empty (never user data) and
 * no mount namespace still has something mounted on them.
 */
export function removeCreatedPaths(paths: string[]): void {
  if (paths.length === 0) return;
  const mounted = mountPointsEverywhere();
  for (const p of [...paths].reverse()) {
    if (mounted.has(p)) continue;
    try {
      const st = statSync(p);
      if (st.isDirectory()) rmdirSync(p);
      else if (st.size === 0) unlinkSync(p);
    } catch {
      /* gone, busy or not empty: leave it */
    }
  }
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of this mount namespace at or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountinfo)
    .filter((p) => p === base || p.startsWith(base + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function umount(args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile('umount', args, { timeout: 10_000 }, (err) => resolve(!err)));
}

/** Unmounts everything at or below dir (lazily when busy); returns how many were unmounted. */
export async function unmountUnder(dir: string): Promise<number> {
  let n = 0;
  for (let pass = 0; pass < 5; pass++) {
    const points = mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) {
      if ((await umount([p])) || (await umount(['-l', p]))) n++;
    }
  }
  return n;
}
