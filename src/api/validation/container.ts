// One container of a pod spec (core validation's validateContainerCommon and friends): name,
// image, ports, env, volume mounts, pull policy, resources, probes and lifecycle hooks.
import { field, type FieldError } from '../errors.js';
import { tryParseQuantity, compareQuantities, formatQuantity, QUANTITY_ERROR, type Quantity } from '../../util/quantity.js';
import { validateLabelName } from './meta.js';
import { bool, child, index, int, intOrString, key, list, nonNegative, obj, objList, str, strList, type Obj } from './shape.js';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isHTTPHeaderName,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from './strings.js';
import { validateLocalDescendingPath } from './volumes.js';

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
/** Field paths the v1 downward API converts at all (pods.ConvertDownwardAPIFieldLabel). */
const CONVERTIBLE_FIELD_PATHS = new Set([...ENV_FIELD_PATHS, 'metadata.annotations', 'metadata.labels', 'spec.restartPolicy', 'spec.schedulerName', 'status.phase']);
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

export function validateContainerPorts(v: unknown, path: string, errs: FieldError[]): void {
  const names = new Set<string>();
  for (const [p, i] of objList(v, path, errs)) {
    const ip = index(path, i);
    const name = str(p.name, child(ip, 'name'), errs) ?? '';
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) for (const m of msgs) errs.push(field.invalid(child(ip, 'name'), name, m));
      else if (names.has(name)) errs.push(field.duplicate(child(ip, 'name'), name));
      else names.add(name);
    }
    const cp = int(p.containerPort, child(ip, 'containerPort'), errs) ?? 0;
    if (cp === 0) errs.push(field.required(child(ip, 'containerPort')));
    else for (const m of isValidPortNum(cp)) errs.push(field.invalid(child(ip, 'containerPort'), cp, m));
    const hp = int(p.hostPort, child(ip, 'hostPort'), errs) ?? 0;
    if (hp !== 0) for (const m of isValidPortNum(hp)) errs.push(field.invalid(child(ip, 'hostPort'), hp, m));
    const proto = str(p.protocol, child(ip, 'protocol'), errs) ?? '';
    if (!proto) errs.push(field.required(child(ip, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) errs.push(field.notSupported(child(ip, 'protocol'), proto, PROTOCOLS));
  }
}

