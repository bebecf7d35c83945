// The /openapi/v3 documents as kubectl reads them: the root lists every served group/version
// with a hash equal to the document's etag; each document has the paths kubectl's query-param
// verifier and `explain` look for, and every schema those paths reference.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { groupVersions, RESOURCES } from '../../src/api/kinds.js';
import { openApiV3Document, openApiV3Root } from '../../src/apiserver/openapi.js';

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
const gvPath = (group: string, version: string) => (group === '' ? `api/${version}` : `apis/${group}/${version}`);
const docOf = (path: string): Doc => {
  const d = openApiV3Document(path);
  assert.ok(d, `no document ${path}`);
  return JSON.parse(d.body) as Doc;
};

describe('openApiV3Root', () => {
  const root = JSON.parse(openApiV3Root().body) as { paths: Record<string, { serverRelativeURL: string }> };

  it('lists every served group/version, in discovery order', () => {
    assert.deepEqual(Object.keys(root.paths), groupVersions().map((gv) => gvPath(gv.group, gv.version)));
  });

  it("points at each document with a hash equal to the document's etag", () => {
    for (const [path, entry] of Object.entries(root.paths)) {
      const doc = openApiV3Document(path);
      assert.ok(doc);
      assert.equal(entry.serverRelativeURL, `/openapi/v3/${path}?hash=${doc.etag}`);
      assert.equal(doc.etag, createHash('sha512').update(doc.body).digest('hex').toUpperCase());
    }
  });

  it('serves the same strings on every call', () => {
    assert.equal(openApiV3Root(), openApiV3Root());
    assert.equal(openApiV3Document('apis/apps/v1'), openApiV3Document('/apis/apps/v1'));
  });

  it('knows nothing of unserved group/versions', () => {
    assert.equal(openApiV3Document('apis/example.com/v1'), undefined);
    assert.equal(openApiV3Document('apis/autoscaling/v1'), undefined);
  });
});

describe('openApiV3Document', () => {
  it('is an OpenAPI 3.0 document whose every $ref resolves within it', () => {
    for (const gv of groupVersions()) {
      const doc = docOf(gvPath(gv.group, gv.version));
      assert.equal(doc.openapi, '3.0.0');
      const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
      for (const r of refs) assert.ok(doc.components.schemas[r.slice('"$ref":"#/components/schemas/'.length, -1)], `${gv.group}/${gv.version}: dangling ${r}`);
    }
  });

  it('gives every kind a PATCH with its GVK, a fieldValidation parameter and no strategic merge body', () => {
    for (const r of RESOURCES.filter((x) => x.verbs.includes('patch'))) {
      const doc = docOf(gvPath(r.group, r.version));
      const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const path = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}/{name}` : `${prefix}/${r.plural}/{name}`;
      const patch = doc.paths[path]?.patch;
      assert.ok(patch, `${r.kind}: no PATCH at ${path}`);
      assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: r.group, kind: r.kind, version: r.version });
      assert.ok(patch.parameters.some((p: { name: string }) => p.name === 'fieldValidation'), `${r.kind}: no fieldValidation`);
      assert.deepEqual(Object.keys(patch.requestBody.content).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
    }
  });

  it('has the collection, item and cross-namespace paths kubectl explain searches for a GVK', () => {
    const doc = docOf('apis/apps/v1');
    assert.equal(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments']?.get?.['x-kubernetes-action'], 'list');
    assert.equal(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments']?.post?.operationId, 'createAppsV1NamespacedDeployment');
    assert.equal(doc.paths['/apis/apps/v1/deployments']?.get?.operationId, 'listAppsV1DeploymentForAllNamespaces');
    assert.equal(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.get?.operationId, 'readAppsV1NamespacedDeployment');
    const core = docOf('api/v1');
    assert.equal(core.paths['/api/v1/nodes/{name}']?.put?.operationId, 'replaceCoreV1Node');
    assert.equal(core.paths['/api/v1/namespaces/{name}/status']?.patch?.operationId, 'patchCoreV1NamespaceStatus');
  });

  it('only offers the verbs a resource serves', () => {
    const core = docOf('api/v1');
    assert.equal(core.paths['/api/v1/namespaces']?.delete, undefined, 'namespaces have no deletecollection');
    assert.ok(core.paths['/api/v1/namespaces/{namespace}/services']?.delete);
  });

  it('routes scale subresources to autoscaling/v1 Scale and includes its schema', () => {
    const doc = docOf('apis/apps/v1');
    const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.patch;
    assert.deepEqual(scale?.['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    assert.deepEqual(doc.components.schemas['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }]);
  });

  it('carries the schemas kubectl explain walks for deployment.spec.strategy', () => {
    const s = docOf('apis/apps/v1').components.schemas;
    const deployment = Object.values(s).find((x) => x['x-kubernetes-group-version-kind']?.some((g: { kind: string }) => g.kind === 'Deployment'));
    assert.ok(deployment);
    const specRef: string = deployment.properties.spec.allOf[0].$ref;
    const strategyRef: string = s[specRef.split('/').pop()!].properties.strategy.allOf[0].$ref;
    assert.match(s[strategyRef.split('/').pop()!].description, /DeploymentStrategy describes how to replace existing pods with new ones/);
  });

  it('keeps documents to the schemas they reference', () => {
    const lease = docOf('apis/coordination.k8s.io/v1').components.schemas;
    assert.equal(lease['io.k8s.api.core.v1.PodSpec'], undefined);
    assert.ok(lease['io.k8s.api.coordination.v1.Lease']);
  });
});
