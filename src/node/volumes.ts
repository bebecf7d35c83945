// A pod's volumes on the node: each one materialized under `<podDir>/volumes/<name>` before the
// containers start (emptyDir, configMap, secret, downwardAPI, projected; a tmpfs for emptyDir
// medium Memory), hostPath and persistentVolumeClaim checked and resolved to a path on the node,
// and each container's volumeMounts turned into runtime bind mounts. File-backed volumes are
// written like the kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): the files live in a
// timestamped `..<time>` directory, `..data` links to it, every visible name links through
// `..data`, and an update swaps `..data` with one rename(2) — so a container that bind-mounted the
// volume directory sees a ConfigMap change whole, never half-written. Messages use the kubelet's
// words because they become FailedMount events.
import type { Container, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { roundUpQuantity, tryParseQuantity } from '../util/quantity.js';
import type { Mount } from './runtime/runtime.js';
import { expandWith, podFieldValue, resourceFieldValue, type DownwardFacts, type EnvDeps } from './container-env.js';

/** What setUpVolumes needs from the node agent. */
export interface VolumeDeps extends DownwardFacts {
  /** Reads an object (PersistentVolumes are cluster-scoped: namespace ''); undefined when it does not exist. */
  get(resource: 'configmaps' | 'secrets' | 'persistentvolumeclaims' | 'persistentvolumes', namespace: string, name: string): Promise<object | undefined>;
  nodeAllocatable?: EnvDeps['nodeAllocatable'];
}

export type SetUpResult = { ok: true; warnings: string[] } | { volume: string; message: string };

/** One file of a file-backed volume: relative path → bytes and mode. */
type Payload = Map<string, { data: Buffer; mode: number }>;

const DEFAULT_MODE = 0o644;
const FILE_BACKED = ['configMap', 'secret', 'downwardAPI', 'projected'] as const;

/** `<podDir>/volumes` */
export function volumesDir(podDir: string): string {
  return join(podDir, 'volumes');
}

/**
 * Makes every volume of the pod ready to mount. Idempotent: call it on each sync; file-backed
 * volumes are rewritten only when their content changed. The first failing volume stops the setup
 * and is named with the kubelet's FailedMount message; `warnings` are for Warning events (a tmpfs
 * that could not be mounted, a service account token not projected). Throws only on a broken disk.
 */
export async function setUpVolumes(pod: Pod, podDir: string, deps: VolumeDeps): Promise<SetUpResult> {
  podDir = resolve(podDir);
  const warnings: string[] = [];
  await mkdir(volumesDir(podDir), { recursive: true });
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = join(volumesDir(podDir), volume.name);
    let error: string | undefined;
    try {
      error = await setUpVolume(pod, volume, dir, deps, warnings);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (error !== undefined) return { volume: volume.name, message: `MountVolume.SetUp failed for volume "${volume.name}" : ${error}` };
  }
  return { ok: true, warnings };
}

async function setUpVolume(pod: Pod, v: Volume, dir: string, deps: VolumeDeps, warnings: string[]): Promise<string | undefined> {
  const ns = pod.metadata?.namespace ?? 'default';
  if (v.emptyDir) return setUpEmptyDir(v, dir, warnings);
  if (v.hostPath) return checkHostPath(v.hostPath.path, v.hostPath.type ?? '');
  if (v.persistentVolumeClaim) return setUpClaim(v.persistentVolumeClaim.claimName, ns, dir, deps);
  const payload: Payload = new Map();
  let error: string | undefined;
  if (v.configMap) {
    error = await addObject(payload, deps, 'configmaps', ns, v.configMap.name ?? '', v.configMap.items, v.configMap.defaultMode, v.configMap.optional);
  } else if (v.secret) {
    error = await addObject(payload, deps, 'secrets', ns, v.secret.secretName ?? '', v.secret.items, v.secret.defaultMode, v.secret.optional);
  } else if (v.downwardAPI) {
    error = addDownward(payload, pod, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode, deps);
  } else if (v.projected) {
    const mode = v.projected.defaultMode;
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) error = await addObject(payload, deps, 'configmaps', ns, s.configMap.name ?? '', s.configMap.items, mode, s.configMap.optional);
      else if (s.secret) error = await addObject(payload, deps, 'secrets', ns, s.secret.name ?? '', s.secret.items, mode, s.secret.optional);
      else if (s.downwardAPI) error = addDownward(payload, pod, s.downwardAPI.items ?? [], mode, deps);
      else if (s.serviceAccountToken) {
        warnings.push(
          `volume "${v.name}": serviceAccountToken projection (${s.serviceAccountToken.path}) is not supported by this node yet; the file is not written`,
        );
      } else error = `projected volume source ${Object.keys(s).join(', ')} is not supported by this node`;
      if (error !== undefined) break;
    }
  } else {
    const kind = Object.keys(v).filter((k) => k !== 'name');
    return `volume type ${kind.join(', ') || '(none)'} is not supported by this node`;
  }
  if (error !== undefined) return error;
  return writeAtomic(dir, payload);
}

