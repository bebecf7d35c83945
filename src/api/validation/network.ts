// Nodes, Endpoints (core) and EndpointSlices (discovery.k8s.io): the objects that describe where
// things run and how to reach them.
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { formatQuantity, tryParseQuantity, QUANTITY_ERROR } from '../../util/quantity.js';
import { PROTOCOLS } from './container.js';
import type { KindValidator } from './kind.js';
import { validateLabelName, validateLabels } from './meta.js';
import { nonSpecialIPErrors } from './service.js';
import { child, index, int, jsonEqual, obj, objList, str, strList, strMap, type Obj } from './shape.js';
import { INVALID_IP, isDNS1123Label, isDNS1123Subdomain, isIP, isIPv4, isIPv6, isQualifiedName, isValidLabelValue, isValidPortNum, nameIsDNSSubdomain } from './strings.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function isCIDR(v: string): boolean {
  const [ip, bits, extra] = v.split('/');
  if (extra !== undefined || ip === undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  return (isIPv4(ip) && Number(bits) <= 32) || (isIPv6(ip) && Number(bits) <= 128);
}

function validateNode(o: KubeObject, errs: FieldError[]): void {
  const spec = obj(o.spec, 'spec', errs) ?? {};
  // Upstream reports node taints under metadata (it passes the metadata path along).
  const tPath = 'metadata.taints';
  const unique = new Set<string>();
  for (const [t, i] of objList(spec.taints, 'spec.taints', errs)) {
    const p = index(tPath, i);
    const k = typeof t.key === 'string' ? t.key : '';
    const v = typeof t.value === 'string' ? t.value : '';
    const effect = typeof t.effect === 'string' ? t.effect : '';
    errs.push(...validateLabelName(k, child(p, 'key')));
    const msgs = isValidLabelValue(v);
    if (msgs.length) errs.push(field.invalid(child(p, 'value'), v, msgs.join(';')));
    if (!effect) errs.push(field.required(child(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(field.notSupported(child(p, 'effect'), effect, TAINT_EFFECTS));
    const id = `${effect}\u0000${k}`;
    if (unique.has(id)) {
      errs.push({ type: 'FieldValueDuplicate', field: p, detail: `core.Taint{Key:${JSON.stringify(k)}, Value:${JSON.stringify(v)}, Effect:${JSON.stringify(effect)}, TimeAdded:<nil>}: taints must be unique by key and effect pair` });
    }
    unique.add(id);
  }
  const cidrs = strList(spec.podCIDRs, 'spec.podCIDRs', errs);
  cidrs.forEach((c, i) => {
    if (!isCIDR(c)) errs.push(field.invalid(index('spec.podCIDRs', i), c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  const status = obj(o.status, 'status', errs) ?? {};
  for (const list of ['capacity', 'allocatable']) {
    for (const [k, v] of Object.entries(obj(status[list], `status.${list}`, errs) ?? {})) {
      const q = tryParseQuantity(String(v));
      const p = `status.${list}.${k}`;
      if (!q) errs.push(field.invalid(p, v, QUANTITY_ERROR));
      else if (q.mantissa < 0n) errs.push(field.invalid(p, formatQuantity(q), 'must be greater than or equal to 0'));
    }
  }
}

export const nodeValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validateNode,
  update(o, old, errs) {
    const spec = (o.spec ?? {}) as Obj;
    const before = (old.spec ?? {}) as Obj;
    const oldCIDRs = strList(before.podCIDRs, '', []);
    if (oldCIDRs.length > 0 && !jsonEqual(oldCIDRs, strList(spec.podCIDRs, '', []))) {
      errs.push(field.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    }
    if (before.providerID && before.providerID !== spec.providerID) {
      errs.push(field.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
    }
  },
};

function validateEndpointPort(p: Obj, requireName: boolean, path: string, errs: FieldError[]): void {
  const name = str(p.name, child(path, 'name'), errs) ?? '';
  if (requireName && !name) errs.push(field.required(child(path, 'name')));
  else if (name) isDNS1123Label(name).forEach((m) => errs.push(field.invalid(child(path, 'name'), name, m)));
  const port = int(p.port, child(path, 'port'), errs) ?? 0;
  isValidPortNum(port).forEach((m) => errs.push(field.invalid(child(path, 'port'), port, m)));
  const proto = str(p.protocol, child(path, 'protocol'), errs) ?? '';
  if (!proto) errs.push(field.required(child(path, 'protocol')));
  else if (!PROTOCOLS.includes(proto)) errs.push(field.notSupported(child(path, 'protocol'), proto, PROTOCOLS));
  const app = str(p.appProtocol, child(path, 'appProtocol'), errs);
  if (app !== undefined) isQualifiedName(app).forEach((m) => errs.push(field.invalid(child(path, 'appProtocol'), app, m)));
}

function validateEndpoints(o: KubeObject, errs: FieldError[]): void {
  for (const [ss, i] of objList(o.subsets, 'subsets', errs)) {
    const p = index('subsets', i);
    const addrs = objList(ss.addresses, child(p, 'addresses'), errs);
    const notReady = objList(ss.notReadyAddresses, child(p, 'notReadyAddresses'), errs);
    if (addrs.length === 0 && notReady.length === 0) errs.push(field.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    for (const [list, name] of [[addrs, 'addresses'], [notReady, 'notReadyAddresses']] as const) {
      for (const [a, j] of list) {
        const ap = index(child(p, name), j);
        const ip = typeof a.ip === 'string' ? a.ip : '';
        if (!isIP(ip)) errs.push(field.invalid(child(ap, 'ip'), ip, INVALID_IP));
        if (typeof a.hostname === 'string' && a.hostname) isDNS1123Label(a.hostname).forEach((m) => errs.push(field.invalid(child(ap, 'hostname'), a.hostname, m)));
        if (typeof a.nodeName === 'string') nameIsDNSSubdomain(a.nodeName, false).forEach((m) => errs.push(field.invalid(child(ap, 'nodeName'), a.nodeName, m)));
        errs.push(...nonSpecialIPErrors(ip, child(ap, 'ip')));
      }
    }
    const ports = objList(ss.ports, child(p, 'ports'), errs);
    for (const [port, j] of ports) validateEndpointPort(port, ports.length > 1, index(child(p, 'ports'), j), errs);
  }
}

export const endpointsValidator: KindValidator = { name: nameIsDNSSubdomain, spec: validateEndpoints };

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

function validateEndpointSlice(o: KubeObject, errs: FieldError[]): void {
  const addressType = str(o.addressType, 'addressType', errs) ?? '';
  if (!addressType) errs.push(field.required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(field.notSupported('addressType', addressType, ADDRESS_TYPES));
  const endpoints = objList(o.endpoints, 'endpoints', errs);
  if (endpoints.length > 1000) errs.push(field.tooMany('endpoints', endpoints.length, 1000));
  for (const [ep, i] of endpoints) {
    const p = index('endpoints', i);
    const addrs = strList(ep.addresses, child(p, 'addresses'), errs);
    if (addrs.length === 0) errs.push(field.required(child(p, 'addresses'), 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push(field.tooMany(child(p, 'addresses'), addrs.length, 100));
    addrs.forEach((a, j) => {
      const ap = index(child(p, 'addresses'), j);
      if (addressType === 'IPv4' && !isIPv4(a)) errs.push(field.invalid(ap, a, 'must be a valid IPv4 address'));
      else if (addressType === 'IPv6' && !isIPv6(a)) errs.push(field.invalid(ap, a, 'must be a valid IPv6 address'));
      else if (addressType === 'FQDN') isDNS1123Subdomain(a).forEach((m) => errs.push(field.invalid(ap, a, m)));
    });
    const hostname = str(ep.hostname, child(p, 'hostname'), errs);
    if (hostname !== undefined) isDNS1123Label(hostname).forEach((m) => errs.push(field.invalid(child(p, 'hostname'), hostname, m)));
    const nodeName = str(ep.nodeName, child(p, 'nodeName'), errs);
    if (nodeName !== undefined) nameIsDNSSubdomain(nodeName, false).forEach((m) => errs.push(field.invalid(child(p, 'nodeName'), nodeName, m)));
    errs.push(...validateLabels(strMap(ep.deprecatedTopology, child(p, 'deprecatedTopology'), errs), child(p, 'deprecatedTopology')));
  }
  const ports = objList(o.ports, 'ports', errs);
  if (ports.length > 100) errs.push(field.tooMany('ports', ports.length, 100));
  const names = new Set<string>();
  for (const [port, i] of ports) {
    const p = index('ports', i);
    const name = str(port.name, child(p, 'name'), errs) ?? '';
    if (name) isDNS1123Label(name).forEach((m) => errs.push(field.invalid(child(p, 'name'), name, m)));
    if (names.has(name)) errs.push(field.duplicate(child(p, 'name'), name));
    names.add(name);
    const proto = str(port.protocol, child(p, 'protocol'), errs) ?? '';
    if (!proto) errs.push(field.required(child(p, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) errs.push(field.notSupported(child(p, 'protocol'), proto, PROTOCOLS));
    const n = int(port.port, child(p, 'port'), errs);
    if (n !== undefined) isValidPortNum(n).forEach((m) => errs.push(field.invalid(child(p, 'port'), n, m)));
    const app = str(port.appProtocol, child(p, 'appProtocol'), errs);
    if (app !== undefined) isQualifiedName(app).forEach((m) => errs.push(field.invalid(child(p, 'appProtocol'), app, m)));
  }
}

export const endpointSliceValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validateEndpointSlice,
  update(o, old, errs) {
    if (o.addressType !== old.addressType) errs.push(field.invalid('addressType', o.addressType ?? '', 'field is immutable'));
  },
};
