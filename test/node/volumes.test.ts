// Volumes on a real filesystem: the kubelet's AtomicWriter layout and its update semantics (a
// reader's path stays valid, a bind mount of the volume sees the new content), modes and items,
// every hostPath type, claims, a real tmpfs for medium Memory, the bind mounts a container gets,
// and a teardown that leaves nothing behind (and never touches hostPath contents).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, PodSpec, Volume } from 'kubernetes-types/core/v1.js';
import { checkHostPath, mountPoints, mountsFor, setUpVolumes, tearDownVolumes, type VolumeDeps } from '../../src/node/volumes.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(file, args, { timeout: 10_000 }, (err, _o, stderr) => (err ? reject(new Error(String(stderr) || err.message)) : resolve())));
}

/** A scratch pod directory, removed (volumes torn down first) even when the test fails. */
async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-vol-'));
  t.after(async () => {
    await tearDownVolumes(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function pod(volumes: Volume[], spec: Partial<PodSpec> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { a: '1' } },
    spec: { containers: [{ name: 'app', image: 'busybox', resources: { limits: { memory: '64Mi' } } }], volumes, ...spec },
  };
}

function deps(objects: Record<string, object>): VolumeDeps {
  return {
    get: async (kind, ns, name) => objects[`${kind}/${ns}/${name}`],
    podIP: '10.42.0.5',
    hostIP: '192.168.1.2',
    nodeName: 'node-a',
    nodeAllocatable: { cpu: '4', memory: '8Gi' },
  };
}

const modeOf = async (p: string) => (await stat(p)).mode & 0o777;

test('a configMap volume is laid out like the kubelet AtomicWriter, with default and per-item modes', async (t) => {
  const podDir = await scratch(t);
  const objects = { 'configmaps/shop/cfg': { data: { 'app.conf': 'port=80\n', other: 'x' }, binaryData: { 'logo.bin': b64('\x00\x01') } } };
  assert.deepEqual(await setUpVolumes(pod([{ name: 'cfg', configMap: { name: 'cfg' } }]), podDir, deps(objects)), { ok: true, warnings: [] });
  const vol = join(podDir, 'volumes', 'cfg');
  const ts = await readlink(join(vol, '..data'));
  assert.match(ts, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+$/);
  assert.equal(await readlink(join(vol, 'app.conf')), '..data/app.conf');
  assert.equal(await readFile(join(vol, 'app.conf'), 'utf8'), 'port=80\n');
  assert.deepEqual(await readFile(join(vol, 'logo.bin')), Buffer.from([0, 1]));
  assert.equal(await modeOf(join(vol, 'app.conf')), 0o644);
  assert.deepEqual((await readdir(vol)).sort(), ['..data', ts, 'app.conf', 'logo.bin', 'other'].sort());

  const items = pod([{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 0o600, items: [{ key: 'app.conf', path: 'etc/app/app.conf', mode: 0o440 }, { key: 'other', path: 'other.txt' }] } }]);
  assert.ok('ok' in (await setUpVolumes(items, podDir, deps(objects))));
  assert.equal(await readFile(join(vol, 'etc/app/app.conf'), 'utf8'), 'port=80\n');
  assert.equal(await readlink(join(vol, 'etc')), '..data/etc');
  assert.equal(await modeOf(join(vol, 'etc/app/app.conf')), 0o440);
  assert.equal(await modeOf(join(vol, 'other.txt')), 0o600);
  assert.equal(existsSync(join(vol, 'app.conf')), false, 'names no longer projected are removed');
  assert.equal(existsSync(join(vol, ts)), false, 'the previous payload directory is removed');
});

