// The PV binder and the local-path provisioner against the real API server: a static PV binds a
// claim (claimRef, volumeName, annotations, phases, status capacity); after the claim is deleted a
// Retain volume is Released and kept, a provisioned Delete volume loses its directory and is
// deleted; a WaitForFirstConsumer claim of the local-path class waits, then is provisioned on the node
// of the pod bound to it (node affinity, DirectoryOrCreate path, pre-bound claimRef) and bound.
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
import { createLocalPathProvisioner, ensureLocalPathStorageClass } from '../../src/controllers/local-path-provisioner.js';
import { createPVBinderController } from '../../src/controllers/pv-binder.js';
import { eventually } from '../support/eventually.js';

const PVS = resourceFor('', 'v1', 'persistentvolumes');
const PVCS = resourceFor('', 'v1', 'persistentvolumeclaims');
const PODS = resourceFor('', 'v1', 'pods');
const NODES = resourceFor('', 'v1', 'nodes');
const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const staticPV = (name: string, size: string, policy: string): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: policy, storageClassName: 'manual', hostPath: { path: `/tmp/${name}` } },
});
const claim = (name: string, size: string, cls?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...(cls !== undefined ? { storageClassName: cls } : {}) },
});

describe('PV binder and local-path provisioner', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let binder: RunningController;
  let prov: RunningController;
  const removed: string[] = [];
  const baseDir = '/var/lib/skiff-test/storage';

  const get = async (rt: typeof PVS, name: string, namespace?: string): Promise<Any | undefined> => {
    try {
      return (await c.get(rt, name, { namespace })) as Any;
    } catch {
      return undefined;
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-pv-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    await ensureLocalPathStorageClass(c);
    await ensureLocalPathStorageClass(c); // idempotent
    binder = startController(createPVBinderController(), srv.client('persistentvolume-controller'));
    prov = startController(createLocalPathProvisioner({ baseDir, removeDir: async (p) => void removed.push(p) }), srv.client('local-path-provisioner'));
  });
  after(async () => {
    await binder?.stop();
    await prov?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a static PV binds the smallest fitting claim, with Kubernetes annotations and phases', async () => {
    await c.create(PVS, staticPV('pv-big', '10Gi', 'Retain'));
    await c.create(PVS, staticPV('pv-small', '2Gi', 'Retain'));
    await eventually('volumes Available', async () => (await get(PVS, 'pv-small'))?.status?.phase === 'Available' && (await get(PVS, 'pv-big'))?.status?.phase === 'Available');
    const pvc = (await c.create(PVCS, claim('data', '1Gi', 'manual'))) as Any;
    await eventually('claim Bound', async () => (await get(PVCS, 'data', ns))?.status?.phase === 'Bound');
    const bound = (await get(PVCS, 'data', ns)) as Any;
    assert.equal(bound.spec.volumeName, 'pv-small');
    assert.equal(bound.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(bound.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.deepEqual(bound.status.accessModes, ['ReadWriteOnce']);
    assert.equal(bound.status.capacity.storage, '2Gi');
    await eventually('volume Bound', async () => (await get(PVS, 'pv-small'))?.status?.phase === 'Bound');
    const pv = (await get(PVS, 'pv-small')) as Any;
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.deepEqual({ ...pv.spec.claimRef, resourceVersion: undefined }, { kind: 'PersistentVolumeClaim', namespace: ns, name: 'data', uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: undefined });
    assert.equal((await get(PVS, 'pv-big'))?.status?.phase, 'Available');

    // Retain: the claim goes, the volume stays Released with its claimRef.
    await c.delete(PVCS, 'data', { namespace: ns });
    await eventually('volume Released', async () => (await get(PVS, 'pv-small'))?.status?.phase === 'Released');
    assert.equal(((await get(PVS, 'pv-small')) as Any).spec.claimRef.name, 'data');
  });

  test('a claim naming a too-small volume waits with a VolumeMismatch event', async () => {
    await c.create(PVS, staticPV('pv-named', '1Gi', 'Retain'));
    await c.create(PVCS, { ...claim('named', '5Gi', 'manual'), spec: { ...(claim('named', '5Gi', 'manual').spec as Any), volumeName: 'pv-named' } });
    await eventually('VolumeMismatch event', async () =>
      (await c.list(EVENTS, { namespace: ns })).items.some((e: Any) => e.involvedObject?.name === 'named' && e.reason === 'VolumeMismatch' && e.message === 'Cannot bind to requested volume "pv-named": requested PV is too small'));
    assert.equal((await get(PVCS, 'named', ns))?.status?.phase, 'Pending');
  });

  test('a static Delete volume without a deleter fails as upstream; a claim whose volume vanished is Lost', async () => {
    await c.create(PVS, { ...staticPV('pv-del', '1Gi', 'Delete'), spec: { ...(staticPV('pv-del', '1Gi', 'Delete').spec as Any), storageClassName: 'gone' } });
    await c.create(PVCS, claim('del', '1Gi', 'gone'));
    await eventually('claim Bound', async () => (await get(PVCS, 'del', ns))?.status?.phase === 'Bound');
    await c.delete(PVCS, 'del', { namespace: ns });
    const message = 'error getting deleter volume plugin for volume "pv-del": no deletable volume plugin matched';
    await eventually('volume Failed', async () => {
      const pv = await get(PVS, 'pv-del');
      return pv?.status?.phase === 'Failed' && pv.status.message === message;
    });
    await eventually('VolumeFailedDelete event', async () => (await c.list(EVENTS)).items.some((e: Any) => e.involvedObject?.name === 'pv-del' && e.reason === 'VolumeFailedDelete' && e.message === message));

    await c.create(PVS, { ...staticPV('pv-lost', '1Gi', 'Retain'), spec: { ...(staticPV('pv-lost', '1Gi', 'Retain').spec as Any), storageClassName: 'lost' } });
    await c.create(PVCS, claim('lost', '1Gi', 'lost'));
    await eventually('claim Bound', async () => (await get(PVCS, 'lost', ns))?.status?.phase === 'Bound');
    await c.delete(PVS, 'pv-lost');
    await eventually('claim Lost', async () => (await get(PVCS, 'lost', ns))?.status?.phase === 'Lost');
    await eventually('ClaimLost event', async () =>
      (await c.list(EVENTS, { namespace: ns })).items.some((e: Any) => e.involvedObject?.name === 'lost' && e.reason === 'ClaimLost' && e.type === 'Warning' && e.message === 'Bound claim has lost its PersistentVolume. Data on the volume is lost!'));
  });

  test('a claim of a class with an unknown provisioner is handed to it with ExternalProvisioning', async () => {
    await c.create(resourceFor('storage.k8s.io', 'v1', 'storageclasses'), { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'ext' }, provisioner: 'example.com/ext' });
    await c.create(PVCS, claim('ext', '1Gi', 'ext'));
    await eventually('provisioner annotations', async () => {
      const a = (await get(PVCS, 'ext', ns))?.metadata?.annotations ?? {};
      return a['volume.kubernetes.io/storage-provisioner'] === 'example.com/ext' && a['volume.beta.kubernetes.io/storage-provisioner'] === 'example.com/ext';
    });
    await eventually('ExternalProvisioning event', async () =>
      (await c.list(EVENTS, { namespace: ns })).items.some((e: Any) => e.involvedObject?.name === 'ext' && e.reason === 'ExternalProvisioning' && e.message === "Waiting for a volume to be created either by the external provisioner 'example.com/ext' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."));
    assert.equal((await get(PVCS, 'ext', ns))?.status?.phase, 'Pending');
  });

  test('a local-path claim waits for its first consumer, then is provisioned on the pod\'s node', async () => {
    await c.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } } });
    const pvc = (await c.create(PVCS, claim('www', '3Gi', 'local-path'))) as Any;
    await eventually('WaitForFirstConsumer event', async () =>
      (await c.list(EVENTS, { namespace: ns })).items.some((e: Any) => e.involvedObject?.name === 'www' && e.reason === 'WaitForFirstConsumer' && e.message === 'waiting for first consumer to be created before binding'));
    await binder.idle();
    await prov.idle();
    assert.equal((await get(PVCS, 'www', ns))?.status?.phase, 'Pending');
    assert.equal((await c.list(PVS)).items.filter((p) => p.metadata.name === `pvc-${pvc.metadata.uid}`).length, 0);

    await c.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: ns }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'www' } }] } });
    const pvName = `pvc-${pvc.metadata.uid}`;
    await eventually('claim Bound to the provisioned volume', async () => {
      const got = await get(PVCS, 'www', ns);
      return got?.status?.phase === 'Bound' && got.spec.volumeName === pvName;
    });
    const got = (await get(PVCS, 'www', ns)) as Any;
    assert.equal(got.metadata.annotations['volume.kubernetes.io/selected-node'], 'node-a');
    assert.equal(got.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'rancher.io/local-path');
    assert.equal(got.status.capacity.storage, '3Gi');
    const pv = (await get(PVS, pvName)) as Any;
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');
    assert.deepEqual(pv.spec.hostPath, { path: `${baseDir}/${pvName}_${ns}_www`, type: 'DirectoryOrCreate' });
    assert.deepEqual(pv.spec.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] }] } });
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.spec.storageClassName, 'local-path');
    assert.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
    assert.equal(pv.spec.capacity.storage, '3Gi');
    await eventually('volume Bound', async () => (await get(PVS, pvName))?.status?.phase === 'Bound');
    await eventually('ProvisioningSucceeded event', async () =>
      (await c.list(EVENTS, { namespace: ns })).items.some((e: Any) => e.involvedObject?.name === 'www' && e.reason === 'ProvisioningSucceeded' && e.message === `Successfully provisioned volume ${pvName}`));

    // Delete: the claim goes, the directory is removed and the volume deleted.
    await c.delete(PODS, 'user', { namespace: ns, gracePeriodSeconds: 0 });
    await c.delete(PVCS, 'www', { namespace: ns });
    await eventually('provisioned volume deleted', async () => (await get(PVS, pvName)) === undefined);
    assert.deepEqual(removed, [`${baseDir}/${pvName}_${ns}_www`]);
  });
});
