// The whole Deployment story with real pods: the Deployment and ReplicaSet controllers, the
// scheduler and simulated nodes against the real API server. Pods are created, bound, go Running
// and Ready; a template change replaces them all within maxSurge; scaling and rollback work.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type InformerMap, stopInformers, type RunningController } from '../../src/controllers/controller.js';
import { computeHash, type Deployment } from '../../src/controllers/deployment-math.js';
import { deploymentController } from '../../src/controllers/deployment.js';
import { startNodeIpam } from '../../src/controllers/node-ipam.js';
import { createReplicaSetController } from '../../src/controllers/replicaset.js';
import { SimNodePool } from '../../src/node/sim-nodes.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { eventually } from '../support/eventually.js';

const DEPLOY = resourceFor('apps', 'v1', 'deployments');
const PODS = resourceFor('', 'v1', 'pods');
const ns = 'default';


const template = (image: string) => ({ metadata: { labels: { app: 'story' } }, spec: { containers: [{ name: 'c', image }] } });

describe('Deployment controller with the ReplicaSet controller, scheduler and simulated nodes', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let nodes: SimNodePool;
  let scheduler: Scheduler;
  let ipam: { stop(): void };
  let controllers: RunningController[] = [];
  const informers: InformerMap = new Map();

  /** Pods that are not going away, with their pod-template-hash and readiness. */
  const livePods = async (): Promise<{ hash: string; ready: boolean }[]> =>
    (await c.list(PODS, { namespace: ns, labelSelector: 'app=story' })).items
      .filter((p: KubeObject) => !p.metadata.deletionTimestamp)
      .map((p: KubeObject) => ({
        hash: p.metadata.labels?.['pod-template-hash'] ?? '',
        ready: ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True'),
      }));
  const getDeploy = () => c.get<Deployment>(DEPLOY, 'story', { namespace: ns });
  const complete = async (): Promise<boolean> => {
    const d = await getDeploy();
    const s = d.status ?? {};
    const progressing = s.conditions?.find((x) => x.type === 'Progressing');
    return s.observedGeneration === d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.replicas === d.spec.replicas && s.availableReplicas === d.spec.replicas && progressing?.reason === 'NewReplicaSetAvailable';
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-deploy-pods-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    ipam = startNodeIpam(srv.client('node-ipam'));
    nodes = new SimNodePool(srv.client('sim'), { names: ['sim-0', 'sim-1'], startDelayMs: 50 });
    await nodes.start();
    scheduler = new Scheduler(srv.client('default-scheduler'));
    await scheduler.start();
    controllers = [
      startController(createReplicaSetController(), srv.client('replicaset-controller'), { informers }),
      startController(deploymentController, srv.client('deployment-controller'), { informers }),
    ];
  });
  after(async () => {
    for (const ctl of controllers) await ctl.stop();
    stopInformers(informers);
    await scheduler?.stop();
    await nodes?.stop();
    ipam?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create, roll out a new image within maxSurge, scale, and roll back', async () => {
    await c.create(DEPLOY, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'story', namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'story' } },
        template: template('v1'),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
    });
    const h1 = computeHash((await getDeploy()).spec.template);
    await eventually('three ready pods of revision 1 and a complete rollout', async () => {
      const pods = await livePods();
      return pods.length === 3 && pods.every((p) => p.ready && p.hash === h1) && (await complete());
    });

    await c.patch(DEPLOY, 'story', 'merge', { spec: { template: template('v2') } }, { namespace: ns });
    const h2 = computeHash((await getDeploy()).spec.template);
    let most = 0;
    let leastReady = 3;
    await eventually('every pod replaced by a ready revision 2 pod', async () => {
      const pods = await livePods();
      most = Math.max(most, pods.length);
      leastReady = Math.min(leastReady, pods.filter((p) => p.ready).length);
      return pods.length === 3 && pods.every((p) => p.ready && p.hash === h2) && (await complete());
    });
    assert.ok(most <= 4, `never more than replicas + maxSurge pods (saw ${most})`);
    assert.equal(leastReady, 3, 'with maxUnavailable 0, three pods stay ready throughout');
    assert.equal((await getDeploy()).metadata.annotations?.['deployment.kubernetes.io/revision'], '2');

    await c.patch(DEPLOY, 'story', 'merge', { spec: { replicas: 5 } }, { namespace: ns });
    await eventually('five ready pods', async () => {
      const pods = await livePods();
      return pods.length === 5 && pods.every((p) => p.ready && p.hash === h2) && (await complete());
    });

    await c.patch(DEPLOY, 'story', 'merge', { spec: { template: template('v1') } }, { namespace: ns });
    await eventually('the revision 1 pods are back, as revision 3', async () => {
      const pods = await livePods();
      return pods.length === 5 && pods.every((p) => p.ready && p.hash === h1) && (await complete());
    });
    assert.equal((await getDeploy()).metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  });
});