test('an update swaps ..data atomically: the path stays valid, an open file keeps the old bytes, nothing changes when nothing changed', async (t) => {
  const podDir = await scratch(t);
  const cm: { data: Record<string, string> } = { data: { greeting: 'hello' } };
  const d = deps({ 'configmaps/shop/cfg': cm });
  const p = pod([{ name: 'cfg', configMap: { name: 'cfg' } }]);
  await setUpVolumes(p, podDir, d);
  const path = join(podDir, 'volumes', 'cfg', 'greeting');
  const first = await readlink(join(podDir, 'volumes', 'cfg', '..data'));
  await setUpVolumes(p, podDir, d);
  assert.equal(await readlink(join(podDir, 'volumes', 'cfg', '..data')), first, 'an unchanged payload is not rewritten');

  const reader = await open(path, 'r');
  try {
    cm.data = { greeting: 'bonjour' };
    await setUpVolumes(p, podDir, d);
    assert.equal(await readFile(path, 'utf8'), 'bonjour');
    const buf = Buffer.alloc(16);
    const { bytesRead } = await reader.read(buf, 0, 16, 0);
    assert.equal(buf.subarray(0, bytesRead).toString(), 'hello', 'a reader that opened the old file keeps a whole old file');
  } finally {
    await reader.close();
  }
});

test('a configMap change reaches a bind mount of the volume directory without remounting', async (t) => {
  const podDir = await scratch(t);
  const target = join(podDir, 'container-view');
  await mkdir(target);
  const cm = { data: { level: 'info' } };
  const d = deps({ 'configmaps/shop/cfg': cm });
  const p = pod([{ name: 'cfg', configMap: { name: 'cfg' } }]);
  await setUpVolumes(p, podDir, d);
  await run('mount', ['--bind', join(podDir, 'volumes', 'cfg'), target]);
  try {
    assert.equal(await readFile(join(target, 'level'), 'utf8'), 'info');
    cm.data = { level: 'debug' };
    await setUpVolumes(p, podDir, d);
    assert.equal(await readFile(join(target, 'level'), 'utf8'), 'debug');
  } finally {
    await run('umount', [target]);
  }
});

test('secrets are decoded; missing objects and keys fail with the FailedMount message; optional ones do not', async (t) => {
  const podDir = await scratch(t);
  const d = deps({ 'secrets/shop/creds': { data: { password: b64('s3cret') } }, 'configmaps/shop/cfg': { data: { a: '1' } } });
  assert.ok('ok' in (await setUpVolumes(pod([{ name: 'sec', secret: { secretName: 'creds' } }]), podDir, d)));
  assert.equal(await readFile(join(podDir, 'volumes', 'sec', 'password'), 'utf8'), 's3cret');
  assert.equal(await modeOf(join(podDir, 'volumes', 'sec', 'password')), 0o644);

  const cases: [string, Volume, string][] = [
    ['missing configMap', { name: 'cfg', configMap: { name: 'app-config' } }, 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found'],
    ['missing secret', { name: 's', secret: { secretName: 'nope' } }, 'MountVolume.SetUp failed for volume "s" : secret "nope" not found'],
    ['missing configMap key', { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'b', path: 'b' }] } }, 'MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: b'],
    ['missing secret key', { name: 's', secret: { secretName: 'creds', items: [{ key: 'user', path: 'u' }] } }, 'MountVolume.SetUp failed for volume "s" : secret references non-existent secret key: user'],
    ['escaping item path', { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a', path: '../a' }] } }, "MountVolume.SetUp failed for volume \"cfg\" : invalid path: must not contain '..': ../a"],
    ['unsupported type', { name: 'n', nfs: { server: 'x', path: '/' } }, 'MountVolume.SetUp failed for volume "n" : volume type nfs is not supported by this node'],
  ];
  for (const [name, v, message] of cases) assert.deepEqual(await setUpVolumes(pod([v]), podDir, d), { volume: v.name, message }, name);

  const optional = pod([{ name: 'opt', configMap: { name: 'absent', optional: true } }, { name: 'opt2', secret: { secretName: 'creds', optional: true, items: [{ key: 'x', path: 'x' }] } }]);
  assert.ok('ok' in (await setUpVolumes(optional, podDir, d)));
  assert.deepEqual(await readdir(join(podDir, 'volumes', 'opt')).then((e) => e.filter((n) => !n.startsWith('..'))), []);
});

