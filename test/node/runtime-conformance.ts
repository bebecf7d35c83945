// The runtime conformance suite (issue 5): what every ContainerRuntime must do, checked with real
// processes (sh, python3), real namespaces and real cgroups. A runtime's test file calls
// runtimeConformance(name, factory). Every sandbox a test makes is removed in t.after, and the suite
// removes its node network and state directory at the end, whether the assertions held or not.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostVethName } from '../../src/node/network.js';
import type { Container, ContainerConfig, ContainerRuntime, ExecProcess, Sandbox } from '../../src/node/runtime/runtime.js';
import { eventually } from '../support/eventually.js';

export type RuntimeFactory = (opts: { nodeName: string; stateDir: string; nodeIP?: string }) => ContainerRuntime;

interface CriLine {
  time: string;
  stream: string;
  tag: string;
  text: string;
}
/** Parses a CRI log file; fails on any line that is not a CRI record. */
export function readCriLog(path: string): CriLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) ([^\n]*)$/.exec(l);
      assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
      return { time: m[1]!, stream: m[2]!, tag: m[3]!, text: m[4]! };
    });
}

async function freeSubnet(): Promise<string> {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let i = 0; i < 100; i++) {
    const s = `10.${randomInt(201, 250)}.${randomInt(0, 256)}`;
    if (!routes.includes(`${s}.`)) return s;
  }
  throw new Error('no free 10.x subnet');
}

function read(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    stream.on('data', (d: Buffer | string) => (s += String(d)));
    stream.on('end', () => resolve(s));
    stream.on('close', () => resolve(s));
  });
}

async function runExec(p: ExecProcess): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const [stdout, stderr, r] = await Promise.all([read(p.stdout), read(p.stderr), p.exited]);
  return { exitCode: r.exitCode, stdout, stderr };
}

/** The cgroup directory of a process for one v1 controller, or its v2 directory. */
function cgroupDirOf(pid: number, controller: string): string | undefined {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes(controller));
  if (v1 && existsSync(`/sys/fs/cgroup/${controller}`)) return `/sys/fs/cgroup/${controller}${v1[2]}`;
  const v2 = lines.find((l) => l.startsWith('0::'));
  return v2 ? `/sys/fs/cgroup${v2.slice(3)}` : undefined;
}

function tcpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 3000 });
    let data = '';
    s.on('connect', () => s.write(`GET / HTTP/1.0\r\nHost: x\r\n\r\n`));
    s.on('data', (d) => (data += String(d)));
    s.on('end', () => resolve(data));
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', reject);
  });
}

