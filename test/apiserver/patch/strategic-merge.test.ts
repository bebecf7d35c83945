// Strategic merge patch as the API server applies it to what kubectl and the controllers send,
// against Kubernetes' own patch tags (upstream's own cases are in strategic-merge-upstream.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStatusError } from '../../../src/api/errors.js';
import { EMPTY_PATCH_META, patchMetaFromTree, type PatchMeta, type PatchMetaTree } from '../../../src/api/patch-meta.js';
import { applyStrategicMergePatch } from '../../../src/apiserver/patch/strategic-merge.js';

// Kubernetes' struct tags for the parts exercised here.
const objectMeta: PatchMetaTree = {
  fields: {
    finalizers: { info: { strategy: ['merge'] } },
    ownerReferences: { info: { strategy: ['merge'], mergeKey: 'uid' } },
  },
};
const container: PatchMetaTree = {
  fields: {
    ports: { info: { strategy: ['merge'], mergeKey: 'containerPort' } },
    env: { info: { strategy: ['merge'], mergeKey: 'name' } },
    volumeMounts: { info: { strategy: ['merge'], mergeKey: 'mountPath' } },
  },
};
const podSpec: PatchMetaTree = {
  fields: {
    containers: { info: { strategy: ['merge'], mergeKey: 'name' }, item: container },
    initContainers: { info: { strategy: ['merge'], mergeKey: 'name' }, item: container },
    volumes: { info: { strategy: ['merge', 'retainKeys'], mergeKey: 'name' } },
  },
};
const deploymentMeta = patchMetaFromTree({
  fields: {
    metadata: objectMeta,
    spec: { fields: { strategy: { info: { strategy: ['retainKeys'] } }, template: { fields: { metadata: objectMeta, spec: podSpec } } } },
  },
});
const podMeta = patchMetaFromTree({
  fields: { metadata: objectMeta, spec: podSpec, status: { fields: { conditions: { info: { strategy: ['merge'], mergeKey: 'type' } } } } },
});
const serviceMeta = patchMetaFromTree({ fields: { metadata: objectMeta, spec: { fields: { ports: { info: { strategy: ['merge'], mergeKey: 'port' } } } } } });

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const nginx = () => ({ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'u-1', labels: { app: 'web', tier: 'frontend' } as Record<string, string>, annotations: { [LAST_APPLIED]: '{"old":true}' }, finalizers: ['example.com/a', 'example.com/b'] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } as Record<string, unknown>,
    template: {
      metadata: { labels: { app: 'web', tier: 'frontend' } as Record<string, string> },
      spec: { containers: [nginx()] as Array<Record<string, unknown>>, volumes: [{ name: 'data', emptyDir: {} }] as Array<Record<string, unknown>>, restartPolicy: 'Always' } as Record<string, unknown>,
    },
  },
});
type Deployment = ReturnType<typeof deployment>;
const templateSpec = (d: Deployment) => d.spec.template.spec as { containers: Array<Record<string, unknown>>; volumes: Array<Record<string, unknown>> } & Record<string, unknown>;
const edit = (base: () => Deployment, change: (d: Deployment) => void): Deployment => {
  const d = base();
  change(d);
  return d;
};
const withSidecar = (): Deployment => edit(deployment, (d) => templateSpec(d).containers.push({ name: 'sidecar', image: 'busybox', command: ['sleep', '3600'] }));

