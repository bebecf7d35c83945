// A second real node joining with `skiff agent --runtime process`: it registers with its own pod
// CIDR, runs a pod pinned to it (a native sidecar beside the app, postStart and preStop hooks),
// pods on the two nodes reach each other, and kubectl logs/exec reach the pod through the API
// server and that agent. Stopping the agent removes what it made.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/eventually.js';
import { flagValue, localNodeFlags, startSkiff, type Skiff } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('a node joining with skiff agent --runtime process', { timeout: 180_000 }, () => {
  let s: Skiff;
  let agent: ChildProcess | undefined;
  let agentDir = '';
  let agentLog = '';
  const flags = localNodeFlags();
  before(async () => {
    s = await startSkiff(flags);
    agentDir = mkdtempSync(join(tmpdir(), 'skiff-agent-'));
    agent = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'agent', '--server', s.url, '--token-file', join(s.dataDir, 'admin.token'), '--ca-file', join(s.dataDir, 'pki', 'ca.crt'), '--name', 'second', '--node-ip', '127.0.0.2', '--data-dir', agentDir, '--cluster-cidr', flagValue(flags, 'cluster-cidr'), '--service-cidr', flagValue(flags, 'service-cidr'), '--dns-upstreams', 'none'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG: 'warn' } },
    );
    agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
  });
  after(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const done = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      const t = setTimeout(() => agent!.kill('SIGKILL'), 20_000);
      await done;
      clearTimeout(t);
    }
    rmSync(agentDir, { recursive: true, force: true });
    await s?.stop();
  });

  it('registers Ready with its own pod CIDR and address', async () => {
    await until(async () => {
      const r = await s.kubectl(['get', 'node', 'second', '-o', 'json']);
      assert.equal(r.code, 0, `${r.stderr}\n${agentLog}`);
      const node = JSON.parse(r.stdout);
      assert.equal(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
      assert.ok(node.spec.podCIDR);
      assert.equal(node.status.addresses[0].address, '127.0.0.2');
    });
    const nodes = await s.kubectl(['get', 'nodes', '--no-headers']);
    assert.match(nodes.stdout, /^local\s+Ready/m);
    assert.match(nodes.stdout, /^second\s+Ready/m);
  });

  it('runs a pod with a native sidecar and hooks, reachable from a pod on the other node', async () => {
    const r = await s.kubectl(['apply', '-f', '-'], {
      input: `
apiVersion: v1
kind: Pod
metadata: {name: remote}
spec:
  nodeName: second
  terminationGracePeriodSeconds: 5
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: helper
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "echo helper-up > /work/helper; sleep 600"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: web
    image: python
    command: ["python3", "-m", "http.server", "8080", "--directory", "/work"]
    lifecycle:
      postStart: {exec: {command: ["sh", "-c", "echo started > /work/poststart"]}}
    volumeMounts: [{name: work, mountPath: /work}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: local
  containers:
  - name: c
    image: busybox
    command: ["sleep", "600"]
`,
    });
    assert.equal(r.code, 0, r.stderr);
    const ip = await until(async () => {
      const p = JSON.parse((await s.kubectl(['get', 'pod', 'remote', '-o', 'json'])).stdout);
      assert.equal(p.status.phase, 'Running', `${JSON.stringify(p.status)}\n${agentLog}`);
      assert.equal(p.status.initContainerStatuses[0].state.running !== undefined, true);
      assert.equal(p.status.containerStatuses[0].ready, true);
      return p.status.podIP as string;
    });
    await until(async () => {
      const c = JSON.parse((await s.kubectl(['get', 'pod', 'client', '-o', 'json'])).stdout);
      assert.equal(c.status.phase, 'Running');
    });
    const fetch = await until(async () => {
      const x = await s.kubectl(['exec', 'client', '--', 'python3', '-c', `import urllib.request; print(urllib.request.urlopen("http://${ip}:8080/poststart").read().decode())`]);
      assert.equal(x.code, 0, x.stderr);
      return x.stdout;
    });
    assert.equal(fetch, 'started\n\n');
    const helper = await s.kubectl(['exec', 'remote', '-c', 'web', '--', 'cat', '/work/helper']);
    assert.equal(helper.stdout, 'helper-up\n');
    const logs = await s.kubectl(['logs', 'remote', '-c', 'web']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /GET \/poststart/);
  });

  it('deletes the pod on that node', async () => {
    const r = await s.kubectl(['delete', 'pod', 'remote', 'client', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
  });
});
