// Tables of the storage kinds: persistent volumes and claims (core/v1) and storage classes
// (storage.k8s.io/v1), as printers.go (Kubernetes 1.32) prints them, VOLUMEATTRIBUTESCLASS
// column included.
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../types.js';
import { doc } from './descriptions.js';
import { AGE_COLUMN, NAME_COLUMN, ageOf, column, nameOf, view, type Printer } from './printer.js';

/** The pre-storageClassName annotation; when present it wins over the field. */
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** GetAccessModesAsString: `RWO,ROX,RWX,RWOP`, always in that order, duplicates dropped. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const have = new Set(modes ?? []);
  const out: string[] = [];
  if (have.has('ReadWriteOnce')) out.push('RWO');
  if (have.has('ReadOnlyMany')) out.push('ROX');
  if (have.has('ReadWriteMany')) out.push('RWX');
  if (have.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

function storageClassOf(obj: KubeObject, field: string | undefined): string {
  const annotation = obj.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  return annotation !== undefined ? annotation : field ?? '';
}

/** Quantities are printed in their stored (canonical) form; Kubernetes prints Quantity.String(). */
function quantity(q: string | number | undefined): string {
  return q === undefined ? '0' : String(q);
}

export const persistentVolumePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Capacity', 'string', doc('PersistentVolumeSpec.capacity')),
    column('Access Modes', 'string', doc('PersistentVolumeSpec.accessModes')),
    column('Reclaim Policy', 'string', doc('PersistentVolumeSpec.persistentVolumeReclaimPolicy')),
    column('Status', 'string', doc('PersistentVolumeStatus.phase')),
    column('Claim', 'string', doc('PersistentVolumeSpec.claimRef')),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', doc('PersistentVolumeStatus.reason')),
    AGE_COLUMN,
    column('VolumeMode', 'string', doc('PersistentVolumeSpec.volumeMode'), { priority: 1 }),
  ],
  print(obj, now) {
    const pv = view<PersistentVolume>(obj);
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '';
    return {
      cells: [
        nameOf(obj),
        quantity(spec.capacity?.['storage']),
        accessModesString(spec.accessModes),
        spec.persistentVolumeReclaimPolicy ?? '',
        phase,
        claim,
        storageClassOf(obj, spec.storageClassName),
        spec.volumeAttributesClassName ?? '<unset>',
        pv.status?.reason ?? '',
        ageOf(obj, now),
        spec.volumeMode ?? '<unset>',
      ],
    };
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', doc('PersistentVolumeClaimStatus.phase')),
    column('Volume', 'string', doc('PersistentVolumeClaimSpec.volumeName')),
    column('Capacity', 'string', doc('PersistentVolumeClaimStatus.capacity')),
    column('Access Modes', 'string', doc('PersistentVolumeClaimStatus.accessModes')),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    AGE_COLUMN,
    column('VolumeMode', 'string', doc('PersistentVolumeClaimSpec.volumeMode'), { priority: 1 }),
  ],
  print(obj, now) {
    const pvc = view<PersistentVolumeClaim>(obj);
    const spec = pvc.spec ?? {};
    const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? '';
    // Capacity and access modes are the bound volume's; an unbound claim shows them empty.
    const bound = Boolean(spec.volumeName);
    return {
      cells: [
        nameOf(obj),
        phase,
        spec.volumeName ?? '',
        bound ? quantity(pvc.status?.capacity?.['storage']) : '',
        bound ? accessModesString(pvc.status?.accessModes) : '',
        storageClassOf(obj, spec.storageClassName),
        spec.volumeAttributesClassName ?? '<unset>',
        ageOf(obj, now),
        spec.volumeMode ?? '<unset>',
      ],
    };
  },
};

/** The annotations that mark the cluster's default storage class. */
function isDefaultClass(obj: KubeObject): boolean {
  const a = obj.metadata?.annotations ?? {};
  return a['storageclass.kubernetes.io/is-default-class'] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
}

export const storageClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'string', doc('StorageClass.provisioner')),
    column('ReclaimPolicy', 'string', doc('StorageClass.reclaimPolicy')),
    column('VolumeBindingMode', 'string', doc('StorageClass.volumeBindingMode')),
    column('AllowVolumeExpansion', 'string', doc('StorageClass.allowVolumeExpansion')),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const sc = view<StorageClass>(obj);
    const name = isDefaultClass(obj) ? `${nameOf(obj)} (default)` : nameOf(obj);
    return { cells: [name, sc.provisioner ?? '', sc.reclaimPolicy ?? 'Delete', sc.volumeBindingMode ?? 'Immediate', sc.allowVolumeExpansion ?? false, ageOf(obj, now)] };
  },
};
