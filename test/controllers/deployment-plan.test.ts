// The Deployment controller's pure planning: the pod-template hash, fenceposts, rolling-update
// arithmetic, Recreate, proportional scaling, revisions, status and conditions, history cleanup.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  computeHash,
  equalIgnoreHash,
  newRSNewReplicas,
  resolveFenceposts,
  safeEncodeString,
  type Deployment,
  type IntOrString,
  type ReplicaSet,
} from '../../src/controllers/deployment-math.js';
import { planDeployment, type DeploymentPlan, type Write } from '../../src/controllers/deployment-plan.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const T0 = '2026-01-01T00:00:00Z';

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });

function deploy(o: { replicas?: number; image?: string; surge?: IntOrString; unavailable?: IntOrString; recreate?: boolean; paused?: boolean; history?: number; generation?: number; status?: Deployment['status']; annotations?: Record<string, string> } = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: o.generation ?? 1, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      template: template(o.image ?? 'v2'),
      strategy: o.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? '25%', maxUnavailable: o.unavailable ?? '25%' } },
      revisionHistoryLimit: o.history ?? 10,
      progressDeadlineSeconds: 600,
      ...(o.paused ? { paused: true } : {}),
    },
    status: o.status ?? {},
  };
}

let seq = 0;
function rs(image: string, o: { replicas: number; available?: number; status?: number; revision: number; desired?: number; max?: number; created?: string }): ReplicaSet {
  const hash = computeHash(template(image));
  const annotations: Record<string, string> = { 'deployment.kubernetes.io/revision': String(o.revision) };
  if (o.desired !== undefined) annotations['deployment.kubernetes.io/desired-replicas'] = String(o.desired);
  if (o.max !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(o.max);
  const t = template(image);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `web-${hash}`, namespace: 'default', uid: `rs-${image}`, generation: 1, resourceVersion: String(++seq), creationTimestamp: o.created ?? T0, annotations },
    spec: { replicas: o.replicas, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: { ...t, metadata: { labels: { ...t.metadata.labels, 'pod-template-hash': hash } } } },
    status: { replicas: o.status ?? o.replicas, readyReplicas: o.available ?? o.replicas, availableReplicas: o.available ?? o.replicas, observedGeneration: 1 },
  };
}

/** The writes as short sentences: "create web-xxx 3", "scale web-xxx 10→8", "delete web-xxx". */
function summary(p: DeploymentPlan): string[] {
  return p.writes.map((w: Write) => {
    if (w.op === 'create') return `create ${w.rs.spec.template?.spec?.containers ? imageOf(w.rs) : ''} ${w.rs.spec.replicas}`;
    if (w.op === 'delete') return `delete ${w.uid}`;
    return `update ${imageOf(w.rs)} ${w.rs.spec.replicas}`;
  });
}
const imageOf = (r: ReplicaSet): string => ((r.spec.template?.spec?.containers as { image: string }[])[0]?.image ?? '');
const cond = (p: DeploymentPlan, type: string) => p.status?.conditions?.find((c) => c.type === type);

describe('pod-template hash', () => {
  test('SafeEncodeString maps each byte onto the 27 safe characters', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });
  const cases: [string, () => void][] = [
    ['the same template always hashes the same, whatever its key order', () => {
      assert.equal(computeHash({ spec: { a: 1, b: 2 } }), computeHash({ spec: { b: 2, a: 1 } }));
    }],
    ['a different template hashes differently', () => assert.notEqual(computeHash(template('v1')), computeHash(template('v2')))],
    ['a collision count changes the hash', () => assert.notEqual(computeHash(template('v1')), computeHash(template('v1'), 1))],
    ['the hash uses only consonants and digits that spell nothing', () => assert.match(computeHash(template('v1'), 7), /^[bcdfghjklmnpqrstvwxz2456789]+$/)],
    ['templates differing only in the pod-template-hash label are equal', () => {
      assert.ok(equalIgnoreHash(template('v1'), { ...template('v1'), metadata: { labels: { app: 'web', 'pod-template-hash': 'x' } } }));
    }],
    ['an empty map equals an absent one, as Go semantic equality says', () => {
      assert.ok(equalIgnoreHash({ metadata: { labels: {} }, spec: { x: [] } }, { spec: {} }));
    }],
  ];
  for (const [name, fn] of cases) test(name, fn);
});

