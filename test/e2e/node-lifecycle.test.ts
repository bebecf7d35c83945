// Container lifecycle on the local node, through kubectl with real processes: a crashing
// container reaching CrashLoopBackOff with growing back-off, a failing liveness probe restarting
// a container, readiness gating Ready, a memory hog OOM-killed, a configMap change reaching the
// mounted file, init containers in order, the downward API, and a container without a command.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/eventually.js';
import { flagValue, localNodeFlags, startSkiff, type Skiff } from './harness.js';

interface PodJson {
  status: {
    phase: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state: Record<string, Record<string, unknown>>; lastState: Record<string, Record<string, unknown>> }[];
    initContainerStatuses?: { name: string; state: Record<string, Record<string, unknown>> }[];
  };
}

describe('container lifecycle on the local node', { timeout: 240_000 }, () => {
  let s: Skiff;
  const flags = localNodeFlags();
  const apiIP = flagValue(flags, 'service-cidr').replace(/0\/16$/, '1');
  before(async () => {
    s = await startSkiff(flags);
  });
  after(async () => {
    await s?.stop();
    // the runtime runs on the node's own filesystem: flags the pods left are host files
    for (const f of ['/tmp/live-live', '/tmp/ready-flag-ready']) rmSync(f, { force: true });
  });

  async function pod(name: string): Promise<PodJson> {
    const r = await s.kubectl(['get', 'pod', name, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as PodJson;
  }
  async function apply(yaml: string): Promise<void> {
    const r = await s.kubectl(['apply', '-f', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
  }
  async function events(name: string): Promise<string> {
    const r = await s.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    return r.stdout;
  }

  it('a crashing container goes into CrashLoopBackOff with a growing back-off', async () => {
    await s.kubectl(['run', 'crash', '--image=busybox', '--restart=Always', '--', 'sh', '-c', 'echo boom; exit 3']);
    const first = await until(
      async () => {
        const c = (await pod('crash')).status.containerStatuses?.[0];
        assert.equal(c?.state.waiting?.reason, 'CrashLoopBackOff', JSON.stringify(c));
        assert.equal(c?.lastState.terminated?.exitCode, 3);
        assert.equal(c?.lastState.terminated?.reason, 'Error');
        return c!;
      },
      { timeoutMs: 30_000 },
    );
    assert.match(String(first.state.waiting?.message), /^back-off 10s restarting failed container=crash pod=crash_default\(/);
    await until(
      async () => {
        const c = (await pod('crash')).status.containerStatuses?.[0];
        assert.match(String(c?.state.waiting?.message), /^back-off 20s/);
        assert.ok((c?.restartCount ?? 0) >= 1);
      },
      { timeoutMs: 45_000 },
    );
    const logs = await s.kubectl(['logs', 'crash', '--previous']);
    assert.equal(logs.stdout, 'boom\n');
    const get = await s.kubectl(['get', 'pod', 'crash', '--no-headers']);
    assert.match(get.stdout, /crash\s+0\/1\s+(CrashLoopBackOff|Error)\s+\d+/);
    assert.match(await events('crash'), /BackOff: Back-off restarting failed container crash in pod crash_default/);
  });

  it('a failing liveness probe restarts the container', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "touch /tmp/live-$HOSTNAME; sleep 2; rm -f /tmp/live-$HOSTNAME; sleep 600"]
    livenessProbe:
      exec: {command: ["sh", "-c", "test -f /tmp/live-$HOSTNAME"]}
      periodSeconds: 1
      failureThreshold: 1
`);
    await until(
      async () => {
        const c = (await pod('live')).status.containerStatuses?.[0];
        assert.ok((c?.restartCount ?? 0) >= 1, JSON.stringify(c));
      },
      { timeoutMs: 45_000 },
    );
    const ev = await events('live');
    assert.match(ev, /Unhealthy: Liveness probe failed/);
    assert.match(ev, /Killing: Container c failed liveness probe, will be restarted/);
  });

  it('readiness gates the Ready condition', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "600"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready-flag-ready"]}
      periodSeconds: 1
`);
    await until(async () => {
      const p = await pod('ready');
      assert.equal(p.status.phase, 'Running');
      assert.equal(p.status.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    });
    const t = await s.kubectl(['exec', 'ready', '--', 'touch', '/tmp/ready-flag-ready']);
    assert.equal(t.code, 0, t.stderr);
    try {
      await until(async () => {
        const p = await pod('ready');
        assert.equal(p.status.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
        assert.equal(p.status.containerStatuses?.[0]?.ready, true);
      });
    } finally {
      await s.kubectl(['exec', 'ready', '--', 'rm', '-f', '/tmp/ready-flag-ready']);
    }
  });

  it('a memory hog over its limit is OOMKilled', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: python
    command: ["python3", "-c", "x = bytearray(512 * 1024 * 1024); print(len(x))"]
    resources:
      limits: {memory: 64Mi}
`);
    await until(
      async () => {
        const p = await pod('hog');
        assert.equal(p.status.phase, 'Failed');
        const t = p.status.containerStatuses?.[0]?.state.terminated;
        assert.equal(t?.reason, 'OOMKilled', JSON.stringify(t));
        assert.equal(t?.exitCode, 137);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('a configMap change reaches the mounted file', async () => {
    await apply(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: cfgpod}
spec:
  volumes:
  - name: cfg
    configMap: {name: cfg}
  containers:
  - name: c
    image: busybox
    command: ["sleep", "600"]
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}
    - name: MY_POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
`);
    await until(async () => {
      const r = await s.kubectl(['exec', 'cfgpod', '--', 'cat', '/etc/cfg/greeting']);
      assert.equal(r.stdout, 'hello');
    });
    const env = await s.kubectl(['exec', 'cfgpod', '--', 'sh', '-c', 'echo $GREETING $MY_POD $KUBERNETES_SERVICE_HOST $KUBERNETES_PORT']);
    assert.equal(env.stdout, `hello cfgpod ${apiIP} tcp://${apiIP}:443\n`);
    const ro = await s.kubectl(['exec', 'cfgpod', '--', 'sh', '-c', 'echo x > /etc/cfg/new']);
    assert.notEqual(ro.code, 0, 'configMap volumes are read-only');
    await s.kubectl(['patch', 'configmap', 'cfg', '-p', '{"data":{"greeting":"bonjour"}}']);
    await until(async () => {
      const r = await s.kubectl(['exec', 'cfgpod', '--', 'cat', '/etc/cfg/greeting']);
      assert.equal(r.stdout, 'bonjour');
    });
  });

  it('runs init containers in order before the app', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  restartPolicy: Never
  volumes:
  - {name: work, emptyDir: {}}
  initContainers:
  - name: one
    image: busybox
    command: ["sh", "-c", "sleep 1; echo one >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: two
    image: busybox
    command: ["sh", "-c", "echo two >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "cat /work/order; echo main"]
    volumeMounts: [{name: work, mountPath: /work}]
`);
    await until(
      async () => {
        const p = await pod('inits');
        assert.equal(p.status.phase, 'Succeeded', JSON.stringify(p.status));
        assert.deepEqual(p.status.initContainerStatuses?.map((c) => c.state.terminated?.reason), ['Completed', 'Completed']);
      },
      { timeoutMs: 30_000 },
    );
    const logs = await s.kubectl(['logs', 'inits']);
    assert.equal(logs.stdout, 'one\ntwo\nmain\n');
  });

  it('deleting a pod runs its preStop hook, then SIGTERM, within the grace period', async () => {
    const out = mkdtempSync(join(tmpdir(), 'skiff-prestop-'));
    try {
      await apply(`
apiVersion: v1
kind: Pod
metadata: {name: polite}
spec:
  terminationGracePeriodSeconds: 20
  volumes: [{name: out, hostPath: {path: ${out}, type: Directory}}]
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'echo term >> /out/order; exit 0' TERM; while true; do sleep 0.2; done"]
    lifecycle:
      preStop: {exec: {command: ["sh", "-c", "echo prestop >> /out/order"]}}
    volumeMounts: [{name: out, mountPath: /out}]
`);
      await until(async () => assert.equal((await pod('polite')).status.phase, 'Running'));
      const r = await s.kubectl(['delete', 'pod', 'polite', '--timeout=60s']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(out, 'order'), 'utf8'), 'prestop\nterm\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('rejects a pod bound past the scheduler that does not fit the node (OutOfcpu)', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  nodeName: local
  containers:
  - name: c
    image: busybox
    command: ["sleep", "600"]
    resources:
      requests: {cpu: "1000"}
`);
    await until(async () => {
      const p = (await pod('huge')) as PodJson & { status: { reason?: string; message?: string } };
      assert.equal(p.status.phase, 'Failed');
      assert.equal(p.status.reason, 'OutOfcpu');
      assert.match(String(p.status.message), /^Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, used: \d+, capacity: \d+$/);
    });
    const get = await s.kubectl(['get', 'pod', 'huge', '--no-headers']);
    assert.match(get.stdout, /huge\s+0\/1\s+OutOfcpu/);
  });

  it('refuses a container without a command, saying why', async () => {
    await s.kubectl(['run', 'nocmd', '--image=nginx']);
    await until(async () => {
      const c = (await pod('nocmd')).status.containerStatuses?.[0];
      assert.equal(c?.state.waiting?.reason, 'CreateContainerError', JSON.stringify(c));
      assert.match(String(c?.state.waiting?.message), /this runtime needs a command/);
    });
    assert.match(await events('nocmd'), /Failed: Error: .*this runtime needs a command/);
  });
});
