// PersistentVolumes, PersistentVolumeClaims (core) and StorageClasses (storage.k8s.io).
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { compareQuantities, formatQuantity, tryParseQuantity, QUANTITY_ERROR, type Quantity } from '../../util/quantity.js';
import type { KindValidator } from './kind.js';
import { validateLabelName, validateLabelSelector } from './meta.js';
import { describeDiff } from './pod.js';
import { child, jsonEqual, key, obj, objList, str, strList, tooLong, utf8Length, type Obj } from './shape.js';
import { isQualifiedName, nameIsDNSSubdomain } from './strings.js';
import { validatePathNoBacksteps } from './volumes.js';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const PV_SOURCES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'flocker', 'nfs', 'rbd', 'quobyte', 'cephfs', 'iscsi', 'cinder',
  'fc', 'flexVolume', 'azureFile', 'vsphereVolume', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'local', 'storageos', 'csi',
];

function validateAccessModes(spec: Obj, path: string, requiredDetail: string, errs: FieldError[]): void {
  const modes = strList(spec.accessModes, child(path, 'accessModes'), errs);
  if (modes.length === 0) errs.push(field.required(child(path, 'accessModes'), requiredDetail));
  let once = false;
  let other = false;
  for (const m of modes) {
    if (!ACCESS_MODES.includes(m)) errs.push(field.notSupported(child(path, 'accessModes'), m, ACCESS_MODES));
    else if (m === 'ReadWriteOncePod') once = true;
    else other = true;
  }
  if (once && other) errs.push(field.forbidden(child(path, 'accessModes'), 'may not use ReadWriteOncePod with other access modes'));
}

function quantity(v: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  const q = typeof v === 'string' || typeof v === 'number' ? tryParseQuantity(String(v)) : undefined;
  if (!q) errs.push(field.invalid(path, v ?? '', QUANTITY_ERROR));
  return q;
}

function positive(q: Quantity | undefined, path: string, errs: FieldError[]): void {
  if (q && q.mantissa <= 0n) errs.push(field.invalid(path, formatQuantity(q), 'must be greater than zero'));
}

function validateClassName(v: unknown, path: string, errs: FieldError[]): void {
  const name = str(v, path, errs) ?? '';
  if (name) nameIsDNSSubdomain(name, false).forEach((m) => errs.push(field.invalid(path, name, m)));
}

