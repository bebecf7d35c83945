import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Affinity, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { NodeObject, Pod } from '../../../src/scheduler/framework.js';
import {
  ERR_AFFINITY_RULES_NOT_MATCH as AFFINITY,
  ERR_ANTI_AFFINITY_RULES_NOT_MATCH as ANTI,
  ERR_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH as EXISTING,
  interPodAffinity,
} from '../../../src/scheduler/plugins/inter-pod-affinity.js';
import { node, pod, reasons, runFilter, runScore, snapshotOf } from '../support/snapshot.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

const term = (labels: Record<string, string>, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({
  labelSelector: { matchLabels: labels },
  topologyKey,
  ...extra,
});
const required = (t: PodAffinityTerm): Affinity => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [t] } });
const requiredAnti = (t: PodAffinityTerm): Affinity => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [t] } });
const preferred = (...w: [number, PodAffinityTerm][]): Affinity => ({
  podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: w.map(([weight, podAffinityTerm]) => ({ weight, podAffinityTerm })) },
});
const preferredAnti = (...w: [number, PodAffinityTerm][]): Affinity => ({
  podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: w.map(([weight, podAffinityTerm]) => ({ weight, podAffinityTerm })) },
});

const web = (name: string, nodeName?: string) =>
  pod(name, { labels: { app: 'web' }, affinity: requiredAnti(term({ app: 'web' }, HOST)), ...(nodeName ? { node: nodeName } : {}) });

