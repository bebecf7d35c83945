// /openapi/v2 as kubectl 1.27 and 1.28 read it: a gnostic openapi_v2.Document protobuf whose
// definitions carry descriptions, types, GVKs and patch metadata (explain, client-side
// validation and strategic merge patches are computed from them), and whose PATCH operations
// say, by GVK, that the server takes fieldValidation. Decoded here with protobufjs against the
// same vendored .proto, the way client-go's proto.Unmarshal reads it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { RESOURCES } from '../../src/api/kinds.js';
import { allSchemas, type JsonSchema } from '../../src/api/schema.js';
import { decodeGnosticDocument, encodeGnosticDocument, yamlText } from '../../src/apiserver/gnostic.js';
import { negotiateOpenApiV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_ACCEPT, openApiV2, openApiV2Response, toV2Schema } from '../../src/apiserver/openapi-v2.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';

type Pb = any;

const decoded = (): Pb => decodeGnosticDocument(openApiV2().protobuf);
const named = (pairs: Pb[] | undefined, name: string): Pb => pairs?.find((p) => p.name === name)?.value;
const ext = (s: Pb, name: string): unknown => {
  const yaml = named(s.vendor_extension, name)?.yaml;
  return yaml === undefined ? undefined : parse(yaml);
};
const definition = (doc: Pb, name: string): Pb => named(doc.definitions.additional_properties, name);
const property = (s: Pb, name: string): Pb => named(s.properties?.additional_properties, name);
const V3 = '#/components/schemas/';

