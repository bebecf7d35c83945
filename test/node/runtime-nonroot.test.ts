// Without root the process runtime still runs containers, and says plainly what it cannot do:
// no network namespace (host networking, with the reason) and no resource limits (with the reason).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..', '..');

test('as an unprivileged user: host networking and no limits, each with its reason', () => {
  assert.equal(process.getuid?.(), 0, 'this test drops from root to nobody with setpriv');
  const out = execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--import', 'tsx', 'test/fixtures/nonroot-runtime.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
    timeout: 60_000,
  }).toString();
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const info = lines[0]!.info as { networkIsolation: unknown; resourceLimits: unknown };
  assert.deepEqual(info.networkIsolation, { ok: false, reason: 'pod networking needs root, running as uid 65534' });
  assert.deepEqual(info.resourceLimits, { ok: false, reason: 'resource limits need root to manage cgroups, running as uid 65534' });
  const sandbox = lines[1]!.sandbox as { isolated: boolean; ip: string; fallbackReason: string };
  assert.equal(sandbox.isolated, false);
  assert.equal(sandbox.ip, '127.0.0.1');
  assert.equal(sandbox.fallbackReason, 'pod networking needs root, running as uid 65534');
  const result = lines[2] as unknown as { exit: { exitCode: number; reason: string }; log: string };
  assert.equal(result.exit.exitCode, 0);
  assert.equal(result.exit.reason, 'Completed');
  assert.match(result.log, / stdout F 65534\n$/);
});