function validatePV(o: KubeObject, errs: FieldError[]): void {
  const S = 'spec';
  const spec = obj(o.spec, S, errs) ?? {};
  validateAccessModes(spec, S, '', errs);
  const capacity = obj(spec.capacity, child(S, 'capacity'), errs) ?? {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(field.required(child(S, 'capacity')));
  if (!keys.includes('storage') || keys.length > 1) {
    errs.push({ type: 'FieldValueNotSupported', field: child(S, 'capacity'), detail: `core.ResourceList{${keys.map((k) => JSON.stringify(k)).join(', ')}}: supported values: "storage"` });
  }
  for (const k of keys) positive(quantity(capacity[k], key(child(S, 'capacity'), k), errs), key(child(S, 'capacity'), k), errs);
  const policy = str(spec.persistentVolumeReclaimPolicy, child(S, 'persistentVolumeReclaimPolicy'), errs) ?? '';
  if (policy && !['Delete', 'Recycle', 'Retain'].includes(policy)) {
    errs.push(field.notSupported(child(S, 'persistentVolumeReclaimPolicy'), policy, ['Delete', 'Recycle', 'Retain']));
  }
  const affinity = obj(spec.nodeAffinity, child(S, 'nodeAffinity'), errs);
  if (affinity && !obj(affinity.required, child(child(S, 'nodeAffinity'), 'required'), errs)) {
    errs.push(field.required(child(child(S, 'nodeAffinity'), 'required'), 'must specify required node constraints'));
  }
  let n = 0;
  for (const kind of PV_SOURCES) {
    if (spec[kind] === undefined || spec[kind] === null) continue;
    const p = child(S, kind);
    if (n++ > 0) {
      errs.push(field.forbidden(p, 'may not specify more than 1 volume type'));
      continue;
    }
    const src = obj(spec[kind], p, errs) ?? {};
    if (kind === 'hostPath' || kind === 'local') {
      const hp = str(src.path, child(p, 'path'), errs) ?? '';
      if (!hp) errs.push(field.required(child(p, 'path')));
      else errs.push(...validatePathNoBacksteps(hp, child(p, 'path')));
    } else if (kind === 'nfs') {
      if (!(str(src.server, child(p, 'server'), errs) ?? '')) errs.push(field.required(child(p, 'server')));
      const np = str(src.path, child(p, 'path'), errs) ?? '';
      if (!np) errs.push(field.required(child(p, 'path')));
      if (!np.startsWith('/')) errs.push(field.invalid(child(p, 'path'), np, 'must be an absolute path'));
    } else if (kind === 'csi') {
      if (!(str(src.driver, child(p, 'driver'), errs) ?? '')) errs.push(field.required(child(p, 'driver')));
      if (!(str(src.volumeHandle, child(p, 'volumeHandle'), errs) ?? '')) errs.push(field.required(child(p, 'volumeHandle')));
    }
  }
  if (n === 0) errs.push(field.required(S, 'must specify a volume type'));
  if (spec.local && !affinity) errs.push(field.required(child(S, 'nodeAffinity'), 'Local volume requires node affinity'));
  validateClassName(spec.storageClassName, child(S, 'storageClassName'), errs);
  const mode = str(spec.volumeMode, child(S, 'volumeMode'), errs);
  if (mode !== undefined && !['Block', 'Filesystem'].includes(mode)) errs.push(field.notSupported(child(S, 'volumeMode'), mode, ['Block', 'Filesystem']));
}

export const persistentVolumeValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validatePV,
  update(o, old, errs) {
    const spec = (o.spec ?? {}) as Obj;
    const before = (old.spec ?? {}) as Obj;
    if (PV_SOURCES.some((k) => !jsonEqual(spec[k], before[k]))) {
      errs.push(field.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    }
    if ((spec.volumeMode ?? null) !== (before.volumeMode ?? null)) errs.push(field.invalid('volumeMode', spec.volumeMode ?? null, 'field is immutable'));
  },
};

/** ValidatePersistentVolumeClaimSpec, also used for volumeClaimTemplates. */
export function validatePVCSpec(spec: Obj, path: string, errs: FieldError[]): void {
  validateAccessModes(spec, path, 'at least 1 access mode is required', errs);
  if (spec.selector !== undefined && spec.selector !== null) validateLabelSelector(spec.selector, child(path, 'selector'), errs);
  const requests = obj((obj(spec.resources, child(path, 'resources'), errs) ?? {}).requests, child(child(path, 'resources'), 'requests'), errs) ?? {};
  const storagePath = key(child(path, 'resources'), 'storage');
  if (!('storage' in requests)) errs.push(field.required(storagePath));
  else positive(quantity(requests.storage, storagePath, errs), storagePath, errs);
  validateClassName(spec.storageClassName, child(path, 'storageClassName'), errs);
  const mode = str(spec.volumeMode, child(path, 'volumeMode'), errs);
  if (mode !== undefined && !['Block', 'Filesystem'].includes(mode)) errs.push(field.notSupported(child(path, 'volumeMode'), mode, ['Block', 'Filesystem']));
  for (const ds of ['dataSource', 'dataSourceRef']) {
    const ref = obj(spec[ds], child(path, ds), errs);
    if (!ref) continue;
    if (!ref.name) errs.push(field.required(child(child(path, ds), 'name')));
    if (!ref.kind) errs.push(field.required(child(child(path, ds), 'kind')));
    if (!ref.apiGroup && ref.kind !== 'PersistentVolumeClaim') errs.push(field.invalid(child(path, ds), ref.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  }
}

function validatePVCUpdate(o: KubeObject, old: KubeObject, errs: FieldError[]): void {
  const spec = structuredClone((o.spec ?? {}) as Obj);
  const before = structuredClone((old.spec ?? {}) as Obj);
  // The binder may set volumeName once; a bound claim may grow its storage request.
  if (!before.volumeName) before.volumeName = spec.volumeName;
  // Retroactive default StorageClass (GA in 1.28): a claim without a class (and without the beta
  // annotation) may be given one once.
  const betaClass = (old.metadata?.annotations ?? {})['volume.beta.kubernetes.io/storage-class'];
  if (before.storageClassName === undefined && betaClass === undefined) before.storageClassName = spec.storageClassName;
  const bound = (o.status as Obj | undefined)?.phase === 'Bound';
  const req = (s: Obj) => ((s.resources as Obj | undefined)?.requests as Obj | undefined) ?? undefined;
  if (bound && req(spec)) (req(spec) as Obj).storage = req(before)?.storage;
  if (!jsonEqual(spec, before)) {
    errs.push(field.forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${describeDiff(before, spec).join('\n')}`));
  }
  const newSize = tryParseQuantity(String(req((o.spec ?? {}) as Obj)?.storage ?? ''));
  const oldSize = tryParseQuantity(String(req((old.spec ?? {}) as Obj)?.storage ?? ''));
  if (newSize && oldSize && compareQuantities(newSize, oldSize) < 0) {
    errs.push(field.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
}

export const persistentVolumeClaimValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: (o, errs) => validatePVCSpec(obj(o.spec, 'spec', errs) ?? {}, 'spec', errs),
  update: validatePVCUpdate,
};

const MAX_PARAMETERS_SIZE = 256 * 1024;

function validateStorageClass(o: KubeObject, errs: FieldError[]): void {
  const provisioner = str(o.provisioner, 'provisioner', errs) ?? '';
  if (!provisioner) errs.push(field.required('provisioner'));
  else isQualifiedName(provisioner.toLowerCase()).forEach((m) => errs.push(field.invalid('provisioner', provisioner, m)));
  const params = obj(o.parameters, 'parameters', errs) ?? {};
  let size = 0;
  for (const [k, v] of Object.entries(params)) {
    if (!k) errs.push(field.invalid('parameters', k, 'field can not be empty.'));
    size += utf8Length(k) + utf8Length(String(v));
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(tooLong('parameters', MAX_PARAMETERS_SIZE));
  const policy = str(o.reclaimPolicy, 'reclaimPolicy', errs);
  if (policy !== undefined && !['Delete', 'Retain'].includes(policy)) errs.push(field.notSupported('reclaimPolicy', policy, ['Delete', 'Retain']));
  const mode = str(o.volumeBindingMode, 'volumeBindingMode', errs);
  if (mode === undefined) errs.push(field.required('volumeBindingMode'));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(mode)) errs.push(field.notSupported('volumeBindingMode', mode, ['Immediate', 'WaitForFirstConsumer']));
  for (const [term, i] of objList(o.allowedTopologies, 'allowedTopologies', errs)) {
    for (const [req, j] of objList(term.matchLabelExpressions, `allowedTopologies[${i}].matchLabelExpressions`, errs)) {
      const p = `allowedTopologies[${i}].matchLabelExpressions[${j}]`;
      if (strList(req.values, child(p, 'values'), errs).length === 0) errs.push(field.required(child(p, 'values')));
      errs.push(...validateLabelName(typeof req.key === 'string' ? req.key : '', child(p, 'key')));
    }
  }
}

export const storageClassValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validateStorageClass,
  update(o, old, errs) {
    if (!jsonEqual(o.parameters ?? {}, old.parameters ?? {})) errs.push(field.forbidden('parameters', 'updates to parameters are forbidden.'));
    if (o.provisioner !== old.provisioner) errs.push(field.forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if ((o.reclaimPolicy ?? null) !== (old.reclaimPolicy ?? null)) errs.push(field.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if ((o.volumeBindingMode ?? null) !== (old.volumeBindingMode ?? null)) errs.push(field.invalid('volumeBindingMode', o.volumeBindingMode ?? null, 'field is immutable'));
  },
};