test('downwardAPI and projected volumes write pod fields and resources; a service account token is a warning, not a fake', async (t) => {
  const podDir = await scratch(t);
  const d = deps({ 'configmaps/shop/cfg': { data: { a: '1' } }, 'secrets/shop/creds': { data: { b: b64('2') } } });
  const downward: Volume = {
    name: 'info',
    downwardAPI: {
      items: [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
        { path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu' }, mode: 0o400 },
      ],
    },
  };
  const projected: Volume = {
    name: 'all',
    projected: {
      defaultMode: 0o640,
      sources: [
        { configMap: { name: 'cfg' } },
        { secret: { name: 'creds', items: [{ key: 'b', path: 'secret/b' }] } },
        { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        { serviceAccountToken: { path: 'token' } },
      ],
    },
  };
  const r = await setUpVolumes(pod([downward, projected]), podDir, d);
  assert.ok('ok' in r);
  assert.deepEqual(r.warnings, ['volume "all": serviceAccountToken projection (token) is not supported by this node yet; the file is not written']);
  const read = (v: string, f: string) => readFile(join(podDir, 'volumes', v, f), 'utf8');
  assert.equal(await read('info', 'name'), 'web');
  assert.equal(await read('info', 'labels'), 'app="web"');
  assert.equal(await read('info', 'mem'), '64');
  assert.equal(await read('info', 'cpu'), '4', 'an unset limit is the node allocatable');
  assert.equal(await modeOf(join(podDir, 'volumes', 'info', 'cpu')), 0o400);
  assert.equal(await read('all', 'a'), '1');
  assert.equal(await read('all', 'secret/b'), '2');
  assert.equal(await read('all', 'ns'), 'shop');
  assert.equal(await modeOf(join(podDir, 'volumes', 'all', 'a')), 0o640);
  assert.equal(existsSync(join(podDir, 'volumes', 'all', 'token')), false);
});

test('hostPath types are checked with the kubelet messages, and the OrCreate types create', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-hostpath-'));
  const sock = join(dir, 'app.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, 'file'), 'x');
  const cases: [string, string, string, string | undefined][] = [
    ['no type checks nothing', join(dir, 'missing'), '', undefined],
    ['a directory is a directory', dir, 'Directory', undefined],
    ['a file is not a directory', join(dir, 'file'), 'Directory', `hostPath type check failed: ${join(dir, 'file')} is not a directory`],
    ['a missing directory is not a directory', join(dir, 'missing'), 'Directory', `hostPath type check failed: ${join(dir, 'missing')} is not a directory`],
    ['a file is a file', join(dir, 'file'), 'File', undefined],
    ['a directory is not a file', dir, 'File', `hostPath type check failed: ${dir} is not a file`],
    ['a socket is a socket', sock, 'Socket', undefined],
    ['a file is not a socket', join(dir, 'file'), 'Socket', `hostPath type check failed: ${join(dir, 'file')} is not a socket file`],
    ['/dev/null is a character device', '/dev/null', 'CharDevice', undefined],
    ['a file is not a character device', join(dir, 'file'), 'CharDevice', `hostPath type check failed: ${join(dir, 'file')} is not a character device`],
    ['/dev/null is not a block device', '/dev/null', 'BlockDevice', 'hostPath type check failed: /dev/null is not a block device'],
    ['an unknown type is refused', dir, 'Pipe', 'Pipe is an invalid volume type'],
    ['DirectoryOrCreate creates', join(dir, 'made', 'deep'), 'DirectoryOrCreate', undefined],
    ['DirectoryOrCreate refuses a file', join(dir, 'file'), 'DirectoryOrCreate', `hostPath type check failed: ${join(dir, 'file')} is not a directory`],
    ['FileOrCreate creates', join(dir, 'new-file'), 'FileOrCreate', undefined],
    ['FileOrCreate refuses a directory', dir, 'FileOrCreate', `hostPath type check failed: ${dir} is not a file`],
  ];
  for (const [name, path, type, want] of cases) assert.equal(await checkHostPath(path, type), want, name);
  assert.ok((await stat(join(dir, 'made', 'deep'))).isDirectory());
  assert.ok((await stat(join(dir, 'new-file'))).isFile());
});

test('a claim resolves to its bound PersistentVolume path, or says what is missing', async (t) => {
  const podDir = await scratch(t);
  const data = await mkdtemp(join(tmpdir(), 'skiff-pv-'));
  t.after(() => rm(data, { recursive: true, force: true }));
  await writeFile(join(data, 'keep'), 'precious');
  const objects: Record<string, object> = {};
  const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'db' } }], { containers: [{ name: 'app', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] });
  assert.deepEqual(await setUpVolumes(p, podDir, deps(objects)), { volume: 'data', message: 'MountVolume.SetUp failed for volume "data" : persistentvolumeclaim "db" not found' });
  objects['persistentvolumeclaims/shop/db'] = { spec: {}, status: { phase: 'Pending' } };
  assert.deepEqual(await setUpVolumes(p, podDir, deps(objects)), {
    volume: 'data',
    message: 'MountVolume.SetUp failed for volume "data" : PVC shop/db has non-bound phase ("Pending") or empty pvc.Spec.VolumeName ("")',
  });
  objects['persistentvolumeclaims/shop/db'] = { spec: { volumeName: 'pv-1' }, status: { phase: 'Bound' } };
  assert.deepEqual(await setUpVolumes(p, podDir, deps(objects)), { volume: 'data', message: 'MountVolume.SetUp failed for volume "data" : persistentvolume "pv-1" not found' });
  objects['persistentvolumes//pv-1'] = { spec: { hostPath: { path: data } } };
  assert.ok('ok' in (await setUpVolumes(p, podDir, deps(objects))));
  assert.deepEqual(mountsFor(p, p.spec!.containers[0]!, podDir), [{ hostPath: data, containerPath: '/data', readOnly: false }]);
  await tearDownVolumes(podDir);
  assert.equal(await readFile(join(data, 'keep'), 'utf8'), 'precious', 'teardown never deletes what a claim points at');
});

