// The API-server story of DESIGN.md §1, driven through the real kubectl: apply (created,
// configured, unchanged), get with Kubernetes' columns, describe, label/annotate/scale/patch/edit,
// explain, server-side apply, conflicts and validation errors, delete.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSkiff, type Skiff } from './harness.js';

const FIX = join(import.meta.dirname, 'fixtures');

describe('kubectl against skiff up', () => {
  let s: Skiff;
  before(async () => {
    s = await startSkiff();
  });
  after(async () => {
    await s?.stop();
  });

  const ok = async (args: string[], input?: string) => {
    const r = await s.kubectl(args, input !== undefined ? { input } : {});
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  test('kubectl version sees a 1.32 server', async () => {
    const out = await ok(['version', '-o', 'json']);
    const v = JSON.parse(out) as { serverVersion: { major: string; minor: string } };
    assert.equal(v.serverVersion.major, '1');
    assert.equal(v.serverVersion.minor, '32');
  });

  test('the initial namespaces exist', async () => {
    const out = await ok(['get', 'namespaces', '-o', 'name']);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`namespace/${ns}\\b`));
  });

  test('apply creates, then reports unchanged, then configured', async () => {
    const first = await ok(['apply', '-f', join(FIX, 'web.yaml')]);
    assert.match(first, /deployment\.apps\/web created/);
    assert.match(first, /service\/web created/);
    const again = await ok(['apply', '-f', join(FIX, 'web.yaml')]);
    assert.match(again, /deployment\.apps\/web unchanged/);
    assert.match(again, /service\/web unchanged/);
    const changed = await ok(['apply', '-f', join(FIX, 'web-v2.yaml')]);
    assert.match(changed, /deployment\.apps\/web configured/);
    const image = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}']);
    assert.equal(image, 'nginx:1.26 2');
  });

  test('get prints Kubernetes column sets', async () => {
    const out = await ok(['get', 'deploy,svc', '-A']);
    assert.match(out, /NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
    // The counts move as the Deployment and ReplicaSet controllers work; the columns are the point.
    assert.match(out, /default\s+deployment\.apps\/web\s+\d\/3\s+\d+\s+\d+\s+\d+s/);
    assert.match(out, /NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    assert.match(out, /default\s+service\/web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP/);
    assert.match(out, /default\s+service\/kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/);
    const wide = await ok(['get', 'deploy', 'web', '-o', 'wide']);
    assert.match(wide, /CONTAINERS\s+IMAGES\s+SELECTOR/);
    assert.match(wide, /nginx\s+nginx:1\.26\s+app=web/);
  });

  test('get all lists the workloads and services', async () => {
    const out = await ok(['get', 'all']);
    assert.match(out, /deployment\.apps\/web/);
    assert.match(out, /service\/web/);
  });

  test('describe shows the deployment', async () => {
    const out = await ok(['describe', 'deploy', 'web']);
    assert.match(out, /Name:\s+web/);
    assert.match(out, /Replicas:\s+3 desired/);
    assert.match(out, /StrategyType:\s+RollingUpdate/);
    assert.match(out, /RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
    assert.match(out, /Image:\s+nginx:1\.26/);
  });

  test('label, annotate and scale change the object', async () => {
    assert.match(await ok(['label', 'deploy', 'web', 'tier=frontend']), /deployment\.apps\/web labeled/);
    assert.match(await ok(['annotate', 'deploy', 'web', 'owner=team-a']), /deployment\.apps\/web annotated/);
    assert.match(await ok(['scale', 'deploy', 'web', '--replicas=5']), /deployment\.apps\/web scaled/);
    const out = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.labels.tier} {.metadata.annotations.owner} {.spec.replicas}']);
    assert.equal(out, 'frontend team-a 5');
    assert.match(await ok(['label', 'deploy', 'web', 'tier-']), /unlabeled/);
    assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.labels.tier}']), '');
  });

  test('scale with a wrong --current-replicas is refused', async () => {
    const r = await s.kubectl(['scale', 'deploy', 'web', '--current-replicas=2', '--replicas=4']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Expected replicas to be 2, was 5/);
  });

  test('patch: json, merge and strategic', async () => {
    await ok(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":2}]']);
    await ok(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"patched":"merge"}}}']);
    await ok(['patch', 'deploy', 'web', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}']);
    const out = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.labels.patched} {.spec.template.spec.containers[*].name}']);
    // a strategic merge patch puts a new list element first, as kubectl's patch documentation shows
    assert.equal(out, '2 merge sidecar nginx');
    const bad = await s.kubectl(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"remove","path":"/spec/nothere"}]']);
    assert.notEqual(bad.code, 0);
    // kube-apiserver answers 422 with its generic wording for a JSON patch that cannot apply
    assert.match(bad.stderr, /The request is invalid: the server rejected our request due to an error in our request/);
  });

  test('edit goes through the editor and the API', async () => {
    const r = await s.kubectl(['edit', 'deploy', 'web'], { env: { KUBE_EDITOR: 'sed -i -e s/nginx:1.26/nginx:1.27/' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment\.apps\/web edited/);
    assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="nginx")].image}']), 'nginx:1.27');
  });

  test('explain prints field documentation', async () => {
    const out = await ok(['explain', 'deployment.spec.strategy']);
    assert.match(out, /KIND:\s+Deployment/);
    assert.match(out, /FIELD:\s+strategy/);
    assert.match(out, /rollingUpdate/);
    assert.match(out, /type/);
  });

  test('a stale update answers 409 Conflict', async () => {
    const obj = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json'])) as { metadata: Record<string, unknown> };
    await ok(['annotate', 'deploy', 'web', 'bump=1']);
    const r = await s.kubectl(['replace', '-f', '-'], { input: JSON.stringify(obj) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation cannot be fulfilled on deployments\.apps "web": the object has been modified; please apply your changes to the latest version and try again/);
  });

  test('an invalid object answers 422 naming the field', async () => {
    const r = await s.kubectl(['apply', '-f', join(FIX, 'bad-selector.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The Deployment "bad" is invalid: spec\.template\.metadata\.labels: Invalid value/);
    assert.match(r.stderr, /`selector` does not match template `labels`/);
  });

  test('an unknown field is refused by strict validation', async () => {
    const r = await s.kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndatta:\n  a: b\n' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "datta"/);
  });

  test('server-side apply creates, updates and reports conflicts', async () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  key: ${v}\n`;
    assert.match(await ok(['apply', '--server-side', '-f', '-'], cm('one')), /configmap\/ssa serverside-applied/);
    assert.match(await ok(['apply', '--server-side', '-f', '-'], cm('two')), /serverside-applied/);
    const conflict = await s.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: cm('three') });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict with "kubectl"/);
    assert.match(await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], cm('three')), /serverside-applied/);
    assert.equal(await ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.key}']), 'three');
  });

  test('server-side apply of what client-side apply made succeeds, and conflicts with other writers', async () => {
    const yaml = (replicas: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: migrate\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: migrate}\n  template:\n    metadata:\n      labels: {app: migrate}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.25\n        ports:\n        - containerPort: 80\n`;
    assert.match(await ok(['apply', '-f', '-'], yaml(2)), /deployment\.apps\/migrate created/);
    assert.match(await ok(['apply', '--server-side', '-f', '-'], yaml(2)), /deployment\.apps\/migrate serverside-applied/);
    assert.match(await ok(['apply', '--server-side', '-f', '-'], yaml(2)), /serverside-applied/);
    const spec = JSON.parse(await ok(['get', 'deploy', 'migrate', '-o', 'json'])).spec;
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.template.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
    await ok(['scale', 'deploy', 'migrate', '--replicas=4']);
    const conflict = await s.kubectl(['apply', '--server-side', '-f', '-'], { input: yaml(3) });
    assert.notEqual(conflict.code, 0);
    // kubectl scale names no field manager: the user agent's "kubectl" owns replicas through /scale
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/);
  });

  test('create of an existing object answers AlreadyExists', async () => {
    const r = await s.kubectl(['create', '-f', join(FIX, 'web.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(AlreadyExists\).*deployments\.apps "web" already exists/);
  });

  test('a pod in a missing namespace is refused', async () => {
    const r = await s.kubectl(['apply', '-n', 'nowhere', '-f', join(FIX, 'pod.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /namespaces "nowhere" not found/);
  });

  test('delete --cascade=orphan leaves dependents without their owner', async () => {
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owner\n');
    const uid = await ok(['get', 'cm', 'owner', '-o', 'jsonpath={.metadata.uid}']);
    const dep = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }] } };
    await ok(['create', '-f', '-'], JSON.stringify(dep));
    assert.match(await ok(['delete', 'cm', 'owner', '--cascade=orphan']), /configmap "owner" deleted/);
    assert.equal(await ok(['get', 'cm', 'dependent', '-o', 'jsonpath={.metadata.ownerReferences}']), '');
  });

  test('delete returns promptly and the object is gone', async () => {
    await ok(['apply', '-f', join(FIX, 'pod.yaml')]);
    const r = await s.kubectl(['delete', 'pod', 'lonely'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod "lonely" deleted/);
    const g = await s.kubectl(['get', 'pod', 'lonely']);
    assert.match(g.stderr, /pods "lonely" not found/);
  });

  test('namespaces can be created and deleted with their contents', async () => {
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch\n');
    await ok(['-n', 'scratch', 'apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\ndata:\n  a: b\n');
    const r = await s.kubectl(['delete', 'namespace', 'scratch'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const g = await s.kubectl(['get', 'namespace', 'scratch']);
    assert.match(g.stderr, /not found/);
  });

  test('the default namespace cannot be deleted', async () => {
    const r = await s.kubectl(['delete', 'namespace', 'default']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /this namespace may not be deleted/);
  });
});