describe('OpenAPI v2 document', () => {
  test('the protobuf decodes as a Swagger 2.0 document describing Kubernetes', () => {
    const doc = decoded();
    assert.equal(doc.swagger, '2.0');
    assert.equal(doc.info.title, 'Kubernetes');
    assert.match(doc.info.version, /^v1\.\d+\.\d+$/);
    assert.equal(named(doc.security_definitions.additional_properties, 'BearerToken').api_key_security.type, 'apiKey');
  });

  test('every schema is a definition, and protobuf and JSON list the same ones', () => {
    const doc = decoded();
    const names = doc.definitions.additional_properties.map((p: Pb) => p.name);
    assert.deepEqual(names, Object.keys(allSchemas()).sort());
    assert.deepEqual(Object.keys(JSON.parse(openApiV2().json).definitions), names);
  });

  test('every served kind has a definition carrying its GVK and a description', () => {
    const doc = decoded();
    const byGvk = new Map<string, Pb>();
    for (const { value } of doc.definitions.additional_properties) {
      for (const g of (ext(value, 'x-kubernetes-group-version-kind') as { group: string; version: string; kind: string }[] | undefined) ?? []) byGvk.set(`${g.group}/${g.version}/${g.kind}`, value);
    }
    for (const r of RESOURCES) {
      const s = byGvk.get(`${r.group}/${r.version}/${r.kind}`);
      assert.ok(s, `no definition for ${r.group}/${r.version} ${r.kind}`);
      assert.ok(s.description, `${r.kind} has no description`);
      assert.deepEqual(s.type.value, ['object']);
    }
  });

  test('fields keep descriptions, types, formats and references into #/definitions', () => {
    const doc = decoded();
    const dep = definition(doc, 'io.k8s.api.apps.v1.Deployment');
    assert.equal(dep.description, 'Deployment enables declarative updates for Pods and ReplicaSets.');
    const spec = property(dep, 'spec');
    assert.equal(spec._ref, '#/definitions/io.k8s.api.apps.v1.DeploymentSpec', 'the v3 allOf wrapper became the $ref itself');
    assert.equal(spec.description, 'Specification of the desired behavior of the Deployment.');
    assert.equal(spec.all_of.length, 0);
    const replicas = property(definition(doc, 'io.k8s.api.apps.v1.DeploymentSpec'), 'replicas');
    assert.deepEqual(replicas.type.value, ['integer']);
    assert.equal(replicas.format, 'int32');
    assert.match(replicas.description, /Number of desired pods/);
  });

  test('patch and list metadata travel as vendor extensions in YAML', () => {
    const doc = decoded();
    const containers = property(definition(doc, 'io.k8s.api.core.v1.PodSpec'), 'containers');
    assert.equal(ext(containers, 'x-kubernetes-patch-merge-key'), 'name');
    assert.equal(ext(containers, 'x-kubernetes-patch-strategy'), 'merge');
    assert.equal(ext(containers, 'x-kubernetes-list-type'), 'map');
    assert.deepEqual(ext(containers, 'x-kubernetes-list-map-keys'), ['name']);
    assert.equal(containers.items.schema[0]._ref, '#/definitions/io.k8s.api.core.v1.Container');
    const strategy = property(definition(doc, 'io.k8s.api.apps.v1.DeploymentSpec'), 'strategy');
    assert.equal(ext(strategy, 'x-kubernetes-patch-strategy'), 'retainKeys', 'extensions of an allOf wrapper stay beside the $ref');
  });

  test('int-or-string and quantities are strings, as Swagger 2.0 has no oneOf', () => {
    const doc = decoded();
    const ios = definition(doc, 'io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.deepEqual(ios.type.value, ['string']);
    assert.equal(ios.format, 'int-or-string');
    assert.deepEqual(definition(doc, 'io.k8s.apimachinery.pkg.api.resource.Quantity').type.value, ['string']);
  });

  test('every reference resolves to a definition', () => {
    const json = JSON.parse(openApiV2().json);
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (k === '$ref' ? refs.push(x as string) : walk(x));
    };
    walk(json);
    assert.ok(refs.length > 100);
    for (const r of refs) {
      assert.ok(r.startsWith('#/definitions/'), `${r} points outside the definitions`);
      assert.ok(json.definitions[r.slice('#/definitions/'.length)], `${r} is missing`);
    }
    assert.doesNotMatch(openApiV2().json, /"(allOf|oneOf)":/, 'no v3-only wrappers left');
  });

  test('each kind has a PATCH operation with its GVK and a fieldValidation parameter', () => {
    const doc = decoded();
    for (const r of RESOURCES.filter((x) => x.verbs.includes('patch'))) {
      const ops = doc.paths.path.map((p: Pb) => p.value.patch).filter(Boolean);
      const op = ops.find((o: Pb) => {
        const g = ext(o, 'x-kubernetes-group-version-kind') as Record<string, string>;
        return g.group === r.group && g.version === r.version && g.kind === r.kind;
      });
      assert.ok(op, `no PATCH operation for ${r.kind}`);
      const names = op.parameters.map((p: Pb) => p.parameter?.non_body_parameter?.query_parameter_sub_schema?.name).filter(Boolean);
      assert.ok(names.includes('fieldValidation'), `${r.kind} PATCH lacks fieldValidation: ${names}`);
      assert.equal(op.parameters[0].parameter.body_parameter.schema._ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
      assert.ok(op.consumes.includes('application/strategic-merge-patch+json'));
    }
    const item = named(doc.paths.path, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}');
    assert.equal(item.get.responses.response_code.find((r: Pb) => r.name === '200').value.response.schema.schema._ref, '#/definitions/io.k8s.api.apps.v1.Deployment');
    const pathParams = item.parameters.map((p: Pb) => p.parameter.non_body_parameter.path_parameter_sub_schema?.name).filter(Boolean);
    assert.deepEqual(pathParams, ['name', 'namespace']);
  });
});

describe('v3 schema to v2', () => {
  const cases: [string, JsonSchema, JsonSchema][] = [
    ['a reference moves from components to definitions', { $ref: `${V3}a.B` }, { $ref: '#/definitions/a.B' }],
    ['an allOf wrapper becomes the reference with its description and extensions beside it', { allOf: [{ $ref: `${V3}a.B` }], description: 'd', 'x-kubernetes-patch-strategy': 'retainKeys' }, { $ref: '#/definitions/a.B', description: 'd', 'x-kubernetes-patch-strategy': 'retainKeys' }],
    ['an allOf of several schemas stays an allOf', { allOf: [{ $ref: `${V3}a.B` }, { $ref: `${V3}a.C` }] }, { allOf: [{ $ref: '#/definitions/a.B' }, { $ref: '#/definitions/a.C' }] }],
    ['nested properties, items and map values are converted', { type: 'object', properties: { l: { type: 'array', items: { $ref: `${V3}a.B` } }, m: { type: 'object', additionalProperties: { $ref: `${V3}a.C` } } } }, { type: 'object', properties: { l: { type: 'array', items: { $ref: '#/definitions/a.B' } }, m: { type: 'object', additionalProperties: { $ref: '#/definitions/a.C' } } } }],
    ['int-or-string becomes a string with its format and without the v3 marker', { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true }, { format: 'int-or-string', type: 'string' }],
    ['plain fields are kept as they are', { type: 'string', format: 'byte', description: 'x', enum: ['A'] }, { type: 'string', format: 'byte', description: 'x', enum: ['A'] }],
  ];
  for (const [name, input, want] of cases) test(name, () => assert.deepEqual(toV2Schema(input), want));
});

describe('gnostic encoding', () => {
  test('vendor extension values are YAML text that quotes what YAML 1.1 would misread', () => {
    assert.equal(yamlText([{ group: '', kind: 'Deployment', version: 'v1' }]), '- group: ""\n  kind: Deployment\n  version: v1\n');
    assert.equal(yamlText('yes'), '"yes"\n');
  });

  test('a key gnostic has no field for is refused rather than dropped', () => {
    assert.throws(() => encodeGnosticDocument({ swagger: '2.0', definitions: { A: { type: 'object', nullable: true } } }), /has no field for "nullable"/);
  });

  test('free-form values, boolean additionalProperties and responses by reference round-trip', () => {
    const bytes = encodeGnosticDocument({
      swagger: '2.0',
      definitions: { A: { type: 'object', default: { a: 1 }, enum: ['x'], additionalProperties: false } },
      paths: { '/p': { get: { responses: { '200': { $ref: '#/responses/R' } } } }, 'x-p': 1 },
    });
    const doc = decodeGnosticDocument(bytes) as Pb;
    const a = definition(doc, 'A');
    assert.equal(a.default.yaml, 'a: 1\n');
    assert.equal(a.enum[0].yaml, 'x\n');
    assert.equal(a.additional_properties.boolean, false);
    assert.equal(named(doc.paths.path, '/p').get.responses.response_code[0].value.json_reference._ref, '#/responses/R');
    assert.equal(doc.paths.vendor_extension[0].name, 'x-p');
  });
});

describe('GET /openapi/v2', () => {
  const negotiation: [string, string | undefined, ReturnType<typeof negotiateOpenApiV2>][] = [
    ["client-go's Accept gets protobuf", OPENAPI_V2_PROTOBUF_ACCEPT, 'protobuf'],
    ['the dotted spelling gets protobuf too', OPENAPI_V2_PROTOBUF, 'protobuf'],
    ['no Accept gets JSON', undefined, 'json'],
    ['a wildcard gets JSON', '*/*', 'json'],
    ['application/* gets JSON', 'application/*', 'json'],
    ['a higher q wins over order', `application/json;q=0.5, ${OPENAPI_V2_PROTOBUF_ACCEPT}`, 'protobuf'],
    ['an exact type wins over a wildcard of the same q', `*/*, ${OPENAPI_V2_PROTOBUF_ACCEPT}`, 'protobuf'],
    ['an unrelated type is not acceptable', 'text/html', undefined],
    ['q=0 refuses a type', 'application/json;q=0', undefined],
  ];
  for (const [name, accept, want] of negotiation) test(name, () => assert.equal(negotiateOpenApiV2(accept), want));

  test('answers protobuf with the quoted ETag, and 304 when the client has it', () => {
    const r = openApiV2Response(OPENAPI_V2_PROTOBUF_ACCEPT, undefined);
    assert.equal(r.status, 200);
    assert.equal(r.headers['Content-Type'], OPENAPI_V2_PROTOBUF);
    assert.equal(r.headers.ETag, `"${openApiV2().etag}"`);
    assert.deepEqual(r.body, openApiV2().protobuf);
    const again = openApiV2Response(OPENAPI_V2_PROTOBUF_ACCEPT, r.headers.ETag);
    assert.equal(again.status, 304);
    assert.equal(again.body, undefined);
    assert.equal(openApiV2Response('text/html', undefined).status, 406);
  });

  describe('over HTTPS', () => {
    let srv: ApiServer;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'skiff-openapi-v2-'));
      srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    });
    after(async () => {
      await srv?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; type: string; etag: string; body: Buffer }>((res, rej) => {
        const req = request(`${srv.url}/openapi/v2?timeout=32s`, { ca: srv.pki.caPem, headers: { Authorization: `Bearer ${srv.pki.adminToken}`, ...headers } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => res({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), etag: String(r.headers.etag), body: Buffer.concat(chunks) }));
        });
        req.on('error', rej);
        req.end();
      });

    test('serves what kubectl asks for, JSON otherwise, and honours If-None-Match', async () => {
      const pb = await get({ Accept: OPENAPI_V2_PROTOBUF_ACCEPT });
      assert.equal(pb.status, 200);
      assert.equal(pb.type, OPENAPI_V2_PROTOBUF);
      assert.equal((decodeGnosticDocument(pb.body) as Pb).swagger, '2.0');
      const json = await get({});
      assert.equal(json.type, 'application/json');
      assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
      assert.equal((await get({ Accept: OPENAPI_V2_PROTOBUF_ACCEPT, 'If-None-Match': pb.etag })).status, 304);
    });
  });
});
