// The garbage collector: its pure plans as sentence tables, then the controller against the real
// API server (in-process clients), with ConfigMaps and Secrets as owners and dependents so no
// other controller is needed. Names are distinct per test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject, OwnerReference } from '../../src/api/types.js';
import { finalizersForPropagation } from '../../src/apiserver/registry.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { startNodeIpam } from '../../src/controllers/node-ipam.js';
import { SimNodePool } from '../../src/node/sim-nodes.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { garbageCollector, planDependent, planOwner, type DependentPlan, type OwnerState } from '../../src/controllers/garbage-collector.js';
import { eventually } from '../support/eventually.js';

const configmaps = resourceFor('', 'v1', 'configmaps');
const secrets = resourceFor('', 'v1', 'secrets');
const pods = resourceFor('', 'v1', 'pods');
const ns = 'default';

const ref = (uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: `o-${uid}`, uid, ...extra });
const obj = (meta: Partial<KubeObject['metadata']>): KubeObject => ({ metadata: { name: 'x', namespace: ns, uid: 'self', ...meta } });

describe('planDependent', () => {
  const cases: { name: string; dep: KubeObject; states: [string, OwnerState][]; hasDependents?: boolean; want: DependentPlan }[] = [
    { name: 'an object without owners is left alone', dep: obj({}), states: [], want: { action: 'none' } },
    { name: 'a dependent whose owner exists is left alone', dep: obj({ ownerReferences: [ref('a')] }), states: [['a', 'solid']], want: { action: 'none' } },
    { name: 'a dependent whose only owner is gone is deleted in the background', dep: obj({ ownerReferences: [ref('a')] }), states: [['a', 'absent']], want: { action: 'delete', propagationPolicy: 'Background' } },
    { name: 'a dependent with one living owner only loses the reference to the gone one', dep: obj({ ownerReferences: [ref('a'), ref('b')] }), states: [['a', 'absent'], ['b', 'solid']], want: { action: 'removeOwnerReferences', uids: ['a'] } },
    { name: 'a dependent with a living owner loses the reference to an owner deleted in the foreground', dep: obj({ ownerReferences: [ref('a'), ref('b')] }), states: [['a', 'waitingForDependents'], ['b', 'solid']], want: { action: 'removeOwnerReferences', uids: ['a'] } },
    { name: 'a dependent of a foreground-deleted owner that has dependents itself is deleted in the foreground', dep: obj({ ownerReferences: [ref('a')] }), states: [['a', 'waitingForDependents']], hasDependents: true, want: { action: 'delete', propagationPolicy: 'Foreground' } },
    { name: 'a dependent of a foreground-deleted owner without dependents is deleted in the background', dep: obj({ ownerReferences: [ref('a')] }), states: [['a', 'waitingForDependents']], want: { action: 'delete', propagationPolicy: 'Background' } },
    { name: 'an orphaned dependent carrying the orphan finalizer is deleted with Orphan', dep: obj({ ownerReferences: [ref('a')], finalizers: ['orphan'] }), states: [['a', 'absent']], want: { action: 'delete', propagationPolicy: 'Orphan' } },
    { name: 'a dependent already being deleted is left alone', dep: obj({ ownerReferences: [ref('a')], deletionTimestamp: '2026-01-01T00:00:00Z' }), states: [['a', 'absent']], want: { action: 'none' } },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(planDependent(c.dep, new Map(c.states), c.hasDependents ?? false), c.want));
});

