// Services: ValidateService and ValidateServiceUpdate. ClusterIPs and node ports are allocated
// by the API server before validation, as kube-apiserver's service REST storage does.
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { PROTOCOLS } from './container.js';
import { goIntOrString, goStringSlice } from './go-repr.js';
import type { KindValidator } from './kind.js';
import { validateLabels } from './meta.js';
import { child, index, int, intOrString, invalidRepr, jsonEqual, obj, objList, str, strList, strMap, type Obj } from './shape.js';
import { INVALID_IP, isDNS1123Label, isDNS1123Subdomain, isIP, isIPv4, isIPv6, isQualifiedName, isValidPortName, isValidPortNum, nameIsDNS1035Label } from './strings.js';

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const S = 'spec';

function isHeadless(spec: Obj): boolean {
  const ips = spec.clusterIPs;
  return Array.isArray(ips) && ips.length === 1 && ips[0] === 'None';
}

/** Errors ValidateNonSpecialIP gives for an address (Endpoints, external IPs). */
export function nonSpecialIPErrors(ip: string, path: string): FieldError[] {
  if (!isIP(ip)) return [field.invalid(path, ip, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  if (ip === '0.0.0.0' || ip === '::') errs.push(field.invalid(path, ip, `may not be unspecified (${ip})`));
  if (ip.startsWith('127.') || ip === '::1') errs.push(field.invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (ip.startsWith('169.254.') || /^fe[89ab]/i.test(ip)) errs.push(field.invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (ip.startsWith('224.0.0.') || /^ff02:/i.test(ip)) errs.push(field.invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function goServicePort(p: Obj): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(String(p.protocol ?? ''))}, AppProtocol:(*string)(nil), Port:${Number(p.port ?? 0)}, TargetPort:${goIntOrString(0)}, NodePort:0}`;
}

function validatePorts(spec: Obj, errs: FieldError[]): void {
  const portsPath = child(S, 'ports');
  const ports = objList(spec.ports, portsPath, errs);
  const names = new Set<string>();
  for (const [sp, i] of ports) {
    const p = index(portsPath, i);
    const name = str(sp.name, child(p, 'name'), errs) ?? '';
    if (ports.length > 1 && !name) errs.push(field.required(child(p, 'name')));
    else if (name) {
      isDNS1123Label(name).forEach((m) => errs.push(field.invalid(child(p, 'name'), name, m)));
      if (names.has(name)) errs.push(field.duplicate(child(p, 'name'), name));
      else names.add(name);
    }
    const port = int(sp.port, child(p, 'port'), errs) ?? 0;
    isValidPortNum(port).forEach((m) => errs.push(field.invalid(child(p, 'port'), port, m)));
    const proto = str(sp.protocol, child(p, 'protocol'), errs) ?? '';
    if (!proto) errs.push(field.required(child(p, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) errs.push(field.notSupported(child(p, 'protocol'), proto, PROTOCOLS));
    const target = intOrString(sp.targetPort, child(p, 'targetPort'), errs) ?? 0;
    if (typeof target === 'string') isValidPortName(target).forEach((m) => errs.push(field.invalid(child(p, 'targetPort'), target, m)));
    else isValidPortNum(target).forEach((m) => errs.push(field.invalid(child(p, 'targetPort'), target, m)));
    const nodePort = int(sp.nodePort, child(p, 'nodePort'), errs) ?? 0;
    if (nodePort !== 0) isValidPortNum(nodePort).forEach((m) => errs.push(field.invalid(child(p, 'nodePort'), nodePort, m)));
    const app = str(sp.appProtocol, child(p, 'appProtocol'), errs);
    if (app !== undefined) isQualifiedName(app).forEach((m) => errs.push(field.invalid(child(p, 'appProtocol'), app, m)));
  }
}

function validateClusterIPs(spec: Obj, errs: FieldError[]): void {
  const ipsPath = child(S, 'clusterIPs');
  const clusterIP = str(spec.clusterIP, child(S, 'clusterIP'), errs) ?? '';
  const ips = strList(spec.clusterIPs, ipsPath, errs);
  if (clusterIP) {
    if (ips.length === 0) errs.push(field.required(ipsPath));
    else if (ips[0] !== clusterIP) errs.push(invalidRepr(ipsPath, goStringSlice(ips), 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalidRepr(ipsPath, goStringSlice(ips), 'must be empty when `clusterIP` is not specified'));
  }
  const families = strList(spec.ipFamilies, child(S, 'ipFamilies'), errs);
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!['IPv4', 'IPv6'].includes(f)) errs.push(field.notSupported(index(child(S, 'ipFamilies'), i), f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(field.duplicate(index(child(S, 'ipFamilies'), i), f));
    seen.add(f);
  });
  const policy = str(spec.ipFamilyPolicy, child(S, 'ipFamilyPolicy'), errs);
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (policy !== undefined && !policies.includes(policy)) errs.push(field.notSupported(child(S, 'ipFamilyPolicy'), policy, policies));
  let invalid = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) (invalid = true), errs.push(invalidRepr(ipsPath, goStringSlice(ips), "'None' must be the first and only value"));
      return;
    }
    if (!isIP(ip)) (invalid = true), errs.push(field.invalid(index(ipsPath, i), ip, INVALID_IP));
  });
  if (ips.length > 2) errs.push(invalidRepr(ipsPath, goStringSlice(ips), 'may only hold up to 2 values'));
  if (invalid) return;
  if (ips.length > 1 && isIPv4(ips[0] ?? '') === isIPv4(ips[1] ?? '')) errs.push(invalidRepr(ipsPath, goStringSlice(ips), 'may specify no more than one IP for each IP family'));
  if (!isHeadless(spec)) {
    ips.forEach((ip, i) => {
      if (families[i] === 'IPv4' && isIPv6(ip)) errs.push(field.invalid(index(ipsPath, i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6(ip)) errs.push(field.invalid(index(ipsPath, i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
}

function validateServiceSpec(o: KubeObject, errs: FieldError[]): void {
  const spec = obj(o.spec, S, errs) ?? {};
  const type = str(spec.type, child(S, 'type'), errs) ?? '';
  const headless = isHeadless(spec);
  const ports = objList(spec.ports, child(S, 'ports'), []);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(field.required(child(S, 'ports')));
  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    errs.push(field.invalid(index(child(S, 'clusterIPs'), 0), 'None', `may not be set to 'None' for ${type} services`));
  } else if (type === 'ExternalName') {
    if (strList(spec.clusterIPs, '', []).length > 0) errs.push(field.forbidden(child(S, 'clusterIPs'), 'may not be set for ExternalName services'));
    if (strList(spec.ipFamilies, '', []).length > 0) errs.push(field.forbidden(child(S, 'ipFamilies'), 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(field.forbidden(child(S, 'ipFamilyPolicy'), 'may not be set for ExternalName services'));
    const raw = str(spec.externalName, child(S, 'externalName'), errs) ?? '';
    const cname = raw.endsWith('.') ? raw.slice(0, -1) : raw;
    if (cname) isDNS1123Subdomain(cname).forEach((m) => errs.push(field.invalid(child(S, 'externalName'), cname, m)));
    else errs.push(field.required(child(S, 'externalName')));
  }
  validatePorts(spec, errs);
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabels(strMap(spec.selector, child(S, 'selector'), errs), child(S, 'selector')));
  const affinity = str(spec.sessionAffinity, child(S, 'sessionAffinity'), errs) ?? '';
  if (!affinity) errs.push(field.required(child(S, 'sessionAffinity')));
  else if (!['ClientIP', 'None'].includes(affinity)) errs.push(field.notSupported(child(S, 'sessionAffinity'), affinity, ['ClientIP', 'None']));
  const cfgPath = child(S, 'sessionAffinityConfig');
  if (affinity === 'ClientIP') {
    const timeout = (((spec.sessionAffinityConfig as Obj | undefined)?.clientIP as Obj | undefined)?.timeoutSeconds ?? undefined) as number | undefined;
    if (timeout === undefined) errs.push(field.required(child(child(cfgPath, 'clientIP'), 'timeoutSeconds'), 'when session affinity type is ClientIP'));
    else if (timeout <= 0 || timeout > 86400) errs.push(field.invalid(child(child(cfgPath, 'clientIP'), 'timeoutSeconds'), timeout, 'must be greater than 0 and less than 86400'));
  } else if (affinity === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(field.forbidden(cfgPath, 'must not be set when session affinity is None'));
  }
  if (type !== 'ExternalName') validateClusterIPs(spec, errs);
  strList(spec.externalIPs, child(S, 'externalIPs'), errs).forEach((ip, i) => {
    const p = index(child(S, 'externalIPs'), i);
    errs.push(...(isIP(ip) ? nonSpecialIPErrors(ip, p) : [field.invalid(p, ip, INVALID_IP)]));
  });
  if (!type) errs.push(field.required(child(S, 'type')));
  else if (!TYPES.includes(type)) errs.push(field.notSupported(child(S, 'type'), type, TYPES));
  if (type === 'ClusterIP') {
    for (const [p, i] of ports) if (p.nodePort) errs.push(field.forbidden(child(index(child(S, 'ports'), i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
  }
  const nodePorts = new Set<string>();
  const keys = new Set<string>();
  for (const [p, i] of ports) {
    if (p.nodePort) {
      const k = `${String(p.protocol)}/${String(p.nodePort)}`;
      if (nodePorts.has(k)) errs.push(field.duplicate(child(index(child(S, 'ports'), i), 'nodePort'), p.nodePort));
      nodePorts.add(k);
    }
    const k = `${String(p.protocol)}/${String(p.port)}`;
    if (keys.has(k)) errs.push({ type: 'FieldValueDuplicate', field: index(child(S, 'ports'), i), detail: goServicePort(p) });
    keys.add(k);
  }
  if (strList(spec.loadBalancerSourceRanges, '', []).length > 0 && type !== 'LoadBalancer') {
    errs.push(field.forbidden(child(S, 'LoadBalancerSourceRanges'), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errs.push(field.forbidden(child(S, 'allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(field.required('allocateLoadBalancerNodePorts'));
  }
  const lbClass = str(spec.loadBalancerClass, child(S, 'loadBalancerClass'), errs);
  if (lbClass !== undefined) {
    if (type === 'LoadBalancer') isQualifiedName(lbClass).forEach((m) => errs.push(field.invalid(child(S, 'loadBalancerClass'), lbClass, m)));
    else errs.push(field.forbidden(child(S, 'loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"));
  }
  const external = type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && strList(spec.externalIPs, '', []).length > 0);
  const etp = str(spec.externalTrafficPolicy, child(S, 'externalTrafficPolicy'), errs) ?? '';
  if (!external) {
    if (etp) errs.push(field.invalid(child(S, 'externalTrafficPolicy'), etp, 'may only be set for externally-accessible services'));
  } else if (!etp) errs.push(field.required(child(S, 'externalTrafficPolicy')));
  else if (!['Cluster', 'Local'].includes(etp)) errs.push(field.notSupported(child(S, 'externalTrafficPolicy'), etp, ['Cluster', 'Local']));
  // Upstream allocates healthCheckNodePort before validating and then requires it; Skiff's
  // allocator runs after validation, so an absent one is left for it to fill.
  const hc = int(spec.healthCheckNodePort, child(S, 'healthCheckNodePort'), errs) ?? 0;
  if (!(type === 'LoadBalancer' && etp === 'Local')) {
    if (hc !== 0) errs.push(field.invalid(child(S, 'healthCheckNodePort'), hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (hc !== 0) isValidPortNum(hc).forEach((m) => errs.push(field.invalid(child(S, 'healthCheckNodePort'), hc, m)));
  const itp = str(spec.internalTrafficPolicy, child(S, 'internalTrafficPolicy'), errs);
  if (itp === undefined && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(type)) errs.push(field.required(child(S, 'internalTrafficPolicy')));
  if (itp !== undefined && !['Cluster', 'Local'].includes(itp)) errs.push(field.notSupported(child(S, 'internalTrafficPolicy'), itp, ['Cluster', 'Local']));
  const td = str(spec.trafficDistribution, child(S, 'trafficDistribution'), errs);
  if (td !== undefined && td !== 'PreferClose') errs.push(field.notSupported(child(S, 'trafficDistribution'), td, ['PreferClose']));
}

function validateServiceUpdate(o: KubeObject, old: KubeObject, errs: FieldError[]): void {
  const spec = (o.spec ?? {}) as Obj;
  const before = (old.spec ?? {}) as Obj;
  if (spec.type === 'ExternalName' || before.type === 'ExternalName') return;
  const newIPs = strList(spec.clusterIPs, '', []);
  const oldIPs = strList(before.clusterIPs, '', []);
  if (!(isHeadless(spec) && isHeadless(before))) {
    const p0 = index(child(S, 'clusterIPs'), 0);
    if (oldIPs.length === newIPs.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== newIPs[i]) errs.push(invalidRepr(index(child(S, 'clusterIPs'), i), goStringSlice(newIPs), 'may not change once set'));
      });
    } else if (oldIPs.length > newIPs.length) {
      if (newIPs.length === 0) errs.push(invalidRepr(p0, '[]string(nil)', 'primary clusterIP can not be unset'));
      if (newIPs.length > 0 && newIPs[0] !== oldIPs[0]) errs.push(invalidRepr(p0, goStringSlice(newIPs), 'may not change once set'));
      if (newIPs.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(field.invalid(child(S, 'ipFamilyPolicy'), spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (oldIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
      errs.push(invalidRepr(p0, goStringSlice(newIPs), 'may not change once set'));
    }
  }
  const newFam = strList(spec.ipFamilies, '', []);
  const oldFam = strList(before.ipFamilies, '', []);
  if (isHeadless(spec) === isHeadless(before) && !isHeadless(spec) && newFam.length === oldFam.length && !jsonEqual(newFam, oldFam)) {
    errs.push(invalidRepr(index(child(S, 'ipFamilies'), 0), `[]core.IPFamily{${newFam.map((f) => JSON.stringify(f)).join(', ')}}`, 'may not change once set'));
  }
  const needsHC = (s: Obj) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
  if (needsHC(spec) && needsHC(before) && spec.healthCheckNodePort !== before.healthCheckNodePort) {
    errs.push(field.forbidden(child(S, 'healthCheckNodePort'), 'field is immutable'));
  }
}

export const serviceValidator: KindValidator = { name: nameIsDNS1035Label, spec: validateServiceSpec, updateFirst: true, update: validateServiceUpdate };
