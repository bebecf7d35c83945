// Object semantics of the API server, through the in-process client (the same handler kubectl
// reaches over HTTPS): uids and timestamps, generation, optimistic concurrency, generateName,
// status and scale subresources, binding, graceful deletion and finalizers, service address
// allocation, dry run, paging, namespaces.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatusError, type StatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController } from '../../src/controllers/controller.js';
import { namespaceController } from '../../src/controllers/namespace.js';

const pods = resourceFor('', 'v1', 'pods');
const services = resourceFor('', 'v1', 'services');
const configmaps = resourceFor('', 'v1', 'configmaps');
const namespaces = resourceFor('', 'v1', 'namespaces');
const deployments = resourceFor('apps', 'v1', 'deployments');

const deployment = (name: string, replicas = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } } },
});

async function rejects(p: Promise<unknown>, reason: string, code: number): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isStatusError(e), `expected a StatusError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${reason}`);
}

describe('API object semantics', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sem-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('semantics-test');
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create fills uid, creationTimestamp, resourceVersion, generation and defaults', async () => {
    const d = await c.create(deployments, deployment('sem1'));
    assert.match(d.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.match(d.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(d.metadata.resourceVersion!, /^\d+$/);
    assert.equal(d.metadata.generation, 1);
    const spec = d.spec as { strategy: { type: string; rollingUpdate: { maxSurge: string; maxUnavailable: string } }; revisionHistoryLimit: number; progressDeadlineSeconds: number };
    assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(spec.progressDeadlineSeconds, 600);
    assert.deepEqual(d.status, {});
  });

  test('generation moves on spec changes only; resourceVersion on every write', async () => {
    const d = await c.get(deployments, 'sem1', { namespace: 'default' });
    const labelled = await c.patch(deployments, 'sem1', 'merge', { metadata: { labels: { x: 'y' } } }, { namespace: 'default' });
    assert.equal(labelled.metadata.generation, 1);
    assert.ok(Number(labelled.metadata.resourceVersion) > Number(d.metadata.resourceVersion));
    const scaled = await c.patch(deployments, 'sem1', 'merge', { spec: { replicas: 4 } }, { namespace: 'default' });
    assert.equal(scaled.metadata.generation, 2);
  });

  test('an update with a stale resourceVersion is a 409 Conflict; an unchanged update writes nothing', async () => {
    const d = await c.get(deployments, 'sem1', { namespace: 'default' });
    const same = await c.update(deployments, d);
    assert.equal(same.metadata.resourceVersion, d.metadata.resourceVersion);
    await c.patch(deployments, 'sem1', 'merge', { metadata: { annotations: { a: 'b' } } }, { namespace: 'default' });
    await rejects(c.update(deployments, d), 'Conflict', 409);
  });

  test('the same spec with its keys in another order is no change: no write, no new generation', async () => {
    const d = await c.get(deployments, 'sem1', { namespace: 'default' });
    const reorder = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reorder) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reorder(x)])) : v;
    const same = await c.update(deployments, { ...d, spec: reorder(d.spec) });
    assert.equal(same.metadata.resourceVersion, d.metadata.resourceVersion);
    assert.equal(same.metadata.generation, d.metadata.generation);
  });

  test('status written through the main resource is ignored, spec through /status too', async () => {
    const d = await c.get(deployments, 'sem1', { namespace: 'default' });
    const viaMain = await c.update(deployments, { ...d, status: { replicas: 9 } });
    assert.deepEqual(viaMain.status, {});
    const viaStatus = await c.update(deployments, { ...viaMain, spec: { ...(viaMain.spec as object), replicas: 7 }, status: { replicas: 3 } }, { subresource: 'status' });
    assert.equal((viaStatus.status as { replicas: number }).replicas, 3);
    assert.equal((viaStatus.spec as { replicas: number }).replicas, 4);
    assert.equal(viaStatus.metadata.generation, viaMain.metadata.generation);
  });

  test('the scale subresource reads and writes replicas', async () => {
    const s = await c.get(deployments, 'sem1', { namespace: 'default', subresource: 'scale' });
    assert.equal(s.kind, 'Scale');
    assert.equal(s.apiVersion, 'autoscaling/v1');
    assert.deepEqual(s.spec, { replicas: 4 });
    assert.equal((s.status as { selector: string }).selector, 'app=sem1');
    const p = await c.patch(deployments, 'sem1', 'merge', { spec: { replicas: 6 } }, { namespace: 'default', subresource: 'scale' });
    assert.deepEqual(p.spec, { replicas: 6 });
    assert.equal(((await c.get(deployments, 'sem1', { namespace: 'default' })).spec as { replicas: number }).replicas, 6);
  });

  test('generateName makes a unique name', async () => {
    const a = await c.create(configmaps, { metadata: { generateName: 'gen-', namespace: 'default' } });
    const b = await c.create(configmaps, { metadata: { generateName: 'gen-', namespace: 'default' } });
    assert.match(a.metadata.name!, /^gen-[a-z0-9]{5}$/);
    assert.notEqual(a.metadata.name, b.metadata.name);
  });

  test('create of an existing name is AlreadyExists; get of a missing one NotFound', async () => {
    await rejects(c.create(deployments, deployment('sem1')), 'AlreadyExists', 409);
    const e = await rejects(c.get(deployments, 'missing', { namespace: 'default' }), 'NotFound', 404);
    assert.equal(e.message, 'deployments.apps "missing" not found');
  });

  test('validation answers 422 with the field named', async () => {
    const bad = deployment('bad');
    (bad.spec as { template: { metadata: { labels: object } } }).template.metadata.labels = { app: 'other' };
    const e = await rejects(c.create(deployments, bad), 'Invalid', 422);
    assert.ok(e.status.details?.causes?.some((x) => x.field === 'spec.template.metadata.labels'), JSON.stringify(e.status));
  });

  test('objects in a missing namespace are refused', async () => {
    const e = await rejects(c.create(configmaps, { metadata: { name: 'x', namespace: 'ghost' } }), 'NotFound', 404);
    assert.equal(e.message, 'namespaces "ghost" not found');
  });

  test('dry run validates and defaults but stores nothing', async () => {
    const d = await c.create(deployments, deployment('dry'), { dryRun: true });
    assert.equal(d.metadata.name, 'dry');
    await rejects(c.get(deployments, 'dry', { namespace: 'default' }), 'NotFound', 404);
  });

  test('services get a ClusterIP and NodePorts without collisions', async () => {
    const a = await c.create(services, { metadata: { name: 'np-a', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'a' }, ports: [{ port: 80, nodePort: 30080 }] } });
    const spec = a.spec as { clusterIP: string; ports: { nodePort: number; targetPort: number; protocol: string }[] };
    assert.match(spec.clusterIP, /^10\.43\.\d+\.\d+$/);
    assert.deepEqual(spec.ports[0], { port: 80, nodePort: 30080, targetPort: 80, protocol: 'TCP' });
    const e = await rejects(c.create(services, { metadata: { name: 'np-b', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } }), 'Invalid', 422);
    assert.match(e.message, /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
    const b = await c.create(services, { metadata: { name: 'np-b', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    const port = (b.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort;
    assert.ok(port >= 30000 && port <= 32767 && port !== 30080);
    await c.delete(services, 'np-a', { namespace: 'default' });
    await c.create(services, { metadata: { name: 'np-c', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } });
  });

  test('changing a Service\'s type drops what the old type allocated (and frees the node port)', async () => {
    await c.create(services, { metadata: { name: 'to-cip', namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: 'x' }, ports: [{ port: 80, nodePort: 30555 }] } });
    const r = await c.patch(services, 'to-cip', 'merge', { spec: { type: 'ClusterIP' } }, { namespace: 'default' });
    const spec = r.spec as { type: string; ports: { nodePort?: number }[]; externalTrafficPolicy?: string; allocateLoadBalancerNodePorts?: boolean };
    assert.equal(spec.type, 'ClusterIP');
    assert.equal(spec.ports[0]!.nodePort, undefined);
    assert.equal(spec.externalTrafficPolicy, undefined);
    assert.equal(spec.allocateLoadBalancerNodePorts, undefined);
    // the port is free again
    await c.create(services, { metadata: { name: 'takes-30555', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30555 }] } });
    // a node port the user changes in the same update is still refused for a ClusterIP
    await c.create(services, { metadata: { name: 'np-keep', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    await rejects(c.patch(services, 'np-keep', 'merge', { spec: { type: 'ClusterIP', ports: [{ port: 80, nodePort: 30556 }] } }, { namespace: 'default' }), 'Invalid', 422);
  });

  test('a claim without a class gets the default StorageClass (DefaultStorageClass admission), or may get one later', async () => {
    const pvcs = resourceFor('', 'v1', 'persistentvolumeclaims');
    const classes = resourceFor('storage.k8s.io', 'v1', 'storageclasses');
    const claim = (name: string): KubeObject => ({ metadata: { name, namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    const before = await c.create(pvcs, claim('no-default-yet'));
    assert.equal((before.spec as { storageClassName?: string }).storageClassName, undefined);
    await c.create(classes, { metadata: { name: 'fast', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/fast' });
    const after = await c.create(pvcs, claim('defaulted'));
    assert.equal((after.spec as { storageClassName?: string }).storageClassName, 'fast');
    // retroactively, once: unset → a class is allowed, a class → another is not
    const set = await c.patch(pvcs, 'no-default-yet', 'merge', { spec: { storageClassName: 'fast' } }, { namespace: 'default' });
    assert.equal((set.spec as { storageClassName?: string }).storageClassName, 'fast');
    await rejects(c.patch(pvcs, 'no-default-yet', 'merge', { spec: { storageClassName: 'slow' } }, { namespace: 'default' }), 'Invalid', 422);
  });

  test('a pod bound to a node is deleted gracefully; an unbound one at once', async () => {
    const pod = (name: string): KubeObject => ({ metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await c.create(pods, pod('unbound'));
    await c.delete(pods, 'unbound', { namespace: 'default' });
    await rejects(c.get(pods, 'unbound', { namespace: 'default' }), 'NotFound', 404);

    await c.create(pods, pod('bound'));
    await c.create(pods, { metadata: { name: 'bound', namespace: 'default' }, target: { kind: 'Node', name: 'n1' } } as KubeObject, { subresource: 'binding' });
    const bound = await c.get(pods, 'bound', { namespace: 'default' });
    assert.equal((bound.spec as { nodeName: string }).nodeName, 'n1');
    await rejects(c.create(pods, { metadata: { name: 'bound', namespace: 'default' }, target: { kind: 'Node', name: 'n2' } } as KubeObject, { subresource: 'binding' }), 'Conflict', 409);
    await c.delete(pods, 'bound', { namespace: 'default' });
    const terminating = await c.get(pods, 'bound', { namespace: 'default' });
    assert.ok(terminating.metadata.deletionTimestamp);
    assert.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
    await c.delete(pods, 'bound', { namespace: 'default', gracePeriodSeconds: 0 });
    await rejects(c.get(pods, 'bound', { namespace: 'default' }), 'NotFound', 404);
  });

  test('finalizers hold a deleted object until they are removed', async () => {
    await c.create(configmaps, { metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] } });
    await c.delete(configmaps, 'held', { namespace: 'default' });
    const held = await c.get(configmaps, 'held', { namespace: 'default' });
    assert.ok(held.metadata.deletionTimestamp);
    await rejects(c.patch(configmaps, 'held', 'merge', { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } }, { namespace: 'default' }), 'Invalid', 422);
    await c.patch(configmaps, 'held', 'merge', { metadata: { finalizers: null } }, { namespace: 'default' });
    await rejects(c.get(configmaps, 'held', { namespace: 'default' }), 'NotFound', 404);
  });

  test('lists page with limit and continue at one revision', async () => {
    await c.create(namespaces, { metadata: { name: 'paging' } });
    for (let i = 0; i < 7; i++) await c.create(configmaps, { metadata: { name: `p${i}`, namespace: 'paging' } });
    const first = await c.list(configmaps, { namespace: 'paging', limit: 3 });
    assert.deepEqual(first.items.map((i) => i.metadata.name), ['p0', 'p1', 'p2']);
    assert.equal(first.metadata.remainingItemCount, 4);
    await c.create(configmaps, { metadata: { name: 'p9', namespace: 'paging' } });
    await c.delete(configmaps, 'p4', { namespace: 'paging' });
    const second = await c.list(configmaps, { namespace: 'paging', limit: 3, continue: first.metadata.continue! });
    assert.deepEqual(second.items.map((i) => i.metadata.name), ['p3', 'p4', 'p5'], 'the snapshot of the first page');
    const third = await c.list(configmaps, { namespace: 'paging', limit: 3, continue: second.metadata.continue! });
    assert.deepEqual(third.items.map((i) => i.metadata.name), ['p6']);
    assert.equal(third.metadata.continue, undefined);
    const selected = await c.list(configmaps, { namespace: 'paging', fieldSelector: 'metadata.name=p9' });
    assert.deepEqual(selected.items.map((i) => i.metadata.name), ['p9']);
  });

  test('a namespace being deleted refuses new content, then disappears with its contents', async (t) => {
    // emptying a Terminating namespace is the namespace controller's work
    const nc = startController(namespaceController, srv.client('namespace-controller'));
    t.after(() => nc.stop());
    await c.create(namespaces, { metadata: { name: 'doomed' } });
    await c.create(configmaps, { metadata: { name: 'inside', namespace: 'doomed' } });
    await c.delete(namespaces, 'doomed');
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      try {
        const ns = await c.get(namespaces, 'doomed');
        assert.equal((ns.status as { phase: string }).phase, 'Terminating');
        await new Promise((r) => setTimeout(r, 50));
      } catch (e) {
        assert.ok(isStatusError(e, 'NotFound'));
        gone = true;
      }
    }
    assert.ok(gone, 'the namespace went away');
    await rejects(c.get(configmaps, 'inside', { namespace: 'doomed' }), 'NotFound', 404);
  });
});
