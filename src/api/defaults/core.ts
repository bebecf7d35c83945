// Defaults of the core group (core/v1 defaults.go), plus the few values kube-apiserver fills
// outside defaulting that every client sees: a Pod's service account and priority (admission),
// a Service's IP families and mirrored clusterIPs (service REST storage), a Secret's stringData
// folded into data (conversion).
import type { KubeObject } from '../types.js';
import { isObject } from '../types.js';
import { defaultPodSpec, defaultPVCSpec, defaultResourceList, eachObj, ensureObj, fill, objAt, type Obj } from './pod-spec.js';

/** SetDefaults_Pod and the admission defaults (ServiceAccount, Priority) on top of the pod spec defaults. */
export function defaultPod(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  for (const list of ['containers', 'initContainers']) {
    // A pod with limits but no requests requests its limits.
    eachObj(spec[list], (c) => {
      const res = objAt(c, 'resources');
      const limits = objAt(res, 'limits');
      if (!res || !limits) return;
      const requests = ensureObj(res, 'requests');
      if (requests) for (const [k, v] of Object.entries(limits)) fill(requests, k, v);
    });
  }
  fill(spec, 'enableServiceLinks', true);
  if (spec.hostNetwork === true) {
    for (const list of ['containers', 'initContainers']) {
      eachObj(spec[list], (c) => eachObj(c.ports, (p) => {
        if (!p.hostPort) p.hostPort = p.containerPort;
      }));
    }
  }
  defaultPodSpec(spec);
  // ServiceAccount admission: the namespace's default account; serviceAccount is its deprecated alias.
  if (!spec.serviceAccountName) spec.serviceAccountName = typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : 'default';
  if (!spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  // Priority admission without a default PriorityClass.
  if (!spec.priorityClassName) fill(spec, 'priority', 0);
  fill(spec, 'preemptionPolicy', 'PreemptLowerPriority');
}

const externallyAccessible = (spec: Obj) =>
  spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);

/** IP families of a single-stack IPv4 cluster, as the service REST storage initializes them. */
function defaultIPFamilies(spec: Obj): void {
  if (spec.type === 'ExternalName') return;
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const headlessWithoutSelector = ips.length === 1 && ips[0] === 'None' && !(isObject(spec.selector) && Object.keys(spec.selector).length > 0);
  fill(spec, 'ipFamilyPolicy', headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack');
  if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
}

/**
 * SetDefaults_Service, the clusterIP/clusterIPs mirroring of the service strategy, and on update
 * (`old` given) the REST storage's patchAllocatedValues: a client that omits the clusterIP or a
 * nodePort keeps the ones already allocated.
 */
export function defaultService(o: KubeObject, old?: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = objAt(objAt(spec, 'sessionAffinityConfig'), 'clientIP')?.timeoutSeconds;
    if (timeout === undefined || timeout === null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  eachObj(spec.ports, (p) => {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  });
  if (externallyAccessible(spec)) fill(spec, 'externalTrafficPolicy', 'Cluster');
  if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(String(spec.type))) fill(spec, 'internalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') fill(spec, 'allocateLoadBalancerNodePorts', true);
  const before = old ? objAt(old, 'spec') : undefined;
  if (before && spec.type !== 'ExternalName' && before.type !== 'ExternalName') patchAllocatedValues(spec, before);
  if (spec.type === 'ExternalName') {
    // An ExternalName service has no cluster addresses (dropTypeDependentFields on a type change).
    if (before && before.type !== 'ExternalName') for (const f of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) delete spec[f];
  } else if (typeof spec.clusterIP === 'string' && spec.clusterIP && !(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0)) {
    spec.clusterIPs = [spec.clusterIP];
  }
  defaultIPFamilies(spec);
}

function patchAllocatedValues(spec: Obj, before: Obj): void {
  // normalizeClusterIPs: a client that changed only the singular field changed the primary IP.
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== before.clusterIP && JSON.stringify(spec.clusterIPs) === JSON.stringify(before.clusterIPs)) {
    spec.clusterIPs = spec.clusterIP ? [spec.clusterIP] : [];
  }
  if (!spec.clusterIP && before.clusterIP) spec.clusterIP = before.clusterIP;
  if (!(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) && Array.isArray(before.clusterIPs) && before.clusterIPs[0] === spec.clusterIP) {
    spec.clusterIPs = structuredClone(before.clusterIPs);
  }
  const needsNodePorts = (t: unknown) => t === 'NodePort' || t === 'LoadBalancer';
  if (needsNodePorts(spec.type) && needsNodePorts(before.type)) {
    eachObj(spec.ports, (p) => {
      if (p.nodePort) return;
      const prev = (Array.isArray(before.ports) ? (before.ports as Obj[]) : []).find((b) => b.port === p.port && (b.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (prev?.nodePort) p.nodePort = prev.nodePort;
    });
  }
  const needsHC = (s: Obj) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
  if (needsHC(spec) && needsHC(before) && !spec.healthCheckNodePort) spec.healthCheckNodePort = before.healthCheckNodePort;
  if (!spec.ipFamilyPolicy && before.ipFamilyPolicy) spec.ipFamilyPolicy = before.ipFamilyPolicy;
  if (!(Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0) && Array.isArray(before.ipFamilies)) spec.ipFamilies = structuredClone(before.ipFamilies);
}

export function defaultNamespace(o: KubeObject): void {
  const name = o.metadata?.name;
  if (name) o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  const status = ensureObj(o, 'status');
  if (status && !status.phase) status.phase = 'Active';
}

/** Secret: type Opaque, and stringData folded into data (base64) as the v1 conversion does. */
export function defaultSecret(o: KubeObject): void {
  if (!o.type) o.type = 'Opaque';
  if (isObject(o.stringData)) {
    const data = isObject(o.data) ? o.data : {};
    for (const [k, v] of Object.entries(o.stringData)) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
    o.data = data;
    delete o.stringData;
  }
}

export function defaultPersistentVolume(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (spec) {
    if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
    fill(spec, 'volumeMode', 'Filesystem');
    defaultResourceList(spec.capacity);
    const hp = objAt(spec, 'hostPath');
    if (hp) fill(hp, 'type', '');
  }
  const status = ensureObj(o, 'status');
  if (status && !status.phase) status.phase = 'Pending';
}

/** A PVC, or a StatefulSet claim template (which carries a status too). */
export function defaultPersistentVolumeClaim(o: Obj): void {
  defaultPVCSpec(ensureObj(o, 'spec'));
  const status = ensureObj(o, 'status');
  if (status && !status.phase) status.phase = 'Pending';
}

export function defaultEndpoints(o: KubeObject): void {
  eachObj(o.subsets, (ss) => eachObj(ss.ports, (p) => {
    if (!p.protocol) p.protocol = 'TCP';
  }));
}

export function defaultNode(o: KubeObject): void {
  const status = objAt(o, 'status');
  if (!status) return;
  defaultResourceList(status.capacity);
  defaultResourceList(status.allocatable);
  if (isObject(status.capacity) && (status.allocatable === undefined || status.allocatable === null)) status.allocatable = structuredClone(status.capacity);
}

