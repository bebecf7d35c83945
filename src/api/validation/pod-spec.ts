// PodSpec and PodTemplateSpec (core validation's ValidatePodSpec / ValidatePodTemplateSpec).
import { field, type FieldError } from '../errors.js';
import { validateContainerCommon, validateLifecycle, validateProbe, validateSeccompProfile } from './container.js';
import { validateAnnotations, validateLabelName, validateLabels, validateLabelSelector } from './meta.js';
import { bool, child, index, int, list, obj, objList, str, strList, strMap, type Obj } from './shape.js';
import { INVALID_IP, inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isIP, isQualifiedName, isValidLabelValue, nameIsDNSSubdomain } from './strings.js';
import { validateVolumes } from './volumes.js';

export interface PodSpecOptions {
  /** The spec belongs to a Pod, not a template (stricter hostPort and service-account rules). */
  resourceIsPod: boolean;
}

function validateContainers(spec: Obj, volumes: Set<string>, grace: number | undefined, path: string, errs: FieldError[]): void {
  const containers = objList(spec.containers, child(path, 'containers'), errs);
  const cPath = child(path, 'containers');
  if (containers.length === 0) errs.push(field.required(cPath));
  const names = new Set<string>();
  for (const [c, i] of containers) {
    const p = index(cPath, i);
    validateContainerCommon(c, volumes, p, errs);
    const name = typeof c.name === 'string' ? c.name : '';
    if (names.has(name)) errs.push(field.duplicate(child(p, 'name'), name));
    else names.add(name);
    if (c.lifecycle !== undefined && c.lifecycle !== null) validateLifecycle(c.lifecycle, grace, child(p, 'lifecycle'), errs);
    validateProbe(c.livenessProbe, 'liveness', grace, child(p, 'livenessProbe'), errs);
    validateProbe(c.readinessProbe, 'readiness', grace, child(p, 'readinessProbe'), errs);
    validateProbe(c.startupProbe, 'startup', grace, child(p, 'startupProbe'), errs);
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(field.forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
  }
  const initPath = child(path, 'initContainers');
  for (const [c, i] of objList(spec.initContainers, initPath, errs)) {
    const p = index(initPath, i);
    validateContainerCommon(c, volumes, p, errs);
    const rp = str(c.restartPolicy, child(p, 'restartPolicy'), errs);
    if (rp !== undefined && rp !== 'Always') errs.push(field.notSupported(child(p, 'restartPolicy'), rp, ['Always']));
    const name = typeof c.name === 'string' ? c.name : '';
    if (names.has(name)) errs.push(field.duplicate(child(p, 'name'), name));
    else if (name) names.add(name);
    if (rp === 'Always') {
      if (c.lifecycle !== undefined && c.lifecycle !== null) validateLifecycle(c.lifecycle, grace, child(p, 'lifecycle'), errs);
      validateProbe(c.livenessProbe, 'liveness', grace, child(p, 'livenessProbe'), errs);
      validateProbe(c.readinessProbe, 'readiness', grace, child(p, 'readinessProbe'), errs);
      validateProbe(c.startupProbe, 'startup', grace, child(p, 'startupProbe'), errs);
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[f] !== undefined && c[f] !== null) errs.push(field.forbidden(child(p, f), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  }
}

function validateNodeSelectorTerm(term: Obj, allowInvalidValues: boolean, path: string, errs: FieldError[]): void {
  for (const [rq, j] of objList(term.matchExpressions, child(path, 'matchExpressions'), errs)) {
    const p = index(child(path, 'matchExpressions'), j);
    const op = str(rq.operator, child(p, 'operator'), errs) ?? '';
    const values = strList(rq.values, child(p, 'values'), errs);
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(field.required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) errs.push(field.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else if (op === 'Gt' || op === 'Lt') {
      if (values.length !== 1) errs.push(field.required(child(p, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
    } else {
      errs.push(field.invalid(child(p, 'operator'), op, 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(str(rq.key, child(p, 'key'), errs) ?? '', child(p, 'key')));
    if (!allowInvalidValues) values.forEach((v, k) => isValidLabelValue(v).forEach((m) => errs.push(field.invalid(index(child(p, 'values'), k), v, m))));
  }
  for (const [rq, j] of objList(term.matchFields, child(path, 'matchFields'), errs)) {
    const p = index(child(path, 'matchFields'), j);
    const op = typeof rq.operator === 'string' ? rq.operator : '';
    const values = strList(rq.values, child(p, 'values'), errs);
    if (op === 'In' || op === 'NotIn') {
      if (values.length !== 1) errs.push(field.required(child(p, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else errs.push(field.invalid(child(p, 'operator'), op, 'not a valid selector operator'));
    if (rq.key !== 'metadata.name') errs.push(field.invalid(child(p, 'key'), rq.key ?? '', 'not a valid field selector key'));
    else values.forEach((v, k) => nameIsDNSSubdomain(v, false).forEach((m) => errs.push(field.invalid(index(child(p, 'values'), k), v, m))));
  }
}

function validatePodAffinityTerm(t: Obj, path: string, errs: FieldError[]): void {
  validateLabelSelector(t.labelSelector, child(path, 'labelSelector'), errs);
  validateLabelSelector(t.namespaceSelector, child(path, 'namespaceSelector'), errs);
  for (const ns of strList(t.namespaces, child(path, 'namespaces'), errs)) isDNS1123Label(ns).forEach((m) => errs.push(field.invalid(child(path, 'namespace'), ns, m)));
  const tk = str(t.topologyKey, child(path, 'topologyKey'), errs) ?? '';
  if (!tk) errs.push(field.required(child(path, 'topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(tk, child(path, 'topologyKey')));
}

function validateWeight(w: number | undefined, path: string, errs: FieldError[]): void {
  if ((w ?? 0) <= 0 || (w ?? 0) > 100) errs.push(field.invalid(path, w ?? 0, 'must be in the range 1-100'));
}

function validateAffinity(v: unknown, path: string, errs: FieldError[]): void {
  const aff = obj(v, path, errs);
  if (!aff) return;
  const na = obj(aff.nodeAffinity, child(path, 'nodeAffinity'), errs);
  if (na) {
    const rPath = child(child(path, 'nodeAffinity'), 'requiredDuringSchedulingIgnoredDuringExecution');
    const req = obj(na.requiredDuringSchedulingIgnoredDuringExecution, rPath, errs);
    if (req) {
      const terms = objList(req.nodeSelectorTerms, child(rPath, 'nodeSelectorTerms'), errs);
      if (terms.length === 0) errs.push(field.required(child(rPath, 'nodeSelectorTerms'), 'must have at least one node selector term'));
      for (const [t, i] of terms) validateNodeSelectorTerm(t, false, index(child(rPath, 'nodeSelectorTerms'), i), errs);
    }
    const pPath = child(child(path, 'nodeAffinity'), 'preferredDuringSchedulingIgnoredDuringExecution');
    for (const [t, i] of objList(na.preferredDuringSchedulingIgnoredDuringExecution, pPath, errs)) {
      validateWeight(int(t.weight, child(index(pPath, i), 'weight'), errs), child(index(pPath, i), 'weight'), errs);
      validateNodeSelectorTerm(obj(t.preference, child(index(pPath, i), 'preference'), errs) ?? {}, true, child(index(pPath, i), 'preference'), errs);
    }
  }
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const pa = obj(aff[kind], child(path, kind), errs);
    if (!pa) continue;
    const rPath = child(child(path, kind), 'requiredDuringSchedulingIgnoredDuringExecution');
    for (const [t, i] of objList(pa.requiredDuringSchedulingIgnoredDuringExecution, rPath, errs)) validatePodAffinityTerm(t, index(rPath, i), errs);
    const pPath = child(child(path, kind), 'preferredDuringSchedulingIgnoredDuringExecution');
    for (const [t, i] of objList(pa.preferredDuringSchedulingIgnoredDuringExecution, pPath, errs)) {
      validateWeight(int(t.weight, child(index(pPath, i), 'weight'), errs), child(index(pPath, i), 'weight'), errs);
      validatePodAffinityTerm(obj(t.podAffinityTerm, child(index(pPath, i), 'podAffinityTerm'), errs) ?? {}, child(index(pPath, i), 'podAffinityTerm'), errs);
    }
  }
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateTolerations(v: unknown, path: string, errs: FieldError[]): void {
  for (const [t, i] of objList(v, path, errs)) {
    const p = index(path, i);
    const k = str(t.key, child(p, 'key'), errs) ?? '';
    const op = str(t.operator, child(p, 'operator'), errs) ?? '';
    const value = str(t.value, child(p, 'value'), errs) ?? '';
    const effect = str(t.effect, child(p, 'effect'), errs) ?? '';
    if (k) errs.push(...validateLabelName(k, child(p, 'key')));
    if (!k && op !== 'Exists') errs.push(field.invalid(child(p, 'operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== 'NoExecute') {
      errs.push(field.invalid(child(p, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const msgs = isValidLabelValue(value);
      if (msgs.length) errs.push(field.invalid(child(p, 'operator'), value, msgs.join(';')));
    } else if (op === 'Exists') {
      if (value) errs.push(field.invalid(child(p, 'operator'), value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(field.notSupported(child(p, 'operator'), op, ['Equal', 'Exists']));
    }
    if (effect && !TAINT_EFFECTS.includes(effect)) errs.push(field.notSupported(child(p, 'effect'), effect, TAINT_EFFECTS));
  }
}

function validateDNSConfig(v: unknown, dnsPolicy: string, path: string, errs: FieldError[]): void {
  const cfg = obj(v, path, errs);
  if (dnsPolicy === 'None') {
    if (!cfg) return void errs.push(field.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None'));
    if (list(cfg.nameservers, child(path, 'nameservers'), []).length === 0) {
      return void errs.push(field.required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
    }
  }
  if (!cfg) return;
  const ns = strList(cfg.nameservers, child(path, 'nameservers'), errs);
  if (ns.length > 3) errs.push(field.invalid(child(path, 'nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((ip, i) => {
    if (!isIP(ip)) errs.push(field.invalid(index(child(path, 'nameservers'), i), ip, INVALID_IP));
  });
  const searches = strList(cfg.searches, child(path, 'searches'), errs);
  if (searches.length > 32) errs.push(field.invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  searches.forEach((s, i) => {
    // RelaxedDNSSearchValidation is off by default in 1.32: one trailing dot, then a strict subdomain.
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const m of isDNS1123Subdomain(trimmed)) errs.push(field.invalid(index(child(path, 'searches'), i), trimmed, m));
  });
  for (const [o, i] of objList(cfg.options, child(path, 'options'), errs)) {
    if (!(typeof o.name === 'string' && o.name)) errs.push(field.required(index(child(path, 'options'), i), 'must not be empty'));
  }
}

function validatePodSecurityContext(v: unknown, path: string, errs: FieldError[]): void {
  const sc = obj(v, path, errs);
  if (!sc) return;
  for (const f of ['fsGroup', 'runAsUser', 'runAsGroup']) {
    const id = int(sc[f], child(path, f), errs);
    if (id !== undefined && (id < 0 || id > 0xffffffff)) errs.push(field.invalid(child(path, f), id, inclusiveRangeError(0, 4294967295)));
  }
  list(sc.supplementalGroups, child(path, 'supplementalGroups'), errs).forEach((g, i) => {
    if (typeof g === 'number' && (g < 0 || g > 0xffffffff)) errs.push(field.invalid(index(child(path, 'supplementalGroups'), i), g, inclusiveRangeError(0, 4294967295)));
  });
  const policy = str(sc.fsGroupChangePolicy, child(path, 'fsGroupChangePolicy'), errs);
  if (policy !== undefined && !['Always', 'OnRootMismatch'].includes(policy)) errs.push(field.notSupported(child(path, 'fsGroupChangePolicy'), policy, ['Always', 'OnRootMismatch']));
  const sgp = str(sc.supplementalGroupsPolicy, child(path, 'supplementalGroupsPolicy'), errs);
  if (sgp !== undefined && !['Merge', 'Strict'].includes(sgp)) errs.push(field.notSupported(child(path, 'supplementalGroupsPolicy'), sgp, ['Merge', 'Strict']));
  validateSeccompProfile(sc.seccompProfile, child(path, 'seccompProfile'), errs);
  for (const [s, i] of objList(sc.sysctls, child(path, 'sysctls'), errs)) {
    if (!(typeof s.name === 'string' && s.name)) errs.push(field.required(child(index(child(path, 'sysctls'), i), 'name')));
  }
}

function validateTopologySpread(v: unknown, path: string, errs: FieldError[]): void {
  const items = objList(v, path, errs);
  items.forEach(([c, i]) => {
    const p = index(path, i);
    const skew = int(c.maxSkew, child(p, 'maxSkew'), errs) ?? 0;
    if (skew <= 0) errs.push(field.invalid(child(p, 'maxSkew'), skew, 'must be greater than zero'));
    const tk = str(c.topologyKey, child(p, 'topologyKey'), errs) ?? '';
    if (!tk) errs.push(field.required(child(p, 'topologyKey'), 'can not be empty'));
    const wu = str(c.whenUnsatisfiable, child(p, 'whenUnsatisfiable'), errs) ?? '';
    if (!['DoNotSchedule', 'ScheduleAnyway'].includes(wu)) errs.push(field.notSupported(child(p, 'whenUnsatisfiable'), wu, ['DoNotSchedule', 'ScheduleAnyway']));
    if (items.slice(items.findIndex(([, j]) => j === i) + 1).some(([o]) => o.topologyKey === tk && o.whenUnsatisfiable === wu)) {
      errs.push(field.duplicate(child(p, '{topologyKey, whenUnsatisfiable}'), `{${tk}, ${wu}}`));
    }
    validateLabelSelector(c.labelSelector, child(p, 'labelSelector'), errs);
  });
}

/** ValidatePodSpec. */
export function validatePodSpec(spec: Obj, path: string, opts: PodSpecOptions, errs: FieldError[]): void {
  const grace = int(spec.terminationGracePeriodSeconds, child(path, 'terminationGracePeriodSeconds'), errs);
  if (grace === undefined) errs.push(field.required(child(path, 'terminationGracePeriodSeconds')));
  const saName = str(spec.serviceAccountName, child(path, 'serviceAccountName'), errs) ?? '';
  const volumes = validateVolumes(spec.volumes, child(path, 'volumes'), opts.resourceIsPod ? saName : undefined, errs);
  validateContainers(spec, volumes, grace, path, errs);
  const hostNetwork = bool(spec.hostNetwork, child(path, 'hostNetwork'), errs) ?? false;
  if (hostNetwork) {
    for (const [c, i] of objList(spec.containers, child(path, 'containers'), [])) {
      for (const [p, j] of objList(c.ports, '', [])) {
        const hp = typeof p.hostPort === 'number' ? p.hostPort : 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== p.containerPort) {
          errs.push(field.invalid(child(index(child(index(child(path, 'containers'), i), 'ports'), j), 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
        }
      }
    }
  }
  const rp = str(spec.restartPolicy, child(path, 'restartPolicy'), errs) ?? '';
  if (!rp) errs.push(field.required(child(path, 'restartPolicy')));
  else if (!['Always', 'OnFailure', 'Never'].includes(rp)) errs.push(field.notSupported(child(path, 'restartPolicy'), rp, ['Always', 'OnFailure', 'Never']));
  const dns = str(spec.dnsPolicy, child(path, 'dnsPolicy'), errs) ?? '';
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (!dns) errs.push(field.required(child(path, 'dnsPolicy')));
  else if (!dnsPolicies.includes(dns)) errs.push(field.notSupported(child(path, 'dnsPolicy'), dns, dnsPolicies));
  errs.push(...validateLabels(strMap(spec.nodeSelector, child(path, 'nodeSelector'), errs), child(path, 'nodeSelector')));
  validatePodSecurityContext(spec.securityContext, child(path, 'securityContext'), errs);
  for (const [ref, i] of objList(spec.imagePullSecrets, child(path, 'imagePullSecrets'), errs)) {
    if (Object.keys(ref).some((k) => k !== 'name')) errs.push(field.invalid(index(child(path, 'imagePullSecrets'), i), ref, 'only name may be set'));
  }
  validateAffinity(spec.affinity, child(path, 'affinity'), errs);
  validateDNSConfig(spec.dnsConfig, dns, child(path, 'dnsConfig'), errs);
  for (const [g, i] of objList(spec.readinessGates, child(path, 'readinessGates'), errs)) {
    const ct = typeof g.conditionType === 'string' ? g.conditionType : '';
    isQualifiedName(ct).forEach((m) => errs.push(field.invalid(child(index(child(path, 'readinessGates'), i), 'conditionType'), ct, m)));
  }
  const gates = new Set<string>();
  for (const [g, i] of objList(spec.schedulingGates, child(path, 'schedulingGates'), errs)) {
    const n = typeof g.name === 'string' ? g.name : '';
    isQualifiedName(n).forEach((m) => errs.push(field.invalid(index(child(path, 'schedulingGates'), i), n, m)));
    if (gates.has(n)) errs.push(field.duplicate(index(child(path, 'schedulingGates'), i), n));
    gates.add(n);
  }
  validateTopologySpread(spec.topologySpreadConstraints, child(path, 'topologySpreadConstraints'), errs);
  if (saName) nameIsDNSSubdomain(saName, false).forEach((m) => errs.push(field.invalid(child(path, 'serviceAccountName'), saName, m)));
  const nodeName = str(spec.nodeName, child(path, 'nodeName'), errs) ?? '';
  if (nodeName) nameIsDNSSubdomain(nodeName, false).forEach((m) => errs.push(field.invalid(child(path, 'nodeName'), nodeName, m)));
  const ads = int(spec.activeDeadlineSeconds, child(path, 'activeDeadlineSeconds'), errs);
  if (ads !== undefined && (ads < 1 || ads > 2147483647)) errs.push(field.invalid(child(path, 'activeDeadlineSeconds'), ads, inclusiveRangeError(1, 2147483647)));
  for (const f of ['hostname', 'subdomain']) {
    const v = str(spec[f], child(path, f), errs) ?? '';
    if (v) isDNS1123Label(v).forEach((m) => errs.push(field.invalid(child(path, f), v, m)));
  }
  validateTolerations(spec.tolerations, child(path, 'tolerations'), errs);
  for (const [ha, i] of objList(spec.hostAliases, child(path, 'hostAliases'), errs)) {
    const p = index(child(path, 'hostAliases'), i);
    const ip = typeof ha.ip === 'string' ? ha.ip : '';
    if (!isIP(ip)) errs.push(field.invalid(child(p, 'ip'), ip, INVALID_IP));
    strList(ha.hostnames, child(p, 'hostnames'), errs).forEach((h, j) => isDNS1123Subdomain(h).forEach((m) => errs.push(field.invalid(index(child(p, 'hostnames'), j), h, m))));
  }
  const pcn = str(spec.priorityClassName, child(path, 'priorityClassName'), errs) ?? '';
  if (pcn) nameIsDNSSubdomain(pcn, false).forEach((m) => errs.push(field.invalid(child(path, 'priorityClassName'), pcn, m)));
  const pp = str(spec.preemptionPolicy, child(path, 'preemptionPolicy'), errs);
  if (pp !== undefined && !['PreemptLowerPriority', 'Never'].includes(pp)) {
    errs.push(pp === '' ? field.required(child(path, 'preemptionPolicy')) : field.notSupported(child(path, 'preemptionPolicy'), pp, ['PreemptLowerPriority', 'Never']));
  }
  const os = obj(spec.os, child(path, 'os'), errs);
  if (os) {
    const n = str(os.name, child(child(path, 'os'), 'name'), errs) ?? '';
    if (!n) errs.push(field.required(child(child(path, 'os'), 'name'), 'cannot be empty'));
    else if (!['linux', 'windows'].includes(n)) errs.push(field.notSupported(child(path, 'os'), n, ['linux', 'windows']));
  }
  if (bool(spec.hostUsers, child(path, 'hostUsers'), errs) === false) {
    if (hostNetwork) errs.push(field.forbidden(child(path, 'hostNetwork'), 'when `pod.Spec.HostUsers` is false'));
    if (spec.hostPID === true) errs.push(field.forbidden(child(path, 'HostPID'), 'when `pod.Spec.HostUsers` is false'));
    if (spec.hostIPC === true) errs.push(field.forbidden(child(path, 'HostIPC'), 'when `pod.Spec.HostUsers` is false'));
  }
}

/** Annotations every pod and template is checked for (ValidatePodSpecificAnnotations, the common part). */
export function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, path: string, errs: FieldError[]): void {
  const cost = annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  if (cost !== undefined && (!/^[+-]?\d+$/.test(cost) || Number(cost) > 2147483647 || Number(cost) < -2147483648)) {
    errs.push(field.invalid(`${path}[controller.kubernetes.io/pod-deletion-cost]`, cost, 'must be a 32bit integer'));
  }
}

/**
 * ValidatePodTemplateSpec: note upstream reports template labels at `<path>.labels`, not
 * `<path>.metadata.labels`.
 */
export function validatePodTemplateSpec(v: unknown, path: string, errs: FieldError[]): void {
  const tpl = obj(v, path, errs) ?? {};
  const meta = obj(tpl.metadata, child(path, 'metadata'), errs) ?? {};
  const annotations = strMap(meta.annotations, child(child(path, 'metadata'), 'annotations'), errs);
  errs.push(...validateLabels(strMap(meta.labels, child(child(path, 'metadata'), 'labels'), errs), child(path, 'labels')));
  errs.push(...validateAnnotations(annotations, child(path, 'annotations')));
  validatePodSpecificAnnotations(annotations, child(path, 'annotations'), errs);
  const spec = obj(tpl.spec, child(path, 'spec'), errs) ?? {};
  validatePodSpec(spec, child(path, 'spec'), { resourceIsPod: false }, errs);
  if (list(spec.ephemeralContainers, '', []).length > 0) errs.push(field.forbidden(child(child(path, 'spec'), 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
}
