// The generated schemas (descriptions, refs, Kubernetes' extensions), the patch metadata read
// from them, and the strict decoding checks worded as kube-apiserver's decoder words them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESOURCES } from '../../src/api/kinds.js';
import { allSchemas, checkFields, decodeProblems, patchMetaFor, resolveRef, schemaFor, type JsonSchema } from '../../src/api/schema.js';
import { apiVersionOf } from '../../src/api/types.js';

const S = allSchemas();
const prop = (schema: string, field: string): JsonSchema => {
  const p = S[schema]?.properties?.[field];
  assert.ok(p, `${schema}.${field} missing`);
  return p;
};

describe('generated schemas', () => {
  it('every served kind and its list has a schema carrying its group-version-kind', () => {
    for (const r of RESOURCES) {
      for (const kind of [r.kind, r.listKind]) {
        const s = schemaFor(apiVersionOf(r.group, r.version), kind);
        assert.ok(s, `${kind} has no schema`);
        assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: r.group, kind, version: r.version }]);
        assert.ok(s.description, `${kind} has no description`);
      }
    }
  });

  it('Scale, Status and DeleteOptions are there with their kinds', () => {
    assert.ok(schemaFor('autoscaling/v1', 'Scale'));
    assert.ok(schemaFor('v1', 'Status'));
    assert.ok(schemaFor('apps/v1', 'DeleteOptions'));
  });

  it('every $ref points to an emitted schema', () => {
    const dangling: string[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(visit);
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && !resolveRef(x)) dangling.push(x);
        else visit(x);
      }
    };
    visit(S);
    assert.deepEqual(dangling, []);
  });

  it("Deployment's spec.strategy is described and refers to DeploymentStrategy through allOf", () => {
    const strategy = prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy');
    assert.equal(strategy.description, 'The deployment strategy to use to replace existing pods with new ones.');
    assert.deepEqual(strategy.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }]);
    assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.ok(S['io.k8s.api.apps.v1.DeploymentStrategy']?.properties?.rollingUpdate?.description);
  });

  it('PodSpec.containers merges by name and is a map list keyed by name', () => {
    const c = prop('io.k8s.api.core.v1.PodSpec', 'containers');
    assert.equal(c['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(c['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(c['x-kubernetes-list-type'], 'map');
    assert.deepEqual(c['x-kubernetes-list-map-keys'], ['name']);
    assert.deepEqual(c.items, { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' });
    assert.deepEqual(S['io.k8s.api.core.v1.PodSpec']?.required, ['containers']);
  });

  it('container ports are keyed by containerPort and protocol', () => {
    assert.deepEqual(prop('io.k8s.api.core.v1.Container', 'ports')['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  });

  it('integers are int32 unless Kubernetes declares int64', () => {
    assert.equal(prop('io.k8s.api.apps.v1.DeploymentSpec', 'replicas').format, 'int32');
    assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'terminationGracePeriodSeconds').format, 'int64');
    assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'generation').format, 'int64');
    assert.equal(prop('io.k8s.api.core.v1.PodSecurityContext', 'supplementalGroups').items?.format, 'int64');
  });

  it('maps use additionalProperties, and Secret data values are bytes', () => {
    assert.deepEqual(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'labels').additionalProperties, { type: 'string' });
    assert.deepEqual(prop('io.k8s.api.core.v1.Secret', 'data').additionalProperties, { format: 'byte', type: 'string' });
    assert.deepEqual(prop('io.k8s.api.core.v1.ResourceRequirements', 'limits').additionalProperties, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  });

  it('Time is a date-time string, IntOrString and Quantity take either form', () => {
    assert.equal(S['io.k8s.apimachinery.pkg.apis.meta.v1.Time']?.format, 'date-time');
    const ios = S['io.k8s.apimachinery.pkg.util.intstr.IntOrString'];
    assert.equal(ios?.['x-kubernetes-int-or-string'], true);
    assert.equal(ios?.format, 'int-or-string');
    assert.deepEqual(S['io.k8s.apimachinery.pkg.api.resource.Quantity']?.oneOf, [{ type: 'string' }, { type: 'number' }]);
  });

  it('atomic structs say so on their own schema', () => {
    assert.equal(S['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']?.['x-kubernetes-map-type'], 'atomic');
    assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'nodeSelector')['x-kubernetes-map-type'], 'atomic');
  });

  it('apiVersion and kind are plain strings, not enums', () => {
    assert.deepEqual(prop('io.k8s.api.apps.v1.Deployment', 'kind').type, 'string');
    assert.equal(prop('io.k8s.api.apps.v1.Deployment', 'kind').enum, undefined);
  });
});

