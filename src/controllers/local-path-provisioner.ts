// k3s's local-path provisioner (rancher/local-path-provisioner) as a controller: the default
// StorageClass `local-path` (WaitForFirstConsumer, Delete) and, for each of its pending claims
// used by a pod bound to a node, a PersistentVolume `pvc-<uid>` pre-bound to the claim: a hostPath
// `<baseDir>/pvc-<uid>_<ns>_<claim>` of type DirectoryOrCreate (the node agent makes the directory
// when the pod mounts it), required node affinity to that node, the claim's request as capacity.
// Skiff's scheduler does not set volume.kubernetes.io/selected-node, so this controller sets it
// from the pod's spec.nodeName. Released volumes with policy Delete get their directory removed
// (a hook: by default on this machine) and are deleted.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isStatusError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import { NAMESPACE_INDEX } from '../client/cache.js';
import type { Client } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import { done, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { ANN_DEFAULT_CLASS, ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE, claimClass } from './pv-binder-plan.js';
import { NODES, PVCS, PVS, STORAGE_CLASSES } from './pv-binder.js';
import { PODS } from './pod-control.js';

export const LOCAL_PATH_CLASS = 'local-path';
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The default StorageClass, as k3s ships it. */
export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [ANN_DEFAULT_CLASS]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** Creates the `local-path` StorageClass unless one of that name exists (call at startup). */
export async function ensureLocalPathStorageClass(client: Client): Promise<void> {
  try {
    await client.create(STORAGE_CLASSES, localPathStorageClass());
  } catch (e) {
    if (!isStatusError(e, 'AlreadyExists')) throw e;
  }
}

export interface LocalPathOptions {
  /** Where volumes live on every node, e.g. `<data dir>/storage`. */
  baseDir: string;
  /** Removes a released volume's directory on its node; default: rm -rf on this machine. */
  removeDir?(path: string, node: string | undefined): Promise<void>;
}

/** The directory of a provisioned volume, as k3s names it. */
export function volumeDir(baseDir: string, pvName: string, ns: string, claim: string): string {
  return join(baseDir, `${pvName}_${ns}_${claim}`);
}

/** The PersistentVolume provisioned for a claim on a node (pure). */
export function provisionedVolume(claim: PersistentVolumeClaim, cls: StorageClass, node: string, hostname: string, baseDir: string): KubeObject {
  const ns = claim.metadata?.namespace ?? '';
  const name = `pvc-${claim.metadata?.uid ?? ''}`;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER, 'local.path.provisioner/selected-node': node } },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.['storage'] ?? '0' },
      accessModes: claim.spec?.accessModes ?? [],
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: cls.metadata?.name,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: claim.metadata?.name, uid: claim.metadata?.uid, resourceVersion: claim.metadata?.resourceVersion },
      hostPath: { path: volumeDir(baseDir, name, ns, claim.metadata?.name ?? ''), type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] }] } },
    },
  };
}

/** The claims a pod mounts, as `claim:<ns>/<name>` keys. */
function podClaimKeys(o: KubeObject): string[] {
  const pod = o as unknown as Pod;
  const ns = o.metadata.namespace ?? '';
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [`claim:${ns}/${v.persistentVolumeClaim.claimName}`] : []));
}

/** The local-path provisioner definition, for startController. */
export function createLocalPathProvisioner(opts: LocalPathOptions): ControllerDef {
  const removeDir = opts.removeDir ?? ((path: string) => rm(path, { recursive: true, force: true }));
  return {
    name: 'local-path-provisioner',
    component: `${LOCAL_PATH_PROVISIONER}_skiff`,
    watches: [
      { rt: PVCS, keyOf: (o) => `claim:${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}` },
      { rt: PODS, keyOf: podClaimKeys },
      { rt: PVS, keyOf: (o) => `volume:${o.metadata.name ?? ''}` },
      { rt: STORAGE_CLASSES, keyOf: () => undefined },
      { rt: NODES, keyOf: () => undefined },
    ],
    async reconcile(key, ctx) {
      if (key.startsWith('claim:')) return provision(key.slice(6), ctx, ctx.events, opts.baseDir);
      if (key.startsWith('volume:')) return reclaim(key.slice(7), ctx, removeDir);
      return done();
    },
  };
}

/** The node a claim's first consumer runs on: the selected-node annotation, else a live pod bound
 *  to a node that mounts the claim. */
function consumerNode(claim: PersistentVolumeClaim, ctx: ControllerContext): string | undefined {
  const ann = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
  if (ann) return ann;
  const ns = claim.metadata?.namespace ?? '';
  const pods = ctx.informer(PODS).cache.byIndex(NAMESPACE_INDEX, ns) as unknown as Pod[];
  const pod = pods
    .filter((p) => p.spec?.nodeName && !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''))
    .find((p) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata?.name));
  return pod?.spec?.nodeName;
}

async function provision(key: string, ctx: ControllerContext, events: EventRecorder, baseDir: string): Promise<Result> {
  const claim = ctx.informer(PVCS).cache.get(key) as unknown as PersistentVolumeClaim | undefined;
  if (!claim || claim.spec?.volumeName || claim.metadata?.deletionTimestamp || claim.status?.phase !== 'Pending') return done();
  const cls = ctx.informer(STORAGE_CLASSES).cache.get(claimClass(claim)) as unknown as StorageClass | undefined;
  if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) return done();
  const node = consumerNode(claim, ctx);
  if (!node) return done(); // k3s: local-path provisions only once a node is chosen
  const pvName = `pvc-${claim.metadata?.uid ?? ''}`;
  if (ctx.informer(PVS).cache.get(pvName)) return done();
  const name = claim.metadata?.name ?? '';
  const ns = claim.metadata?.namespace ?? '';
  if (!claim.metadata?.annotations?.[ANN_SELECTED_NODE]) {
    await ctx.client.patch(PVCS, name, 'merge', { metadata: { annotations: { [ANN_SELECTED_NODE]: node } } }, { namespace: ns });
  }
  const nodeObj = ctx.informer(NODES).cache.get(node);
  const hostname = nodeObj?.metadata.labels?.[HOSTNAME_LABEL] ?? node;
  events.event(claim as unknown as KubeObject, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ns}/${name}"`);
  try {
    await ctx.client.create(PVS, provisionedVolume(claim, cls, node, hostname, baseDir));
  } catch (e) {
    if (!isStatusError(e, 'AlreadyExists')) {
      events.event(claim as unknown as KubeObject, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${cls.metadata?.name}": ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }
  events.event(claim as unknown as KubeObject, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  return done();
}

/** shouldDelete: a Released volume of ours with policy Delete loses its directory, then itself. */
async function reclaim(name: string, ctx: ControllerContext, removeDir: (path: string, node: string | undefined) => Promise<void>): Promise<Result> {
  const pv = ctx.informer(PVS).cache.get(name) as unknown as PersistentVolume | undefined;
  if (!pv || pv.metadata?.deletionTimestamp) return done();
  if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER) return done();
  if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return done();
  const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (path) await removeDir(path, pv.metadata?.annotations?.['local.path.provisioner/selected-node']);
  try {
    await ctx.client.delete(PVS, name, { preconditions: { uid: pv.metadata?.uid } });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
  return done();
}
