// Issue 5's story through the real kubectl, with real processes on the local node: the
// two-container pod sharing localhost and an emptyDir, reached from the host at its own IP,
// its logs (also followed), exec (exit codes, stdin, a tty), port-forward, and a delete that
// leaves nothing behind on the machine.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/eventually.js';
import { flagValue, KUBECTL, localNodeFlags, startSkiff, type Skiff } from './harness.js';

const TWO = `
apiVersion: v1
kind: Pod
metadata:
  name: two
  labels: {app: two}
spec:
  terminationGracePeriodSeconds: 5
  volumes:
  - name: shared
    emptyDir: {}
  containers:
  - name: app
    image: python:3
    command: ["python3", "-m", "http.server", "8080"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
  - name: sidecar
    image: busybox
    command: ["sh", "-c", "while true; do python3 -c 'import urllib.request; print(urllib.request.urlopen(\\"http://localhost:8080/\\").status)' >> /shared/log 2>&1 && echo polled; sleep 0.5; done"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
`;

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('a two-container pod on the local node', { timeout: 180_000 }, () => {
  let s: Skiff;
  let podIP = '';
  let uid = '';
  const flags = localNodeFlags();
  const dnsIP = flagValue(flags, 'service-cidr').replace(/0\/16$/, '10');
  before(async () => {
    s = await startSkiff(flags);
  });
  after(async () => {
    await s?.stop();
  });

  it('registers the local node Ready with the machine capacity and a pod CIDR', async () => {
    await until(async () => {
      const r = await s.kubectl(['get', 'node', 'local', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const node = JSON.parse(r.stdout);
      assert.equal(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
      assert.match(node.spec.podCIDR ?? '', /^10\.\d+\.0\.0\/24$/);
      assert.ok(Number(node.status.capacity.cpu) >= 1);
      assert.match(node.status.capacity.memory, /Ki$/);
      assert.match(node.status.nodeInfo.containerRuntimeVersion, /^process:\/\//);
      assert.deepEqual(node.status.addresses[0], { type: 'InternalIP', address: '127.0.0.1' });
    });
    const lease = await s.kubectl(['get', 'lease', '-n', 'kube-node-lease', 'local', '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.equal(lease.stdout, 'local');
  });

  it('runs both containers: Running 2/2 with its own IP on the node', async () => {
    const r = await s.kubectl(['apply', '-f', '-'], { input: TWO });
    assert.equal(r.code, 0, r.stderr);
    await until(
      async () => {
        const g = await s.kubectl(['get', 'pod', 'two', '-o', 'json']);
        const pod = JSON.parse(g.stdout);
        assert.equal(pod.status.phase, 'Running');
        assert.equal(pod.status.containerStatuses.filter((c: { ready: boolean }) => c.ready).length, 2, JSON.stringify(pod.status));
        podIP = pod.status.podIP;
        uid = pod.metadata.uid;
      },
      { timeoutMs: 30_000 },
    );
    const wide = await s.kubectl(['get', 'pod', 'two', '-o', 'wide', '--no-headers']);
    assert.match(wide.stdout, /two\s+2\/2\s+Running\s+0\s+\S+\s+10\.\d+\.0\.\d+\s+local/);
  });

  it('answers from the host at the pod IP', async () => {
    const res = await until(() => httpGet(`http://${podIP}:8080/`));
    assert.equal(res.status, 200);
    assert.match(res.body, /Directory listing/);
  });

  it('shares localhost and the emptyDir between the containers', async () => {
    await until(async () => {
      const r = await s.kubectl(['exec', 'two', '-c', 'app', '--', 'cat', '/shared/log']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^200$/m);
    });
  });

  it('gives each pod its own hostname, /etc/hosts and resolv.conf', async () => {
    const h = await s.kubectl(['exec', 'two', '-c', 'app', '--', 'hostname']);
    assert.equal(h.stdout.trim(), 'two');
    const hosts = await s.kubectl(['exec', 'two', '-c', 'app', '--', 'cat', '/etc/hosts']);
    assert.match(hosts.stdout, new RegExp(`^${podIP.replace(/\./g, '\\.')}\\s+two$`, 'm'));
    const resolv = await s.kubectl(['exec', 'two', '-c', 'app', '--', 'cat', '/etc/resolv.conf']);
    assert.match(resolv.stdout, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
    assert.match(resolv.stdout, new RegExp(`^nameserver ${dnsIP.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('shows logs, and follows them', async () => {
    await until(async () => {
      const r = await s.kubectl(['logs', 'two', '-c', 'sidecar', '--tail', '2']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /polled/);
    });
    const f = spawn(KUBECTL, ['logs', '-f', 'two', '-c', 'sidecar', '--tail', '1'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.home } });
    try {
      let out = '';
      f.stdout.on('data', (d: Buffer) => (out += d.toString()));
      // --tail 1 shows one line at once; more arrive only by following
      await until(() => assert.ok((out.match(/polled/g) ?? []).length >= 3, out), { timeoutMs: 15_000 });
    } finally {
      f.kill('SIGKILL');
    }
  });

  it('execs with exit codes and stdin', async () => {
    const r = await s.kubectl(['exec', 'two', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr.includes('err'), true);
    const i = await s.kubectl(['exec', '-i', 'two', '-c', 'app', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' });
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout, 'HELLO\n');
    const missing = await s.kubectl(['exec', 'two', '-c', 'app', '--', 'no-such-command']);
    assert.notEqual(missing.code, 0);
  });

  it('execs with a tty (-it) of the terminal\'s size', async () => {
    // script(1) gives kubectl a terminal, as a user's shell would; kubectl sends its size (resize)
    const out = execFileSync('script', ['-qec', `stty rows 40 cols 100; ${KUBECTL} exec -it two -c app -- sh -c 'tty; stty size'`, '/dev/null'], {
      env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.home },
      timeout: 30_000,
    }).toString();
    assert.match(out, /\/dev\/pts\/\d+/);
    // (the terminal may echo a stray control byte before it, e.g. ^@: only the size matters here)
    assert.match(out, /40 100\r?$/m);
  });

  it('attaches to a container started with stdin (kubectl run -i)', async () => {
    const r = await s.kubectl(['run', 'reader', '--image=busybox', '--restart=Never', '-i', '--', 'sh', '-c', 'read line; echo got:$line'], { input: 'hello\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /got:hello/);
    await until(async () => {
      const p = JSON.parse((await s.kubectl(['get', 'pod', 'reader', '-o', 'json'])).stdout);
      assert.equal(p.status.phase, 'Succeeded');
    });
    await s.kubectl(['delete', 'pod', 'reader']);
  });

  it('port-forwards to the pod', async () => {
    const pf = spawn(KUBECTL, ['port-forward', 'pod/two', ':8080'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.home } });
    try {
      let out = '';
      pf.stdout.on('data', (d: Buffer) => (out += d.toString()));
      pf.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const port = await until(() => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
        assert.ok(m, out);
        return Number(m[1]);
      });
      const res = await httpGet(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 200);
      const again = await httpGet(`http://127.0.0.1:${port}/`);
      assert.equal(again.status, 200);
    } finally {
      pf.kill('SIGKILL');
    }
  });

  it('deletes the pod and leaves nothing behind', async () => {
    const r = await s.kubectl(['delete', 'pod', 'two', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    const g = await s.kubectl(['get', 'pod', 'two']);
    assert.match(g.stderr, /NotFound/);
    const netns = existsSync('/var/run/netns') ? readdirSync('/var/run/netns') : [];
    assert.equal(netns.filter((n) => n.includes(uid)).length, 0, netns.join(' '));
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    assert.equal(ps.includes('localhost:8080'), false);
    await assert.rejects(httpGet(`http://${podIP}:8080/`));
  });
});