async function setUpEmptyDir(v: Volume, dir: string, warnings: string[]): Promise<undefined> {
  let fresh = !(await stat(dir).catch(() => undefined));
  if (fresh) await mkdir(dir, { recursive: true });
  if (v.emptyDir?.medium === 'Memory' && !mountPoints().has(dir)) {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) {
      if (fresh) warnings.push(`emptyDir "${v.name}" with medium Memory needs root on Linux to mount a tmpfs; it is a plain directory on disk instead`);
    } else {
      const limit = v.emptyDir.sizeLimit === undefined ? undefined : wholeBytes(String(v.emptyDir.sizeLimit));
      const size = limit ?? Math.floor(totalmem() / 2);
      await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
      fresh = true;
    }
  }
  // World-writable, as the kubelet makes emptyDir, so containers running as any user can share it;
  // set once, so a container that tightens it later is not overruled on the next sync.
  if (fresh) await chmod(dir, 0o777);
  return undefined;
}

/** A quantity in whole bytes, rounded up; undefined when it does not parse. */
function wholeBytes(text: string): number | undefined {
  const q = tryParseQuantity(text);
  if (!q) return undefined;
  const r = roundUpQuantity(q, 0);
  return Number(r.mantissa) * 10 ** r.scale;
}

/** The kubelet's hostPath type check (checkTypeInternal); the OrCreate types create what is missing. */
export async function checkHostPath(path: string, type: string): Promise<string | undefined> {
  let st = await stat(path).catch(() => undefined);
  if (type === 'DirectoryOrCreate' && !st) {
    await mkdir(path, { recursive: true, mode: 0o755 });
    st = await stat(path);
  }
  if (type === 'FileOrCreate' && !st) {
    await writeFile(path, '', { flag: 'a', mode: 0o644 });
    st = await stat(path);
  }
  switch (type) {
    case '':
      return undefined;
    case 'DirectoryOrCreate':
    case 'Directory':
      return st?.isDirectory() ? undefined : `hostPath type check failed: ${path} is not a directory`;
    case 'FileOrCreate':
    case 'File':
      return st?.isFile() ? undefined : `hostPath type check failed: ${path} is not a file`;
    case 'Socket':
      return st?.isSocket() ? undefined : `hostPath type check failed: ${path} is not a socket file`;
    case 'CharDevice':
      return st?.isCharacterDevice() ? undefined : `hostPath type check failed: ${path} is not a character device`;
    case 'BlockDevice':
      return st?.isBlockDevice() ? undefined : `hostPath type check failed: ${path} is not a block device`;
    default:
      return `${type} is an invalid volume type`;
  }
}

/** Claim → bound PersistentVolume → its path on this node; `<dir>` becomes a symlink to that path. */
async function setUpClaim(claimName: string, ns: string, dir: string, deps: VolumeDeps): Promise<string | undefined> {
  const pvc = (await deps.get('persistentvolumeclaims', ns, claimName)) as
    | { spec?: { volumeName?: string }; status?: { phase?: string } }
    | undefined;
  if (!pvc) return `persistentvolumeclaim "${claimName}" not found`;
  const pvName = pvc.spec?.volumeName ?? '';
  if (pvc.status?.phase !== 'Bound' || pvName === '') {
    return `PVC ${ns}/${claimName} has non-bound phase ("${pvc.status?.phase ?? ''}") or empty pvc.Spec.VolumeName ("${pvName}")`;
  }
  const pv = (await deps.get('persistentvolumes', '', pvName)) as
    | { spec?: { hostPath?: { path: string; type?: string }; local?: { path: string } } }
    | undefined;
  if (!pv) return `persistentvolume "${pvName}" not found`;
  const source = pv.spec?.hostPath ?? pv.spec?.local;
  if (!source) return `persistentvolume "${pvName}": only hostPath and local volumes can be mounted by this node`;
  const checked = await checkHostPath(source.path, pv.spec?.hostPath?.type ?? (pv.spec?.local ? 'Directory' : ''));
  if (checked !== undefined) return checked;
  const current = await readlink(dir).catch(() => undefined);
  if (current !== source.path) {
    await rm(dir, { force: true });
    await symlink(source.path, dir);
  }
  return undefined;
}

