// The StatefulSet controller against the real API server. No kubelet: the test writes pod statuses
// itself (Running and Ready) to let OrderedReady move on. It creates web-0, then web-1, then web-2;
// makes a PVC per ordinal before the pod and keeps it when the pod goes; recreates a deleted pod
// under the same name; scales down from the highest ordinal; rolls an update from the highest
// ordinal down to the partition; records upstream's events and reports status and revisions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { createStatefulSetController } from '../../src/controllers/statefulset.js';
import { eventually } from '../support/eventually.js';

const PODS = resourceFor('', 'v1', 'pods');
const PVCS = resourceFor('', 'v1', 'persistentvolumeclaims');
const STS = resourceFor('apps', 'v1', 'statefulsets');
const REVS = resourceFor('apps', 'v1', 'controllerrevisions');
const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';

const statefulSet = (name: string, replicas: number, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    serviceName: name,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
    ...spec,
  },
});
const claimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];

type Status = { replicas?: number; readyReplicas?: number; currentReplicas?: number; updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number; currentRevision?: string; updateRevision?: string; collisionCount?: number };

describe('StatefulSet controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctl: RunningController;

  const podNames = async (app: string): Promise<string[]> =>
    (await c.list(PODS, { namespace: ns, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name ?? '').sort();
  const statusOf = async (name: string): Promise<Status> => ((await c.get(STS, name, { namespace: ns })).status ?? {}) as Status;
  const eventsOf = async (name: string): Promise<{ reason: string; message: string }[]> =>
    (await c.list(EVENTS, { namespace: ns })).items
      .filter((e) => (e.involvedObject as { name?: string; kind?: string }).name === name && (e.involvedObject as { kind?: string }).kind === 'StatefulSet')
      .map((e) => ({ reason: String(e.reason), message: String(e.message) }));
  const makeReady = async (name: string): Promise<void> => {
    await c.patch(PODS, name, 'merge', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] } }, { namespace: ns, subresource: 'status' });
  };
  /** Makes every not-yet-ready pod of `app` ready, returning the names made ready. */
  const readyAll = async (app: string): Promise<string[]> => {
    const made: string[] = [];
    for (const p of (await c.list(PODS, { namespace: ns, labelSelector: `app=${app}` })).items) {
      if (p.metadata.deletionTimestamp || (p.status as { phase?: string } | undefined)?.phase === 'Running') continue;
      await makeReady(p.metadata.name ?? '');
      made.push(p.metadata.name ?? '');
    }
    return made;
  };
  const revisionLabel = async (name: string): Promise<string | undefined> => (await c.get(PODS, name, { namespace: ns })).metadata.labels?.['controller-revision-hash'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sts-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    ctl = startController(createStatefulSetController(), srv.client('statefulset-controller'));
  });
  after(async () => {
    await ctl?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('OrderedReady: web-0, then web-1, then web-2, each with its own PVC, identity and events', async () => {
    const set = await c.create(STS, statefulSet('web', 3, { volumeClaimTemplates: claimTemplates }));
    await eventually('web-0 created', async () => (await podNames('web')).length === 1);
    await ctl.idle();
    assert.deepEqual(await podNames('web'), ['web-0'], 'web-1 waits for web-0 to be ready');
    for (const next of ['web-1', 'web-2']) {
      await readyAll('web');
      await eventually(`${next} created`, async () => (await podNames('web')).includes(next));
    }
    await readyAll('web');
    await eventually('three ready replicas', async () => {
      const s = await statusOf('web');
      return s.readyReplicas === 3 && s.availableReplicas === 3 && s.replicas === 3;
    });
    const s = await statusOf('web');
    assert.equal(s.currentReplicas, 3);
    assert.equal(s.updatedReplicas, 3);
    assert.equal(s.observedGeneration, 1);
    assert.ok(s.currentRevision && s.currentRevision === s.updateRevision);
    assert.equal(s.collisionCount, 0);

    const p1 = await c.get(PODS, 'web-1', { namespace: ns });
    const spec = p1.spec as { hostname?: string; subdomain?: string; volumes?: unknown[] };
    assert.equal(spec.hostname, 'web-1');
    assert.equal(spec.subdomain, 'web');
    assert.deepEqual(spec.volumes?.[0], { name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } });
    assert.equal(p1.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
    assert.equal(p1.metadata.labels?.['apps.kubernetes.io/pod-index'], '1');
    assert.equal(p1.metadata.labels?.['controller-revision-hash'], s.currentRevision);
    assert.deepEqual(p1.metadata.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]), [['StatefulSet', set.metadata.uid, true]]);

    const claims = (await c.list(PVCS, { namespace: ns })).items.map((x) => x.metadata.name).filter((n) => n?.endsWith('-web-0') || n?.endsWith('-web-1') || n?.endsWith('-web-2')).sort();
    assert.deepEqual(claims, ['data-web-0', 'data-web-1', 'data-web-2']);
    const revs = (await c.list(REVS, { namespace: ns })).items.filter((r) => r.metadata.ownerReferences?.[0]?.uid === set.metadata.uid);
    assert.deepEqual(revs.map((r) => r.metadata.name), [s.currentRevision]);

    await eventually('events as upstream words them', async () => {
      const msgs = (await eventsOf('web')).map((e) => `${e.reason}: ${e.message}`);
      return ['web-0', 'web-1', 'web-2'].every(
        (p) => msgs.includes(`SuccessfulCreate: create Pod ${p} in StatefulSet web successful`) && msgs.includes(`SuccessfulCreate: create Claim data-${p} Pod ${p} in StatefulSet web success`),
      );
    });
  });

  test('a deleted pod comes back under the same name, with the same claim kept', async () => {
    await c.create(STS, statefulSet('keep', 2, { volumeClaimTemplates: claimTemplates, podManagementPolicy: 'Parallel' }));
    await eventually('two pods', async () => (await podNames('keep')).length === 2);
    await readyAll('keep');
    const claimUid = (await c.get(PVCS, 'data-keep-1', { namespace: ns })).metadata.uid;
    const oldUid = (await c.get(PODS, 'keep-1', { namespace: ns })).metadata.uid;
    await c.delete(PODS, 'keep-1', { namespace: ns });
    await eventually('keep-1 recreated', async () => {
      try {
        return (await c.get(PODS, 'keep-1', { namespace: ns })).metadata.uid !== oldUid;
      } catch {
        return false;
      }
    });
    assert.equal((await c.get(PVCS, 'data-keep-1', { namespace: ns })).metadata.uid, claimUid, 'the claim outlived the pod');
  });

  test('an orphan named and labelled as a member is adopted; a pod that stops matching is released', async () => {
    await c.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'adopt-0', namespace: ns, labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } });
    // OnDelete: a RollingUpdate would replace the orphan at once, since it has no revision label.
    const set = await c.create(STS, statefulSet('adopt', 1, { updateStrategy: { type: 'OnDelete' } }));
    await readyAll('adopt');
    await eventually('adopt-0 adopted and, being ready, given its identity label', async () => {
      const p = await c.get(PODS, 'adopt-0', { namespace: ns });
      return p.metadata.ownerReferences?.[0]?.uid === set.metadata.uid && p.metadata.labels?.['statefulset.kubernetes.io/pod-name'] === 'adopt-0';
    });
    await c.patch(PODS, 'adopt-0', 'merge', { metadata: { labels: { app: 'elsewhere' } } }, { namespace: ns });
    await eventually('released', async () => (await c.get(PODS, 'adopt-0', { namespace: ns })).metadata.ownerReferences === undefined);
  });

  test('an orphan ControllerRevision matching the selector is adopted', async () => {
    await c.create(REVS, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'radopt-old', namespace: ns, labels: { app: 'radopt' } }, data: { spec: { template: { $patch: 'replace' } } }, revision: 1 } as KubeObject);
    const set = await c.create(STS, statefulSet('radopt', 1));
    await eventually('adopted', async () => (await c.get(REVS, 'radopt-old', { namespace: ns })).metadata.ownerReferences?.[0]?.uid === set.metadata.uid);
    await eventually('the new template got revision 2', async () => {
      const s = await statusOf('radopt');
      if (!s.updateRevision) return false;
      return (await c.get(REVS, s.updateRevision, { namespace: ns }) as { revision?: number }).revision === 2;
    });
  });

  test('scale down goes from the highest ordinal, one at a time, and keeps the claims', async () => {
    await c.create(STS, statefulSet('down', 3, { volumeClaimTemplates: claimTemplates, podManagementPolicy: 'OrderedReady' }));
    for (let i = 0; i < 3; i++) {
      await eventually(`pod ${i}`, async () => (await podNames('down')).length === i + 1);
      await readyAll('down');
    }
    // Every pod deletion, in order, seen through a watch.
    const deleted: string[] = [];
    const w = await c.watch(PODS, { namespace: ns, labelSelector: 'app=down' });
    const reading = (async () => {
      for await (const ev of w) if (ev.type === 'DELETED') deleted.push(ev.object.metadata.name ?? '');
    })();
    try {
      await c.patch(STS, 'down', 'merge', { spec: { replicas: 1 } }, { namespace: ns });
      await eventually('one pod left', async () => (await podNames('down')).length === 1 && deleted.length === 2);
      assert.deepEqual(await podNames('down'), ['down-0']);
      assert.deepEqual(deleted, ['down-2', 'down-1']);
      await eventually('status follows', async () => (await statusOf('down')).replicas === 1);
      const claims = (await c.list(PVCS, { namespace: ns })).items.map((x) => x.metadata.name).filter((n) => n?.startsWith('data-down-')).sort();
      assert.deepEqual(claims, ['data-down-0', 'data-down-1', 'data-down-2']);
      await eventually('delete events', async () => (await eventsOf('down')).some((e) => e.reason === 'SuccessfulDelete' && e.message === 'delete Pod down-1 in StatefulSet down successful'));
    } finally {
      w.close();
      void reading.catch(() => undefined);
    }
  });

  test('persistentVolumeClaimRetentionPolicy: the set controls claims when whenDeleted is Delete, the pod when scaled away with whenScaled Delete', async () => {
    const set = await c.create(STS, statefulSet('ret', 2, { volumeClaimTemplates: claimTemplates, podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
    await eventually('two pods', async () => (await podNames('ret')).length === 2);
    await readyAll('ret');
    const owners = async (claim: string) => ((await c.get(PVCS, claim, { namespace: ns })).metadata.ownerReferences ?? []).map((r) => `${r.kind}/${r.name}/${r.uid}/${r.controller}`);
    await eventually('both claims controlled by the set', async () => (await owners('data-ret-0')).join() === `StatefulSet/ret/${set.metadata.uid}/true` && (await owners('data-ret-1')).join() === `StatefulSet/ret/${set.metadata.uid}/true`);
    const podUid = (await c.get(PODS, 'ret-1', { namespace: ns })).metadata.uid;
    await c.patch(STS, 'ret', 'merge', { spec: { replicas: 1 } }, { namespace: ns });
    await eventually('ret-1 gone', async () => (await podNames('ret')).join() === 'ret-0');
    assert.deepEqual(await owners('data-ret-1'), [`Pod/ret-1/${podUid}/true`], 'the scaled-away claim now belongs to its pod, for the garbage collector');
    assert.deepEqual(await owners('data-ret-0'), [`StatefulSet/ret/${set.metadata.uid}/true`]);
  });

  test('OnDelete leaves pods alone until deleted; going back to the old template reuses its revision, renumbered', async () => {
    const set = await c.create(STS, statefulSet('od', 2, { podManagementPolicy: 'Parallel', updateStrategy: { type: 'OnDelete' } }));
    await eventually('two pods', async () => (await podNames('od')).length === 2);
    await readyAll('od');
    await eventually('status settled', async () => (await statusOf('od')).readyReplicas === 2);
    const r1 = (await statusOf('od')).currentRevision ?? '';
    const image = (v: string) => ({ spec: { template: { metadata: { labels: { app: 'od' } }, spec: { containers: [{ name: 'c', image: v }] } } } });
    await c.patch(STS, 'od', 'merge', image('nginx:2'), { namespace: ns });
    await eventually('a second revision', async () => ((await statusOf('od')).updateRevision ?? r1) !== r1);
    const r2 = (await statusOf('od')).updateRevision;
    await ctl.idle();
    assert.equal(await revisionLabel('od-1'), r1, 'OnDelete does not replace pods itself');
    await c.delete(PODS, 'od-1', { namespace: ns });
    await eventually('od-1 comes back at the update revision', async () => {
      try {
        return (await revisionLabel('od-1')) === r2;
      } catch {
        return false;
      }
    });
    await c.patch(STS, 'od', 'merge', image('nginx:1'), { namespace: ns });
    await eventually('the first revision is the update revision again', async () => (await statusOf('od')).updateRevision === r1);
    const revs = (await c.list(REVS, { namespace: ns })).items.filter((r) => r.metadata.ownerReferences?.[0]?.uid === set.metadata.uid);
    assert.deepEqual(revs.map((r) => [r.metadata.name, (r as { revision?: number }).revision]).sort(), [[r1, 3], [r2, 2]].sort());
  });

  test('a rolling update replaces pods from the highest ordinal down to the partition', async () => {
    await c.create(STS, statefulSet('roll', 3, { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
    await eventually('three pods', async () => (await podNames('roll')).length === 3);
    await readyAll('roll');
    await eventually('status settled', async () => (await statusOf('roll')).readyReplicas === 3);
    const r1 = (await statusOf('roll')).currentRevision;
    await c.patch(STS, 'roll', 'merge', { spec: { template: { metadata: { labels: { app: 'roll' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } }, { namespace: ns });
    let r2: string | undefined;
    await eventually('a new update revision', async () => {
      r2 = (await statusOf('roll')).updateRevision;
      return r2 !== undefined && r2 !== r1;
    });
    // The highest ordinals move to the new revision, each after the one above it is ready.
    for (const name of ['roll-2', 'roll-1']) {
      await eventually(`${name} recreated at the update revision`, async () => {
        await readyAll('roll');
        try {
          return (await revisionLabel(name)) === r2;
        } catch {
          return false;
        }
      });
    }
    await readyAll('roll');
    await eventually('status counts updated replicas', async () => {
      const s = await statusOf('roll');
      return s.updatedReplicas === 2 && s.currentReplicas === 1 && s.readyReplicas === 3 && s.observedGeneration === 2;
    });
    await ctl.idle();
    assert.equal(await revisionLabel('roll-0'), r1, 'the partition keeps roll-0 at the old revision');
    const image = ((await c.get(PODS, 'roll-2', { namespace: ns })).spec as { containers: { image: string }[] }).containers[0]?.image;
    assert.equal(image, 'nginx:2');
    assert.equal((await statusOf('roll')).currentRevision, r1);

    // Partition 0 finishes the update, and the update revision becomes current.
    await c.patch(STS, 'roll', 'merge', { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } } }, { namespace: ns });
    await eventually('roll-0 updated and the rollout complete', async () => {
      await readyAll('roll');
      const s = await statusOf('roll');
      return s.currentRevision === r2 && s.currentReplicas === 3 && s.updatedReplicas === 3;
    });
  });
});