describe('fenceposts', () => {
  const cases: [string, IntOrString, IntOrString, number, number, number][] = [
    ['25%/25% of 10 is 3 surge (rounded up) and 2 unavailable (rounded down)', '25%', '25%', 10, 3, 2],
    ['1 surge 0 unavailable stays so', 1, 0, 3, 1, 0],
    ['0 surge 0 unavailable becomes 1 unavailable so a rollout can move', 0, 0, 3, 0, 1],
    ['0% surge and 10% of 3 (0) becomes 1 unavailable', '0%', '10%', 3, 0, 1],
    ['25%/25% of 1 is 1 surge and 0 unavailable', '25%', '25%', 1, 1, 0],
    ['50% of 3 is 2 surge and 1 unavailable', '50%', '50%', 3, 2, 1],
  ];
  for (const [name, s, u, n, surge, unavailable] of cases) {
    test(name, () => assert.deepEqual(resolveFenceposts(s, u, n), { surge, unavailable }));
  }
});

describe('new ReplicaSet size', () => {
  const cases: [string, Deployment, ReplicaSet[], number][] = [
    ['a first rollout of 10 with 25% surge starts at 3 beside 10 old', deploy({ replicas: 10 }), [rs('v1', { replicas: 10, revision: 1 })], 3],
    ['no room over maxSurge leaves the new ReplicaSet as it is', deploy({ replicas: 10 }), [rs('v1', { replicas: 13, revision: 1 })], 0],
    ['with no old ReplicaSet the new one gets everything', deploy({ replicas: 4 }), [], 4],
    ['Recreate goes straight to the replicas', deploy({ replicas: 4, recreate: true }), [rs('v1', { replicas: 4, revision: 1 })], 4],
  ];
  for (const [name, d, old, want] of cases) {
    test(name, () => {
      const fresh: ReplicaSet = { metadata: { name: 'new' }, spec: { replicas: 0 } };
      assert.equal(newRSNewReplicas(d, [...old, fresh], fresh), want);
    });
  }
});

