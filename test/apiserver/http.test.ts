// The HTTPS surface: every failure is a Kubernetes Status with the right code (400 malformed
// bodies, 401, 404, 405, 409, 413 oversized bodies, 415 unknown content types, 422), content
// negotiation (Tables, aggregated discovery), YAML bodies, strict duplicate detection — and a
// server that keeps serving afterwards with nothing stored lost.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';

interface Res {
  status: number;
  warning: string;
  type: string;
  body: string;
  json(): Record<string, unknown>;
}

describe('HTTP surface', () => {
  let srv: ApiServer;
  let dir: string;
  const agent = new Agent({ keepAlive: true });
  const call = (method: string, path: string, opts: { body?: string | Buffer; type?: string; accept?: string; token?: string | null } = {}): Promise<Res> =>
    new Promise((res, rej) => {
      const headers: Record<string, string> = {};
      if (opts.token !== null) headers.Authorization = `Bearer ${opts.token ?? srv.pki.adminToken}`;
      if (opts.type) headers['Content-Type'] = opts.type;
      if (opts.accept) headers.Accept = opts.accept;
      const req = request(`${srv.url}${path}`, { method, agent, ca: srv.pki.caPem, headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          res({ status: r.statusCode ?? 0, warning: String(r.headers.warning ?? ''), type: String(r.headers['content-type']), body, json: () => JSON.parse(body) as Record<string, unknown> });
        });
      });
      req.on('error', rej);
      req.end(opts.body);
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-http-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
  });
  after(async () => {
    agent.destroy();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cms = '/api/v1/namespaces/default/configmaps';

  test('bad input answers a Status with the right code and reason', async () => {
    const cases: [string, Promise<Res>, number, string, RegExp?][] = [
      ['no credentials', call('GET', cms, { token: null }), 401, 'Unauthorized'],
      ['malformed JSON', call('POST', cms, { body: '{"metadata": {"name": "x"', type: 'application/json' }), 400, 'BadRequest', /json parse error/],
      ['malformed YAML', call('POST', cms, { body: 'metadata: [unclosed', type: 'application/yaml' }), 400, 'BadRequest', /yaml/],
      ['a JSON array where an object belongs', call('POST', cms, { body: '[1,2]', type: 'application/json' }), 400, 'BadRequest'],
      ['an unknown content type', call('POST', cms, { body: 'x', type: 'text/plain' }), 415, 'UnsupportedMediaType'],
      ['an unknown patch type', call('PATCH', `${cms}/x`, { body: '{}', type: 'application/x-patch' }), 415, 'UnsupportedMediaType'],
      ['a body over 3 MiB', call('POST', cms, { body: Buffer.alloc(3 * 1024 * 1024 + 10, 32), type: 'application/json' }), 413, 'RequestEntityTooLarge'],
      ['a method the collection does not allow', call('PUT', cms, { body: '{}', type: 'application/json' }), 405, 'MethodNotAllowed'],
      ['a verb the resource does not have', call('DELETE', '/api/v1/namespaces'), 405, 'MethodNotAllowed'],
      ['an unknown resource', call('GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound', /^the server could not find the requested resource$/],
      ['a missing object', call('GET', `${cms}/nothere`), 404, 'NotFound', /configmaps "nothere" not found/],
      ['a wrong kind in the body', call('POST', cms, { body: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"k"}}', type: 'application/json' }), 400, 'BadRequest', /kind/],
      ['a wrongly typed field', call('POST', cms, { body: '{"metadata":{"name":"t"},"data":{"a":1}}', type: 'application/json' }), 400, 'BadRequest', /cannot unmarshal number/],
      ['an invalid name', call('POST', cms, { body: '{"metadata":{"name":"Not_Valid"}}', type: 'application/json' }), 422, 'Invalid', /metadata\.name: Invalid value: "Not_Valid"/],
      ['a duplicate field under Strict', call('POST', `${cms}?fieldValidation=Strict`, { body: '{"metadata":{"name":"d"},"data":{"a":"1","a":"2"}}', type: 'application/json' }), 400, 'BadRequest', /duplicate field/],
      ['an unknown field under Strict', call('POST', `${cms}?fieldValidation=Strict`, { body: '{"metadata":{"name":"u"},"dta":{}}', type: 'application/json' }), 400, 'BadRequest', /unknown field "dta"/],
      ['a bad label selector', call('GET', `${cms}?labelSelector=a%20in%20(b`), 400, 'BadRequest'],
      ['an unsupported field selector', call('GET', `${cms}?fieldSelector=spec.nodeName%3Dx`), 400, 'BadRequest', /"spec\.nodeName" is not a known field selector: only "metadata\.name", "metadata\.namespace"/],
    ];
    for (const [name, p, code, reason, message] of cases) {
      const r = await p;
      assert.equal(r.status, code, `${name}: ${r.body}`);
      const s = r.json();
      assert.equal(s.kind, 'Status', name);
      assert.equal(s.reason, reason, `${name}: ${r.body}`);
      assert.equal(s.code, code, name);
      if (message) assert.match(String(s.message), message, name);
    }
    // the server keeps serving, and nothing was stored by the failures
    const list = await call('GET', cms);
    assert.equal(list.status, 200);
    assert.deepEqual((list.json().items as unknown[]).length, 0);
  });

  test('an unknown field under Warn is stored without it and reported in a Warning header', async () => {
    const r = await call('POST', `${cms}?fieldValidation=Warn`, { body: '{"metadata":{"name":"warned"},"dta":{}}', type: 'application/json' });
    assert.equal(r.status, 201);
    assert.equal(r.json().dta, undefined, 'unknown fields are dropped, as decoding into Go types drops them');
    assert.equal(r.warning, '299 - "unknown field \\"dta\\""');
  });

  test('YAML bodies are accepted', async () => {
    const r = await call('POST', cms, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', type: 'application/yaml' });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(r.json().data, { a: '1' });
  });

  test('Tables are answered when asked for, with the Kubernetes columns', async () => {
    const r = await call('GET', cms, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    const t = r.json() as { kind: string; apiVersion: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'Data', 'Age']);
    assert.ok(t.rows.some((row) => row.cells[0] === 'from-yaml'));
  });

  test('discovery: aggregated only when asked for, legacy otherwise', async () => {
    const agg = await call('GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    assert.equal(agg.type, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(agg.json().kind, 'APIGroupDiscoveryList');
    const beta = await call('GET', '/api', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' });
    assert.equal(beta.json().apiVersion, 'apidiscovery.k8s.io/v2beta1');
    const legacy = await call('GET', '/apis', { accept: 'application/json' });
    assert.equal(legacy.json().kind, 'APIGroupList');
    const apps = (await call('GET', '/apis/apps/v1')).json() as { resources: { name: string; kind: string; group?: string; version?: string }[] };
    const scale = apps.resources.find((r) => r.name === 'deployments/scale');
    assert.deepEqual({ kind: scale?.kind, group: scale?.group, version: scale?.version }, { kind: 'Scale', group: 'autoscaling', version: 'v1' });
    const core = (await call('GET', '/api/v1')).json() as { resources: { name: string; shortNames?: string[]; categories?: string[]; namespaced: boolean }[] };
    const pods = core.resources.find((r) => r.name === 'pods');
    assert.deepEqual(pods?.shortNames, ['po']);
    assert.deepEqual(pods?.categories, ['all']);
    assert.equal(core.resources.find((r) => r.name === 'nodes')?.namespaced, false);
  });
});