/** A downward-API field selector; `allowed` are the unsubscripted paths this use accepts. */
export function validateObjectFieldSelector(fs: Obj, allowed: string[], path: string, errs: FieldError[]): void {
  const apiVersion = str(fs.apiVersion, child(path, 'apiVersion'), errs) ?? '';
  const fieldPath = str(fs.fieldPath, child(path, 'fieldPath'), errs) ?? '';
  if (!apiVersion) return void errs.push(field.required(child(path, 'apiVersion')));
  if (!fieldPath) return void errs.push(field.required(child(path, 'fieldPath')));
  const sub = /^(metadata\.(?:annotations|labels))\['(.*)'\]$/.exec(fieldPath);
  if (sub) {
    const subscript = sub[2] ?? '';
    const name = sub[1] === 'metadata.annotations' ? subscript.toLowerCase() : subscript;
    errs.push(...validateLabelName(name, path));
    return;
  }
  if (apiVersion === 'v1' && !CONVERTIBLE_FIELD_PATHS.has(fieldPath)) {
    return void errs.push(field.invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`));
  }
  if (!allowed.includes(fieldPath)) errs.push(field.notSupported(child(path, 'fieldPath'), fieldPath, allowed));
}

export function validateResourceFieldSelector(fs: Obj, path: string, errs: FieldError[], forVolume: boolean): void {
  const containerName = str(fs.containerName, child(path, 'containerName'), errs) ?? '';
  const resource = str(fs.resource, child(path, 'resource'), errs) ?? '';
  if (forVolume && !containerName) errs.push(field.required(child(path, 'containerName')));
  else if (!resource) errs.push(field.required(child(path, 'resource')));
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !/^(requests|limits)\.hugepages-/.test(resource)) {
    errs.push(field.notSupported(child(path, 'resource'), resource, RESOURCE_FIELD_PATHS));
  }
  if (fs.divisor === undefined || fs.divisor === null) return;
  const divisor = tryParseQuantity(String(fs.divisor));
  const text = divisor ? formatQuantity(divisor) : String(fs.divisor);
  if (resource.endsWith('.cpu') && !['1m', '1'].includes(text)) {
    errs.push(field.invalid(child(path, 'divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
  } else if (resource.endsWith('.memory') && !/^1(|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)$/.test(text)) {
    errs.push(field.invalid(child(path, 'divisor'), resource, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"));
  }
}

function validateKeySelector(s: Obj, path: string, errs: FieldError[]): void {
  const name = str(s.name, child(path, 'name'), errs) ?? '';
  for (const m of nameIsDNSSubdomain(name, false)) errs.push(field.invalid(child(path, 'name'), name, m));
  const k = str(s.key, child(path, 'key'), errs) ?? '';
  if (!k) errs.push(field.required(child(path, 'key')));
  else for (const m of isConfigMapKey(k)) errs.push(field.invalid(child(path, 'key'), k, m));
}

export function validateEnv(v: unknown, path: string, errs: FieldError[]): void {
  for (const [ev, i] of objList(v, path, errs)) {
    const ip = index(path, i);
    const name = str(ev.name, child(ip, 'name'), errs) ?? '';
    if (!name) errs.push(field.required(child(ip, 'name')));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(field.invalid(child(ip, 'name'), name, m));
    const vfPath = child(ip, 'valueFrom');
    const vf = obj(ev.valueFrom, vfPath, errs);
    if (!vf) continue;
    let sources = 0;
    const fr = obj(vf.fieldRef, child(vfPath, 'fieldRef'), errs);
    if (fr) (sources++, validateObjectFieldSelector(fr, ENV_FIELD_PATHS, child(vfPath, 'fieldRef'), errs));
    const rr = obj(vf.resourceFieldRef, child(vfPath, 'resourceFieldRef'), errs);
    if (rr) (sources++, validateResourceFieldSelector(rr, child(vfPath, 'resourceFieldRef'), errs, false));
    const cm = obj(vf.configMapKeyRef, child(vfPath, 'configMapKeyRef'), errs);
    if (cm) (sources++, validateKeySelector(cm, child(vfPath, 'configMapKeyRef'), errs));
    const sk = obj(vf.secretKeyRef, child(vfPath, 'secretKeyRef'), errs);
    if (sk) (sources++, validateKeySelector(sk, child(vfPath, 'secretKeyRef'), errs));
    if (sources === 0) errs.push(field.invalid(vfPath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (typeof ev.value === 'string' && ev.value !== '') errs.push(field.invalid(vfPath, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errs.push(field.invalid(vfPath, '', 'may not have more than one field specified at a time'));
  }
}

export function validateEnvFrom(v: unknown, path: string, errs: FieldError[]): void {
  for (const [ef, i] of objList(v, path, errs)) {
    const ip = index(path, i);
    const prefix = str(ef.prefix, child(ip, 'prefix'), errs) ?? '';
    if (prefix) for (const m of isRelaxedEnvVarName(prefix)) errs.push(field.invalid(child(ip, 'prefix'), prefix, m));
    let sources = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      const ref = obj(ef[kind], child(ip, kind), errs);
      if (!ref) continue;
      sources++;
      const name = str(ref.name, child(child(ip, kind), 'name'), errs) ?? '';
      if (!name) errs.push(field.required(child(child(ip, kind), 'name')));
      else for (const m of nameIsDNSSubdomain(name, true)) errs.push(field.invalid(child(child(ip, kind), 'name'), name, m));
    }
    if (sources === 0) errs.push(field.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(field.invalid(path, '', 'may not have more than one field specified at a time'));
  }
}

/** volumeMounts of one container; `volumes` are the pod's valid volume names. */
export function validateVolumeMounts(v: unknown, volumes: Set<string>, privileged: boolean, path: string, errs: FieldError[]): void {
  const mountPoints = new Set<string>();
  for (const [m, i] of objList(v, path, errs)) {
    const ip = index(path, i);
    const name = str(m.name, child(ip, 'name'), errs) ?? '';
    const mountPath = str(m.mountPath, child(ip, 'mountPath'), errs) ?? '';
    if (!name) errs.push(field.required(child(ip, 'name')));
    if (!volumes.has(name)) errs.push(field.notFound(child(ip, 'name'), name));
    if (!mountPath) errs.push(field.required(child(ip, 'mountPath')));
    if (mountPoints.has(mountPath)) errs.push(field.invalid(child(ip, 'mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    // Upstream reports subPath and mountPropagation at the list path, not the item path.
    const subPath = str(m.subPath, child(ip, 'subPath'), errs) ?? '';
    if (subPath) errs.push(...validateLocalDescendingPath(subPath, child(path, 'subPath')));
    const expr = str(m.subPathExpr, child(ip, 'subPathExpr'), errs) ?? '';
    if (expr) {
      if (subPath) errs.push(field.invalid(child(ip, 'subPathExpr'), expr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(expr, child(path, 'subPathExpr')));
    }
    const prop = str(m.mountPropagation, child(ip, 'mountPropagation'), errs);
    if (prop !== undefined) {
      const supported = ['Bidirectional', 'HostToContainer', 'None'];
      if (!supported.includes(prop)) errs.push(field.notSupported(child(path, 'mountPropagation'), prop, supported));
      if (prop === 'Bidirectional' && !privileged) {
        errs.push(field.forbidden(child(path, 'mountPropagation'), 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    bool(m.readOnly, child(ip, 'readOnly'), errs);
  }
}

function parseResourceList(v: unknown, path: string, errs: FieldError[]): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  const o = obj(v, path, errs);
  for (const [name, raw] of Object.entries(o ?? {})) {
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : undefined;
    const q = text === undefined ? undefined : tryParseQuantity(text);
    if (!q) {
      errs.push(field.invalid(key(path, name), raw, QUANTITY_ERROR));
      continue;
    }
    out.set(name, q);
  }
  return out;
}

function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateLabelName(name, path);
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith('hugepages-')) {
      return [field.invalid(path, name, 'must be a standard resource for containers')];
    }
  } else if (!isNativeResource(name)) {
    if (validateLabelName(`requests.${name}`, path).length > 0) return [field.invalid(path, name, "doesn't follow extended resource name standard")];
  }
  return [];
}

/** Requests and limits: names, non-negative quantities, requests ≤ limits (= for extended resources). */
export function validateResources(v: unknown, path: string, errs: FieldError[]): void {
  const res = obj(v, path, errs);
  if (!res) return;
  const limPath = child(path, 'limits');
  const reqPath = child(path, 'requests');
  const limits = parseResourceList(res.limits, limPath, errs);
  const requests = parseResourceList(res.requests, reqPath, errs);
  const check = (name: string, q: Quantity, p: string) => {
    errs.push(...validateContainerResourceName(name, p));
    if (q.mantissa < 0n) errs.push(field.invalid(p, formatQuantity(q), 'must be greater than or equal to 0'));
    // Extended resources are counted in whole units.
    if (!isNativeResource(name) && q.scale < 0) errs.push(field.invalid(p, formatQuantity(q), 'must be an integer'));
  };
  for (const [name, q] of limits) check(name, q, key(limPath, name));
  for (const [name, q] of requests) {
    check(name, q, key(reqPath, name));
    const lim = limits.get(name);
    const overcommit = isNativeResource(name) && !name.startsWith('hugepages-');
    if (lim) {
      const cmp = compareQuantities(q, lim);
      if (cmp !== 0 && !overcommit) errs.push(field.invalid(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
      else if (cmp > 0) errs.push(field.invalid(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
    } else if (!overcommit) {
      errs.push(field.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
}

function validatePortNumOrName(port: number | string | undefined, path: string, errs: FieldError[]): void {
  if (typeof port === 'string') for (const m of isValidPortName(port)) errs.push(field.invalid(path, port, m));
  else for (const m of isValidPortNum(port ?? 0)) errs.push(field.invalid(path, port ?? 0, m));
}

const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const;

/** A probe or lifecycle handler: exactly one action. */
export function validateHandler(h: Obj, allowed: readonly string[], gracePeriod: number | undefined, path: string, errs: FieldError[]): void {
  let count = 0;
  for (const kind of HANDLERS) {
    if (!allowed.includes(kind) || h[kind] === undefined || h[kind] === null) continue;
    const p = child(path, kind);
    if (count > 0) {
      errs.push(field.forbidden(p, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const a = obj(h[kind], p, errs) ?? {};
    if (kind === 'exec') {
      if (strList(a.command, child(p, 'command'), errs).length === 0) errs.push(field.required(child(p, 'command')));
    } else if (kind === 'httpGet') {
      if (!(str(a.path, child(p, 'path'), errs) ?? '')) errs.push(field.required(child(p, 'path')));
      validatePortNumOrName(intOrString(a.port, child(p, 'port'), errs), child(p, 'port'), errs);
      const scheme = str(a.scheme, child(p, 'scheme'), errs) ?? '';
      if (!['HTTP', 'HTTPS'].includes(scheme)) errs.push(field.notSupported(child(p, 'scheme'), scheme, ['HTTP', 'HTTPS']));
      for (const [hdr] of objList(a.httpHeaders, child(p, 'httpHeaders'), errs)) {
        const n = typeof hdr.name === 'string' ? hdr.name : '';
        for (const m of isHTTPHeaderName(n)) errs.push(field.invalid(child(p, 'httpHeaders'), n, m));
      }
    } else if (kind === 'tcpSocket') {
      validatePortNumOrName(intOrString(a.port, child(p, 'port'), errs), child(p, 'port'), errs);
    } else if (kind === 'grpc') {
      validatePortNumOrName(int(a.port, child(p, 'port'), errs) ?? 0, child(p, 'port'), errs);
    } else {
      const secs = int(a.seconds, child(p, 'seconds'), errs) ?? 0;
      if (gracePeriod !== undefined && (secs <= 0 || secs > gracePeriod)) {
        errs.push(field.invalid(p, secs, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`));
      }
    }
  }
  if (count === 0) errs.push(field.required(path, 'must specify a handler type'));
}

