// Issue 7's stories through kubectl on the local node (real processes) plus three simulated nodes:
// Jobs run to completion (an Indexed one with parallelism), a Job made from a CronJob, a
// StatefulSet whose pods start in order with their own volume that survives the pod, and a
// DaemonSet with one pod on every node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/eventually.js';
import { localNodeFlags, startSkiff, type Skiff } from './harness.js';

describe('jobs, cronjobs, statefulsets and daemonsets', { timeout: 300_000 }, () => {
  let s: Skiff;
  before(async () => {
    s = await startSkiff([...localNodeFlags(), '--sim-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });
  const apply = async (yaml: string) => {
    const r = await s.kubectl(['apply', '-f', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
  };

  it('a Job runs to completion and kubectl wait sees it', async () => {
    const r = await s.kubectl(['create', 'job', 'hello', '--image=busybox', '--', 'sh', '-c', 'echo hi from the job']);
    assert.equal(r.code, 0, r.stderr);
    const w = await s.kubectl(['wait', '--for=condition=complete', 'job/hello', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(w.code, 0, w.stderr);
    const get = await s.kubectl(['get', 'job', 'hello', '--no-headers']);
    assert.match(get.stdout, /^hello\s+Complete\s+1\/1\s/);
  });

  it('an Indexed Job with completions 5 and parallelism 2 completes 5/5', async () => {
    await apply(`
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 5
  parallelism: 2
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {kubernetes.io/hostname: local}
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "echo index $JOB_COMPLETION_INDEX"]
`);
    await until(
      async () => {
        const j = JSON.parse((await s.kubectl(['get', 'job', 'pi', '-o', 'json'])).stdout);
        assert.equal(j.status.succeeded, 5, JSON.stringify(j.status));
        assert.equal(j.status.completedIndexes, '0-4');
        assert.ok(j.status.conditions.some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True'));
      },
      { timeoutMs: 90_000 },
    );
    const logs = await s.kubectl(['logs', 'job/pi']);
    assert.match(logs.stdout, /^index [0-4]$/m);
  });

  it('a Job made from a CronJob (kubectl create job --from)', async () => {
    const c = await s.kubectl(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=0 0 1 1 *', '--', 'sh', '-c', 'date']);
    assert.equal(c.code, 0, c.stderr);
    const j = await s.kubectl(['create', 'job', '--from=cronjob/tick', 'tick-now']);
    assert.equal(j.code, 0, j.stderr);
    const w = await s.kubectl(['wait', '--for=condition=complete', 'job/tick-now', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(w.code, 0, w.stderr);
  });

  it('a StatefulSet starts its pods in order, each with a volume that outlives the pod', async () => {
    await apply(`
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {kubernetes.io/hostname: local}
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "test -f /data/id || hostname > /data/id; sleep 3600"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`);
    await until(
      async () => {
        const st = JSON.parse((await s.kubectl(['get', 'sts', 'web', '-o', 'json'])).stdout);
        assert.equal(st.status.readyReplicas, 3, JSON.stringify(st.status));
      },
      { timeoutMs: 90_000 },
    );
    const started = JSON.parse((await s.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items.map((p: { metadata: { name: string }; status: { startTime: string } }) => [p.metadata.name, p.status.startTime]);
    const order = [...started].sort((a, b) => String(a[1]).localeCompare(String(b[1]))).map((x) => x[0]);
    assert.deepEqual(order, ['web-0', 'web-1', 'web-2']);
    const pvcs = await s.kubectl(['get', 'pvc', '--no-headers']);
    for (const n of [0, 1, 2]) assert.match(pvcs.stdout, new RegExp(`^data-web-${n}\\s+Bound\\s+pvc-`, 'm'));
    // stable names through the governing headless Service
    const dns = await until(async () => {
      const r = await s.kubectl(['exec', 'web-0', '--', 'python3', '-c', 'import socket; print(socket.gethostbyname("web-2.web.default.svc.cluster.local"))']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    });
    assert.equal(dns, (await s.kubectl(['get', 'pod', 'web-2', '-o', 'jsonpath={.status.podIP}'])).stdout);
    const id = (await s.kubectl(['exec', 'web-1', '--', 'cat', '/data/id'])).stdout;
    assert.equal(id, 'web-1\n');
    await s.kubectl(['exec', 'web-1', '--', 'sh', '-c', 'echo kept >> /data/id']);
    const del = await s.kubectl(['delete', 'pod', 'web-1']);
    assert.equal(del.code, 0, del.stderr);
    await until(
      async () => {
        const again = await s.kubectl(['exec', 'web-1', '--', 'cat', '/data/id']);
        assert.equal(again.stdout, 'web-1\nkept\n');
      },
      { timeoutMs: 60_000 },
    );
  });

  it('a DaemonSet runs one pod on every node', async () => {
    await apply(`
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - name: c
        image: busybox
        command: ["sleep", "3600"]
`);
    await until(
      async () => {
        const ds = JSON.parse((await s.kubectl(['get', 'ds', 'agent', '-o', 'json'])).stdout);
        assert.equal(ds.status.desiredNumberScheduled, 4, JSON.stringify(ds.status));
        assert.equal(ds.status.numberReady, 4, JSON.stringify(ds.status));
      },
      { timeoutMs: 60_000 },
    );
    const nodes = (await s.kubectl(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}'])).stdout.split(' ').sort();
    assert.deepEqual(nodes, ['local', 'sim-0', 'sim-1', 'sim-2']);
  });

  it('a DaemonSet rolls out a new template, keeps its history, and rolls back', async () => {
    const set = await s.kubectl(['set', 'image', 'ds/agent', 'c=busybox:1.37']);
    assert.equal(set.code, 0, set.stderr);
    const status = await s.kubectl(['rollout', 'status', 'ds/agent', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(status.code, 0, status.stderr);
    const history = await s.kubectl(['rollout', 'history', 'ds/agent']);
    assert.match(history.stdout, /^1\s/m);
    assert.match(history.stdout, /^2\s/m);
    const undo = await s.kubectl(['rollout', 'undo', 'ds/agent']);
    assert.equal(undo.code, 0, undo.stderr);
    await until(async () => {
      const images = (await s.kubectl(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).stdout.split(' ');
      assert.deepEqual(images, ['busybox', 'busybox', 'busybox', 'busybox']);
    }, { timeoutMs: 90_000 });
  });
});
