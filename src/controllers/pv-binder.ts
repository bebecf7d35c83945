// The PersistentVolume binder of kube-controller-manager (pkg/controller/volume/persistentvolume,
// 1.32): syncClaim and syncVolume as one level-triggered reconcile over two kinds of key,
// `claim:<ns>/<name>` and `volume:<name>`. Unbound claims get the default StorageClass when they
// name none, then the best matching volume (pv-binder-plan.ts), or wait for their first consumer,
// or are handed to their class's external provisioner (annotations and the ExternalProvisioning
// event). Binding writes pv.spec.claimRef, then pvc.spec.volumeName with the bind-completed and
// bound-by-controller annotations, then both phases. Volumes go Available → Bound → Released when
// their claim is gone; Retain keeps them, Delete leaves dynamically provisioned ones to their
// provisioner and marks the rest Failed, as upstream without an in-tree deleter.
import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';
import { done, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import {
  ANN_BETA_STORAGE_CLASS, ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, capacityBytes, claimClass, defaultClass, externalProvisioningMessage, findBestMatch,
  shouldDelayBinding, volumeUnfitReason,
} from './pv-binder-plan.js';

export const PVS = resourceFor('', 'v1', 'persistentvolumes');
export const PVCS = resourceFor('', 'v1', 'persistentvolumeclaims');
export const STORAGE_CLASSES = resourceFor('storage.k8s.io', 'v1', 'storageclasses');
export const NODES = resourceFor('', 'v1', 'nodes');
/** The events' source component, as kube-controller-manager's. */
export const PV_BINDER_COMPONENT = 'persistentvolume-controller';

const asObj = (o: unknown) => o as KubeObject;
const claimKey = (ns: string, name: string) => `claim:${ns}/${name}`;

/** The keys an object maps to: a claim and the volume it names; a volume and its claim. */
function claimKeys(o: KubeObject): string[] {
  const c = o as unknown as PersistentVolumeClaim;
  const keys = [claimKey(o.metadata.namespace ?? '', o.metadata.name ?? '')];
  if (c.spec?.volumeName) keys.push(`volume:${c.spec.volumeName}`);
  return keys;
}
function volumeKeys(o: KubeObject): string[] {
  const pv = o as unknown as PersistentVolume;
  const keys = [`volume:${o.metadata.name ?? ''}`];
  const ref = pv.spec?.claimRef;
  if (ref?.name) keys.push(claimKey(ref.namespace ?? '', ref.name));
  return keys;
}

/** A new PV binder definition, for startController (holds an event recorder per client). */
export function createPVBinderController(): ControllerDef {
  return {
    name: 'persistentvolume-binder',
    component: PV_BINDER_COMPONENT,
    watches: [
      { rt: PVCS, keyOf: claimKeys },
      { rt: PVS, keyOf: volumeKeys },
      // A new default class or provisioner settles pending claims: they are requeued on their own
      // resync; classes are only read.
      { rt: STORAGE_CLASSES, keyOf: () => undefined },
      { rt: NODES, keyOf: () => undefined },
    ],
    async reconcile(key, ctx) {
      const s = new Sync(ctx, ctx.events);
      if (key.startsWith('claim:')) return s.syncClaim(key.slice(6));
      if (key.startsWith('volume:')) return s.syncVolume(key.slice(7));
      return done();
    },
  };
}

class Sync {
  constructor(private ctx: ControllerContext, private events: EventRecorder) {}

  private get client(): Client {
    return this.ctx.client;
  }
  private volumes(): PersistentVolume[] {
    return this.ctx.informer(PVS).cache.list() as unknown as PersistentVolume[];
  }
  private volume(name: string): PersistentVolume | undefined {
    return this.ctx.informer(PVS).cache.get(name) as unknown as PersistentVolume | undefined;
  }
  private claim(key: string): PersistentVolumeClaim | undefined {
    return this.ctx.informer(PVCS).cache.get(key) as unknown as PersistentVolumeClaim | undefined;
  }
  private storageClass(name: string): StorageClass | undefined {
    return this.ctx.informer(STORAGE_CLASSES).cache.get(name) as unknown as StorageClass | undefined;
  }

  async syncClaim(key: string): Promise<Result> {
    const claim = this.claim(key);
    if (!claim) return done();
    if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
    return done();
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (!claim.spec?.volumeName) {
      // Retroactive default StorageClass assignment (GA in 1.28).
      if (claim.spec?.storageClassName === undefined && claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] === undefined) {
        const def = defaultClass(this.ctx.informer(STORAGE_CLASSES).cache.list() as unknown as StorageClass[]);
        if (def?.metadata?.name) {
          try {
            await this.client.patch(PVCS, claim.metadata?.name ?? '', 'merge', { metadata: { resourceVersion: claim.metadata?.resourceVersion }, spec: { storageClassName: def.metadata.name } }, { namespace: claim.metadata?.namespace });
            return;
          } catch (e) {
            // An API server refusing the nil → class update (no RetroactiveDefaultStorageClass)
            // leaves the claim class-less, as before 1.28.
            if (!isStatusError(e, 'Invalid')) throw e;
          }
        }
      }
      const cls = this.storageClass(claimClass(claim));
      const delay = shouldDelayBinding(claim, cls);
      const node = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
      const nodeLabels = node ? this.nodeLabels(node) : undefined;
      const pv = findBestMatch(claim, this.volumes(), { delayBinding: delay, nodeLabels });
      if (pv) return this.bind(pv, claim);
      const className = claimClass(claim);
      if (delay) {
        this.events.event(asObj(claim), 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      } else if (className !== '') {
        await this.provisionClaim(claim, className, cls);
      } else {
        this.events.event(asObj(claim), 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    // The user asked for a particular volume.
    const pv = this.volume(claim.spec.volumeName);
    if (!pv) {
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const ref = pv.spec?.claimRef;
    if (!ref) {
      const why = volumeUnfitReason(pv, claim);
      if (why) {
        this.events.event(asObj(claim), 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${pv.metadata?.name}": ${why}`);
        await this.updateClaimStatus(claim, 'Pending', undefined);
        return;
      }
      return this.bind(pv, claim);
    }
    if (ref.name === claim.metadata?.name && ref.namespace === claim.metadata?.namespace && (!ref.uid || ref.uid === claim.metadata?.uid)) return this.bind(pv, claim);
    await this.updateClaimStatus(claim, 'Pending', undefined);
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const name = claim.spec?.volumeName;
    if (!name) {
      await this.claimLost(claim, 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const pv = this.volume(name);
    if (!pv) {
      await this.claimLost(claim, 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    if (!pv.spec?.claimRef || pv.spec.claimRef.uid === claim.metadata?.uid) return this.bind(pv, claim);
    await this.claimLost(claim, 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  private async claimLost(claim: PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    await this.updateClaimStatus(claim, 'Lost', undefined);
    this.events.event(asObj(claim), 'Warning', reason, message);
  }

  /** provisionClaim for an external provisioner: name it on the claim and say it is awaited. */
  private async provisionClaim(claim: PersistentVolumeClaim, className: string, cls: StorageClass | undefined): Promise<void> {
    if (!cls) {
      this.events.event(asObj(claim), 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    const prov = cls.provisioner;
    const ann = claim.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== prov || ann[ANN_BETA_STORAGE_PROVISIONER] !== prov) {
      await this.client.patch(PVCS, claim.metadata?.name ?? '', 'merge', { metadata: { annotations: { [ANN_STORAGE_PROVISIONER]: prov, [ANN_BETA_STORAGE_PROVISIONER]: prov } } }, { namespace: claim.metadata?.namespace });
    }
    this.events.event(asObj(claim), 'Normal', 'ExternalProvisioning', externalProvisioningMessage(prov));
  }

  private nodeLabels(name: string): Record<string, string> {
    const node = this.ctx.informer(NODES).cache.get(name) as unknown as Node | undefined;
    return node?.metadata?.labels ?? { 'kubernetes.io/hostname': name };
  }

  /** bind: the volume's claimRef (optimistically, on the cached version), the claim's volumeName
   *  and annotations, then both phases. Each step is skipped when already done. */
  private async bind(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const pvName = pv.metadata?.name ?? '';
    const ns = claim.metadata?.namespace ?? '';
    const ref = pv.spec?.claimRef;
    let volume = pv;
    if (!ref || ref.uid !== claim.metadata?.uid || ref.name !== claim.metadata?.name || ref.namespace !== ns) {
      const patch: Record<string, unknown> = {
        metadata: { resourceVersion: pv.metadata?.resourceVersion, ...(ref ? {} : { annotations: { [ANN_BOUND_BY_CONTROLLER]: 'yes' } }) },
        spec: { claimRef: { kind: 'PersistentVolumeClaim', namespace: ns, name: claim.metadata?.name, uid: claim.metadata?.uid, apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion } },
      };
      volume = await this.client.patch<KubeObject>(PVS, pvName, 'merge', patch) as unknown as PersistentVolume;
    }
    if (volume.status?.phase !== 'Bound') {
      volume = await this.client.patch<KubeObject>(PVS, pvName, 'merge', { status: { phase: 'Bound' } }, { subresource: 'status' }) as unknown as PersistentVolume;
    }
    let c = claim;
    const ann = claim.metadata?.annotations ?? {};
    if (claim.spec?.volumeName !== pvName || ann[ANN_BIND_COMPLETED] === undefined) {
      const annotations: Record<string, string> = { [ANN_BIND_COMPLETED]: 'yes' };
      if (claim.spec?.volumeName !== pvName) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      c = await this.client.patch<KubeObject>(PVCS, claim.metadata?.name ?? '', 'merge', { metadata: { resourceVersion: claim.metadata?.resourceVersion, annotations }, spec: { volumeName: pvName } }, { namespace: ns }) as unknown as PersistentVolumeClaim;
    }
    await this.updateClaimStatus(c, 'Bound', volume);
  }

  /** updateClaimStatus: the phase, and the volume's access modes and capacity (or none). */
  private async updateClaimStatus(claim: PersistentVolumeClaim, phase: string, pv: PersistentVolume | undefined): Promise<void> {
    const st = claim.status ?? {};
    const status: Record<string, unknown> = {};
    if (st.phase !== phase) status.phase = phase;
    if (!pv) {
      if (st.accessModes) status.accessModes = null;
      if (st.capacity) status.capacity = null;
    } else {
      if (JSON.stringify(st.accessModes ?? null) !== JSON.stringify(pv.spec?.accessModes ?? null)) status.accessModes = pv.spec?.accessModes ?? null;
      const have = st.capacity?.['storage'];
      if (have === undefined || capacityBytes({ spec: { capacity: { storage: have } } }) !== capacityBytes(pv)) status.capacity = pv.spec?.capacity ?? null;
    }
    if (Object.keys(status).length === 0) return;
    await this.client.patch(PVCS, claim.metadata?.name ?? '', 'merge', { status }, { namespace: claim.metadata?.namespace, subresource: 'status' });
  }

  private async setVolumePhase(pv: PersistentVolume, phase: string, message?: string): Promise<void> {
    if (pv.status?.phase === phase && (message === undefined || pv.status?.message === message)) return;
    await this.client.patch(PVS, pv.metadata?.name ?? '', 'merge', { status: { phase, ...(message !== undefined ? { message } : {}) } }, { subresource: 'status' });
  }

  async syncVolume(name: string): Promise<Result> {
    const pv = this.volume(name);
    if (!pv) return done();
    const ref = pv.spec?.claimRef;
    if (!ref || !ref.uid) {
      // Unused, or reserved for a claim that will bind it.
      await this.setVolumePhase(pv, 'Available');
      return done();
    }
    let claim = this.claim(`${ref.namespace ?? ''}/${ref.name ?? ''}`);
    if (claim && claim.metadata?.uid !== ref.uid) claim = undefined;
    if (!claim) {
      if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') await this.setVolumePhase(pv, 'Released');
      await this.reclaim({ ...pv, status: { ...pv.status, phase: pv.status?.phase === 'Failed' ? 'Failed' : 'Released' } });
      return done();
    }
    if (!claim.spec?.volumeName) return done(); // the claim's sync finishes the binding
    if (claim.spec.volumeName === name) {
      await this.setVolumePhase(pv, 'Bound');
      return done();
    }
    // Bound to a claim that got another volume.
    if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] && pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') await this.setVolumePhase(pv, 'Released');
      return done();
    }
    await this.unbindVolume(pv);
    return done();
  }

  /** unbindVolume: a controller-made binding is undone; a user's pre-binding keeps name, loses uid. */
  private async unbindVolume(pv: PersistentVolume): Promise<void> {
    const byController = pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined;
    const patch = byController
      ? { metadata: { resourceVersion: pv.metadata?.resourceVersion, annotations: { [ANN_BOUND_BY_CONTROLLER]: null } }, spec: { claimRef: null } }
      : { metadata: { resourceVersion: pv.metadata?.resourceVersion }, spec: { claimRef: { uid: null } } };
    await this.client.patch(PVS, pv.metadata?.name ?? '', 'merge', patch);
    await this.client.patch(PVS, pv.metadata?.name ?? '', 'merge', { status: { phase: 'Available' } }, { subresource: 'status' });
  }

  /** reclaimVolume: Retain keeps the volume Released; Delete of a provisioned volume is its
   *  provisioner's; any other Delete fails as upstream's controller without a deleter plugin. */
  private async reclaim(pv: PersistentVolume): Promise<void> {
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy !== 'Delete') return;
    if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED]) return;
    const message = `error getting deleter volume plugin for volume "${pv.metadata?.name}": no deletable volume plugin matched`;
    if (pv.status?.phase === 'Failed') return;
    await this.setVolumePhase(pv, 'Failed', message);
    this.events.event(asObj(pv), 'Warning', 'VolumeFailedDelete', message);
  }
}

