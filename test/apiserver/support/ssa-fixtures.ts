// Shared fixtures for the managed-fields and server-side apply tests: PatchMeta shaped like
// Kubernetes' OpenAPI declares it for a Deployment, and a small Deployment builder.
import { patchMetaFromTree, type PatchMetaTree } from '../../../src/api/patch-meta.js';
import type { KubeObject } from '../../../src/api/types.js';

const byName = { info: { strategy: ['merge' as const], mergeKey: 'name', listType: 'map' as const, listMapKeys: ['name'] } };

const podSpec: PatchMetaTree = {
  fields: {
    containers: {
      ...byName,
      item: {
        fields: {
          ports: { info: { strategy: ['merge'], mergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] } },
          env: byName,
          args: { info: { listType: 'atomic' } },
        },
      },
    },
    volumes: byName,
    tolerations: { info: { listType: 'atomic' } },
  },
};

export const deploymentMeta = patchMetaFromTree({
  fields: {
    metadata: {
      fields: {
        finalizers: { info: { strategy: ['merge'], listType: 'set' } },
        ownerReferences: { info: { strategy: ['merge'], mergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] } },
      },
    },
    spec: {
      fields: {
        selector: { info: { mapType: 'atomic' } },
        template: { fields: { spec: podSpec } },
      },
    },
    status: { fields: { conditions: { info: { strategy: ['merge'], mergeKey: 'type', listType: 'map', listMapKeys: ['type'] } } } },
  },
});

export const T0 = '2026-01-01T00:00:00Z';
export const T1 = '2026-01-01T00:01:00Z';
export const T2 = '2026-01-01T00:02:00Z';

export interface DeploymentOpts {
  replicas?: number;
  image?: string;
  labels?: Record<string, string>;
  containers?: unknown[];
}

/** A Deployment `web` in `default` as a client would send it. */
export function deployment(o: DeploymentOpts = {}): KubeObject {
  const d: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: o.labels ?? { app: 'web' } },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: o.containers ?? [{ name: 'nginx', image: o.image ?? 'nginx:1.27' }] },
      },
    },
  };
  if (o.replicas !== undefined) (d.spec as Record<string, unknown>).replicas = o.replicas;
  return d;
}

/** `obj` as the store would hold it: server bookkeeping added. */
export function stored(obj: KubeObject): KubeObject {
  const s = structuredClone(obj);
  s.metadata.uid = 'u-1';
  s.metadata.resourceVersion = '7';
  s.metadata.creationTimestamp = T0;
  s.metadata.generation = 1;
  return s;
}
