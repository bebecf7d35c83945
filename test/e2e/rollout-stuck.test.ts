// A rollout whose new pods never become Ready (the simulated nodes are told to keep the image
// `nginx:broken` unready): it stops at maxUnavailable, `kubectl rollout status` fails with
// ProgressDeadlineExceeded, and `kubectl rollout undo` recovers it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSkiff, type Skiff } from './harness.js';

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: fragile
spec:
  replicas: 4
  progressDeadlineSeconds: 8
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  selector:
    matchLabels: {app: fragile}
  template:
    metadata:
      labels: {app: fragile}
    spec:
      containers:
      - name: web
        image: nginx:1.25
`;

describe('a rollout that cannot progress', () => {
  let s: Skiff;
  before(async () => {
    s = await startSkiff(['--sim-nodes', '2', '--sim-unready-images', 'nginx:broken']);
  });
  after(async () => {
    await s?.stop();
  });

  const ok = async (args: string[], input?: string, timeoutMs?: number) => {
    const r = await s.kubectl(args, { ...(input !== undefined ? { input } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  test('stops at maxUnavailable, reports ProgressDeadlineExceeded, and undo recovers', async () => {
    await ok(['apply', '-f', '-'], DEPLOY);
    await ok(['rollout', 'status', 'deploy/fragile', '--timeout=60s'], undefined, 70_000);
    await ok(['set', 'image', 'deploy/fragile', 'web=nginx:broken']);

    const stuck = await s.kubectl(['rollout', 'status', 'deploy/fragile', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.notEqual(stuck.code, 0);
    assert.match(stuck.stderr, /exceeded its progress deadline/);
    const cond = await ok(['get', 'deploy', 'fragile', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}']);
    assert.equal(cond, 'ProgressDeadlineExceeded');
    const st = JSON.parse(await ok(['get', 'deploy', 'fragile', '-o', 'jsonpath={.status}'])) as { availableReplicas?: number; readyReplicas?: number };
    assert.ok((st.availableReplicas ?? 0) >= 3, `maxUnavailable 1 keeps 3 of 4 available: ${JSON.stringify(st)}`);

    assert.match(await ok(['rollout', 'undo', 'deploy/fragile']), /rolled back/);
    assert.match(await ok(['rollout', 'status', 'deploy/fragile', '--timeout=60s'], undefined, 70_000), /successfully rolled out/);
    assert.equal(await ok(['get', 'deploy', 'fragile', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.25');
  });
});