const kubectlCases: Array<{ name: string; meta: PatchMeta; original: unknown; patch: unknown; want: unknown }> = [
  {
    name: 'kubectl apply changing an image updates that container and nothing else',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.26', name: 'nginx' }] } } } },
    want: edit(deployment, (d) => (templateSpec(d).containers[0]!.image = 'nginx:1.26')),
  },
  {
    name: 'kubectl apply removing a container deletes it by name',
    meta: deploymentMeta,
    original: withSidecar(),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } } } },
    want: deployment(),
  },
  {
    name: 'kubectl apply adding a container puts it where $setElementOrder says',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'init' }, { name: 'nginx' }], containers: [{ image: 'busybox', name: 'init' }] } } } },
    want: edit(deployment, (d) => templateSpec(d).containers.unshift({ image: 'busybox', name: 'init' })),
  },
  {
    name: 'kubectl apply removing a label sends null for it and refreshes the last-applied annotation',
    meta: deploymentMeta,
    original: deployment(),
    patch: { metadata: { annotations: { [LAST_APPLIED]: '{"new":true}' }, labels: { tier: null } }, spec: { template: { metadata: { labels: { tier: null } } } } },
    want: edit(deployment, (d) => {
      d.metadata.annotations[LAST_APPLIED] = '{"new":true}';
      delete d.metadata.labels.tier;
      delete d.spec.template.metadata.labels.tier;
    }),
  },
  {
    name: 'kubectl edit changing replicas and one env var merges env by name in the given order',
    meta: deploymentMeta,
    original: deployment(),
    patch: {
      spec: {
        replicas: 3,
        template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'B', value: '20' }], name: 'nginx' }] } },
      },
    },
    want: edit(deployment, (d) => {
      d.spec.replicas = 3;
      templateSpec(d).containers[0]!.env = [{ name: 'A', value: '1' }, { name: 'B', value: '20' }];
    }),
  },
  {
    name: 'kubectl edit adding a port merges ports by containerPort',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 443 }], name: 'nginx', ports: [{ containerPort: 443, protocol: 'TCP' }] }] } } } },
    want: edit(deployment, (d) => (templateSpec(d).containers[0]!.ports as unknown[]).push({ containerPort: 443, protocol: 'TCP' })),
  },
  {
    name: 'switching RollingUpdate to Recreate with $retainKeys clears rollingUpdate',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: edit(deployment, (d) => (d.spec.strategy = { type: 'Recreate' })),
  },
  {
    name: 'switching RollingUpdate to Recreate also works when rollingUpdate is sent as null',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } },
    want: edit(deployment, (d) => (d.spec.strategy = { type: 'Recreate' })),
  },
  {
    name: 'switching Recreate back to RollingUpdate with $retainKeys keeps the new rollingUpdate',
    meta: deploymentMeta,
    original: edit(deployment, (d) => (d.spec.strategy = { type: 'Recreate' })),
    patch: { spec: { strategy: { $retainKeys: ['rollingUpdate', 'type'], rollingUpdate: { maxSurge: 1 }, type: 'RollingUpdate' } } },
    want: edit(deployment, (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } })),
  },
  {
    name: 'a volume changing source keeps only the keys its $retainKeys lists',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'data' }], volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }] } } } },
    want: edit(deployment, (d) => (templateSpec(d).volumes = [{ name: 'data', configMap: { name: 'cfg' } }])),
  },
  {
    name: 'kubectl apply removing a finalizer uses $deleteFromPrimitiveList',
    meta: deploymentMeta,
    original: deployment(),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'], '$setElementOrder/finalizers': ['example.com/b'] } },
    want: edit(deployment, (d) => (d.metadata.finalizers = ['example.com/b'])),
  },
  {
    name: 'kubectl apply adding a finalizer places it by $setElementOrder',
    meta: deploymentMeta,
    original: deployment(),
    patch: { metadata: { '$setElementOrder/finalizers': ['example.com/a', 'example.com/b', 'example.com/c'], finalizers: ['example.com/c'] } },
    want: edit(deployment, (d) => d.metadata.finalizers.push('example.com/c')),
  },
  {
    name: 'a finalizer patched in without $setElementOrder goes first, as upstream orders a union',
    meta: deploymentMeta,
    original: deployment(),
    patch: { metadata: { finalizers: ['example.com/c', 'example.com/a'] } },
    want: edit(deployment, (d) => (d.metadata.finalizers = ['example.com/c', 'example.com/a', 'example.com/b'])),
  },
  {
    name: 'kubectl patch adding a container without $setElementOrder puts the new one first, as the kubectl patch docs show',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { spec: { containers: [{ name: 'redis', image: 'redis' }] } } } },
    want: edit(deployment, (d) => templateSpec(d).containers.unshift({ name: 'redis', image: 'redis' })),
  },
  {
    name: '$patch: replace in the containers list replaces the whole list',
    meta: deploymentMeta,
    original: withSidecar(),
    patch: { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } },
    want: edit(deployment, (d) => (templateSpec(d).containers = [{ name: 'only', image: 'x' }])),
  },
  {
    name: '$patch: replace on a map replaces its keys',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { metadata: { labels: { $patch: 'replace', app: 'web', track: 'canary' } } } } },
    want: edit(deployment, (d) => (d.spec.template.metadata.labels = { app: 'web', track: 'canary' })),
  },
  {
    name: '$patch: delete on a map leaves it empty',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { selector: { matchLabels: { $patch: 'delete' } } } },
    want: edit(deployment, (d) => (d.spec.selector.matchLabels = {} as never)),
  },
  {
    name: '$patch: merge on a map is the ordinary merge',
    meta: deploymentMeta,
    original: deployment(),
    patch: { metadata: { labels: { $patch: 'merge', track: 'stable' } } },
    want: edit(deployment, (d) => (d.metadata.labels.track = 'stable')),
  },
  {
    name: 'a field absent from the live object is stored without nulls or directives',
    meta: deploymentMeta,
    original: deployment(),
    patch: { spec: { template: { spec: { securityContext: { runAsUser: 1000, fsGroup: null, '$setElementOrder/sysctls': [{ name: 'a' }], sysctls: [{ name: 'a', value: '1' }, { $patch: 'delete', name: 'b' }] } } } } },
    want: edit(deployment, (d) => (templateSpec(d).securityContext = { runAsUser: 1000, sysctls: [{ name: 'a', value: '1' }] })),
  },
  {
    name: 'a list without a merge strategy, like tolerations, is replaced whole',
    meta: podMeta,
    original: { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } },
    patch: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
    want: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
  },
  {
    name: 'the kubelet status patch merges conditions by type',
    meta: podMeta,
    original: { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] } },
    patch: { status: { '$setElementOrder/conditions': [{ type: 'PodScheduled' }, { type: 'Initialized' }, { type: 'Ready' }], conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }], phase: 'Running' } },
    want: { status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }] } },
  },
  {
    name: 'ownerReferences merge by uid',
    meta: podMeta,
    original: { metadata: { ownerReferences: [{ uid: 'rs-1', kind: 'ReplicaSet', name: 'web-1', controller: true }] } },
    patch: { metadata: { ownerReferences: [{ uid: 'rs-1', controller: null }, { uid: 'x-2', kind: 'Thing', name: 'x' }] } },
    want: { metadata: { ownerReferences: [{ uid: 'rs-1', kind: 'ReplicaSet', name: 'web-1' }, { uid: 'x-2', kind: 'Thing', name: 'x' }] } },
  },
  {
    name: 'kubectl apply adding a service port merges ports by port',
    meta: serviceMeta,
    original: { spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } },
    patch: { spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 443 }], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }] } },
    want: { spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }] } },
  },
  {
    name: 'a null patch changes nothing',
    meta: deploymentMeta,
    original: deployment(),
    patch: null,
    want: deployment(),
  },
];

