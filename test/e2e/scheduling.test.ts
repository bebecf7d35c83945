// Issue 3's story through the real kubectl: simulated nodes, nodeSelector, taints and
// tolerations, a pod too big for any node (Pending with Kubernetes' FailedScheduling message)
// that schedules once a big enough node joins through `skiff agent`, anti-affinity and topology
// spreading, cordon, and pods Running on simulated nodes with their NODE column filled.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSkiff, type Skiff } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

function podYaml(name: string, extra = '', labels = `app: ${name}`, cpu = '100m'): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {${labels}}
spec:
${extra}  containers:
  - name: c
    image: nginx:1.25
    resources:
      requests: {cpu: "${cpu}", memory: 64Mi}
`;
}

describe('scheduling on simulated nodes', () => {
  let s: Skiff;
  const agents: ChildProcess[] = [];
  before(async () => {
    s = await startSkiff(['--sim-nodes', '3']);
  });
  after(async () => {
    for (const a of agents) a.kill('SIGTERM');
    await s?.stop();
  });

  const ok = async (args: string[], input?: string) => {
    const r = await s.kubectl(args, input !== undefined ? { input } : {});
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const nodeOf = async (pod: string, timeoutMs = 15_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await ok(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}']);
      if (n) return n;
      if (Date.now() > deadline) return '';
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const until = async (what: () => Promise<boolean>, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await what())) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
    return true;
  };

  test('three simulated nodes are Ready, with capacity and allocatable', async () => {
    assert.ok(await until(async () => (await ok(['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 3));
    const out = await ok(['get', 'nodes']);
    assert.match(out, /NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    for (const n of ['sim-0', 'sim-1', 'sim-2']) assert.match(out, new RegExp(`${n}\\s+Ready`));
    const cap = JSON.parse(await ok(['get', 'node', 'sim-0', '-o', 'jsonpath={.status.allocatable}']));
    assert.ok(cap.cpu && cap.memory && cap.pods, JSON.stringify(cap));
    assert.match(await ok(['get', 'leases', '-n', 'kube-node-lease']), /sim-0/);
  });

  test('a pod with a nodeSelector lands on the labelled node', async () => {
    await ok(['label', 'node', 'sim-1', 'disk=ssd']);
    await ok(['apply', '-f', '-'], podYaml('ssd', '  nodeSelector: {disk: ssd}\n'));
    assert.equal(await nodeOf('ssd'), 'sim-1');
  });

  test('a tainted node takes only pods that tolerate the taint', async () => {
    await ok(['taint', 'node', 'sim-2', 'dedicated=db:NoSchedule']);
    for (let i = 0; i < 6; i++) await ok(['apply', '-f', '-'], podYaml(`plain-${i}`));
    for (let i = 0; i < 6; i++) assert.notEqual(await nodeOf(`plain-${i}`), 'sim-2');
    const tolerate = '  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]\n  nodeSelector: {kubernetes.io/hostname: sim-2}\n';
    await ok(['apply', '-f', '-'], podYaml('db', tolerate));
    assert.equal(await nodeOf('db'), 'sim-2');
  });

  test('a pod too big for any node stays Pending and says why, then schedules when a big node joins', async () => {
    await ok(['apply', '-f', '-'], podYaml('big', '', 'app: big', '64'));
    assert.ok(await until(async () => /FailedScheduling/.test(await ok(['describe', 'pod', 'big']))));
    const d = await ok(['describe', 'pod', 'big']);
    assert.match(d, /Warning\s+FailedScheduling\s+.*0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: db\}, 2 Insufficient cpu\./);
    assert.match(await ok(['get', 'pod', 'big']), /big\s+0\/1\s+Pending/);
    const cond = await ok(['get', 'pod', 'big', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}']);
    assert.equal(cond, 'Unschedulable');

    const agent = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'agent', '--server', s.url, '--token-file', join(s.dataDir, 'admin.token'), '--ca-file', join(s.dataDir, 'pki', 'ca.crt'), '--runtime', 'sim', '--name', 'bignode', '--capacity', 'cpu=128,memory=512Gi'], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, SKIFF_LOG: 'warn' } });
    agents.push(agent);
    assert.equal(await nodeOf('big', 30_000), 'bignode', 'the pending pod moved when the node joined, without polling');
  });

  test('required anti-affinity spreads three replicas over three nodes', async () => {
    const anti = '  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {matchLabels: {app: spread}}\n        topologyKey: kubernetes.io/hostname\n  tolerations: [{operator: Exists}]\n';
    for (let i = 0; i < 3; i++) await ok(['apply', '-f', '-'], podYaml(`anti-${i}`, anti, 'app: spread'));
    const nodes = await Promise.all([0, 1, 2].map((i) => nodeOf(`anti-${i}`)));
    assert.equal(new Set(nodes).size, 3, nodes.join(','));
  });

  test('topology spread constraints balance pods over nodes', async () => {
    const spread = '  topologySpreadConstraints:\n  - maxSkew: 1\n    topologyKey: kubernetes.io/hostname\n    whenUnsatisfiable: DoNotSchedule\n    labelSelector: {matchLabels: {app: ts}}\n  nodeSelector: {type: sim}\n  tolerations: [{operator: Exists}]\n';
    for (let i = 0; i < 6; i++) await ok(['apply', '-f', '-'], podYaml(`ts-${i}`, spread, 'app: ts'));
    const nodes = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => nodeOf(`ts-${i}`)));
    const counts = new Map<string, number>();
    for (const n of nodes) counts.set(n, (counts.get(n) ?? 0) + 1);
    const values = [...counts.values()];
    assert.ok(Math.max(...values) - Math.min(...values) <= 1 && counts.size >= 3, JSON.stringify([...counts]));
  });

  test('a cordoned node gets no new pods', async () => {
    await ok(['cordon', 'sim-0']);
    for (let i = 0; i < 4; i++) await ok(['apply', '-f', '-'], podYaml(`after-cordon-${i}`));
    for (let i = 0; i < 4; i++) assert.notEqual(await nodeOf(`after-cordon-${i}`), 'sim-0');
    await ok(['uncordon', 'sim-0']);
  });

  test('pods run on simulated nodes: Running, with an IP and the NODE column', async () => {
    assert.ok(await until(async () => /ssd\s+1\/1\s+Running/.test(await ok(['get', 'pod', 'ssd']))));
    const wide = await ok(['get', 'pod', 'ssd', '-o', 'wide']);
    assert.match(wide, /ssd\s+1\/1\s+Running\s+0\s+\S+\s+10\.42\.\d+\.\d+\s+sim-1/);
    const d = await ok(['describe', 'pod', 'ssd']);
    assert.match(d, /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/ssd to sim-1/);
  });

  test('a pod for another scheduler is left alone', async () => {
    await ok(['apply', '-f', '-'], podYaml('other', '  schedulerName: my-scheduler\n'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await ok(['get', 'pod', 'other', '-o', 'jsonpath={.spec.nodeName}']), '');
  });
});
