// The ReplicaSet controller against the real API server, with the scheduler and simulated nodes so
// pods are bound and go Running and Ready: it keeps spec.replicas pods, replaces deleted ones,
// scales both ways, adopts matching orphans and releases pods that stop matching, never creates
// more than asked while its writes are in flight, stops counting failed pods, reports status and
// records Kubernetes' events, and reports a ReplicaFailure condition while pods cannot be created.
// Each test uses its own ReplicaSet name and labels; one controller runs for the suite.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errors } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { startNodeIpam } from '../../src/controllers/node-ipam.js';
import { createReplicaSetController } from '../../src/controllers/replicaset.js';
import { SimNodePool } from '../../src/node/sim-nodes.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { eventually } from '../support/eventually.js';

const PODS = resourceFor('', 'v1', 'pods');
const RS = resourceFor('apps', 'v1', 'replicasets');
const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';


const replicaSet = (name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    ...extra,
  },
});

type Status = { replicas?: number; fullyLabeledReplicas?: number; readyReplicas?: number; availableReplicas?: number; observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] };

describe('ReplicaSet controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let nodes: SimNodePool;
  let scheduler: Scheduler;
  let ctl: RunningController;
  let ipam: { stop(): void };
  /** Pod creates whose generateName starts with this fail as a quota would refuse them. */
  let refuseCreatesFor: string | undefined;

  const podsOf = async (app: string, active = true): Promise<KubeObject[]> => {
    const items = (await c.list(PODS, { namespace: ns, labelSelector: `app=${app}` })).items;
    return active ? items.filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p.status as { phase?: string } | undefined)?.phase ?? '')) : items;
  };
  const statusOf = async (name: string): Promise<Status> => ((await c.get(RS, name, { namespace: ns })).status ?? {}) as Status;
  const eventsOf = async (name: string): Promise<{ reason: string; message: string; type: string }[]> =>
    (await c.list(EVENTS, { namespace: ns })).items
      .filter((e) => (e.involvedObject as { name?: string; kind?: string }).name === name && (e.involvedObject as { kind?: string }).kind === 'ReplicaSet')
      .map((e) => ({ reason: String(e.reason), message: String(e.message), type: String(e.type) }));
  const ownedBy = (p: KubeObject, uid: string | undefined) => (p.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.controller === true);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-rs-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    // Simulated pods get IPs from their node's podCIDR, which node IPAM gives.
    ipam = startNodeIpam(srv.client('node-ipam'));
    nodes = new SimNodePool(srv.client('sim'), { names: ['sim-0', 'sim-1'], startDelayMs: 50 });
    await nodes.start();
    scheduler = new Scheduler(srv.client('default-scheduler'));
    await scheduler.start();
    const real = srv.client('replicaset-controller');
    // The controller's client, refusing some pod creates as ResourceQuota admission would.
    const client: Client = {
      ...real,
      create: (rt, obj, opts) => {
        const gen = obj.metadata.generateName ?? '';
        if (rt.plural === 'pods' && refuseCreatesFor && gen.startsWith(refuseCreatesFor)) {
          return Promise.reject(errors.forbidden(`pods "${gen}" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=0, limited: pods=0`));
        }
        return real.create(rt, obj, opts);
      },
    };
    ctl = startController(createReplicaSetController(), client);
  });
  after(async () => {
    await ctl?.stop();
    await scheduler?.stop();
    await nodes?.stop();
    ipam?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('it keeps spec.replicas pods, created from the template and controlled by the ReplicaSet, and reports their status', async () => {
    const rs = await c.create(RS, replicaSet('keep', 3));
    await eventually('three ready replicas', async () => (await statusOf('keep')).readyReplicas === 3);
    const pods = await podsOf('keep');
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata.name ?? '', /^keep-[a-z0-9]{5}$/);
      assert.equal(p.metadata.generateName, 'keep-');
      assert.deepEqual(p.metadata.labels, { app: 'keep', tier: 'web' });
      assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'keep', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    await eventually('every field of the status settles', async () => {
      const s = await statusOf('keep');
      return s.replicas === 3 && s.fullyLabeledReplicas === 3 && s.availableReplicas === 3 && s.observedGeneration === 1;
    });
    await eventually('a SuccessfulCreate event per pod', async () => {
      const created = (await eventsOf('keep')).filter((e) => e.reason === 'SuccessfulCreate');
      return created.length === 3;
    });
    const messages = (await eventsOf('keep')).filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message).sort();
    assert.deepEqual(messages, pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
  });

  test('a deleted pod is replaced', async () => {
    await c.create(RS, replicaSet('replace', 2));
    await eventually('two pods', async () => (await podsOf('replace')).length === 2);
    const [victim] = await podsOf('replace');
    await c.delete(PODS, victim?.metadata.name ?? '', { namespace: ns });
    await eventually('a replacement pod', async () => {
      const pods = await podsOf('replace');
      return pods.length === 2 && !pods.some((p) => p.metadata.name === victim?.metadata.name);
    });
    await eventually('status counts the active pods', async () => (await statusOf('replace')).readyReplicas === 2);
  });

  test('it scales up and down, deleting with SuccessfulDelete events, and never creates more pods than asked', async () => {
    const rs = await c.create(RS, replicaSet('scale', 1));
    await eventually('one pod', async () => (await podsOf('scale')).length === 1);
    // Every pod the controller ever creates, seen through a watch from now on.
    const seen = new Set<string>();
    let maxActive = 0;
    const active = new Set<string>();
    const w = await c.watch(PODS, { namespace: ns, labelSelector: 'app=scale', resourceVersion: '0' });
    const reading = (async () => {
      for await (const ev of w) {
        const name = ev.object.metadata.name ?? '';
        if (ev.type === 'ADDED') seen.add(name);
        if (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp) active.delete(name);
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') active.add(name);
        maxActive = Math.max(maxActive, active.size);
      }
    })();
    try {
      await c.patch(RS, 'scale', 'merge', { spec: { replicas: 12 } }, { namespace: ns });
      await eventually('twelve ready pods', async () => (await statusOf('scale')).readyReplicas === 12);
      await ctl.idle();
      assert.equal((await podsOf('scale')).length, 12);
      assert.equal(seen.size, 12, 'exactly eleven pods were created beside the first');
      assert.ok(maxActive <= 12, `at most 12 active pods at once, saw ${maxActive}`);
      assert.equal((await statusOf('scale')).observedGeneration, 2);

      await c.patch(RS, 'scale', 'merge', { spec: { replicas: 4 } }, { namespace: ns });
      await eventually('four active pods', async () => (await podsOf('scale')).length === 4 && (await statusOf('scale')).replicas === 4);
      await eventually('eight SuccessfulDelete events', async () => (await eventsOf('scale')).filter((e) => e.reason === 'SuccessfulDelete').length === 8);
      for (const e of (await eventsOf('scale')).filter((e) => e.reason === 'SuccessfulDelete')) assert.match(e.message, /^Deleted pod: scale-[a-z0-9]{5}$/);
      await ctl.idle();
      assert.equal(seen.size, 12, 'scaling down created nothing');
      assert.ok((await podsOf('scale')).every((p) => ownedBy(p, rs.metadata.uid)));
    } finally {
      w.close();
      void reading.catch(() => undefined);
    }
  });

  test('a matching orphan is adopted instead of creating a pod', async () => {
    const orphan: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'adopt-orphan', namespace: ns, labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    };
    await c.create(PODS, orphan);
    const rs = await c.create(RS, replicaSet('adopt', 2));
    await eventually('two pods, the orphan adopted', async () => {
      const pods = await podsOf('adopt');
      return pods.length === 2 && pods.every((p) => ownedBy(p, rs.metadata.uid));
    });
    await ctl.idle();
    const pods = await podsOf('adopt');
    assert.equal(pods.length, 2);
    assert.ok(pods.some((p) => p.metadata.name === 'adopt-orphan'));
    await eventually('fullyLabeledReplicas counts only pods carrying every template label', async () => {
      const s = await statusOf('adopt');
      return s.replicas === 2 && s.fullyLabeledReplicas === 1;
    });
  });

  test('a pod whose labels stop matching is released and replaced', async () => {
    const rs = await c.create(RS, replicaSet('release', 2));
    await eventually('two pods', async () => (await podsOf('release')).length === 2);
    const [pod] = await podsOf('release');
    const name = pod?.metadata.name ?? '';
    await c.patch(PODS, name, 'merge', { metadata: { labels: { app: 'elsewhere' } } }, { namespace: ns });
    await eventually('the pod has no owner any more', async () => (await c.get(PODS, name, { namespace: ns })).metadata.ownerReferences === undefined);
    await eventually('a replacement', async () => {
      const pods = await podsOf('release');
      return pods.length === 2 && pods.every((p) => ownedBy(p, rs.metadata.uid));
    });
  });

  test('a pod that failed no longer counts and is replaced', async () => {
    await c.create(RS, replicaSet('terminal', 1));
    await eventually('one running pod', async () => (await statusOf('terminal')).readyReplicas === 1);
    const [p] = await podsOf('terminal');
    const name = p?.metadata.name ?? '';
    await c.patch(PODS, name, 'merge', { status: { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] } }, { namespace: ns, subresource: 'status' });
    await eventually('a replacement beside the failed pod', async () => {
      const active = await podsOf('terminal');
      return active.length === 1 && active[0]?.metadata.name !== name;
    });
    assert.ok((await podsOf('terminal', false)).some((x) => x.metadata.name === name), 'the failed pod is left in place');
    await eventually('status counts only the active pod', async () => (await statusOf('terminal')).replicas === 1 && (await statusOf('terminal')).readyReplicas === 1);
  });

  test('availableReplicas waits for minReadySeconds', async () => {
    await c.create(RS, replicaSet('minready', 2, { minReadySeconds: 2 }));
    await eventually('two ready replicas', async () => (await statusOf('minready')).readyReplicas === 2);
    const early = await statusOf('minready');
    const pods = await podsOf('minready');
    const readySince = Math.min(
      ...pods.map((p) => Date.parse(((p.status as { conditions?: { type: string; lastTransitionTime: string }[] }).conditions ?? []).find((x) => x.type === 'Ready')?.lastTransitionTime ?? '')),
    );
    // Only meaningful if the status was read within minReadySeconds of the pods becoming ready.
    if (Date.now() < readySince + 2000) assert.ok((early.availableReplicas ?? 0) < 2, 'not available right after becoming ready');
    await eventually('both available after minReadySeconds', async () => (await statusOf('minready')).availableReplicas === 2);
  });

  test('a ReplicaFailure condition reports pods that cannot be created, and goes once they can', async () => {
    refuseCreatesFor = 'quota-';
    try {
      await c.create(RS, replicaSet('quota', 2));
      await eventually('ReplicaFailure is True with FailedCreate', async () => {
        const cond = (await statusOf('quota')).conditions?.find((x) => x.type === 'ReplicaFailure');
        return cond?.status === 'True' && cond.reason === 'FailedCreate';
      });
      const cond = (await statusOf('quota')).conditions?.find((x) => x.type === 'ReplicaFailure');
      assert.equal(cond?.message, 'pods "quota-" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=0, limited: pods=0');
      await eventually('a FailedCreate warning', async () => (await eventsOf('quota')).some((e) => e.reason === 'FailedCreate' && e.type === 'Warning' && e.message.startsWith('Error creating: pods "quota-" is forbidden')));
      assert.equal((await podsOf('quota')).length, 0);
    } finally {
      refuseCreatesFor = undefined;
    }
    await eventually('two pods once creation works again', async () => (await podsOf('quota')).length === 2);
    await eventually('the condition is removed', async () => (await statusOf('quota')).conditions === undefined);
  });
});
