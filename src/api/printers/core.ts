// Tables of the core/v1 kinds other than pods and storage: services, endpoints, namespaces,
// configmaps, secrets, service accounts, events, nodes. Column for column and cell for cell as
// pkg/printers/internalversion/printers.go (Kubernetes 1.32) builds them.
import type { ConfigMap, Endpoints, Event, Namespace, Node, Secret, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../types.js';
import { doc } from './descriptions.js';
import { timestampSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, ageOf, byCodeUnit, column, countOf, formatLabels, nameOf, view, type Printer } from './printer.js';

// ---- services ----

/** The EXTERNAL-IP cell: external IPs for ClusterIP/NodePort (`<none>`), load-balancer ingress
 *  then external IPs for LoadBalancer (`<pending>` until the load balancer reports), the DNS
 *  name for ExternalName. */
export function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (serviceType(svc)) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc);
      if (externalIPs.length > 0) return [...lb, ...externalIPs].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
  }
  return '<unknown>';
}

/** Stored services always carry a type (Kubernetes defaults it); tolerate one that does not. */
function serviceType(svc: Service): string {
  return svc.spec?.type ?? 'ClusterIP';
}

/** Ingress points, IP preferred over hostname, without duplicates. Printed whole: the apiserver
 *  renders tables "wide", so the 16-character clipping of plain `kubectl` never applies. */
function loadBalancerIngress(svc: Service): string[] {
  const seen = new Set<string>();
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (ing.ip) seen.add(ing.ip);
    else if (ing.hostname) seen.add(ing.hostname);
  }
  return [...seen];
}

/** The PORT(S) cell: `80/TCP`, `80:30080/TCP` with a node port, comma-joined; `<none>`. */
export function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

export const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', doc('ServiceSpec.type')),
    column('Cluster-IP', 'string', doc('ServiceSpec.clusterIP')),
    column('External-IP', 'string', doc('ServiceSpec.externalIPs')),
    column('Port(s)', 'string', doc('ServiceSpec.ports')),
    AGE_COLUMN,
    column('Selector', 'string', doc('ServiceSpec.selector'), { priority: 1 }),
  ],
  print(obj, now) {
    const svc = view<Service>(obj);
    // Internally clusterIPs always mirrors clusterIP; accept an object that has only the latter.
    const clusterIP = svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>';
    return { cells: [nameOf(obj), serviceType(svc), clusterIP, serviceExternalIP(svc), servicePorts(svc), ageOf(obj, now), formatLabels(svc.spec?.selector)] };
  },
};

// ---- endpoints ----

/** net.JoinHostPort: IPv6 addresses go in brackets. */
function joinHostPort(host: string, port: number | undefined): string {
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}

/** formatEndpoints: up to three `ip:port` pairs (every port of every subset), then
 *  ` + N more...`; a subset without ports lists bare IPs (headless); `<none>` without subsets. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  let more = false;
  const add = (s: string) => {
    if (list.length === max) more = true;
    else list.push(s);
  };
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    if ((ss.ports ?? []).length === 0) {
      count += addresses.length;
      for (const a of addresses) add(a.ip);
      continue;
    }
    for (const port of ss.ports ?? []) {
      count += addresses.length;
      for (const a of addresses) add(joinHostPort(a.ip, port.port));
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: Printer = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', doc('Endpoints.subsets')), AGE_COLUMN],
  print: (obj, now) => ({ cells: [nameOf(obj), formatEndpoints(view<Endpoints>(obj)), ageOf(obj, now)] }),
};

// ---- namespaces, configmaps, secrets, service accounts ----

export const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  print: (obj, now) => ({ cells: [nameOf(obj), view<Namespace>(obj).status?.phase ?? '', ageOf(obj, now)] }),
};

export const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, column('Data', 'string', doc('ConfigMap.data')), AGE_COLUMN],
  print(obj, now) {
    const cm = view<ConfigMap>(obj);
    return { cells: [nameOf(obj), countOf(cm.data) + countOf(cm.binaryData), ageOf(obj, now)] };
  },
};

export const secretPrinter: Printer = {
  columns: [NAME_COLUMN, column('Type', 'string', doc('Secret.type')), column('Data', 'string', doc('Secret.data')), AGE_COLUMN],
  print(obj, now) {
    const secret = view<Secret>(obj);
    return { cells: [nameOf(obj), secret.type ?? '', countOf(secret.data), ageOf(obj, now)] };
  },
};

export const serviceAccountPrinter: Printer = {
  columns: [NAME_COLUMN, column('Secrets', 'string', doc('ServiceAccount.secrets')), AGE_COLUMN],
  print: (obj, now) => ({ cells: [nameOf(obj), countOf(view<ServiceAccount>(obj).secrets), ageOf(obj, now)] }),
};

// ---- events ----

/** The SOURCE cell: component (or reporting controller), then `, host` (or reporting instance). */
function eventSource(ev: Event): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

