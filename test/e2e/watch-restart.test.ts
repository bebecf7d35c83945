// `kubectl get -w` streams changes; objects survive Ctrl-C and a restart with the same uid and
// resourceVersion; anonymous requests get 401.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSkiff, type Skiff } from './harness.js';

function waitFor(read: () => string, re: RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((res, rej) => {
    const tick = () => {
      if (re.test(read())) return res();
      if (Date.now() > deadline) return rej(new Error(`timed out waiting for ${re} in:\n${read()}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

function get(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(url, { ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

describe('watch, restart and authentication', () => {
  let s: Skiff;
  before(async () => {
    s = await startSkiff();
  });
  after(async () => {
    await s?.stop();
  });

  test('kubectl get -w streams additions, changes and deletions with table rows', async () => {
    const w = s.kubectlSpawn(['get', 'configmaps', '-w']);
    let out = '';
    w.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await s.kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: "1"\n' })).code, 0);
      await waitFor(() => out, /watched\s+1\s+\d+s/, 15_000);
      assert.equal((await s.kubectl(['patch', 'configmap', 'watched', '--type=merge', '-p', '{"data":{"b":"2"}}'])).code, 0);
      await waitFor(() => out, /watched\s+2\s+\d+s/, 15_000);
      assert.match(out, /NAME\s+DATA\s+AGE/);
      assert.equal(out.match(/NAME\s+DATA\s+AGE/g)!.length, 1, 'the header is printed once');
    } finally {
      w.kill('SIGKILL');
    }
  });

  test('requests without credentials get 401, health endpoints answer', async () => {
    const ca = readFileSync(join(s.dataDir, 'pki', 'ca.crt'), 'utf8');
    const anon = await get(`${s.url}/api/v1/namespaces`, ca);
    assert.equal(anon.status, 401);
    assert.equal(JSON.parse(anon.body).reason, 'Unauthorized');
    const wrong = await get(`${s.url}/api/v1/namespaces`, ca, 'not-the-token');
    assert.equal(wrong.status, 401);
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await get(`${s.url}${p}`, ca);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok');
    }
    const v = JSON.parse((await get(`${s.url}/version`, ca)).body) as { major: string; minor: string; gitVersion: string };
    assert.equal(v.minor, '32');
    assert.match(v.gitVersion, /^v1\.32\./);
  });

  test('objects keep their uid and resourceVersion across a restart, even after kill -9', async () => {
    const keep = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: keep\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: keep}\n  template:\n    metadata:\n      labels: {app: keep}\n    spec:\n      containers:\n      - {name: c, image: nginx:1.25}\n';
    assert.equal((await s.kubectl(['apply', '-f', '-'], { input: keep })).code, 0);
    const before = (await s.kubectl(['get', 'deploy', 'keep', '-o', 'jsonpath={.metadata.uid} {.metadata.resourceVersion}'])).stdout;
    assert.match(before, /^[0-9a-f-]{36} \d+$/);

    assert.equal(await s.kill('SIGTERM'), 0, 'Ctrl-C stops skiff cleanly');
    await s.restart();
    const afterRestart = (await s.kubectl(['get', 'deploy', 'keep', '-o', 'jsonpath={.metadata.uid} {.metadata.resourceVersion}'])).stdout;
    assert.equal(afterRestart, before);

    assert.equal((await s.kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: acked\ndata:\n  x: "y"\n' })).code, 0);
    await s.kill('SIGKILL');
    await s.restart();
    const r = await s.kubectl(['get', 'configmap', 'acked', '-o', 'jsonpath={.data.x}']);
    assert.equal(r.stdout, 'y', 'an acknowledged write survives kill -9');
    assert.equal((await s.kubectl(['get', 'deploy', 'keep', '-o', 'jsonpath={.metadata.uid} {.metadata.resourceVersion}'])).stdout, before);
  });
});