const threeHosts = [node('n1'), node('n2'), node('n3')];
const zones = [node('a1', { [ZONE]: 'a' }), node('a2', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' })];

interface FilterCase {
  name: string;
  incoming: Pod;
  nodes: NodeObject[];
  pods?: Pod[];
  namespaces?: Record<string, Record<string, string>>;
  /** node → reason, for the nodes that must be refused; every other node must fit. */
  refused: Record<string, string>;
}

const filterCases: FilterCase[] = [
  {
    name: 'the third replica with anti-affinity on hostname goes to the only node without a replica',
    incoming: web('web-3'),
    nodes: threeHosts,
    pods: [web('web-1', 'n1'), web('web-2', 'n2')],
    refused: { n1: ANTI, n2: ANTI },
  },
  {
    name: 'a fourth replica with anti-affinity on hostname fits no node once three nodes hold one each',
    incoming: web('web-4'),
    nodes: threeHosts,
    pods: [web('web-1', 'n1'), web('web-2', 'n2'), web('web-3', 'n3')],
    refused: { n1: ANTI, n2: ANTI, n3: ANTI },
  },
  {
    name: "a pod without terms is kept off the node of an existing pod whose anti-affinity it matches",
    incoming: pod('plain', { labels: { app: 'web' } }),
    nodes: threeHosts,
    pods: [web('web-1', 'n1')],
    refused: { n1: EXISTING },
  },
  {
    name: "an existing pod's anti-affinity only looks at its own namespace by default",
    incoming: pod('other', { namespace: 'other', labels: { app: 'web' } }),
    nodes: threeHosts,
    pods: [web('web-1', 'n1')],
    namespaces: { default: {}, other: {} },
    refused: {},
  },
  {
    name: "an existing pod's anti-affinity with a namespaceSelector reaches pods of matching namespaces",
    incoming: pod('other', { namespace: 'other', labels: { app: 'web' } }),
    nodes: threeHosts,
    pods: [pod('guard', { node: 'n2', affinity: requiredAnti(term({ app: 'web' }, HOST, { namespaceSelector: { matchLabels: { env: 'prod' } } })) })],
    namespaces: { default: {}, other: { env: 'prod' } },
    refused: { n2: EXISTING },
  },
  {
    name: 'anti-affinity on zone keeps the pod out of the whole zone of a matching pod',
    incoming: pod('db-2', { labels: { app: 'db' }, affinity: requiredAnti(term({ app: 'db' }, ZONE)) }),
    nodes: zones,
    pods: [pod('db-1', { labels: { app: 'db' }, node: 'a2' })],
    refused: { a1: ANTI, a2: ANTI },
  },
  {
    name: 'anti-affinity ignores a node without the topology key',
    incoming: pod('db-2', { labels: { app: 'db' }, affinity: requiredAnti(term({ app: 'db' }, ZONE)) }),
    nodes: [...zones, node('bare')],
    pods: [pod('db-1', { labels: { app: 'db' }, node: 'a1' })],
    refused: { a1: ANTI, a2: ANTI },
  },
  {
    name: 'affinity to a pod in another namespace chosen by namespaceSelector allows only that pod’s zone',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, ZONE, { namespaceSelector: { matchLabels: { team: 'data' } } })) }),
    nodes: zones,
    pods: [pod('cache', { namespace: 'data', labels: { app: 'cache' }, node: 'a1' })],
    namespaces: { default: {}, data: { team: 'data' } },
    refused: { b1: AFFINITY },
  },
  {
    name: 'affinity without namespaces or namespaceSelector only sees pods of its own namespace',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, ZONE)) }),
    nodes: zones,
    pods: [pod('cache', { namespace: 'data', labels: { app: 'cache' }, node: 'a1' })],
    namespaces: { default: {}, data: {} },
    refused: { a1: AFFINITY, a2: AFFINITY, b1: AFFINITY },
  },
  {
    name: 'an empty namespaceSelector selects pods in every namespace',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, ZONE, { namespaceSelector: {} })) }),
    nodes: zones,
    pods: [pod('cache', { namespace: 'data', labels: { app: 'cache' }, node: 'b1' })],
    namespaces: { default: {}, data: {} },
    refused: { a1: AFFINITY, a2: AFFINITY },
  },
  {
    name: 'listed namespaces are searched instead of the pod’s own',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, HOST, { namespaces: ['data'] })) }),
    nodes: threeHosts,
    pods: [pod('cache', { namespace: 'data', labels: { app: 'cache' }, node: 'n3' }), pod('decoy', { labels: { app: 'cache' }, node: 'n1' })],
    namespaces: { default: {}, data: {} },
    refused: { n1: AFFINITY, n2: AFFINITY },
  },
  {
    name: 'a namespaceSelector that matches no namespace finds no pod',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, ZONE, { namespaceSelector: { matchLabels: { team: 'x' } } })) }),
    nodes: zones,
    pods: [pod('cache', { namespace: 'data', labels: { app: 'cache' }, node: 'a1' })],
    namespaces: { default: {}, data: { team: 'data' } },
    refused: { a1: AFFINITY, a2: AFFINITY, b1: AFFINITY },
  },
  {
    name: 'the first pod of a group with affinity to itself may go to any node with the topology key',
    incoming: pod('web-1', { labels: { app: 'web' }, affinity: required(term({ app: 'web' }, ZONE)) }),
    nodes: [...zones, node('bare')],
    refused: { bare: AFFINITY },
  },
  {
    name: 'once a pod of the group exists, later ones must join its zone',
    incoming: pod('web-2', { labels: { app: 'web' }, affinity: required(term({ app: 'web' }, ZONE)) }),
    nodes: zones,
    pods: [pod('web-1', { labels: { app: 'web' }, node: 'b1' })],
    refused: { a1: AFFINITY, a2: AFFINITY },
  },
  {
    name: 'affinity to pods that do not exist refuses every node when the pod does not match its own term',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, ZONE)) }),
    nodes: zones,
    refused: { a1: AFFINITY, a2: AFFINITY, b1: AFFINITY },
  },
  {
    name: 'a terminating pod still counts for affinity, as upstream',
    incoming: pod('app', { labels: { app: 'web' }, affinity: required(term({ app: 'cache' }, HOST)) }),
    nodes: threeHosts,
    pods: [pod('cache', { labels: { app: 'cache' }, node: 'n2', terminating: true })],
    refused: { n1: AFFINITY, n3: AFFINITY },
  },
  {
    name: 'affinity and anti-affinity together: join the cache’s zone but not the node of another replica',
    incoming: pod('web-2', {
      labels: { app: 'web' },
      affinity: { ...required(term({ app: 'cache' }, ZONE)), ...requiredAnti(term({ app: 'web' }, HOST)) },
    }),
    nodes: zones,
    pods: [pod('cache', { labels: { app: 'cache' }, node: 'a1' }), pod('web-1', { labels: { app: 'web' }, node: 'a1' })],
    refused: { a1: ANTI, b1: AFFINITY },
  },
];

describe('InterPodAffinity filter', () => {
  for (const c of filterCases) {
    it(c.name, () => {
      assert.deepEqual(reasons(interPodAffinity, c.incoming, snapshotOf(c.nodes, c.pods, c.namespaces)), c.refused);
    });
  }

  it('refuses a node for the pod’s own affinity as unresolvable, and for anti-affinity as resolvable', () => {
    const snap = snapshotOf(threeHosts, [pod('cache', { labels: { app: 'cache' }, node: 'n1' })]);
    assert.deepEqual(runFilter(interPodAffinity, pod('a', { affinity: required(term({ app: 'cache' }, HOST)) }), snap).get('n2'), {
      reasons: [AFFINITY],
      unresolvable: true,
    });
    assert.deepEqual(runFilter(interPodAffinity, pod('b', { affinity: requiredAnti(term({ app: 'cache' }, HOST)) }), snap).get('n1'), { reasons: [ANTI] });
  });

  it('refuses every node from preFilter when a term’s selector does not parse', () => {
    const bad = pod('bad', { affinity: required({ labelSelector: { matchExpressions: [{ key: 'app', operator: 'Foo' }] }, topologyKey: HOST }) });
    const out = runFilter(interPodAffinity, bad, snapshotOf(threeHosts));
    for (const r of out.values()) assert.match(r?.reasons[0] ?? '', /^parsing pod: "Foo" is not a valid label selector operator/);
  });
});