describe('applyStrategicMergePatch applies what kubectl and the controllers send', () => {
  for (const c of kubectlCases) {
    it(c.name, () => {
      const original = structuredClone(c.original);
      const patch = structuredClone(c.patch);
      assert.deepEqual(applyStrategicMergePatch(original, patch, c.meta), c.want);
      assert.deepEqual(original, c.original, 'the original is not mutated');
      assert.deepEqual(patch, c.patch, 'the patch is not mutated');
    });
  }

  it('keys that merely start with $, like $ref in a CRD schema, are ordinary fields', () => {
    const original = { spec: { schema: { $ref: '#/a', type: 'object' } } };
    assert.deepEqual(applyStrategicMergePatch(original, { spec: { schema: { $ref: '#/b', $schema: 's' } } }, EMPTY_PATCH_META), { spec: { schema: { $ref: '#/b', $schema: 's', type: 'object' } } });
  });

  it('the result shares nothing with the patch', () => {
    const patch = { metadata: { labels: { a: 'b' } } };
    const out = applyStrategicMergePatch({ metadata: {} }, patch, deploymentMeta) as typeof patch;
    out.metadata.labels.a = 'changed';
    assert.equal(patch.metadata.labels.a, 'b');
  });
});

const refusals: Array<{ name: string; original?: unknown; patch: unknown; code: number; message: string }> = [
  { name: 'an unknown $patch on a map is a 400 that names it', patch: { spec: { template: { $patch: 'explode' } } }, code: 400, message: 'unknown patch type: explode in map: map[$patch:explode]' },
  {
    name: 'an unknown $patch on a list element is a 400 that names it',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'explode' }] } } } },
    code: 400,
    message: 'unknown patch type: explode in map: map[$patch:explode name:nginx]',
  },
  { name: '$patch: merge inside a list is refused', patch: { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } }, code: 400, message: 'merging lists cannot yet be specified in the patch' },
  { name: 'a $retainKeys that is not a list is refused', patch: { spec: { strategy: { $retainKeys: 'type', type: 'Recreate' } } }, code: 400, message: 'invalid patch format of retainKeys' },
  {
    name: 'a patch setting a key its $retainKeys does not keep is refused',
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    code: 400,
    message: 'invalid patch format of retainKeys',
  },
  { name: 'a $setElementOrder that is not a list is refused', patch: { metadata: { '$setElementOrder/finalizers': 'x' } }, code: 400, message: 'expected a []interface {}, but received a string' },
  { name: 'a $setElementOrder naming no list is refused', patch: { metadata: { $setElementOrder: ['x'] } }, code: 400, message: 'invalid patch format of setElementOrder list' },
  { name: 'a $deleteFromPrimitiveList naming no list is refused', patch: { metadata: { $deleteFromPrimitiveList: ['x'] } }, code: 400, message: 'invalid patch format of primitive list' },
  {
    name: 'a list element without its merge key is refused',
    patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
    code: 400,
    message: 'map: map[image:x] does not contain declared merge key: name',
  },
  {
    name: 'a merged list whose elements differ in kind is refused',
    patch: { metadata: { finalizers: [{ a: 1 }] } },
    code: 400,
    message: 'list element types are not identical: [[example.com/a example.com/b] [map[a:1]]]',
  },
  { name: 'lists of lists are 422, as the API server answers', original: { metadata: { finalizers: [] } }, patch: { metadata: { finalizers: [['a']] } }, code: 422, message: 'the server rejected our request due to an error in our request' },
  { name: 'a patch that is not an object is refused as the decoder words it', patch: ['a'], code: 400, message: 'json: cannot unmarshal array into Go value of type map[string]interface {}' },
];

describe('applyStrategicMergePatch refuses malformed patches with a Status', () => {
  for (const c of refusals) {
    it(c.name, () => {
      assert.throws(
        () => applyStrategicMergePatch(c.original ?? deployment(), c.patch, deploymentMeta),
        (e: unknown) => {
          assert.ok(isStatusError(e), `expected a StatusError, got ${String(e)}`);
          assert.equal(e.status.code, c.code);
          assert.equal(e.status.message, c.message);
          return true;
        },
      );
    });
  }
});