test('emptyDir medium Memory is a real tmpfs, sized by sizeLimit, mounted once and unmounted by teardown', async (t) => {
  const podDir = await scratch(t);
  const p = pod([{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }, { name: 'scratch', emptyDir: {} }]);
  assert.deepEqual(await setUpVolumes(p, podDir, deps({})), { ok: true, warnings: [] });
  assert.deepEqual(await setUpVolumes(p, podDir, deps({})), { ok: true, warnings: [] });
  const dir = join(podDir, 'volumes', 'cache');
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === dir);
  assert.equal(lines.length, 1, 'mounted exactly once');
  assert.match(lines[0]!, / - tmpfs tmpfs .*size=16384k/);
  assert.equal(await modeOf(dir), 0o777);
  assert.equal(await modeOf(join(podDir, 'volumes', 'scratch')), 0o777);
  await writeFile(join(dir, 'f'), 'in memory');
  await tearDownVolumes(podDir);
  assert.equal(mountPoints().has(dir), false);
  assert.equal(existsSync(join(podDir, 'volumes')), false);
  await tearDownVolumes(podDir);
});

test('without root, emptyDir medium Memory is a plain directory and says so once', async (t) => {
  const podDir = await scratch(t);
  const real = process.getuid;
  process.getuid = () => 1000;
  try {
    const p = pod([{ name: 'cache', emptyDir: { medium: 'Memory' } }]);
    assert.deepEqual(await setUpVolumes(p, podDir, deps({})), {
      ok: true,
      warnings: ['emptyDir "cache" with medium Memory needs root on Linux to mount a tmpfs; it is a plain directory on disk instead'],
    });
    assert.deepEqual(await setUpVolumes(p, podDir, deps({})), { ok: true, warnings: [] });
    assert.equal(mountPoints().has(join(podDir, 'volumes', 'cache')), false);
    assert.ok((await stat(join(podDir, 'volumes', 'cache'))).isDirectory());
  } finally {
    process.getuid = real;
  }
});

