// Issue 4's story through the real kubectl on simulated nodes: create a deployment, wait for the
// rollout, self-healing, scale, update the image, history, undo, pause/resume/restart, delete
// with its ReplicaSets and pods.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSkiff, type Skiff } from './harness.js';

describe('deployments on simulated nodes', () => {
  let s: Skiff;
  before(async () => {
    s = await startSkiff(['--sim-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  const ok = async (args: string[], input?: string, timeoutMs?: number) => {
    const r = await s.kubectl(args, { ...(input !== undefined ? { input } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const until = async (what: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await what())) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
    return true;
  };
  const podNames = async () => {
    const list = JSON.parse(await ok(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] };
    return list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
  };

  test('create deployment, then rollout status reports success', async () => {
    assert.match(await ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3']), /deployment\.apps\/web created/);
    const out = await ok(['rollout', 'status', 'deploy/web', '--timeout=60s'], undefined, 70_000);
    assert.match(out, /successfully rolled out/);
    assert.match(await ok(['get', 'deploy', 'web']), /web\s+3\/3\s+3\s+3/);
    const rs = await ok(['get', 'rs', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name} {.items[0].metadata.annotations.deployment\\.kubernetes\\.io/revision}']);
    assert.match(rs, /^web-[a-z0-9]+ 1$/);
    const d = await ok(['describe', 'deploy', 'web']);
    assert.match(d, /NewReplicaSet:\s+web-[a-z0-9]+ \(3\/3 replicas created\)/);
    assert.match(d, /Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-[a-z0-9]+ from 0 to 3/);
    const rsd = await ok(['describe', 'rs', '-l', 'app=web']);
    assert.match(rsd, /Normal\s+SuccessfulCreate\s+.*replicaset-controller\s+Created pod: web-[a-z0-9]+-[a-z0-9]{5}/);
  });

  test('a deleted pod is replaced at once', async () => {
    const before = await podNames();
    assert.equal(before.length, 3);
    await ok(['delete', 'pod', before[0]!, '--wait=false']);
    assert.ok(await until(async () => {
      const now = await podNames();
      return now.length >= 3 && !now.includes(before[0]!);
    }));
  });

  test('scale changes the number of pods', async () => {
    await ok(['scale', 'deploy/web', '--replicas=6']);
    await ok(['rollout', 'status', 'deploy/web', '--timeout=60s'], undefined, 70_000);
    assert.match(await ok(['get', 'deploy', 'web']), /web\s+6\/6\s+6\s+6/);
  });

  test('set image rolls out a new revision; history lists both; undo goes back', async () => {
    await ok(['set', 'image', 'deploy/web', 'nginx=nginx:1.26']);
    await ok(['annotate', 'deploy/web', 'kubernetes.io/change-cause=move to 1.26']);
    assert.match(await ok(['rollout', 'status', 'deploy/web', '--timeout=90s'], undefined, 100_000), /successfully rolled out/);
    assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.26');
    const history = await ok(['rollout', 'history', 'deploy/web']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE/);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s+move to 1\.26$/m);
    assert.match(await ok(['rollout', 'undo', 'deploy/web']), /rolled back/);
    assert.match(await ok(['rollout', 'status', 'deploy/web', '--timeout=90s'], undefined, 100_000), /successfully rolled out/);
    assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.25');
    assert.match(await ok(['rollout', 'history', 'deploy/web']), /^3\s/m);
  });

  test('pause, resume and restart', async () => {
    assert.match(await ok(['rollout', 'pause', 'deploy/web']), /paused/);
    assert.match(await ok(['rollout', 'resume', 'deploy/web']), /resumed/);
    assert.match(await ok(['rollout', 'restart', 'deploy/web']), /restarted/);
    assert.match(await ok(['rollout', 'status', 'deploy/web', '--timeout=90s'], undefined, 100_000), /successfully rolled out/);
  });

  test('deleting the deployment takes its ReplicaSets and pods along', async () => {
    await ok(['delete', 'deploy', 'web'], undefined, 60_000);
    assert.ok(await until(async () => (await ok(['get', 'rs,pods', '-l', 'app=web', '-o', 'name'])).trim() === ''));
  });
});
