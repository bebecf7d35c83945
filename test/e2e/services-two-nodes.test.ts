// externalTrafficPolicy with two real nodes: the local node of `skiff up`, and a second node
// started with `skiff agent` inside a network namespace of this test's own (its own "machine":
// its own addresses, netfilter, bridge and pods), joined to the host by a veth. Traffic to the
// second node's NodePort under `Local` reaches only that node's pod and keeps the client's source
// address; under `Cluster` it reaches pods on both nodes.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/eventually.js';
import { flagValue, localNodeFlags, startSkiff, type Skiff } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** One TCP exchange: the server's first line (`<pod> <peer address>`). */
function ask(host: string, port: number): Promise<string> {
  return new Promise((res, rej) => {
    const sock = connect({ host, port, timeout: 2000 });
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('end', () => res(data.trim()));
    sock.on('timeout', () => sock.destroy(new Error('timeout')));
    sock.on('error', rej);
  });
}

const server = (name: string, node: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: where}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: s
    image: python
    command: ["python3", "-c", "import socket\\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('', 7000)); s.listen(16)\\nwhile True:\\n  c,a=s.accept(); c.sendall(('${name} '+a[0]+'\\\\n').encode()); c.close()"]
    ports: [{containerPort: 7000}]
`;

describe('externalTrafficPolicy across two real nodes', { timeout: 240_000 }, () => {
  const flags = [...localNodeFlags(), '--bind-address', '0.0.0.0'];
  const n = Number(flagValue(flags, 'cluster-cidr').split('.')[1]);
  const ns = `skiff-e2e-n2-${n}`;
  const hostIf = `ske2e${n}`;
  const hostAddr = `172.30.${n}.1`;
  const nodeAddr = `172.30.${n}.2`;
  let s: Skiff;
  let agent: ChildProcess | undefined;
  let agentDir = '';
  let agentLog = '';
  let route = '';
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

  before(async () => {
    // the second "machine": a namespace joined to the host by a veth
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', `${nodeAddr}/30`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', hostAddr);
    s = await startSkiff(flags);
    const port = new URL(s.url).port;
    agentDir = mkdtempSync(join(tmpdir(), 'skiff-agent2-'));
    agent = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'agent', '--server', `https://${hostAddr}:${port}`, '--token-file', join(s.dataDir, 'admin.token'), '--insecure-skip-tls-verify', '--name', 'second', '--node-ip', nodeAddr, '--data-dir', agentDir, '--cluster-cidr', flagValue(flags, 'cluster-cidr'), '--service-cidr', flagValue(flags, 'service-cidr'), '--dns-upstreams', 'none'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG: 'warn' } },
    );
    agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
    // the host reaches the second node's pods through its address, as a route between machines would
    const cidr = await until(async () => {
      const r = await s.kubectl(['get', 'node', 'second', '-o', 'jsonpath={.spec.podCIDR}']);
      assert.ok(r.stdout, `${r.stderr}\n${agentLog}`);
      return r.stdout;
    });
    ip('route', 'add', cidr, 'via', nodeAddr);
    route = cidr;
    const apply = await s.kubectl(['apply', '-f', '-'], {
      input: `${server('on-local', 'local')}---${server('on-second', 'second')}---
apiVersion: v1
kind: Service
metadata: {name: only-local}
spec: {type: NodePort, externalTrafficPolicy: Local, selector: {app: where}, ports: [{port: 7000}]}
---
apiVersion: v1
kind: Service
metadata: {name: anywhere}
spec: {type: NodePort, externalTrafficPolicy: Cluster, selector: {app: where}, ports: [{port: 7000}]}
`,
    });
    assert.equal(apply.code, 0, apply.stderr);
    await until(async () => assert.equal((await s.kubectl(['get', 'pods', '-l', 'app=where', '-o', 'jsonpath={.items[*].status.phase}'])).stdout, 'Running Running', agentLog), { timeoutMs: 60_000 });
  });

  after(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const done = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      const t = setTimeout(() => agent!.kill('SIGKILL'), 20_000);
      await done;
      clearTimeout(t);
    }
    if (route) execFileSync('ip', ['route', 'del', route], { stdio: 'ignore' });
    await s?.stop();
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* not made */
    }
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  });

  const nodePort = async (svc: string) => Number((await s.kubectl(['get', 'svc', svc, '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout);

  it('Local: the second node\'s NodePort reaches only its own pod, which sees the client\'s address', async () => {
    const port = await nodePort('only-local');
    await until(async () => assert.equal(await ask(nodeAddr, port), `on-second ${hostAddr}`), { timeoutMs: 20_000 });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await ask(nodeAddr, port));
    assert.deepEqual([...seen], [`on-second ${hostAddr}`]);
  });

  it('Cluster: the same NodePort reaches pods on both nodes', async () => {
    const port = await nodePort('anywhere');
    await until(
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 30; i++) seen.add((await ask(nodeAddr, port)).split(' ')[0]!);
        assert.deepEqual([...seen].sort(), ['on-local', 'on-second']);
      },
      { timeoutMs: 20_000 },
    );
  });
});
