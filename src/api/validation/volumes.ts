// Pod volumes (core validation's ValidateVolumes / validateVolumeSource): unique DNS-label
// names and exactly one source each, with the checks of the sources Skiff users meet.
import { field, type FieldError } from '../errors.js';
import { tryParseQuantity, QUANTITY_ERROR } from '../../util/quantity.js';
import { validateObjectFieldSelector, validateResourceFieldSelector } from './container.js';
import { child, index, int, obj, objList, str, type Obj } from './shape.js';
import { isDNS1123Label } from './strings.js';

/** Every volume source the API knows, in the order upstream checks them ("may not specify more than 1 volume type"). */
const SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume', 'configMap',
  'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'storageos', 'projected', 'scaleIO',
  'csi', 'ephemeral', 'image',
];
/** Upstream spells two of these differently in its "more than 1 volume type" errors. */
const FORBIDDEN_NAME: Record<string, string> = { cephfs: 'cephFS', downwardAPI: 'downwarAPI' };
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

/** validatePathNoBacksteps */
export function validatePathNoBacksteps(p: string, path: string): FieldError[] {
  return p.split('/').includes('..') ? [field.invalid(path, p, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath: relative and without `..`. */
export function validateLocalDescendingPath(p: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(field.invalid(path, p, 'must be a relative path'));
  return errs.concat(validatePathNoBacksteps(p, path));
}

/** ValidateLocalNonReservedPath: also refuses a leading `..` such as `..data`. */
export function validateLocalNonReservedPath(p: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(p, path);
  if (p.startsWith('..') && !p.startsWith('../')) errs.push(field.invalid(path, p, "must not start with '..'"));
  return errs;
}

function validateMode(v: unknown, path: string, errs: FieldError[]): void {
  const mode = int(v, path, errs);
  if (mode !== undefined && (mode < 0 || mode > 0o777)) errs.push(field.invalid(path, mode, FILE_MODE_ERROR));
}

function validateKeyToPaths(v: unknown, path: string, errs: FieldError[], seen?: Set<string>, owner?: { path: string; name: string }): void {
  for (const [kp, i] of objList(v, path, errs)) {
    const ip = index(path, i);
    const k = str(kp.key, child(ip, 'key'), errs) ?? '';
    const p = str(kp.path, child(ip, 'path'), errs) ?? '';
    if (!k) errs.push(field.required(child(ip, 'key')));
    if (!p) errs.push(field.required(child(ip, 'path')));
    errs.push(...validateLocalNonReservedPath(p, child(ip, 'path')));
    validateMode(kp.mode, child(ip, 'mode'), errs);
    if (seen && owner && p) {
      if (seen.has(p)) errs.push(field.invalid(owner.path, owner.name, 'conflicting duplicate paths'));
      seen.add(p);
    }
  }
}

function validateDownwardAPIFiles(v: unknown, path: string, errs: FieldError[]): void {
  // Upstream reports downward API items at the source path, not at an item index.
  for (const [file] of objList(v, child(path, 'items'), errs)) {
    const p = str(file.path, child(path, 'path'), errs) ?? '';
    if (!p) errs.push(field.required(child(path, 'path')));
    errs.push(...validateLocalNonReservedPath(p, child(path, 'path')));
    const fr = obj(file.fieldRef, child(path, 'fieldRef'), errs);
    const rr = obj(file.resourceFieldRef, child(path, 'resourceFieldRef'), errs);
    if (fr) {
      validateObjectFieldSelector(fr, ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'], child(path, 'fieldRef'), errs);
      if (rr) errs.push(field.invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
    } else if (rr) {
      validateResourceFieldSelector(rr, child(path, 'resourceFieldRef'), errs, true);
    } else {
      errs.push(field.required(path, 'one of fieldRef and resourceFieldRef is required'));
    }
    validateMode(file.mode, child(path, 'mode'), errs);
  }
}

function validateProjected(s: Obj, path: string, serviceAccountName: string | undefined, errs: FieldError[]): void {
  validateMode(s.defaultMode, child(path, 'defaultMode'), errs);
  const seen = new Set<string>();
  for (const [src, i] of objList(s.sources, child(path, 'sources'), errs)) {
    const sp = index(child(path, 'sources'), i);
    let n = 0;
    for (const kind of ['secret', 'configMap']) {
      const ref = obj(src[kind], child(sp, kind), errs);
      if (!ref) continue;
      n++;
      const name = str(ref.name, child(child(sp, kind), 'name'), errs) ?? '';
      if (!name) errs.push(field.required(child(child(sp, kind), 'name')));
      validateKeyToPaths(ref.items, child(child(sp, kind), 'items'), errs, seen, { path, name });
    }
    const dapi = obj(src.downwardAPI, child(sp, 'downwardAPI'), errs);
    if (dapi) (n++, validateDownwardAPIFiles(dapi.items, child(sp, 'downwardAPI'), errs));
    const sat = obj(src.serviceAccountToken, child(sp, 'serviceAccountToken'), errs);
    if (sat) {
      n++;
      const satPath = child(sp, 'serviceAccountToken');
      const exp = int(sat.expirationSeconds, child(satPath, 'expirationSeconds'), errs);
      if (exp !== undefined && exp < 600) errs.push(field.invalid(child(satPath, 'expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp !== undefined && exp > 2 ** 32) errs.push(field.invalid(child(satPath, 'expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      const p = str(sat.path, child(satPath, 'path'), errs) ?? '';
      if (!p) errs.push(field.required(child(path, 'path')));
      else errs.push(...validateLocalNonReservedPath(p, child(path, 'path')));
      // Pod-only rule, applied by validatePod through the serviceAccountName argument.
      if (serviceAccountName === '') errs.push(field.forbidden(satPath, 'must not be specified when serviceAccountName is not set'));
    }
    if (src.clusterTrustBundle !== undefined) n++;
    if (n > 1) errs.push(field.forbidden(sp, 'may not specify more than 1 volume type per source'));
  }
}

function validateSource(kind: string, s: Obj, path: string, serviceAccountName: string | undefined, errs: FieldError[]): void {
  switch (kind) {
    case 'emptyDir': {
      const limit = s.sizeLimit;
      if (limit !== undefined && limit !== null) {
        const q = tryParseQuantity(String(limit));
        if (!q) errs.push(field.invalid(child(path, 'sizeLimit'), limit, QUANTITY_ERROR));
        else if (q.mantissa < 0n) errs.push(field.forbidden(child(path, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      str(s.medium, child(path, 'medium'), errs);
      break;
    }
    case 'hostPath': {
      const p = str(s.path, child(path, 'path'), errs) ?? '';
      if (!p) return void errs.push(field.required(child(path, 'path')));
      errs.push(...validatePathNoBacksteps(p, child(path, 'path')));
      const type = str(s.type, child(path, 'type'), errs);
      if (type !== undefined && !HOST_PATH_TYPES.includes(type)) errs.push(field.notSupported(child(path, 'type'), type, HOST_PATH_TYPES));
      break;
    }
    case 'secret':
      if (!(str(s.secretName, child(path, 'secretName'), errs) ?? '')) errs.push(field.required(child(path, 'secretName')));
      validateMode(s.defaultMode, child(path, 'defaultMode'), errs);
      validateKeyToPaths(s.items, child(path, 'items'), errs);
      break;
    case 'configMap':
      if (!(str(s.name, child(path, 'name'), errs) ?? '')) errs.push(field.required(child(path, 'name')));
      validateMode(s.defaultMode, child(path, 'defaultMode'), errs);
      validateKeyToPaths(s.items, child(path, 'items'), errs);
      break;
    case 'persistentVolumeClaim':
      if (!(str(s.claimName, child(path, 'claimName'), errs) ?? '')) errs.push(field.required(child(path, 'claimName')));
      break;
    case 'downwardAPI':
      validateMode(s.defaultMode, child(path, 'defaultMode'), errs);
      validateDownwardAPIFiles(s.items, path, errs);
      break;
    case 'projected':
      validateProjected(s, path, serviceAccountName, errs);
      break;
    case 'nfs': {
      const server = str(s.server, child(path, 'server'), errs) ?? '';
      const p = str(s.path, child(path, 'path'), errs) ?? '';
      if (!server) errs.push(field.required(child(path, 'server')));
      if (!p) errs.push(field.required(child(path, 'path')));
      if (!p.startsWith('/')) errs.push(field.invalid(child(path, 'path'), p, 'must be an absolute path'));
      break;
    }
    case 'csi':
      if (!(str(s.driver, child(path, 'driver'), errs) ?? '')) errs.push(field.required(child(path, 'driver')));
      break;
    case 'ephemeral':
      if (s.volumeClaimTemplate === undefined || s.volumeClaimTemplate === null) errs.push(field.required(child(path, 'volumeClaimTemplate')));
      break;
    case 'gitRepo':
      if (!(str(s.repository, child(path, 'repository'), errs) ?? '')) errs.push(field.required(child(path, 'repository')));
      errs.push(...validateLocalDescendingPath(typeof s.directory === 'string' ? s.directory : '', child(path, 'directory')));
      break;
    default:
      // Cloud and legacy in-tree sources: accepted as written; no Skiff runtime mounts them.
      break;
  }
}

/**
 * Validates spec.volumes and returns the names that are valid, which volumeMounts may refer to.
 * `serviceAccountName` is passed only for Pods (projected tokens need one); undefined for templates.
 */
export function validateVolumes(v: unknown, path: string, serviceAccountName: string | undefined, errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  for (const [vol, i] of objList(v, path, errs)) {
    const ip = index(path, i);
    const el: FieldError[] = [];
    let n = 0;
    for (const kind of SOURCES) {
      if (vol[kind] === undefined || vol[kind] === null) continue;
      if (n > 0) {
        el.push(field.forbidden(child(ip, FORBIDDEN_NAME[kind] ?? kind), 'may not specify more than 1 volume type'));
        continue;
      }
      n++;
      const s = obj(vol[kind], child(ip, kind), el) ?? {};
      validateSource(kind, s, child(ip, kind), serviceAccountName, el);
    }
    if (n === 0) el.push(field.required(ip, 'must specify a volume type'));
    const name = str(vol.name, child(ip, 'name'), el) ?? '';
    if (!name) el.push(field.required(child(ip, 'name')));
    else for (const m of isDNS1123Label(name)) el.push(field.invalid(child(ip, 'name'), name, m));
    if (names.has(name)) el.push(field.duplicate(child(ip, 'name'), name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
  }
  return names;
}