const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Runs the conformance suite against runtimes made by factory. */
export function runtimeConformance(name: string, factory: RuntimeFactory): void {
  describe(`runtime conformance: ${name}`, () => {
    const tag = randomBytes(3).toString('hex');
    const root = mkdtempSync(join(tmpdir(), `skiff-rt-${tag}-`));
    let runtime: ContainerRuntime;
    let subnet = '';
    let nextIp = 2;

    before(async () => {
      runtime = factory({ nodeName: `node-${tag}`, stateDir: join(root, 'state') });
      const info = runtime.info();
      assert.deepEqual(info.networkIsolation, { ok: true }, 'the suite needs Linux and root');
      assert.equal(info.resourceLimits.ok, true, 'the suite needs cgroups');
      subnet = await freeSubnet();
      await runtime.setupNodeNetwork(`${subnet}.0/24`);
    });
    after(async () => {
      await runtime?.shutdown();
      rmSync(root, { recursive: true, force: true });
    });

    async function pod(t: TestContext, opts: { hostNetwork?: boolean; hostname?: string } = {}): Promise<{ sandbox: Sandbox; podDir: string }> {
      const uid = randomUUID();
      const podDir = join(root, 'pods', uid);
      const sandbox = await runtime.runPodSandbox({
        podUid: uid,
        namespace: 'default',
        name: `p-${uid.slice(0, 6)}`,
        hostname: opts.hostname ?? `p-${uid.slice(0, 6)}`,
        hostNetwork: opts.hostNetwork ?? false,
        ip: `${subnet}.${nextIp++}`,
        podDir,
      });
      t.after(() => runtime.removePodSandbox(sandbox));
      return { sandbox, podDir };
    }

    function config(podDir: string, c: Partial<ContainerConfig> & { name: string; argv: string[] }): ContainerConfig {
      return {
        attempt: 0,
        image: 'none',
        env: {},
        mounts: [],
        resources: {},
        stdin: false,
        stdinOnce: false,
        tty: false,
        logPath: join(podDir, 'logs', c.name, '0.log'),
        ...c,
      };
    }

    async function runToEnd(sandbox: Sandbox, podDir: string, c: Partial<ContainerConfig> & { name: string; argv: string[] }) {
      const cfg = config(podDir, c);
      const ctr = await runtime.startContainer(sandbox, cfg);
      const exit = await ctr.exited;
      const lines = readCriLog(cfg.logPath);
      return { exit, lines, out: lines.filter((l) => l.stream === 'stdout').map((l) => l.text) };
    }

    test('exit codes become Completed and Error; a missing program is a StartError with runc\'s message', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const ok = await runToEnd(sandbox, podDir, { name: 'ok', argv: ['sh', '-c', 'exit 0'] });
      assert.equal(ok.exit.exitCode, 0);
      assert.equal(ok.exit.reason, 'Completed');
      const bad = await runToEnd(sandbox, podDir, { name: 'bad', argv: ['sh', '-c', 'exit 3'] });
      assert.equal(bad.exit.exitCode, 3);
      assert.equal(bad.exit.reason, 'Error');
      await assert.rejects(runtime.startContainer(sandbox, config(podDir, { name: 'nf', argv: ['no-such-program-xyz'] })), (e: Error & { reason?: string }) => {
        assert.equal(e.reason, 'StartError');
        assert.match(e.message, /exec: "no-such-program-xyz": executable file not found in \$PATH/);
        return true;
      });
    });

    test('stdout and stderr are written to the log in CRI format', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const r = await runToEnd(sandbox, podDir, { name: 'log', argv: ['sh', '-c', 'echo out1; echo err1 >&2; printf tail'] });
      assert.deepEqual(r.lines.filter((l) => l.stream === 'stderr').map((l) => l.text), ['err1']);
      assert.deepEqual(r.out, ['out1', 'tail']);
      assert.ok(r.lines.every((l) => l.tag === 'F'));
    });

    test('the environment is exactly the container\'s (plus PATH and HOSTNAME), in its working dir', async (t) => {
      const { sandbox, podDir } = await pod(t, { hostname: 'envhost' });
      const r = await runToEnd(sandbox, podDir, { name: 'env', argv: ['sh', '-c', 'pwd; echo "$FOO"; env | sort'], env: { FOO: 'bar baz' }, workingDir: '/tmp' });
      assert.equal(r.out[0], '/tmp');
      assert.equal(r.out[1], 'bar baz');
      const env = r.out.slice(2).filter((l) => !/^(PWD|SHLVL|_)=/.test(l));
      assert.deepEqual(env, ['FOO=bar baz', 'HOSTNAME=envhost', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    });

    test('runAsUser runs the process as that user', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const r = await runToEnd(sandbox, podDir, { name: 'user', argv: ['sh', '-c', 'id -u; id -g'], runAsUser: 65534, runAsGroup: 65533 });
      assert.deepEqual(r.out, ['65534', '65533']);
    });

    test('the hostname is the pod\'s', async (t) => {
      const { sandbox, podDir } = await pod(t, { hostname: 'my-pod-host' });
      const r = await runToEnd(sandbox, podDir, { name: 'h', argv: ['cat', '/proc/sys/kernel/hostname'] });
      assert.deepEqual(r.out, ['my-pod-host']);
    });

    test('two containers of a pod talk over localhost, and the pod IP is reachable from the host', async (t) => {
      const hostname = `web-${tag}`;
      const { sandbox, podDir } = await pod(t, { hostname });
      const www = join(podDir, 'www');
      mkdirSync(www, { recursive: true });
      writeFileSync(join(www, 'index.html'), 'hello from the pod\n');
      // The pod's own /etc/hosts naming its hostname, as the agent makes it: http.server looks its
      // name up at start, which must not wait for a DNS server this test does not run.
      const hosts = join(podDir, 'etc-hosts');
      writeFileSync(hosts, `127.0.0.1\tlocalhost\n${sandbox.ip}\t${hostname}\n`);
      const etcHosts = { hostPath: hosts, containerPath: '/etc/hosts', readOnly: true };
      await runtime.startContainer(sandbox, config(podDir, { name: 'app', argv: ['python3', '-m', 'http.server', '8080'], workingDir: www, mounts: [etcHosts] }));
      const client = `import urllib.request, time
for i in range(200):
    try:
        print(urllib.request.urlopen('http://127.0.0.1:8080/index.html', timeout=2).read().decode().strip()); break
    except Exception:
        time.sleep(0.05)
else:
    raise SystemExit(1)`;
      const r = await runToEnd(sandbox, podDir, { name: 'client', argv: ['python3', '-c', client], mounts: [etcHosts] });
      assert.equal(r.exit.exitCode, 0, r.lines.map((l) => l.text).join('\n'));
      assert.deepEqual(r.out, ['hello from the pod']);
      let body = '';
      await eventually('the pod IP answers from the host', async () => {
        body = await tcpGet(sandbox.ip, 8080).catch(() => '');
        return body.includes('hello from the pod') || body.includes('index.html');
      });
    });

    test('bind mounts are per container, and readOnly refuses writes', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const src = join(podDir, 'vol');
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'secret.txt'), 'only for a\n');
      const target = `/mnt/skiff-conformance-${tag}-${randomBytes(2).toString('hex')}`;
      t.after(() => rmSync(target, { recursive: true, force: true }));
      const a = await runToEnd(sandbox, podDir, { name: 'a', argv: ['cat', `${target}/secret.txt`], mounts: [{ hostPath: src, containerPath: target, readOnly: false }] });
      assert.deepEqual(a.out, ['only for a']);
      const b = await runToEnd(sandbox, podDir, { name: 'b', argv: ['sh', '-c', `test -e ${target}/secret.txt && echo visible || echo hidden`] });
      assert.deepEqual(b.out, ['hidden']);
      const ro = await runToEnd(sandbox, podDir, { name: 'ro', argv: ['sh', '-c', `touch ${target}/new 2>/dev/null && echo wrote || echo refused`], mounts: [{ hostPath: src, containerPath: target, readOnly: true }] });
      assert.deepEqual(ro.out, ['refused']);
      assert.ok(!existsSync(join(src, 'new')));
      await runtime.removePodSandbox(sandbox);
      assert.ok(!existsSync(target), 'the mount point the runtime created is removed with the pod');
    });

    test('a program inside a mount runs; a bad mount source or working dir is a StartError', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const bin = join(podDir, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'hello.sh'), '#!/bin/sh\necho hello from a volume\n', { mode: 0o755 });
      const target = `/mnt/skiff-conformance-${tag}-bin`;
      t.after(() => rmSync(target, { recursive: true, force: true }));
      const r = await runToEnd(sandbox, podDir, { name: 'script', argv: [`${target}/hello.sh`], mounts: [{ hostPath: bin, containerPath: target, readOnly: true }] });
      assert.deepEqual(r.out, ['hello from a volume']);
      const isStartError = (pattern: RegExp) => (e: Error & { reason?: string }) => {
        assert.equal(e.reason, 'StartError');
        assert.match(e.message, pattern);
        return true;
      };
      const badMount = config(podDir, { name: 'badmount', argv: ['true'], mounts: [{ hostPath: join(podDir, 'no-such-source'), containerPath: `${target}-x`, readOnly: false }] });
      t.after(() => rmSync(`${target}-x`, { recursive: true, force: true }));
      await assert.rejects(runtime.startContainer(sandbox, badMount), isStartError(/no-such-source/));
      await assert.rejects(runtime.startContainer(sandbox, config(podDir, { name: 'badwd', argv: ['true'], workingDir: '/no/such/dir' })), isStartError(/chdir to cwd/));
    });

    test('removing a pod leaves another pod\'s bind mount on the same new mount point alone', async (t) => {
      const target = `/mnt/skiff-conformance-${tag}-shared`;
      t.after(() => rmSync(target, { recursive: true, force: true }));
      const a = await pod(t);
      const b = await pod(t);
      const mk = (podDir: string, text: string) => {
        const src = join(podDir, 'vol');
        mkdirSync(src, { recursive: true });
        writeFileSync(join(src, 'who'), text);
        return [{ hostPath: src, containerPath: target, readOnly: false }];
      };
      await runtime.startContainer(a.sandbox, config(a.podDir, { name: 'a', argv: ['sleep', '1000'], mounts: mk(a.podDir, 'a') }));
      const cb = await runtime.startContainer(b.sandbox, config(b.podDir, { name: 'b', argv: ['sleep', '1000'], mounts: mk(b.podDir, 'b') }));
      await runtime.removePodSandbox(a.sandbox);
      const r = await runExec(runtime.exec(cb, { argv: ['cat', `${target}/who`], stdin: false, tty: false }));
      assert.equal(r.stdout, 'b');
    });

    test('exec runs in the container: exit code, stdout, not-found, and a tty', async (t) => {
      const { sandbox, podDir } = await pod(t, { hostname: 'exec-host' });
      const ctr = await runtime.startContainer(sandbox, config(podDir, { name: 'sleeper', argv: ['sleep', '1000'], env: { GREETING: 'hi' } }));
      const r = await runExec(runtime.exec(ctr, { argv: ['sh', '-c', 'echo "$GREETING from $(cat /proc/sys/kernel/hostname)"; exit 5'], stdin: false, tty: false }));
      assert.equal(r.exitCode, 5);
      assert.equal(r.stdout, 'hi from exec-host\n');
      const nf = await runExec(runtime.exec(ctr, { argv: ['no-such-program-xyz'], stdin: false, tty: false }));
      assert.equal(nf.exitCode, 126);
      assert.match(nf.stderr, /executable file not found in \$PATH/);
      const tty = await runExec(runtime.exec(ctr, { argv: ['tty'], stdin: false, tty: true }));
      assert.equal(tty.exitCode, 0);
      assert.match(tty.stdout, /\/dev\/pts\/\d+/);
      const slow = await runExec(runtime.exec(ctr, { argv: ['sleep', '1000'], stdin: false, tty: false, timeoutMs: 200 }));
      assert.notEqual(slow.exitCode, 0);
    });

    test('a tty container writes its terminal to the log as stdout; stdin reaches it and output is live for attach', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const tty = await runToEnd(sandbox, podDir, { name: 'tty', argv: ['sh', '-c', 'tty; echo err >&2'], tty: true });
      assert.equal(tty.exit.exitCode, 0);
      assert.match(tty.out.join('\n'), /\/dev\/pts\/\d+/);
      assert.ok(tty.out.some((l) => l.includes('err')), 'stderr of a tty goes to stdout');
      const cfg = config(podDir, { name: 'cat', argv: ['sh', '-c', 'read line; echo "got $line"'], stdin: true });
      const ctr = await runtime.startContainer(sandbox, cfg);
      assert.ok(ctr.stdin && ctr.output);
      const live = read(ctr.output.stdout);
      ctr.stdin.end('hello\n');
      assert.equal((await ctr.exited).exitCode, 0);
      assert.equal(await live, 'got hello\n');
      assert.deepEqual(readCriLog(cfg.logPath).map((l) => l.text), ['got hello']);
    });

    test('a hostNetwork pod shares the node\'s network and reports the node IP', async (t) => {
      const { sandbox, podDir } = await pod(t, { hostNetwork: true });
      assert.equal(sandbox.isolated, false);
      assert.equal(sandbox.fallbackReason, undefined);
      assert.equal(sandbox.ip, '127.0.0.1');
      const r = await runToEnd(sandbox, podDir, { name: 'net', argv: ['readlink', '/proc/self/ns/net'] });
      assert.deepEqual(r.out, [execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim()]);
    });

    test('a container over its memory limit is OOMKilled with exit code 137', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const hog = 'a = []\nwhile True: a.append(bytearray(4 << 20))';
      const r = await runToEnd(sandbox, podDir, { name: 'hog', argv: ['python3', '-c', hog], resources: { memoryLimitBytes: 64 * 1024 * 1024 } });
      assert.equal(r.exit.reason, 'OOMKilled');
      assert.equal(r.exit.exitCode, 137);
      assert.equal(r.exit.signal, 'SIGKILL');
    });

    test('a cpu limit becomes a CFS quota on the container\'s cgroup', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const ctr = await runtime.startContainer(sandbox, config(podDir, { name: 'cpu', argv: ['sleep', '1000'], resources: { cpuLimitMillis: 500, cpuRequestMillis: 250 } }));
      const dir = cgroupDirOf(ctr.pid, 'cpu');
      assert.ok(dir);
      if (existsSync(join(dir, 'cpu.cfs_quota_us'))) {
        assert.equal(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
        assert.equal(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8').trim(), '100000');
        assert.equal(readFileSync(join(dir, 'cpu.shares'), 'utf8').trim(), '256');
      } else {
        assert.equal(readFileSync(join(dir, 'cpu.max'), 'utf8').trim(), '50000 100000');
      }
    });

    test('stop: a process that exits on SIGTERM is Completed; one that ignores it is SIGKILLed after the grace period', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const ready = (c: ContainerConfig) => eventually(`${c.name} set its trap`, () => readCriLog(c.logPath).some((l) => l.text === 'ready'));
      const politeCfg = config(podDir, { name: 'polite', argv: ['sh', '-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'] });
      const polite = await runtime.startContainer(sandbox, politeCfg);
      await ready(politeCfg);
      const p = await polite.stop(30_000);
      assert.equal(p.exitCode, 0);
      assert.equal(p.reason, 'Completed');
      const stubbornCfg = config(podDir, { name: 'stubborn', argv: ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'] });
      const stubborn: Container = await runtime.startContainer(sandbox, stubbornCfg);
      await ready(stubbornCfg);
      const s = await stubborn.stop(300);
      assert.equal(s.exitCode, 137);
      assert.equal(s.signal, 'SIGKILL');
      assert.equal(s.reason, 'Error');
      assert.equal(await stubborn.stop(0), s, 'stop is idempotent');
    });

    test('removePodSandbox leaves no process, netns, veth, cgroup or mount behind, and can be repeated', async (t) => {
      const { sandbox, podDir } = await pod(t);
      const vol = join(podDir, 'volumes', 'mem');
      mkdirSync(vol, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', vol]); // as the volumes code does for medium: Memory
      t.after(() => {
        try {
          execFileSync('umount', ['-l', vol], { stdio: 'ignore' });
        } catch {
          /* already unmounted */
        }
      });
      const ctr = await runtime.startContainer(sandbox, config(podDir, { name: 'busy', argv: ['sh', '-c', 'sleep 1000 & sleep 1000'], mounts: [{ hostPath: vol, containerPath: '/tmp', readOnly: false }] }));
      const cgDir = cgroupDirOf(ctr.pid, 'memory');
      assert.ok(cgDir && existsSync(cgDir));
      const netns = `/var/run/netns/skiff-${sandbox.id}`;
      assert.ok(existsSync(netns));
      await runtime.removePodSandbox(sandbox);
      await runtime.removePodSandbox(sandbox);
      await eventually('the container process is gone', () => !alive(ctr.pid));
      assert.ok(!existsSync(netns), 'netns removed');
      assert.ok(!existsSync(`/sys/class/net/${hostVethName(sandbox.id)}`), 'veth removed');
      assert.ok(!existsSync(cgDir), 'cgroup removed');
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(podDir), 'no mount under the pod dir');
      const exit = await ctr.exited;
      assert.equal(exit.exitCode, 137);
    });

    test('a new runtime on the same state dir cleans up what a crashed one left', async () => {
      const stateDir = join(root, 'crashed');
      const crashed = factory({ nodeName: `crash-${tag}`, stateDir });
      const sub = await freeSubnet();
      await crashed.setupNodeNetwork(`${sub}.0/24`);
      const uid = randomUUID();
      const podDir = join(root, 'pods', uid);
      const successor = factory({ nodeName: `crash-${tag}`, stateDir });
      let pid = 0;
      let sandbox: Sandbox | undefined;
      try {
        sandbox = await crashed.runPodSandbox({ podUid: uid, namespace: 'default', name: 'c', hostname: 'c', hostNetwork: false, ip: `${sub}.7`, podDir });
        const ctr = await crashed.startContainer(sandbox, config(podDir, { name: 'left', argv: ['sleep', '1000'] }));
        pid = ctr.pid;
        const cgDir = cgroupDirOf(pid, 'memory');
        // The first runtime is dropped without shutdown, as if its agent had crashed.
        const found = await successor.cleanupLeftovers();
        assert.equal(found.sandboxes, 1);
        assert.ok(found.processes >= 1);
        await eventually('the leftover process is gone', () => !alive(pid));
        assert.ok(!existsSync(`/var/run/netns/skiff-${sandbox.id}`));
        assert.ok(!existsSync(`/sys/class/net/${hostVethName(sandbox.id)}`));
        assert.ok(cgDir && !existsSync(cgDir));
        assert.deepEqual(await successor.cleanupLeftovers(), { sandboxes: 0, processes: 0 });
      } finally {
        if (sandbox) await crashed.removePodSandbox(sandbox).catch(() => undefined);
        await crashed.shutdown();
        await successor.shutdown();
      }
    });
  });
}
