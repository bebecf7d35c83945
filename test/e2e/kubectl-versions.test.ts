// The kubectl on these machines is a dispatcher over bundled kubectls 1.27 … 1.33; each asks for
// discovery and OpenAPI in its own way (1.29 only takes aggregated discovery v2beta1). Every one
// of them must work against Skiff: discovery, apply with validation, get, explain, delete.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSkiff, type Skiff } from './harness.js';

function bundled(): string[] {
  const dispatcher = realpathSync('/usr/bin/kubectl');
  const dir = dirname(dispatcher);
  return readdirSync(dir)
    .filter((f) => /^kubectl\.1\.\d+$/.test(f))
    .map((f) => join(dir, f))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
}

describe('every bundled kubectl version', () => {
  let s: Skiff;
  const versions = existsSync('/usr/bin/kubectl') ? bundled() : [];
  before(async () => {
    assert.ok(versions.length >= 5, `expected the bundled kubectl 1.27…1.33 beside /usr/bin/kubectl, found ${versions.join(', ') || 'none'}`);
    s = await startSkiff();
  });
  after(async () => {
    await s?.stop();
  });

  test('discovers, applies, lists, explains and deletes', async () => {
    for (const bin of versions) {
      const v = bin.split('kubectl.')[1]!;
      const name = `v${v.replace('.', '-')}`;
      // run the bundled binary itself, not the dispatcher
      const direct = async (args: string[], input?: string) => {
        return new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
          const p = spawn(bin, [...args, `--cache-dir=${join(s.home, 'cache-' + v)}`], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.home } });
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          p.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
          p.stdin.end(input ?? '');
        });
      };
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;
      const applied = await direct(['apply', '-f', '-'], cm);
      assert.equal(applied.code, 0, `kubectl ${v} apply: ${applied.stderr}`);
      assert.match(applied.stdout, new RegExp(`configmap/${name} created`));
      const got = await direct(['get', 'configmaps', name]);
      assert.equal(got.code, 0, `kubectl ${v} get: ${got.stderr}`);
      assert.match(got.stdout, /NAME\s+DATA\s+AGE/, `kubectl ${v} prints the server's table`);
      const res = await direct(['api-resources']);
      assert.equal(res.code, 0, `kubectl ${v} api-resources: ${res.stderr}`);
      assert.match(res.stdout, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
      const explain = await direct(['explain', 'deployment.spec.replicas']);
      assert.equal(explain.code, 0, `kubectl ${v} explain: ${explain.stderr}`);
      assert.match(explain.stdout, /replicas/);
      const del = await direct(['delete', 'configmap', name]);
      assert.equal(del.code, 0, `kubectl ${v} delete: ${del.stderr}`);
    }
  });
});
