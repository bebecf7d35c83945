// Turning an API path into "which resource, which object": the URL grammar of kube-apiserver.
//   /api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]
//   /apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]
// `/api/v1/namespaces/{name}[/{subresource}]` addresses the Namespace object itself when the
// segment after the name is not a namespaced resource.
import { findResource, type ResourceType } from '../api/kinds.js';

export interface ResourcePath {
  group: string;
  version: string;
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export type ParsedPath =
  | { type: 'resource'; path: ResourcePath }
  | { type: 'unknownResource'; group: string; version: string; resource: string }
  | { type: 'groupVersion'; group: string; version: string }
  | { type: 'other' };

export function parseApiPath(pathname: string): ParsedPath {
  const segs = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else {
    return { type: 'other' };
  }
  if (rest.length === 0) return { type: 'groupVersion', group, version };

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = findResource(group, version, rest[2]!);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const resource = rest[0]!;
  const rt = findResource(group, version, resource);
  if (!rt || rest.length > 3) return { type: 'unknownResource', group, version, resource };
  const path: ResourcePath = { group, version, rt };
  if (namespace !== undefined) path.namespace = namespace;
  if (rest[1] !== undefined) path.name = rest[1];
  if (rest[2] !== undefined) path.subresource = rest[2];
  return { type: 'resource', path };
}

/** What representation the client asked for in `Accept`. */
export type Representation = 'json' | 'table' | 'partialMetadata';

export function negotiate(accept: string | undefined): Representation {
  if (!accept) return 'json';
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io') return 'table';
    if ((params.get('as') === 'PartialObjectMetadata' || params.get('as') === 'PartialObjectMetadataList') && params.get('g') === 'meta.k8s.io') return 'partialMetadata';
    const media = part.split(';')[0]!.trim();
    if (media === 'application/json' || media === '*/*' || media === 'application/*') return 'json';
  }
  return 'json';
}

/** First value of a query parameter. */
export function q(query: URLSearchParams, name: string): string | undefined {
  const v = query.get(name);
  return v === null ? undefined : v;
}
