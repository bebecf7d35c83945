// Defaults of a PodSpec and everything in it (core/v1 SetDefaults_PodSpec, _Container, _Volume,
// _Probe, ...), applied to Pods and to every pod template. Each function mutates in place and
// is idempotent: it only fills what is missing. Values of the wrong JSON type are left alone
// for validation to report.
import { formatQuantity, roundUpQuantity, tryParseQuantity } from '../../util/quantity.js';
import { isObject } from '../types.js';

export type Obj = Record<string, unknown>;

/** Sets `o[k]` when it is absent (undefined or null). */
export function fill(o: Obj, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null) o[k] = v;
}

/** The object at `o[k]`, created empty when absent; undefined when `o[k]` is not an object. */
export function ensureObj(o: Obj, k: string): Obj | undefined {
  if (o[k] === undefined || o[k] === null) o[k] = {};
  const v = o[k];
  return isObject(v) ? v : undefined;
}

export function objAt(o: unknown, k: string): Obj | undefined {
  if (!isObject(o)) return undefined;
  const v = o[k];
  return isObject(v) ? v : undefined;
}

export function eachObj(v: unknown, fn: (o: Obj) => void): void {
  if (Array.isArray(v)) for (const item of v) if (isObject(item)) fn(item);
}

/** The canonical text of a quantity, as the API server writes it back ("0.5" → "500m"). */
export function canonicalize(v: unknown): unknown {
  if (typeof v !== 'string' && typeof v !== 'number') return v;
  const q = tryParseQuantity(String(v));
  return q ? formatQuantity(q) : v;
}

/** SetDefaults_ResourceList: rounds each quantity up to milli precision and canonicalizes it. */
export function defaultResourceList(list: unknown): void {
  if (!isObject(list)) return;
  for (const [k, v] of Object.entries(list)) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const q = tryParseQuantity(String(v));
    if (q) list[k] = formatQuantity(roundUpQuantity(q, -3));
  }
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);

/**
 * The tag of an image reference as docker's reference parser reads it: "latest" when neither a
 * tag nor a digest is given, "" when only a digest is, and "" when the reference does not parse
 * (upstream ignores the parse error and then pulls IfNotPresent).
 */
export function imageTag(image: string): string {
  const m = REFERENCE.exec(image);
  if (!m || (m[1] ?? '').length > 255) return '';
  if (m[2]) return m[2];
  return m[3] ? '' : 'latest';
}

function defaultHTTPGet(h: unknown): void {
  if (!isObject(h)) return;
  fill(h, 'path', '/');
  fill(h, 'scheme', 'HTTP');
}

function defaultProbe(p: unknown): void {
  if (!isObject(p)) return;
  for (const [k, v] of [['timeoutSeconds', 1], ['periodSeconds', 10], ['successThreshold', 1], ['failureThreshold', 3]] as const) {
    if (p[k] === undefined || p[k] === null || p[k] === 0) p[k] = v;
  }
  defaultHTTPGet(p.httpGet);
  const grpc = objAt(p, 'grpc');
  if (grpc) fill(grpc, 'service', '');
}

function defaultFieldRef(holder: unknown): void {
  const ref = objAt(holder, 'fieldRef');
  if (ref) fill(ref, 'apiVersion', 'v1');
}

/** SetDefaults_Container plus the defaults of what a container holds. */
export function defaultContainer(c: Obj): void {
  if (c.imagePullPolicy === undefined || c.imagePullPolicy === null || c.imagePullPolicy === '') {
    c.imagePullPolicy = imageTag(typeof c.image === 'string' ? c.image : '') === 'latest' ? 'Always' : 'IfNotPresent';
  }
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  eachObj(c.ports, (p) => {
    if (!p.protocol) p.protocol = 'TCP';
  });
  eachObj(c.env, (e) => defaultFieldRef(e.valueFrom));
  // ResourceRequirements is a struct upstream, so it is always serialized, if only as {}.
  const res = ensureObj(c, 'resources');
  if (res) {
    defaultResourceList(res.limits);
    defaultResourceList(res.requests);
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lc = objAt(c, 'lifecycle');
  for (const hook of ['postStart', 'preStop']) defaultHTTPGet(objAt(objAt(lc, hook), 'httpGet'));
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs', 'persistentVolumeClaim',
  'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk',
  'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];
/** 0644, the mode of files projected from Secrets, ConfigMaps and the downward API. */
const DEFAULT_MODE = 420;

export function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((s) => v[s] !== undefined && v[s] !== null)) v.emptyDir = {};
  const hp = objAt(v, 'hostPath');
  if (hp) fill(hp, 'type', '');
  for (const s of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const src = objAt(v, s);
    if (src) fill(src, 'defaultMode', DEFAULT_MODE);
  }
  eachObj(objAt(v, 'downwardAPI')?.items, defaultFieldRef);
  eachObj(objAt(v, 'projected')?.sources, (src) => {
    eachObj(objAt(src, 'downwardAPI')?.items, defaultFieldRef);
    const sat = objAt(src, 'serviceAccountToken');
    if (sat) fill(sat, 'expirationSeconds', 3600);
  });
  const ed = objAt(v, 'emptyDir');
  if (ed && ed.sizeLimit !== undefined) ed.sizeLimit = canonicalize(ed.sizeLimit);
  const tpl = objAt(objAt(v, 'ephemeral'), 'volumeClaimTemplate');
  if (tpl) defaultPVCSpec(ensureObj(tpl, 'spec'));
  const iscsi = objAt(v, 'iscsi');
  if (iscsi) fill(iscsi, 'iscsiInterface', 'default');
  const rbd = objAt(v, 'rbd');
  if (rbd) (fill(rbd, 'pool', 'rbd'), fill(rbd, 'user', 'admin'), fill(rbd, 'keyring', '/etc/ceph/keyring'));
}

/** SetDefaults_PersistentVolumeClaimSpec, for PVCs and every claim template. */
export function defaultPVCSpec(spec: Obj | undefined): void {
  if (!spec) return;
  fill(spec, 'volumeMode', 'Filesystem');
  const res = objAt(spec, 'resources');
  defaultResourceList(res?.requests);
  defaultResourceList(res?.limits);
}

/** SetDefaults_PodSpec and the defaults of its volumes and containers (pods and templates alike). */
export function defaultPodSpec(spec: Obj): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  fill(spec, 'securityContext', {});
  fill(spec, 'terminationGracePeriodSeconds', 30);
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  eachObj(spec.volumes, defaultVolume);
  eachObj(spec.initContainers, defaultContainer);
  eachObj(spec.containers, defaultContainer);
  eachObj(spec.ephemeralContainers, defaultContainer);
  defaultResourceList(spec.overhead);
}

/** Defaults of a pod template (`spec.template` of the workload kinds). */
export function defaultPodTemplate(template: unknown): void {
  if (!isObject(template)) return;
  const spec = ensureObj(template, 'spec');
  if (spec) defaultPodSpec(spec);
}