/** A configMap or secret source's files (MakePayload): all keys, or `items` key → path with per-item mode. */
async function addObject(
  payload: Payload,
  deps: VolumeDeps,
  kind: 'configmaps' | 'secrets',
  ns: string,
  name: string,
  items: KeyToPath[] | undefined,
  defaultMode: number | undefined,
  optional: boolean | undefined,
): Promise<string | undefined> {
  const obj = (await deps.get(kind, ns, name)) as { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined;
  const singular = kind === 'configmaps' ? 'configmap' : 'secret';
  if (!obj && optional !== true) return `${singular} "${name}" not found`;
  const files = new Map<string, Buffer>();
  if (kind === 'secrets') {
    for (const [k, v] of Object.entries(obj?.data ?? {})) files.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries(obj?.data ?? {})) files.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(obj?.binaryData ?? {})) files.set(k, Buffer.from(v, 'base64'));
  }
  const mode = defaultMode ?? DEFAULT_MODE;
  if (!items || items.length === 0) {
    for (const [k, data] of files) payload.set(k, { data, mode });
    return undefined;
  }
  for (const item of items) {
    const data = files.get(item.key);
    if (!data) {
      if (optional === true) continue;
      return `${singular} references non-existent ${singular === 'configmap' ? 'config' : 'secret'} key: ${item.key}`;
    }
    payload.set(item.path, { data, mode: item.mode ?? mode });
  }
  return undefined;
}

/** Downward API files: pod fields and container resources, refreshed on each sync. */
function addDownward(payload: Payload, pod: Pod, items: NonNullable<Volume['downwardAPI']>['items'] & object, defaultMode: number | undefined, deps: VolumeDeps): string | undefined {
  for (const item of items) {
    let r: { value: string } | { error: string };
    if (item.fieldRef) r = podFieldValue(pod, item.fieldRef, deps);
    else if (item.resourceFieldRef) r = resourceFieldValue(pod, undefined, item.resourceFieldRef, deps.nodeAllocatable);
    else continue;
    if ('error' in r) return r.error;
    payload.set(item.path, { data: Buffer.from(r.value, 'utf8'), mode: item.mode ?? defaultMode ?? DEFAULT_MODE });
  }
  return undefined;
}

/** AtomicWriter.validatePath */
function validatePayloadPath(p: string): string | undefined {
  if (p === '') return `invalid path: must not be empty: "${p}"`;
  if (isAbsolute(p)) return `invalid path: must be relative path: ${p}`;
  if (p.length > 4096) return 'invalid path: must be less than or equal to 4096 characters';
  const parts = p.split('/');
  for (const part of parts) {
    if (part === '..') return `invalid path: must not contain '..': ${p}`;
    if (part.length > 255) return 'invalid path: filenames must be less than or equal to 255 characters';
  }
  if ((parts[0] ?? '').startsWith('..') && (parts[0] ?? '').length > 2) return `invalid path: must not start with '..': ${p}`;
  return undefined;
}

/**
 * AtomicWriter.Write: writes the payload into a fresh `..<timestamp>` directory and swaps `..data`
 * to it with rename(2) when anything changed; keeps one `name → ..data/name` link per top-level
 * name and removes links and old directories that no longer belong.
 */
export async function writeAtomic(dir: string, payload: Payload): Promise<string | undefined> {
  for (const p of payload.keys()) {
    const bad = validatePayloadPath(p);
    if (bad !== undefined) return bad;
  }
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  const oldTs = await readlink(dataLink).catch(() => undefined);
  let changed = oldTs === undefined;
  if (!changed) {
    const oldFiles = await listFiles(join(dir, oldTs!));
    changed = oldFiles.length !== payload.size;
    for (const f of oldFiles) {
      const want = payload.get(f);
      if (changed || !want) {
        changed = true;
        break;
      }
      const path = join(dir, oldTs!, f);
      const [have, st] = await Promise.all([readFile(path), stat(path)]);
      if (!have.equals(want.data) || (st.mode & 0o7777) !== want.mode) changed = true;
    }
  }
  let currentTs = oldTs;
  if (changed) {
    const ts = await mkdtemp(join(dir, `..${timestamp(new Date())}.`));
    await chmod(ts, 0o755);
    for (const [p, f] of payload) {
      const path = join(ts, p);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await writeFile(path, f.data, { mode: f.mode });
      await chmod(path, f.mode);
    }
    const tmpLink = join(dir, '..data_tmp');
    await rm(tmpLink, { force: true });
    await symlink(basename(ts), tmpLink);
    await rename(tmpLink, dataLink);
    currentTs = basename(ts);
  }
  const visible = new Set([...payload.keys()].map((p) => p.split('/')[0] ?? p));
  for (const name of visible) {
    const link = join(dir, name);
    const st = await lstat(link).catch(() => undefined);
    if (!st) await symlink(join('..data', name), link);
  }
  for (const entry of await readdir(dir)) {
    const stale = entry.startsWith('..') ? entry !== '..data' && entry !== currentTs : !visible.has(entry);
    if (stale) await rm(join(dir, entry), { recursive: true, force: true });
  }
  return undefined;
}