interface ScoreCase {
  name: string;
  incoming: Pod;
  nodes: NodeObject[];
  pods?: Pod[];
  namespaces?: Record<string, Record<string, string>>;
  want: Record<string, number>;
}

const threeZones = [node('a1', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' }), node('c1', { [ZONE]: 'c' })];

const scoreCases: ScoreCase[] = [
  {
    name: 'no terms on either side leaves every node at zero',
    incoming: pod('p', { labels: { app: 'web' } }),
    nodes: threeZones,
    pods: [pod('q', { labels: { app: 'web' }, node: 'a1' })],
    want: { a1: 0, b1: 0, c1: 0 },
  },
  {
    name: 'preferred affinity gives the full score to the zone of the matching pod',
    incoming: pod('p', { affinity: preferred([5, term({ app: 'cache' }, ZONE)]) }),
    nodes: [...threeZones, node('a2', { [ZONE]: 'a' })],
    pods: [pod('cache', { labels: { app: 'cache' }, node: 'a1' })],
    want: { a1: 100, b1: 0, c1: 0, a2: 100 },
  },
  {
    name: 'preferred anti-affinity gives the zone of the matching pod the lowest score',
    incoming: pod('p', { affinity: preferredAnti([5, term({ app: 'web' }, ZONE)]) }),
    nodes: threeZones,
    pods: [pod('w', { labels: { app: 'web' }, node: 'b1' })],
    want: { a1: 100, b1: 0, c1: 100 },
  },
  {
    name: 'weights add up per zone and are scaled between the lowest and the highest',
    incoming: pod('p', { affinity: preferred([10, term({ app: 'cache' }, ZONE)], [5, term({ app: 'db' }, ZONE)]) }),
    nodes: threeZones,
    pods: [pod('cache', { labels: { app: 'cache' }, node: 'a1' }), pod('db', { labels: { app: 'db' }, node: 'b1' }), pod('db2', { labels: { app: 'db' }, node: 'a1' })],
    want: { a1: 100, b1: 33, c1: 0 },
  },
  {
    name: 'an existing pod’s required affinity that the incoming pod matches attracts it with weight 1',
    incoming: pod('p', { labels: { app: 'web' } }),
    nodes: threeZones,
    pods: [pod('fan', { node: 'c1', affinity: required(term({ app: 'web' }, ZONE)) })],
    want: { a1: 0, b1: 0, c1: 100 },
  },
  {
    name: 'an existing pod’s preferred anti-affinity that the incoming pod matches pushes it away',
    incoming: pod('p', { labels: { app: 'web' } }),
    nodes: threeZones,
    pods: [pod('loner', { node: 'a1', affinity: preferredAnti([7, term({ app: 'web' }, ZONE)]) })],
    want: { a1: 0, b1: 100, c1: 100 },
  },
  {
    name: 'an existing pod’s preferred affinity counts the incoming pod’s namespace labels',
    incoming: pod('p', { namespace: 'team', labels: { app: 'web' } }),
    nodes: threeZones,
    pods: [pod('fan', { node: 'b1', affinity: preferred([3, term({ app: 'web' }, ZONE, { namespaceSelector: { matchLabels: { tier: 'front' } } })]) })],
    namespaces: { default: {}, team: { tier: 'front' } },
    want: { a1: 0, b1: 100, c1: 0 },
  },
  {
    name: 'preferred affinity to pods of another namespace needs a namespaceSelector that picks it',
    incoming: pod('p', { affinity: preferred([5, term({ app: 'cache' }, ZONE)]) }),
    nodes: threeZones,
    pods: [pod('cache', { namespace: 'data', labels: { app: 'cache' }, node: 'a1' })],
    namespaces: { default: {}, data: {} },
    want: { a1: 0, b1: 0, c1: 0 },
  },
];

describe('InterPodAffinity score', () => {
  for (const c of scoreCases) {
    it(c.name, () => {
      assert.deepEqual(runScore(interPodAffinity, c.incoming, snapshotOf(c.nodes, c.pods, c.namespaces)), c.want);
    });
  }
});