export const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'string', doc('Event.lastTimestamp')),
    column('Type', 'string', doc('Event.type')),
    column('Reason', 'string', doc('Event.reason')),
    column('Object', 'string', doc('Event.involvedObject')),
    column('Subobject', 'string', doc('ObjectReference.fieldPath'), { priority: 1 }),
    column('Source', 'string', doc('Event.source'), { priority: 1 }),
    column('Message', 'string', doc('Event.message')),
    column('First Seen', 'string', doc('Event.firstTimestamp'), { priority: 1 }),
    column('Count', 'string', doc('Event.count'), { priority: 1 }),
    column('Name', 'string', doc('ObjectMeta.name'), { priority: 1, format: 'name' }),
  ],
  print(obj, now) {
    const ev = view<Event>(obj);
    // New-style events (events.k8s.io) carry eventTime and series instead of the timestamps.
    const firstSeen = ev.firstTimestamp ? timestampSince(ev.firstTimestamp, now) : timestampSince(ev.eventTime, now);
    let lastSeen = ev.lastTimestamp ? timestampSince(ev.lastTimestamp, now) : firstSeen;
    let count = ev.count ?? 0;
    if (ev.series) {
      lastSeen = timestampSince(ev.series.lastObservedTime, now);
      count = ev.series.count ?? 0;
    } else if (count === 0) {
      count = 1; // Singleton events don't have a count set in the new API.
    }
    const kind = (ev.involvedObject?.kind ?? '').toLowerCase();
    const target = ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind;
    return { cells: [lastSeen, ev.type ?? '', ev.reason ?? '', target, ev.involvedObject?.fieldPath ?? '', eventSource(ev), (ev.message ?? '').trim(), firstSeen, count, nameOf(obj)] };
  },
};

// ---- nodes ----

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** findNodeRoles: `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role`
 *  label's value, sorted (Go's set order is random; sorted is one of its orders). */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort(byCodeUnit);
}

/** The STATUS cell: `Ready`/`NotReady` from the Ready condition (`Unknown` without one), plus
 *  `SchedulingDisabled` for a cordoned node. */
export function nodeStatus(node: Node): string {
  const status: string[] = [];
  const ready = (node.status?.conditions ?? []).filter((c) => c.type === 'Ready').pop();
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: Node, type: string): string {
  return (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';
}

export const nodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'string', doc('NodeSystemInfo.kubeletVersion')),
    column('Internal-IP', 'string', doc('NodeStatus.addresses'), { priority: 1 }),
    column('External-IP', 'string', doc('NodeStatus.addresses'), { priority: 1 }),
    column('OS-Image', 'string', doc('NodeSystemInfo.osImage'), { priority: 1 }),
    column('Kernel-Version', 'string', doc('NodeSystemInfo.kernelVersion'), { priority: 1 }),
    column('Container-Runtime', 'string', doc('NodeSystemInfo.containerRuntimeVersion'), { priority: 1 }),
  ],
  print(obj: KubeObject, now: number) {
    const node = view<Node>(obj);
    const info = node.status?.nodeInfo;
    const roles = nodeRoles(node).join(',') || '<none>';
    return {
      cells: [
        nameOf(obj),
        nodeStatus(node),
        roles,
        ageOf(obj, now),
        info?.kubeletVersion ?? '',
        nodeAddress(node, 'InternalIP'),
        nodeAddress(node, 'ExternalIP'),
        info?.osImage || '<unknown>',
        info?.kernelVersion || '<unknown>',
        info?.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
};