describe('finalizersForPropagation (the API server side)', () => {
  const cases: { name: string; have: string[]; policy: 'Background' | 'Foreground' | 'Orphan' | undefined; want: string[] }[] = [
    { name: 'Orphan adds the orphan finalizer', have: [], policy: 'Orphan', want: ['orphan'] },
    { name: 'Foreground adds foregroundDeletion and drops orphan', have: ['example.com/x', 'orphan'], policy: 'Foreground', want: ['example.com/x', 'foregroundDeletion'] },
    { name: 'Background drops both collector finalizers and keeps the others', have: ['foregroundDeletion', 'example.com/x'], policy: 'Background', want: ['example.com/x'] },
    { name: 'no policy keeps what the object has', have: ['orphan'], policy: undefined, want: ['orphan'] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(finalizersForPropagation(c.have, c.policy), c.want));
});

describe('planOwner', () => {
  const deleting = { deletionTimestamp: '2026-01-01T00:00:00Z', uid: 'o' };
  const blocker = obj({ name: 'b', ownerReferences: [ref('o', { blockOwnerDeletion: true })] });
  const plain = obj({ name: 'p', ownerReferences: [ref('o')] });
  test('an owner not being deleted needs nothing', () => assert.deepEqual(planOwner(obj({ uid: 'o', finalizers: ['orphan'] }), [plain]), { action: 'none' }));
  test('an owner deleted with the orphan finalizer orphans every dependent', () =>
    assert.deepEqual(planOwner(obj({ ...deleting, finalizers: ['orphan'] }), [plain, blocker]), { action: 'orphan', dependents: [plain, blocker] }));
  test('an owner deleted in the foreground is blocked only by dependents with blockOwnerDeletion', () =>
    assert.deepEqual(planOwner(obj({ ...deleting, finalizers: ['foregroundDeletion'] }), [plain, blocker]), { action: 'foreground', dependents: [plain, blocker], blocking: [blocker] }));
  test('an owner being deleted with only other finalizers is not the collector’s business', () =>
    assert.deepEqual(planOwner(obj({ ...deleting, finalizers: ['example.com/x'] }), [plain]), { action: 'none' }));
});


describe('garbage collector against the API server', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let gc: RunningController | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-gc-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('gc-test');
  });
  after(async () => {
    await gc?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const startGc = () => {
    gc = startController(garbageCollector, srv.client('generic-garbage-collector'));
    return gc;
  };

  async function exists(rt: typeof configmaps, name: string): Promise<KubeObject | undefined> {
    try {
      return await c.get(rt, name, { namespace: ns });
    } catch (e) {
      if (isStatusError(e, 'NotFound')) return undefined;
      throw e;
    }
  }
  async function owner(name: string): Promise<KubeObject> {
    return c.create(configmaps, { metadata: { name, namespace: ns } });
  }
  const ownedBy = (o: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, ...extra });

  test('background deletion removes dependents, and a dependent with another living owner only loses the reference', async () => {
    startGc();
    const o = await owner('bg-owner');
    const other = await owner('bg-other');
    await c.create(configmaps, { metadata: { name: 'bg-dep', namespace: ns, ownerReferences: [ownedBy(o)] } });
    await c.create(secrets, { metadata: { name: 'bg-secret', namespace: ns, ownerReferences: [ownedBy(o)] } });
    await c.create(configmaps, { metadata: { name: 'bg-shared', namespace: ns, ownerReferences: [ownedBy(o), ownedBy(other)] } });
    await c.delete(configmaps, 'bg-owner', { namespace: ns, propagationPolicy: 'Background' });
    await eventually('dependents are deleted', async () => !(await exists(configmaps, 'bg-dep')) && !(await exists(secrets, 'bg-secret')));
    await eventually('the shared dependent keeps only its living owner', async () => {
      const s = await exists(configmaps, 'bg-shared');
      assert.ok(s, 'the shared dependent stays');
      return (s.metadata.ownerReferences ?? []).map((r) => r.uid).join() === other.metadata.uid;
    });
  });

  test('foreground deletion holds the owner until its blocking dependents are gone', async () => {
    const o = await owner('fg-owner');
    await c.create(configmaps, { metadata: { name: 'fg-block', namespace: ns, finalizers: ['example.com/hold'], ownerReferences: [ownedBy(o, { blockOwnerDeletion: true })] } });
    await c.create(configmaps, { metadata: { name: 'fg-plain', namespace: ns, ownerReferences: [ownedBy(o)] } });
    const r = (await c.delete(configmaps, 'fg-owner', { namespace: ns, propagationPolicy: 'Foreground' })) as KubeObject;
    assert.deepEqual(r.metadata.finalizers, ['foregroundDeletion']);
    assert.ok(r.metadata.deletionTimestamp);
    await eventually('the blocking dependent is being deleted', async () => !!(await exists(configmaps, 'fg-block'))?.metadata.deletionTimestamp);
    await eventually('the plain dependent is gone', async () => !(await exists(configmaps, 'fg-plain')));
    const held = await exists(configmaps, 'fg-owner');
    assert.ok(held, 'the owner waits for its blocking dependent');
    assert.deepEqual(held.metadata.finalizers, ['foregroundDeletion']);
    await c.patch(configmaps, 'fg-block', 'merge', { metadata: { finalizers: null } }, { namespace: ns });
    await eventually('the owner goes once its dependents are gone', async () => !(await exists(configmaps, 'fg-owner')));
  });

  test('orphan deletion leaves dependents without the reference', async () => {
    const o = await owner('or-owner');
    await c.create(configmaps, { metadata: { name: 'or-dep', namespace: ns, ownerReferences: [ownedBy(o)] } });
    const r = (await c.delete(configmaps, 'or-owner', { namespace: ns, propagationPolicy: 'Orphan' })) as KubeObject;
    assert.deepEqual(r.metadata.finalizers, ['orphan']);
    await eventually('the owner is gone', async () => !(await exists(configmaps, 'or-owner')));
    const dep = await exists(configmaps, 'or-dep');
    assert.ok(dep, 'the dependent stays');
    assert.equal(dep.metadata.ownerReferences, undefined);
  });

  test('a dependent of an owner deleted while the collector was down is collected at start', async () => {
    await gc?.stop();
    const o = await owner('down-owner');
    await c.create(configmaps, { metadata: { name: 'down-dep', namespace: ns, ownerReferences: [ownedBy(o)] } });
    await c.delete(configmaps, 'down-owner', { namespace: ns, propagationPolicy: 'Background' });
    assert.ok(await exists(configmaps, 'down-dep'), 'nothing collects it while the collector is down');
    startGc();
    await eventually('the leftover dependent is collected', async () => !(await exists(configmaps, 'down-dep')));
  });

  test('foreground deletion waits for a running pod to terminate gracefully on its node', async (t) => {
    const scheduler = new Scheduler(srv.client('default-scheduler'));
    const nodes = new SimNodePool(srv.client('sim'), { names: ['gc-sim-0'], startDelayMs: 50 });
    const ipam = startNodeIpam(srv.client('node-ipam-controller'), { clusterCidr: '10.42.0.0/16' });
    t.after(async () => {
      nodes.stop();
      ipam.stop();
      await scheduler.stop();
    });
    await scheduler.start();
    await nodes.start();
    const o = await owner('pod-owner');
    await c.create(pods, { metadata: { name: 'pod-dep', namespace: ns, ownerReferences: [ownedBy(o, { blockOwnerDeletion: true })] }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    await eventually('the pod runs', async () => ((await exists(pods, 'pod-dep'))?.status as { phase?: string } | undefined)?.phase === 'Running', 30_000);
    await c.delete(configmaps, 'pod-owner', { namespace: ns, propagationPolicy: 'Foreground' });
    await eventually('the pod is gone', async () => !(await exists(pods, 'pod-dep')), 30_000);
    await eventually('then the owner is gone', async () => !(await exists(configmaps, 'pod-owner')));
    // a running pod deleted in the foreground itself: graceful termination, then the finalizer
    await c.create(pods, { metadata: { name: 'pod-fg', namespace: ns }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    await eventually('the second pod runs', async () => ((await exists(pods, 'pod-fg'))?.status as { phase?: string } | undefined)?.phase === 'Running', 30_000);
    const r = (await c.delete(pods, 'pod-fg', { namespace: ns, propagationPolicy: 'Foreground' })) as KubeObject;
    assert.deepEqual(r.metadata.finalizers, ['foregroundDeletion']);
    await eventually('the pod deleted in the foreground is gone', async () => !(await exists(pods, 'pod-fg')), 30_000);
  });

  test('a dependent whose owner the caches have not seen yet is kept (the owner is looked up)', async () => {
    const o = await owner('fresh-owner');
    await c.create(configmaps, { metadata: { name: 'fresh-dep', namespace: ns, ownerReferences: [ownedBy(o)] } });
    await gc?.idle();
    assert.ok(await exists(configmaps, 'fresh-dep'));
  });
});
