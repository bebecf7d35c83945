// The Deployment controller against the real API server. The ReplicaSets' status is written by
// the test through the status subresource (standing in for the ReplicaSet controller and kubelets),
// so each step of a rollout is under the test's control: create, template change with
// maxSurge/maxUnavailable, Recreate, proportional scaling mid-rollout, revisionHistoryLimit,
// pause/resume and rollback. Each test uses its own Deployment name; one controller runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { computeHash, type Deployment, type ReplicaSet } from '../../src/controllers/deployment-math.js';
import { deploymentController, flushDeploymentEvents } from '../../src/controllers/deployment.js';
import { eventually } from '../support/eventually.js';

const DEPLOY = resourceFor('apps', 'v1', 'deployments');
const RS = resourceFor('apps', 'v1', 'replicasets');
const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';


const podTemplate = (app: string, image: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image }] } });

function deployment(name: string, o: { replicas?: number; image?: string; strategy?: unknown; history?: number; deadline?: number } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: podTemplate(name, o.image ?? 'v1'),
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.history !== undefined ? { revisionHistoryLimit: o.history } : {}),
      ...(o.deadline !== undefined ? { progressDeadlineSeconds: o.deadline } : {}),
    },
  };
}

describe('Deployment controller (ReplicaSet management)', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctl: RunningController;

  const getDeploy = async (name: string) => c.get<Deployment>(DEPLOY, name, { namespace: ns });
  /** The Deployment's ReplicaSets by image, from the API. */
  const replicaSets = async (name: string): Promise<Map<string, ReplicaSet>> => {
    const items = (await c.list<ReplicaSet>(RS, { namespace: ns })).items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.kind === 'Deployment' && r.name === name));
    return new Map(items.map((rs) => [((rs.spec.template?.spec?.containers as { image: string }[])[0]?.image ?? ''), rs]));
  };
  const sizes = async (name: string): Promise<string> =>
    [...(await replicaSets(name)).entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([image, rs]) => `${image}=${rs.spec.replicas}`)
      .join(' ');
  /** Writes a ReplicaSet's status as its controller would once `available` pods are up. */
  const setStatus = async (rs: ReplicaSet, replicas: number, available: number): Promise<void> => {
    try {
      const fresh = await c.get<ReplicaSet>(RS, rs.metadata.name ?? '', { namespace: ns });
      const status = { replicas, readyReplicas: available, availableReplicas: available, observedGeneration: fresh.metadata.generation };
      await c.update(RS, { ...fresh, status }, { namespace: ns, subresource: 'status' });
    } catch (e) {
      if (!isStatusError(e, 'Conflict')) throw e;
    }
  };
  /** Every ReplicaSet of the Deployment reports all its replicas available (an instant RS controller). */
  const fulfil = async (name: string): Promise<void> => {
    for (const rs of (await replicaSets(name)).values()) {
      const n = rs.spec.replicas ?? 0;
      const s = rs.status ?? {};
      if (s.replicas !== n || s.availableReplicas !== n || s.observedGeneration !== rs.metadata.generation) await setStatus(rs, n, n);
    }
  };
  /** Fulfils ReplicaSets until the check holds. */
  const rollOut = async (name: string, what: string, check: () => Promise<boolean>): Promise<void> =>
    eventually(what, async () => {
      await fulfil(name);
      return check();
    });
  const progressing = async (name: string) => (await getDeploy(name)).status?.conditions?.find((x) => x.type === 'Progressing');
  const complete = (name: string) => async () => (await progressing(name))?.reason === 'NewReplicaSetAvailable' && (await getDeploy(name)).status?.updatedReplicas === (await getDeploy(name)).spec.replicas;
  const setImage = async (name: string, image: string) => c.patch(DEPLOY, name, 'merge', { spec: { template: podTemplate(name, image) } }, { namespace: ns });
  const events = async (name: string) => {
    await flushDeploymentEvents(c);
    return (await c.list(EVENTS, { namespace: ns })).items
      .filter((e) => (e.involvedObject as { name?: string; kind?: string }).name === name && (e.involvedObject as { kind?: string }).kind === 'Deployment')
      .map((e) => `${String(e.reason)}: ${String(e.message)}`);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-deploy-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    ctl = startController(deploymentController, c, { workers: 4 });
  });
  after(async () => {
    await ctl?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a new Deployment gets a ReplicaSet named by its template hash, revision 1, then full status', async () => {
    const d = await c.create<Deployment>(DEPLOY, deployment('create'));
    const hash = computeHash(d.spec.template);
    await eventually('the ReplicaSet exists', async () => (await replicaSets('create')).size === 1);
    const rs = (await replicaSets('create')).get('v1')!;
    assert.equal(rs.metadata.name, `create-${hash}`);
    assert.equal(rs.spec.replicas, 3);
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.spec.selector?.matchLabels?.['pod-template-hash'], hash);
    assert.equal(rs.spec.template?.metadata?.labels?.['pod-template-hash'], hash);
    assert.equal(rs.metadata.ownerReferences?.[0]?.uid, d.metadata.uid);
    await rollOut('create', 'the rollout completes', complete('create'));
    const done = await getDeploy('create');
    assert.equal(done.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual({ ...done.status, conditions: undefined }, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0, conditions: undefined });
    assert.equal(done.status?.conditions?.find((x) => x.type === 'Available')?.status, 'True');
    assert.equal((await progressing('create'))?.message, `ReplicaSet "create-${hash}" has successfully progressed.`);
    await eventually('the scaling event is recorded', async () => (await events('create')).includes(`ScalingReplicaSet: Scaled up replica set create-${hash} from 0 to 3`));
  });

  test('a template change rolls out a revision 2 ReplicaSet within maxSurge 1 / maxUnavailable 0', async () => {
    await c.create(DEPLOY, deployment('roll', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await rollOut('roll', 'the first rollout completes', complete('roll'));
    await setImage('roll', 'v2');
    await eventually('the new ReplicaSet gets one replica, the old keeps three', async () => (await sizes('roll')) === 'v1=3 v2=1');
    await ctl.idle();
    assert.equal(await sizes('roll'), 'v1=3 v2=1', 'nothing moves while the new replica is unavailable');
    const v2 = (await replicaSets('roll')).get('v2')!;
    assert.equal(v2.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    await setStatus(v2, 1, 1);
    await eventually('an old replica goes once the new one is available', async () => (await sizes('roll')) === 'v1=2 v2=2');
    await rollOut('roll', 'the rollout completes', complete('roll'));
    assert.equal(await sizes('roll'), 'v1=0 v2=3');
    assert.equal((await getDeploy('roll')).metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  });

  test('Recreate empties the old ReplicaSet before the new one is created', async () => {
    await c.create(DEPLOY, deployment('recreate', { strategy: { type: 'Recreate' } }));
    await rollOut('recreate', 'the first rollout completes', complete('recreate'));
    await setImage('recreate', 'v2');
    await eventually('the old ReplicaSet is scaled to 0', async () => (await sizes('recreate')) === 'v1=0');
    await ctl.idle();
    assert.equal(await sizes('recreate'), 'v1=0', 'no new ReplicaSet while old pods are reported');
    await setStatus((await replicaSets('recreate')).get('v1')!, 0, 0);
    await eventually('the new ReplicaSet is created at full size', async () => (await sizes('recreate')) === 'v1=0 v2=3');
  });

  test('scaling 10 → 20 mid-rollout is proportional (8/5 → 15/10)', async () => {
    await c.create(DEPLOY, deployment('prop', { replicas: 10 }));
    await rollOut('prop', 'the first rollout completes', complete('prop'));
    await setImage('prop', 'v2');
    await eventually('the rollout settles at 8 old and 5 new', async () => (await sizes('prop')) === 'v1=8 v2=5');
    await setStatus((await replicaSets('prop')).get('v1')!, 8, 8);
    await ctl.idle();
    assert.equal(await sizes('prop'), 'v1=8 v2=5');
    await c.patch(DEPLOY, 'prop', 'merge', { spec: { replicas: 20 } }, { namespace: ns });
    await eventually('both ReplicaSets grow in proportion', async () => (await sizes('prop')) === 'v1=15 v2=10');
    const rss = await replicaSets('prop');
    for (const rs of rss.values()) assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
  });

  test('revisionHistoryLimit 1 keeps one old ReplicaSet', async () => {
    await c.create(DEPLOY, deployment('history', { history: 1 }));
    for (const image of ['v1', 'v2', 'v3', 'v4']) {
      if (image !== 'v1') await setImage('history', image);
      await rollOut('history', `${image} is rolled out`, async () => (await replicaSets('history')).has(image) && (await complete('history')()));
    }
    await rollOut('history', 'only the current and one old ReplicaSet remain', async () => [...(await replicaSets('history')).keys()].sort().join(' ') === 'v3 v4');
  });

  test('a paused Deployment scales but does not roll out until resumed', async () => {
    await c.create(DEPLOY, deployment('paused'));
    await rollOut('paused', 'the first rollout completes', complete('paused'));
    await c.patch(DEPLOY, 'paused', 'merge', { spec: { paused: true } }, { namespace: ns });
    await eventually('the Deployment says it is paused', async () => (await progressing('paused'))?.reason === 'DeploymentPaused');
    await setImage('paused', 'v2');
    await c.patch(DEPLOY, 'paused', 'merge', { spec: { replicas: 5 } }, { namespace: ns });
    await eventually('the existing ReplicaSet is scaled', async () => (await sizes('paused')) === 'v1=5');
    await ctl.idle();
    assert.equal(await sizes('paused'), 'v1=5', 'no new ReplicaSet while paused');
    await c.patch(DEPLOY, 'paused', 'merge', { spec: { paused: false } }, { namespace: ns });
    await rollOut('paused', 'the rollout completes after resume', async () => (await sizes('paused')) === 'v1=0 v2=5' && (await complete('paused')()));
  });

  test('rolling back to an earlier template reuses its ReplicaSet as revision 3', async () => {
    await c.create(DEPLOY, deployment('undo'));
    await rollOut('undo', 'v1 rolled out', complete('undo'));
    await setImage('undo', 'v2');
    await rollOut('undo', 'v2 rolled out', async () => (await replicaSets('undo')).has('v2') && (await complete('undo')()));
    await setImage('undo', 'v1');
    await rollOut('undo', 'v1 is back', async () => (await sizes('undo')) === 'v1=3 v2=0' && (await complete('undo')()));
    const v1 = (await replicaSets('undo')).get('v1')!;
    assert.equal(v1.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(v1.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal((await getDeploy('undo')).metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal((await replicaSets('undo')).size, 2, 'no third ReplicaSet');
  });

  test('a rollout that makes no progress within progressDeadlineSeconds is reported as exceeded', async () => {
    await c.create(DEPLOY, deployment('stuck', { deadline: 1 }));
    await eventually('the ReplicaSet exists', async () => (await replicaSets('stuck')).size === 1);
    const rs = (await replicaSets('stuck')).get('v1')!;
    await setStatus(rs, 3, 0);
    await eventually('Progressing turns False with ProgressDeadlineExceeded', async () => (await progressing('stuck'))?.reason === 'ProgressDeadlineExceeded');
    const p = await progressing('stuck');
    assert.equal(p?.status, 'False');
    assert.equal(p?.message, `ReplicaSet "${rs.metadata.name}" has timed out progressing.`);
  });
});