export function validateProbe(v: unknown, kind: 'liveness' | 'readiness' | 'startup', gracePeriod: number | undefined, path: string, errs: FieldError[]): void {
  const p = obj(v, path, errs);
  if (!p) return;
  validateHandler(p, ['exec', 'httpGet', 'tcpSocket', 'grpc'], gracePeriod, path, errs);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...nonNegative(int(p[f], child(path, f), errs), child(path, f)));
  }
  const tgps = int(p.terminationGracePeriodSeconds, child(path, 'terminationGracePeriodSeconds'), errs);
  if (tgps !== undefined && tgps <= 0) errs.push(field.invalid(child(path, 'terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  const success = typeof p.successThreshold === 'number' ? p.successThreshold : 0;
  if (kind !== 'readiness' && success !== 1) errs.push(field.invalid(child(path, 'successThreshold'), success, 'must be 1'));
  if (kind === 'readiness' && tgps !== undefined) errs.push(field.invalid(child(path, 'terminationGracePeriodSeconds'), tgps, 'must not be set for readinessProbes'));
}

export function validateLifecycle(v: unknown, gracePeriod: number | undefined, path: string, errs: FieldError[]): void {
  const lc = obj(v, path, errs);
  if (!lc) return;
  for (const hook of ['postStart', 'preStop']) {
    const h = obj(lc[hook], child(path, hook), errs);
    if (h) validateHandler(h, ['exec', 'httpGet', 'tcpSocket', 'sleep'], gracePeriod, child(path, hook), errs);
  }
}

function validateSecurityContext(v: unknown, path: string, errs: FieldError[]): void {
  const sc = obj(v, path, errs);
  if (!sc) return;
  for (const f of ['runAsUser', 'runAsGroup']) {
    const id = int(sc[f], child(path, f), errs);
    if (id !== undefined && (id < 0 || id > 0xffffffff)) errs.push(field.invalid(child(path, f), id, inclusiveRangeError(0, 4294967295)));
  }
  const procMount = str(sc.procMount, child(path, 'procMount'), errs);
  if (procMount !== undefined && !['Default', 'Unmasked'].includes(procMount)) errs.push(field.notSupported(child(path, 'procMount'), procMount, ['Default', 'Unmasked']));
  validateSeccompProfile(sc.seccompProfile, child(path, 'seccompProfile'), errs);
}

export function validateSeccompProfile(v: unknown, path: string, errs: FieldError[]): void {
  const sp = obj(v, path, errs);
  if (!sp) return;
  const type = str(sp.type, child(path, 'type'), errs) ?? '';
  const supported = ['Localhost', 'RuntimeDefault', 'Unconfined'];
  if (!type) errs.push(field.required(child(path, 'type'), 'type is required when seccompProfile is set'));
  else if (!supported.includes(type)) errs.push(field.notSupported(child(path, 'type'), type, supported));
  if (type === 'Localhost' && typeof sp.localhostProfile !== 'string') errs.push(field.required(child(path, 'localhostProfile'), 'must be set when seccomp type is Localhost'));
}

/** Everything common to regular and init containers. */
export function validateContainerCommon(c: Obj, volumes: Set<string>, path: string, errs: FieldError[]): void {
  const name = str(c.name, child(path, 'name'), errs) ?? '';
  if (!name) errs.push(field.required(child(path, 'name')));
  else for (const m of isDNS1123Label(name)) errs.push(field.invalid(child(path, 'name'), name, m));
  if (!(str(c.image, child(path, 'image'), errs) ?? '')) errs.push(field.required(child(path, 'image')));
  const tmp = str(c.terminationMessagePolicy, child(path, 'terminationMessagePolicy'), errs) ?? '';
  if (!tmp) errs.push(field.required(child(path, 'terminationMessagePolicy')));
  else if (!['File', 'FallbackToLogsOnError'].includes(tmp)) errs.push(field.notSupported(child(path, 'terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  strList(c.command, child(path, 'command'), errs);
  strList(c.args, child(path, 'args'), errs);
  validateContainerPorts(c.ports, child(path, 'ports'), errs);
  validateEnv(c.env, child(path, 'env'), errs);
  validateEnvFrom(c.envFrom, child(path, 'envFrom'), errs);
  const sc = obj(c.securityContext, child(path, 'securityContext'), []);
  validateVolumeMounts(c.volumeMounts, volumes, sc?.privileged === true, child(path, 'volumeMounts'), errs);
  for (const [d, i] of objList(c.volumeDevices, child(path, 'volumeDevices'), errs)) {
    const dn = typeof d.name === 'string' ? d.name : '';
    if (!volumes.has(dn)) errs.push(field.notFound(child(index(child(path, 'volumeDevices'), i), 'name'), dn));
  }
  const pull = str(c.imagePullPolicy, child(path, 'imagePullPolicy'), errs) ?? '';
  if (!pull) errs.push(field.required(child(path, 'imagePullPolicy')));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) errs.push(field.notSupported(child(path, 'imagePullPolicy'), pull, ['Always', 'IfNotPresent', 'Never']));
  validateResources(c.resources, child(path, 'resources'), errs);
  validateSecurityContext(c.securityContext, child(path, 'securityContext'), errs);
  list(c.resizePolicy, child(path, 'resizePolicy'), errs);
}