/** `..2006_01_02_15_04_05.` as the kubelet names its payload directories. */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, prefix), { withFileTypes: true }).catch(() => [])) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * The container's volumeMounts, in order, as runtime bind mounts. subPath and subPathExpr (expanded
 * with `env`, the container's resolved environment) are joined under the volume, created when
 * missing, and refused when they climb out of it (`..` or a symlink). configMap, secret,
 * downwardAPI and projected volumes are always read-only. Call after setUpVolumes succeeded.
 */
export function mountsFor(pod: Pod, container: Container, podDir: string, env: Readonly<Record<string, string>> = {}): Mount[] | { error: string } {
  const mounts: Mount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === m.name);
    if (!volume) return { error: `cannot find volume "${m.name}" to mount into container "${container.name}"` };
    let base: string;
    if (volume.hostPath) {
      base = volume.hostPath.path;
    } else if (volume.persistentVolumeClaim) {
      try {
        base = readlinkSync(join(volumesDir(podDir), m.name));
      } catch {
        return { error: `volume "${m.name}" is not set up on this node` };
      }
    } else {
      base = join(volumesDir(podDir), m.name);
    }
    let hostPath = base;
    let subPath = m.subPath ?? '';
    if (m.subPathExpr) {
      // ExpandContainerVolumeMounts: every referenced variable must be set and non-empty.
      const missing = new Set<string>();
      subPath = expandWith(m.subPathExpr, (name) => {
        const value = Object.hasOwn(env, name) ? (env[name] as string) : '';
        if (value === '') missing.add(name);
        return value;
      });
      if (missing.size > 0) return { error: `missing value for ${[...missing].sort().join(', ')}` };
    }
    if (subPath !== '') {
      if (isAbsolute(subPath)) return { error: `error SubPath \`${subPath}\` must not be an absolute path` };
      if (subPath.split('/').includes('..')) return { error: `unable to provision SubPath \`${subPath}\`: must not contain '..'` };
      hostPath = join(base, subPath);
      try {
        if (!exists(hostPath)) mkdirSync(hostPath, { recursive: true, mode: statSync(base).mode & 0o7777 });
        const real = realpathSync(hostPath);
        const root = realpathSync(base);
        if (real !== root && !real.startsWith(root + sep)) return { error: `subpath "${real}" not within volume path "${root}"` };
        hostPath = real;
      } catch {
        return { error: `failed to create subPath directory for volumeMount "${m.name}" of container "${container.name}"` };
      }
    }
    const alwaysReadOnly = FILE_BACKED.some((k) => volume[k] !== undefined);
    const claimReadOnly = volume.persistentVolumeClaim?.readOnly === true;
    mounts.push({ hostPath, containerPath: m.mountPath, readOnly: m.readOnly === true || alwaysReadOnly || claimReadOnly });
  }
  return mounts;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Unmounts whatever is mounted under `<podDir>/volumes` (tmpfs emptyDirs; lazily when busy) and
 * removes the directory. Idempotent. Never follows a hostPath or claim link, so their contents are
 * never deleted; refuses to delete anything while a mount under it remains.
 */
export async function tearDownVolumes(podDir: string): Promise<void> {
  const root = volumesDir(resolve(podDir));
  const under = () => [...mountPoints()].filter((p) => p === root || p.startsWith(root + sep)).sort((a, b) => b.length - a.length);
  for (const p of under()) {
    await run('umount', [p]).catch(() => run('umount', ['-l', p]));
  }
  const left = under();
  if (left.length > 0) throw new Error(`cannot remove ${root}: still mounted: ${left.join(', ')}`);
  // rm never follows symlinks, so a claim's link goes and its target stays.
  await rm(root, { recursive: true, force: true });
}

/** Mount points of this mount namespace, from /proc/self/mountinfo (octal escapes decoded). */
export function mountPoints(): Set<string> {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}
