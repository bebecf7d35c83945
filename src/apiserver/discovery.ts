// Discovery documents, all derived from api/kinds.ts: the legacy ones (/api, /apis, /api/v1,
// /apis/G/V) and aggregated discovery (apidiscovery.k8s.io v2 and v2beta1), which kubectl asks
// for first. Content negotiation is honest: the aggregated form only when Accept names it.
import { RESOURCES, groupVersions, type ResourceType } from '../api/kinds.js';

const SCALE_KIND = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

/** The kind a subresource answers with. */
function subresourceKind(rt: ResourceType, sub: string): { group: string; version: string; kind: string } {
  switch (sub) {
    case 'scale':
      return SCALE_KIND;
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding' };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction' };
    case 'token':
      return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
    case 'log':
      return { group: '', version: 'v1', kind: 'Pod' };
    case 'exec':
      return { group: '', version: 'v1', kind: 'PodExecOptions' };
    case 'attach':
      return { group: '', version: 'v1', kind: 'PodAttachOptions' };
    case 'portforward':
      return { group: '', version: 'v1', kind: 'PodPortForwardOptions' };
    case 'proxy':
      return { group: '', version: 'v1', kind: `${rt.kind}ProxyOptions` };
    default:
      return { group: rt.group, version: rt.version, kind: rt.kind };
  }
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groups(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const { group, version } of groupVersions()) {
    if (group === '') continue;
    const vs = m.get(group) ?? [];
    vs.push(version);
    m.set(group, vs);
  }
  return m;
}

export function apiGroupList(): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups()].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiGroup(group: string): object | undefined {
  const versions = groups().get(group);
  if (!versions) return undefined;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}

/** The legacy APIResourceList of one group/version, or undefined if not served. */
export function apiResourceList(group: string, version: string): object | undefined {
  const rts = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!rts.length) return undefined;
  const resources: object[] = [];
  for (const rt of rts) {
    resources.push({
      name: rt.plural,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: rt.verbs,
      ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
      ...(rt.categories.length ? { categories: rt.categories } : {}),
    });
    for (const [sub, verbs] of Object.entries(rt.subresources)) {
      const k = subresourceKind(rt, sub);
      resources.push({
        name: `${rt.plural}/${sub}`,
        singularName: '',
        namespaced: rt.namespaced,
        ...(k.group !== rt.group || k.version !== rt.version ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export type AggregatedVersion = 'v2' | 'v2beta1';

/** Which aggregated discovery format `Accept` asks for, if any (first match wins, as the client orders them). */
export function wantsAggregated(accept: string | undefined): AggregatedVersion | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map(part.split(';').slice(1).map((p) => p.trim().split('=') as [string, string]));
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return v;
    }
    const media = part.split(';')[0]!.trim();
    if (media === 'application/json' || media === '*/*') return undefined;
  }
  return undefined;
}

export function aggregatedContentType(v: AggregatedVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
}

/** Aggregated discovery for the core group (`/api`) or the named groups (`/apis`). */
export function aggregatedDiscovery(v: AggregatedVersion, core: boolean): object {
  const items: object[] = [];
  const byGroup = new Map<string, Map<string, ResourceType[]>>();
  for (const rt of RESOURCES) {
    if ((rt.group === '') !== core) continue;
    const g = byGroup.get(rt.group) ?? new Map<string, ResourceType[]>();
    g.set(rt.version, [...(g.get(rt.version) ?? []), rt]);
    byGroup.set(rt.group, g);
  }
  for (const [group, versions] of byGroup) {
    items.push({
      metadata: { name: group, creationTimestamp: null },
      versions: [...versions].map(([version, rts]) => ({
        version,
        resources: rts.map((rt) => ({
          resource: rt.plural,
          responseKind: { group: rt.group, version: rt.version, kind: rt.kind },
          scope: rt.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: rt.singular,
          verbs: rt.verbs,
          ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
          ...(rt.categories.length ? { categories: rt.categories } : {}),
          ...(Object.keys(rt.subresources).length
            ? {
                subresources: Object.entries(rt.subresources).map(([sub, verbs]) => ({
                  subresource: sub,
                  responseKind: subresourceKind(rt, sub),
                  verbs,
                })),
              }
            : {}),
        })),
        freshness: 'Current',
      })),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${v}`, metadata: {}, items };
}