test('mountsFor gives each volumeMount in order with subPaths joined safely and file-backed volumes read-only', async (t) => {
  const podDir = await scratch(t);
  const host = await mkdtemp(join(tmpdir(), 'skiff-host-'));
  t.after(() => rm(host, { recursive: true, force: true }));
  const volumes: Volume[] = [
    { name: 'shared', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'cfg' } },
    { name: 'host', hostPath: { path: host } },
  ];
  const p = pod(volumes, {
    containers: [
      {
        name: 'app',
        volumeMounts: [
          { name: 'shared', mountPath: '/shared' },
          { name: 'shared', mountPath: '/logs', subPathExpr: '$(POD_NAME)/logs' },
          { name: 'cfg', mountPath: '/etc/app' },
          { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
          { name: 'host', mountPath: '/host', readOnly: true },
        ],
      },
    ],
  });
  assert.ok('ok' in (await setUpVolumes(p, podDir, deps({ 'configmaps/shop/cfg': { data: { 'app.conf': 'x' } } }))));
  const vol = join(podDir, 'volumes');
  const c = p.spec!.containers[0]!;
  const ts = await readlink(join(vol, 'cfg', '..data'));
  assert.deepEqual(mountsFor(p, c, podDir, { POD_NAME: 'web' }), [
    { hostPath: join(vol, 'shared'), containerPath: '/shared', readOnly: false },
    { hostPath: join(vol, 'shared', 'web', 'logs'), containerPath: '/logs', readOnly: false },
    { hostPath: join(vol, 'cfg'), containerPath: '/etc/app', readOnly: true },
    { hostPath: join(vol, 'cfg', ts, 'app.conf'), containerPath: '/etc/app.conf', readOnly: true },
    { hostPath: host, containerPath: '/host', readOnly: true },
  ]);
  assert.ok((await lstat(join(vol, 'shared', 'web', 'logs'))).isDirectory(), 'a missing subPath is created');

  await symlink('/etc', join(vol, 'shared', 'escape'));
  const bad = (mount: { subPath?: string; subPathExpr?: string; name?: string }) =>
    mountsFor(pod(volumes, { containers: [{ name: 'app', volumeMounts: [{ name: 'shared', mountPath: '/x', ...mount }] }] }), { name: 'app', volumeMounts: [{ name: 'shared', mountPath: '/x', ...mount }] }, podDir, {});
  assert.deepEqual(bad({ subPath: '../../etc' }), { error: "unable to provision SubPath `../../etc`: must not contain '..'" });
  assert.deepEqual(bad({ subPath: '/etc' }), { error: 'error SubPath `/etc` must not be an absolute path' });
  assert.deepEqual(bad({ subPath: 'escape' }), { error: `subpath "/etc" not within volume path "${join(vol, 'shared')}"` });
  assert.deepEqual(bad({ subPathExpr: '$(NOPE)' }), { error: 'missing value for NOPE' });
  assert.deepEqual(bad({ name: 'gone' }), { error: 'cannot find volume "gone" to mount into container "app"' });
});

test('teardown removes every volume but leaves hostPath contents, and is idempotent', async (t) => {
  const podDir = await scratch(t);
  const host = await mkdtemp(join(tmpdir(), 'skiff-host-'));
  t.after(() => rm(host, { recursive: true, force: true }));
  await writeFile(join(host, 'keep'), 'mine');
  const p = pod([
    { name: 'e', emptyDir: {} },
    { name: 'h', hostPath: { path: host, type: 'Directory' } },
    { name: 'c', configMap: { name: 'cfg' } },
  ]);
  assert.ok('ok' in (await setUpVolumes(p, podDir, deps({ 'configmaps/shop/cfg': { data: { k: 'v' } } }))));
  await writeFile(join(podDir, 'volumes', 'e', 'data'), 'scratch');
  await tearDownVolumes(podDir);
  assert.equal(existsSync(join(podDir, 'volumes')), false);
  assert.equal(await readFile(join(host, 'keep'), 'utf8'), 'mine');
  await tearDownVolumes(podDir);
});
