// kubectl's typed commands (create configmap|secret|namespace|deployment|job|cronjob|service|
// serviceaccount, create job --from, expose, run) send their bodies as Kubernetes protobuf and
// never fall back to JSON. Each object is created through the real kubectl against `skiff up`,
// then read back with `kubectl get -o json` and checked field by field.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSkiff, type Skiff } from './harness.js';

/** JSON read back from `kubectl get -o json`; shapes are asserted field by field. */
type Obj = Record<string, any>;

describe('kubectl typed create commands (protobuf bodies)', () => {
  let s: Skiff;
  let dir: string;
  before(async () => {
    s = await startSkiff();
    dir = mkdtempSync(join(tmpdir(), 'skiff-typed-'));
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ok = async (args: string[]) => {
    const r = await s.kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
    return r;
  };
  const get = async (args: string[]): Promise<Obj> => JSON.parse((await ok(['get', ...args, '-o', 'json'])).stdout) as Obj;

  test('create namespace sends protobuf and the namespace reads back', async () => {
    const r = await ok(['create', 'namespace', 'x', '-v=8']);
    assert.match(r.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/, 'kubectl must really have sent protobuf');
    const ns = await get(['namespace', 'x']);
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.apiVersion, 'v1');
    assert.equal(ns.metadata.name, 'x');
    assert.equal(typeof ns.metadata.uid, 'string');
    assert.match(ns.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('create configmap keeps literal data and a binary file as binaryData', async () => {
    const blob = Buffer.from([0x00, 0xff, 0xfe, 0x10, 0x80, 0x01]);
    writeFileSync(join(dir, 'blob.bin'), blob);
    writeFileSync(join(dir, 'note.txt'), 'hello\n');
    await ok(['create', 'configmap', 'c', '--from-literal=a=b', `--from-file=${join(dir, 'blob.bin')}`, `--from-file=${join(dir, 'note.txt')}`]);
    const cm = await get(['configmap', 'c']);
    assert.deepEqual(cm.data, { a: 'b', 'note.txt': 'hello\n' });
    assert.deepEqual(cm.binaryData, { 'blob.bin': blob.toString('base64') });
    assert.equal(cm.metadata.namespace, 'default');
  });

  test('create secret generic stores base64 data with type Opaque', async () => {
    await ok(['create', 'secret', 'generic', 's', '--from-literal=k=v']);
    const sec = await get(['secret', 's']);
    assert.deepEqual(sec.data, { k: Buffer.from('v').toString('base64') });
    assert.equal(sec.type, 'Opaque');
  });

  test('create deployment keeps replicas, image, port and the app label selector', async () => {
    await ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3', '--port=80']);
    const d = await get(['deployment', 'web']);
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
    assert.deepEqual(d.metadata.labels, { app: 'web' });
    assert.deepEqual(d.spec.template.metadata.labels, { app: 'web' });
    const c = d.spec.template.spec.containers[0];
    assert.equal(c.name, 'nginx');
    assert.equal(c.image, 'nginx:1.25');
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    // Defaults applied as for a JSON body: fields kubectl left empty were not taken as set.
    assert.equal(c.terminationMessagePath, '/dev/termination-log');
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  });

  test('create job keeps the command after --', async () => {
    await ok(['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi']);
    const j = await get(['job', 'j']);
    const c = j.spec.template.spec.containers[0];
    assert.equal(c.image, 'busybox');
    assert.deepEqual(c.command, ['echo', 'hi']);
    assert.equal(j.spec.template.spec.restartPolicy, 'Never');
  });

  test('create cronjob keeps the schedule and the job template command', async () => {
    await ok(['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/1 * * * *', '--', 'date']);
    const cj = await get(['cronjob', 'cj']);
    assert.equal(cj.spec.schedule, '*/1 * * * *');
    const c = cj.spec.jobTemplate.spec.template.spec.containers[0];
    assert.deepEqual(c.command, ['date']);
    assert.equal(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
  });

  test('create job --from=cronjob copies the template and points back at the CronJob', async () => {
    await ok(['create', 'job', '--from=cronjob/cj', 'j2']);
    const cj = await get(['cronjob', 'cj']);
    const j = await get(['job', 'j2']);
    assert.equal(j.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.deepEqual(j.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: cj.metadata.uid, controller: true }]);
    assert.deepEqual(j.spec.template.spec.containers[0].command, ['date']);
  });

  test('create service nodeport keeps port 80 to target 8080', async () => {
    await ok(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
    const svc = await get(['service', 'np']);
    assert.equal(svc.spec.type, 'NodePort');
    assert.deepEqual(svc.spec.selector, { app: 'np' });
    assert.equal(svc.spec.ports.length, 1);
    const p = svc.spec.ports[0];
    assert.equal(p.name, '80-8080');
    assert.equal(p.port, 80);
    assert.equal(p.targetPort, 8080);
    assert.equal(p.protocol, 'TCP');
    assert.equal(typeof p.nodePort, 'number');
  });

  test('create serviceaccount reads back', async () => {
    await ok(['create', 'serviceaccount', 'sa']);
    const sa = await get(['serviceaccount', 'sa']);
    assert.equal(sa.metadata.name, 'sa');
    assert.equal(sa.kind, 'ServiceAccount');
  });

  test('expose deployment makes a Service selecting the deployment pods', async () => {
    await ok(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
    const svc = await get(['service', 'web']);
    assert.deepEqual(svc.spec.selector, { app: 'web' });
    assert.equal(svc.spec.ports[0].port, 80);
    assert.equal(svc.spec.ports[0].targetPort, 8080);
    assert.equal(svc.spec.type, 'ClusterIP');
  });

  test('run makes a Pod with the run label and the args after --', async () => {
    await ok(['run', 'p', '--image=busybox', '--', 'sleep', '10']);
    const pod = await get(['pod', 'p']);
    assert.deepEqual(pod.metadata.labels, { run: 'p' });
    const c = pod.spec.containers[0];
    assert.equal(c.name, 'p');
    assert.equal(c.image, 'busybox');
    assert.deepEqual(c.args, ['sleep', '10']);
  });
});