describe('planDeployment', () => {
  test('a new Deployment creates its ReplicaSet with the hash in name, selector and labels, revision 1', () => {
    const p = planDeployment({ deployment: deploy(), replicaSets: [], nowMs: NOW });
    const w = p.writes[0];
    assert.equal(w?.op, 'create');
    const created = (w as { rs: ReplicaSet }).rs;
    const hash = computeHash(template('v2'));
    assert.equal(created.metadata.name, `web-${hash}`);
    assert.equal(created.spec.selector?.matchLabels?.['pod-template-hash'], hash);
    assert.equal(created.spec.template?.metadata?.labels?.['pod-template-hash'], hash);
    assert.equal(created.metadata.labels?.['pod-template-hash'], hash);
    assert.deepEqual(created.metadata.ownerReferences?.[0], { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true });
    assert.equal(created.spec.replicas, 3);
    assert.deepEqual(created.metadata.annotations, { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    assert.deepEqual(w?.event, { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set web-${hash} from 0 to 3` });
    assert.equal(p.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(cond(p, 'Progressing')?.reason, 'NewReplicaSetCreated');
    assert.equal(cond(p, 'Progressing')?.message, `Created new replica set "web-${hash}"`);
    assert.equal(cond(p, 'Available')?.reason, 'MinimumReplicasUnavailable');
    assert.equal(p.status?.observedGeneration, 1);
  });

  test('the Deployment annotations are copied to the new ReplicaSet, but not kubectl last-applied', () => {
    const d = deploy({ annotations: { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } });
    const created = (planDeployment({ deployment: d, replicaSets: [], nowMs: NOW }).writes[0] as { rs: ReplicaSet }).rs;
    assert.equal(created.metadata.annotations?.team, 'a');
    assert.equal(created.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  });

  const rolling: [string, Deployment, ReplicaSet[], string[]][] = [
    ['25%/25% of 10: the new ReplicaSet starts at 3 and the old one drops to 8', deploy({ replicas: 10 }), [rs('v1', { replicas: 10, revision: 1, desired: 10, max: 13 })], ['create v2 3', 'update v1 8']],
    ['1 surge 0 unavailable: one new replica, no old one goes before it is available', deploy({ surge: 1, unavailable: 0 }), [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 4 })], ['create v2 1']],
    ['1 surge 0 unavailable: once the new replica is available an old one goes', deploy({ surge: 1, unavailable: 0 }),
      [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 4 }), rs('v2', { replicas: 1, revision: 2, desired: 3, max: 4, created: '2026-01-01T00:05:00Z' })], ['update v1 2']],
    ['0 surge 1 unavailable: an old replica goes first', deploy({ surge: 0, unavailable: 1 }), [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 3 })], ['create v2 0', 'update v1 2']],
    ['unhealthy old replicas go first, as many as maxUnavailable allows', deploy({ replicas: 4, surge: 0, unavailable: 1 }),
      [rs('v1', { replicas: 4, available: 1, revision: 1, desired: 4, max: 4 }), rs('v2', { replicas: 0, revision: 2, desired: 4, max: 4, created: '2026-01-01T00:05:00Z' })], ['update v1 3']],
    ['with 2 unavailable allowed and 3 old replicas unhealthy, 2 of those go', deploy({ replicas: 4, surge: 0, unavailable: 2 }),
      [rs('v1', { replicas: 4, available: 1, revision: 1, desired: 4, max: 4 }), rs('v2', { replicas: 0, revision: 2, desired: 4, max: 4, created: '2026-01-01T00:05:00Z' })], ['update v1 2']],
    ['the last old replicas go when the new ones are all available', deploy({ replicas: 3, surge: 1, unavailable: 0 }),
      [rs('v1', { replicas: 1, revision: 1, desired: 3, max: 4 }), rs('v2', { replicas: 3, revision: 2, desired: 3, max: 4, created: '2026-01-01T00:05:00Z' })], ['update v1 0']],
  ];
  for (const [name, d, rss, want] of rolling) test(name, () => assert.deepEqual(summary(planDeployment({ deployment: d, replicaSets: rss, nowMs: NOW })), want));

  test('Recreate scales the old ReplicaSets to 0 before anything else', () => {
    const p = planDeployment({ deployment: deploy({ recreate: true }), replicaSets: [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 3 })], nowMs: NOW });
    assert.deepEqual(summary(p), ['update v1 0']);
  });
  test('Recreate waits while old pods still run', () => {
    const old = rs('v1', { replicas: 0, status: 0, revision: 1, desired: 3, max: 3 });
    const p = planDeployment({ deployment: deploy({ recreate: true }), replicaSets: [old], podPhases: new Map([['rs-v1', ['Running']]]), nowMs: NOW });
    assert.deepEqual(summary(p), []);
  });
  test('Recreate creates the new ReplicaSet at full size once old pods are gone or finished', () => {
    const old = rs('v1', { replicas: 0, status: 0, revision: 1, desired: 3, max: 3 });
    const p = planDeployment({ deployment: deploy({ recreate: true }), replicaSets: [old], podPhases: new Map([['rs-v1', ['Succeeded']]]), nowMs: NOW });
    assert.deepEqual(summary(p), ['create v2 3']);
    assert.equal((p.writes[0] as { rs: ReplicaSet }).rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  });

  test('scaling 10 → 20 mid-rollout splits the 12 extra replicas in proportion (8→15, 5→10)', () => {
    const rss = [rs('v1', { replicas: 8, revision: 1, desired: 10, max: 13 }), rs('v2', { replicas: 5, available: 0, revision: 2, desired: 10, max: 13, created: '2026-01-01T00:05:00Z' })];
    const p = planDeployment({ deployment: deploy({ replicas: 20 }), replicaSets: rss, nowMs: NOW });
    assert.deepEqual(summary(p), ['update v1 15', 'update v2 10']);
    for (const w of p.writes) assert.equal((w as { rs: ReplicaSet }).rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '25');
    assert.match(p.writes[0]!.op === 'update' ? (p.writes[0] as { event?: { message: string } }).event?.message ?? '' : '', /^Scaled up replica set web-\w+ from 8 to 15$/);
  });
  test('scaling down mid-rollout takes from the largest, oldest first', () => {
    const rss = [rs('v1', { replicas: 8, revision: 1, desired: 10, max: 13 }), rs('v2', { replicas: 5, available: 0, revision: 2, desired: 10, max: 13, created: '2026-01-01T00:05:00Z' })];
    const p = planDeployment({ deployment: deploy({ replicas: 5 }), replicaSets: rss, nowMs: NOW });
    // allowed 5+2=7, 6 to remove: v1 round(8*7/13)-8 = -4, v2 round(5*7/13)-5 = -2.
    assert.deepEqual(summary(p), ['update v1 4', 'update v2 3']);
  });
  test('a single active ReplicaSet takes the whole new size', () => {
    const p = planDeployment({ deployment: deploy({ replicas: 5, image: 'v1' }), replicaSets: [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 4 })], nowMs: NOW });
    assert.deepEqual(summary(p), ['update v1 5']);
  });

  test('a paused Deployment with a new template creates nothing and says it is paused', () => {
    const p = planDeployment({ deployment: deploy({ paused: true }), replicaSets: [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 4 })], nowMs: NOW });
    assert.deepEqual(summary(p), []);
    assert.deepEqual([cond(p, 'Progressing')?.status, cond(p, 'Progressing')?.reason, cond(p, 'Progressing')?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  });
  test('a resumed Deployment says so and rolls out', () => {
    const status = { conditions: [{ type: 'Progressing', status: 'Unknown' as const, reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: T0, lastTransitionTime: T0 }] };
    const p = planDeployment({ deployment: deploy({ status }), replicaSets: [rs('v1', { replicas: 3, revision: 1, desired: 3, max: 4 })], nowMs: NOW });
    // 1 surge, 0 unavailable of 3: the old ReplicaSet waits for the new replica.
    assert.deepEqual(summary(p), ['create v2 1']);
    assert.equal(cond(p, 'Progressing')?.reason, 'ReplicaSetUpdated');
  });

  test('rolling back to an old template reuses its ReplicaSet with the next revision and remembers the old one', () => {
    const rss = [rs('v1', { replicas: 0, revision: 1, desired: 3, max: 4 }), rs('v2', { replicas: 3, revision: 2, desired: 3, max: 4, created: '2026-01-01T00:05:00Z' })];
    const p = planDeployment({ deployment: deploy({ image: 'v1' }), replicaSets: rss, nowMs: NOW });
    const first = p.writes[0] as { rs: ReplicaSet };
    assert.equal(imageOf(first.rs), 'v1');
    assert.equal(first.rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(first.rs.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(p.annotations?.['deployment.kubernetes.io/revision'], '3');
    // Then it grows by the one surge replica; v2 waits for it to be available.
    assert.deepEqual(summary(p).slice(1), ['update v1 1']);
  });

  test('a complete rollout says the new ReplicaSet has successfully progressed and is available', () => {
    const r = rs('v2', { replicas: 3, revision: 1, desired: 3, max: 4 });
    const p = planDeployment({ deployment: deploy({ annotations: { 'deployment.kubernetes.io/revision': '1' } }), replicaSets: [r], nowMs: NOW });
    assert.deepEqual(summary(p), []);
    assert.equal(cond(p, 'Progressing')?.message, `ReplicaSet "${r.metadata.name}" has successfully progressed.`);
    assert.equal(cond(p, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.deepEqual([cond(p, 'Available')?.status, cond(p, 'Available')?.message], ['True', 'Deployment has minimum availability.']);
    assert.deepEqual({ ...p.status, conditions: undefined }, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0, conditions: undefined });
  });

  test('a rollout without progress past its deadline is ProgressDeadlineExceeded', () => {
    const stuck = rs('v2', { replicas: 3, available: 0, revision: 1, desired: 3, max: 4 });
    const first = planDeployment({ deployment: deploy({ annotations: { 'deployment.kubernetes.io/revision': '1' } }), replicaSets: [stuck], nowMs: NOW });
    const d = deploy({ annotations: { 'deployment.kubernetes.io/revision': '1' }, status: first.status });
    const quiet = planDeployment({ deployment: d, replicaSets: [stuck], nowMs: NOW + 1000 });
    assert.equal(quiet.status, undefined);
    assert.ok(quiet.requeueAfterMs !== undefined && quiet.requeueAfterMs > 0);
    const late = planDeployment({ deployment: d, replicaSets: [stuck], nowMs: NOW + 601_000 });
    assert.deepEqual([cond(late, 'Progressing')?.status, cond(late, 'Progressing')?.reason, cond(late, 'Progressing')?.message],
      ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${stuck.metadata.name}" has timed out progressing.`]);
  });

  test('revisionHistoryLimit deletes the oldest scaled-down ReplicaSets once the rollout is complete', () => {
    const status = { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };
    const rss = [
      rs('v1', { replicas: 0, revision: 1 }),
      rs('v2', { replicas: 0, revision: 2, created: '2026-01-01T00:01:00Z' }),
      rs('v3', { replicas: 0, revision: 3, created: '2026-01-01T00:02:00Z' }),
      rs('v4', { replicas: 3, revision: 4, desired: 3, max: 4, created: '2026-01-01T00:03:00Z' }),
    ];
    const p = planDeployment({ deployment: deploy({ image: 'v4', history: 1, status, annotations: { 'deployment.kubernetes.io/revision': '4' } }), replicaSets: rss, nowMs: NOW });
    assert.deepEqual(summary(p), ['delete rs-v1', 'delete rs-v2']);
  });
  test('revisionHistoryLimit keeps an old ReplicaSet that still has pods', () => {
    const status = { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };
    const rss = [rs('v1', { replicas: 0, status: 1, revision: 1 }), rs('v4', { replicas: 3, revision: 4, desired: 3, max: 4, created: '2026-01-01T00:03:00Z' })];
    const p = planDeployment({ deployment: deploy({ image: 'v4', history: 0, status, annotations: { 'deployment.kubernetes.io/revision': '4' } }), replicaSets: rss, nowMs: NOW });
    assert.deepEqual(summary(p), []);
  });
  test('a collision count gives the new ReplicaSet another name', () => {
    const p = planDeployment({ deployment: deploy({ status: { collisionCount: 1 } }), replicaSets: [], nowMs: NOW });
    assert.equal((p.writes[0] as { rs: ReplicaSet }).rs.metadata.name, `web-${computeHash(template('v2'), 1)}`);
    assert.equal(p.status?.collisionCount, 1);
  });
});