describe('patchMetaFor', () => {
  const podSpec = () => patchMetaFor('apps/v1', 'Deployment').field('spec').field('template').field('spec');

  it('follows refs down to a list and its items', () => {
    assert.deepEqual(podSpec().field('containers').info(), { strategy: ['merge'], mergeKey: 'name', listType: 'map', listMapKeys: ['name'] });
    assert.deepEqual(podSpec().field('containers').item().field('env').info().mergeKey, 'name');
    assert.deepEqual(podSpec().field('volumes').info().strategy, ['merge', 'retainKeys']);
  });

  it('reads struct-level map types through the field that refers to the struct', () => {
    assert.equal(patchMetaFor('apps/v1', 'Deployment').field('spec').field('selector').info().mapType, 'atomic');
  });

  it('lets a field override its type (claimRef is granular though ObjectReference is atomic)', () => {
    assert.equal(patchMetaFor('v1', 'PersistentVolume').field('spec').field('claimRef').info().mapType, 'granular');
  });

  it('declares nothing for undeclared lists and unknown fields', () => {
    assert.deepEqual(podSpec().field('containers').item().field('command').info(), { strategy: [], listType: 'atomic' });
    assert.deepEqual(podSpec().field('nope').info(), { strategy: [] });
    assert.deepEqual(patchMetaFor('v9', 'Nothing').field('spec').info(), { strategy: [] });
  });

  it('is memoized: the same node comes back', () => {
    assert.equal(podSpec().field('containers'), podSpec().field('containers'));
  });
});

describe('checkFields', () => {
  const deploy = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec, ...extra });
  const cases: { name: string; obj: unknown; apiVersion?: string; kind?: string; want: string[] }[] = [
    { name: 'a well-formed Deployment has no problems', obj: deploy({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] } } }), want: [] },
    { name: 'an unknown field is reported with its path', obj: deploy({ foo: 1 }), want: ['unknown field "spec.foo"'] },
    { name: 'unknown fields inside list items carry the index', obj: deploy({ template: { spec: { containers: [{ name: 'a' }, { name: 'b', imagePullPolicyx: 'Always' }] } } }), want: ['unknown field "spec.template.spec.containers[1].imagePullPolicyx"'] },
    { name: 'metadata, top-level and status fields are checked too', obj: deploy({}, { metadata: { name: 'x', nam: 'y' }, extra: true, status: { replicas: 1, foo: 2 } }), want: ['unknown field "metadata.nam"', 'unknown field "extra"', 'unknown field "status.foo"'] },
    { name: 'field names are case-sensitive', obj: deploy({ Replicas: 1 }), want: ['unknown field "spec.Replicas"'] },
    { name: 'a string replicas is a type error naming the Go struct and type', obj: deploy({ replicas: '3' }), want: ['json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'] },
    { name: 'a type error hides the unknown fields, as the object cannot be decoded', obj: deploy({ foo: 1, replicas: true }), want: ['json: cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32'] },
    { name: 'a fractional integer names the number', obj: deploy({ replicas: 1.5 }), want: ['json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32'] },
    { name: 'type errors in list items drop the index from the Go path', obj: deploy({ template: { spec: { containers: [{ name: 'a', image: 5 }] } } }), want: ['json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string'] },
    { name: 'an object where a list belongs names the slice type', obj: deploy({ template: { spec: { containers: { name: 'a' } } } }), want: ['json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container'] },
    { name: 'a string where a struct belongs names the struct type', obj: deploy({ strategy: 'Recreate' }), want: ['json: cannot unmarshal string into Go struct field DeploymentSpec.spec.strategy of type v1.DeploymentStrategy'] },
    { name: 'IntOrString accepts both forms', obj: deploy({ strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } } }), want: [] },
    { name: 'IntOrString refuses a bool as an int32', obj: deploy({ strategy: { rollingUpdate: { maxSurge: true } } }), want: ['json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32'] },
    { name: 'quantities take strings and numbers', obj: deploy({ template: { spec: { containers: [{ name: 'a', resources: { limits: { cpu: '500m', memory: 1024 } } }] } } }), want: [] },
    { name: 'a malformed quantity fails as upstream parses it', obj: deploy({ template: { spec: { containers: [{ name: 'a', resources: { requests: { cpu: 'lots' } } }] } } }), want: ["quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"] },
    { name: 'maps accept any key but check their values', obj: { metadata: { name: 'c', labels: { 'any/key': 'v' } }, data: { k: 1 } }, apiVersion: 'v1', kind: 'ConfigMap', want: ['json: cannot unmarshal number into Go struct field ConfigMap.data of type string'] },
    { name: 'null is accepted anywhere', obj: deploy({ replicas: null, template: null }), want: [] },
    { name: 'opaque fields (managedFields.fieldsV1, ControllerRevision data) accept anything', obj: { metadata: { name: 'r', managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { '.': {} } } }] }, data: { anything: [1, 'x'] }, revision: 1 }, apiVersion: 'apps/v1', kind: 'ControllerRevision', want: [] },
    { name: 'a top-level array cannot be a Deployment', obj: [], want: ['json: cannot unmarshal array into Go value of type v1.Deployment'] },
    { name: 'unknown kinds are not checked', obj: { anything: 1 }, apiVersion: 'example.com/v1', kind: 'Widget', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(checkFields(c.obj, c.apiVersion ?? 'apps/v1', c.kind ?? 'Deployment'), c.want));
  }

  it('decodeProblems keeps the unknown fields next to the type error', () => {
    const p = decodeProblems(deploy({ foo: 1, replicas: 'x' }), 'apps/v1', 'Deployment');
    assert.equal(p.typeError, 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    assert.deepEqual(p.unknownFields, ['unknown field "spec.foo"']);
  });
});
