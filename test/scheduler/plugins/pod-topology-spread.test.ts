import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { NodeObject, Pod } from '../../../src/scheduler/framework.js';
import {
  ERR_CONSTRAINTS_NOT_MATCH as SKEW,
  ERR_NODE_LABEL_NOT_MATCH as MISSING,
  podTopologySpread,
} from '../../../src/scheduler/plugins/pod-topology-spread.js';
import { node, pod, reasons, runFilter, runScore, snapshotOf } from '../support/snapshot.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

const spread = (topologyKey: string, maxSkew = 1, extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew,
  topologyKey,
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app: 'web' } },
  ...extra,
});
const soft = (topologyKey: string, maxSkew = 1, extra: Partial<TopologySpreadConstraint> = {}) =>
  spread(topologyKey, maxSkew, { whenUnsatisfiable: 'ScheduleAnyway', ...extra });

/** An existing `app=web` pod (or other labels) on a node. */
const on = (nodeName: string, name: string, o: Parameters<typeof pod>[1] = {}) => pod(name, { labels: { app: 'web' }, node: nodeName, ...o });
const incoming = (...constraints: TopologySpreadConstraint[]) => pod('new', { labels: { app: 'web' }, spread: constraints });

const twoZones = [node('a1', { [ZONE]: 'a' }), node('a2', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' })];

interface FilterCase {
  name: string;
  incoming: Pod;
  nodes: NodeObject[];
  pods?: Pod[];
  refused: Record<string, string>;
}

const filterCases: FilterCase[] = [
  {
    name: 'with maxSkew 1 and one pod in zone a, the next pod must go to zone b',
    incoming: incoming(spread(ZONE)),
    nodes: twoZones,
    pods: [on('a1', 'w1')],
    refused: { a1: SKEW, a2: SKEW },
  },
  {
    name: 'with one pod in each zone, every zone is allowed',
    incoming: incoming(spread(ZONE)),
    nodes: twoZones,
    pods: [on('a1', 'w1'), on('b1', 'w2')],
    refused: {},
  },
  {
    name: 'maxSkew 2 tolerates one zone being a pod ahead',
    incoming: incoming(spread(ZONE, 2)),
    nodes: twoZones,
    pods: [on('a1', 'w1')],
    refused: {},
  },
  {
    name: 'a node without the topology key is refused as unresolvable and does not make a domain',
    incoming: incoming(spread(ZONE)),
    nodes: [...twoZones, node('bare')],
    pods: [on('a1', 'w1'), on('b1', 'w2'), on('bare', 'w3'), on('bare', 'w4')],
    refused: { bare: MISSING },
  },
  {
    name: 'minDomains above the number of zones makes the global minimum zero',
    incoming: incoming(spread(ZONE, 1, { minDomains: 3 })),
    nodes: twoZones,
    pods: [on('a1', 'w1'), on('b1', 'w2')],
    refused: { a1: SKEW, a2: SKEW, b1: SKEW },
  },
  {
    name: 'minDomains equal to the number of zones keeps the real global minimum',
    incoming: incoming(spread(ZONE, 1, { minDomains: 2 })),
    nodes: twoZones,
    pods: [on('a1', 'w1'), on('b1', 'w2')],
    refused: {},
  },
  {
    name: 'pods of other namespaces do not count',
    incoming: incoming(spread(ZONE)),
    nodes: twoZones,
    pods: [on('a1', 'w1', { namespace: 'other' })],
    refused: {},
  },
  {
    name: 'pods not matching the selector do not count',
    incoming: incoming(spread(ZONE)),
    nodes: twoZones,
    pods: [on('a1', 'db', { labels: { app: 'db' } })],
    refused: {},
  },
  {
    name: 'terminating pods do not count',
    incoming: incoming(spread(ZONE)),
    nodes: twoZones,
    pods: [on('a1', 'w1', { terminating: true })],
    refused: {},
  },
  {
    name: 'a pod that does not match its own selector does not add to the skew',
    incoming: pod('other', { labels: { app: 'other' }, spread: [spread(ZONE)] }),
    nodes: twoZones,
    pods: [on('a1', 'w1')],
    refused: {},
  },
  {
    name: 'spreading over hostnames refuses the node that already holds more',
    incoming: incoming(spread(HOST)),
    nodes: [node('n1'), node('n2'), node('n3')],
    pods: [on('n1', 'w1'), on('n2', 'w2')],
    refused: { n1: SKEW, n2: SKEW },
  },
  {
    name: 'every constraint must hold: zone and hostname together',
    incoming: incoming(spread(ZONE), spread(HOST)),
    nodes: [...twoZones, node('b2', { [ZONE]: 'b' })],
    pods: [on('a1', 'w1'), on('b1', 'w2'), on('a2', 'w3')],
    refused: { a1: SKEW, a2: SKEW, b1: SKEW },
  },
  {
    name: 'by default (nodeAffinityPolicy Honor) zones the pod’s nodeSelector excludes are not domains',
    incoming: pod('new', { labels: { app: 'web' }, nodeSelector: { disk: 'ssd' }, spread: [spread(ZONE)] }),
    nodes: [node('a1', { [ZONE]: 'a', disk: 'ssd' }), node('b1', { [ZONE]: 'b' })],
    pods: [on('a1', 'w1')],
    refused: {},
  },
  {
    name: 'nodeAffinityPolicy Ignore counts zones the pod’s nodeSelector excludes',
    incoming: pod('new', { labels: { app: 'web' }, nodeSelector: { disk: 'ssd' }, spread: [spread(ZONE, 1, { nodeAffinityPolicy: 'Ignore' })] }),
    nodes: [node('a1', { [ZONE]: 'a', disk: 'ssd' }), node('b1', { [ZONE]: 'b' })],
    pods: [on('a1', 'w1')],
    refused: { a1: SKEW },
  },
  {
    name: 'required node affinity terms limit the domains like a nodeSelector',
    incoming: pod('new', {
      labels: { app: 'web' },
      spread: [spread(ZONE)],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'NotIn', values: ['b'] }] }] } } },
    }),
    nodes: twoZones,
    pods: [on('a1', 'w1')],
    refused: {},
  },
  {
    name: 'by default (nodeTaintsPolicy Ignore) a tainted zone still counts as a domain',
    incoming: incoming(spread(ZONE)),
    nodes: [node('a1', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' }, { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })],
    pods: [on('a1', 'w1')],
    refused: { a1: SKEW },
  },
  {
    name: 'nodeTaintsPolicy Honor leaves out nodes with taints the pod does not tolerate',
    incoming: incoming(spread(ZONE, 1, { nodeTaintsPolicy: 'Honor' })),
    nodes: [node('a1', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' }, { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })],
    pods: [on('a1', 'w1')],
    refused: {},
  },
  {
    name: 'nodeTaintsPolicy Honor keeps nodes whose taints the pod tolerates',
    incoming: pod('new', {
      labels: { app: 'web' },
      tolerations: [{ key: 'dedicated', operator: 'Exists' }],
      spread: [spread(ZONE, 1, { nodeTaintsPolicy: 'Honor' })],
    }),
    nodes: [node('a1', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' }, { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })],
    pods: [on('a1', 'w1')],
    refused: { a1: SKEW },
  },
  {
    name: 'matchLabelKeys counts only pods with the incoming pod’s value of that label',
    incoming: pod('new', { labels: { app: 'web', 'pod-template-hash': 'v2' }, spread: [spread(ZONE, 1, { matchLabelKeys: ['pod-template-hash'] })] }),
    nodes: twoZones,
    pods: [on('a1', 'old', { labels: { app: 'web', 'pod-template-hash': 'v1' } })],
    refused: {},
  },
  {
    name: 'matchLabelKeys still counts pods of the same revision',
    incoming: pod('new', { labels: { app: 'web', 'pod-template-hash': 'v2' }, spread: [spread(ZONE, 1, { matchLabelKeys: ['pod-template-hash'] })] }),
    nodes: twoZones,
    pods: [on('a1', 'same', { labels: { app: 'web', 'pod-template-hash': 'v2' } })],
    refused: { a1: SKEW, a2: SKEW },
  },
  {
    name: 'an empty labelSelector counts no existing pod, as upstream (only the pod itself)',
    incoming: incoming(spread(ZONE, 1, { labelSelector: {} })),
    nodes: twoZones,
    pods: [on('a1', 'w1'), on('a1', 'w2')],
    refused: {},
  },
  {
    name: 'a ScheduleAnyway constraint never refuses a node',
    incoming: incoming(soft(ZONE)),
    nodes: [...twoZones, node('bare')],
    pods: [on('a1', 'w1'), on('a1', 'w2')],
    refused: {},
  },
];

describe('PodTopologySpread filter', () => {
  for (const c of filterCases) {
    it(c.name, () => {
      assert.deepEqual(reasons(podTopologySpread, c.incoming, snapshotOf(c.nodes, c.pods)), c.refused);
    });
  }

  it('marks a missing topology key as unresolvable and a skew as resolvable', () => {
    const out = runFilter(podTopologySpread, incoming(spread(ZONE)), snapshotOf([...twoZones, node('bare')], [on('a1', 'w1')]));
    assert.deepEqual(out.get('bare'), { reasons: [MISSING], unresolvable: true });
    assert.deepEqual(out.get('a1'), { reasons: [SKEW] });
  });
});

interface ScoreCase {
  name: string;
  incoming: Pod;
  nodes: NodeObject[];
  pods?: Pod[];
  /** The candidate nodes (those that passed filtering); default all. */
  candidates?: string[];
  want: Record<string, number>;
}

const threeZones = [node('a1', { [ZONE]: 'a' }), node('b1', { [ZONE]: 'b' }), node('c1', { [ZONE]: 'c' })];

const scoreCases: ScoreCase[] = [
  {
    name: 'without ScheduleAnyway constraints every node scores zero',
    incoming: incoming(spread(ZONE)),
    nodes: threeZones,
    pods: [on('a1', 'w1')],
    want: { a1: 0, b1: 0, c1: 0 },
  },
  {
    name: 'the emptiest zone scores highest and the fullest lowest',
    incoming: incoming(soft(ZONE)),
    nodes: threeZones,
    pods: [on('a1', 'w1'), on('a1', 'w2'), on('c1', 'w3')],
    // raw: a = round(2·ln 5) = 3, b = 0, c = round(ln 5) = 2; normalized 100·(3+0−s)/3
    want: { a1: 0, b1: 100, c1: 33 },
  },
  {
    name: 'maxSkew − 1 is added to every domain, softening the differences',
    incoming: incoming(soft(ZONE, 3)),
    nodes: threeZones,
    pods: [on('a1', 'w1'), on('a1', 'w2'), on('c1', 'w3')],
    // raw: a = round(2·ln 5 + 2) = 5, b = 2, c = round(ln 5 + 2) = 4; normalized 100·(5+2−s)/5
    want: { a1: 40, b1: 100, c1: 60 },
  },
  {
    name: 'when no domain holds a matching pod every node gets the full score',
    incoming: incoming(soft(ZONE)),
    nodes: threeZones,
    want: { a1: 100, b1: 100, c1: 100 },
  },
  {
    name: 'a candidate node without the topology key scores zero',
    incoming: incoming(soft(ZONE)),
    nodes: [...threeZones, node('bare')],
    pods: [on('a1', 'w1'), on('a1', 'w2'), on('c1', 'w3')],
    want: { a1: 0, b1: 100, c1: 33, bare: 0 },
  },
  {
    name: 'hostname spreading counts the pods of each node',
    incoming: incoming(soft(HOST)),
    nodes: [node('n1'), node('n2'), node('n3')],
    pods: [on('n1', 'w1'), on('n1', 'w2'), on('n3', 'w3')],
    want: { n1: 0, n2: 100, n3: 33 },
  },
  {
    name: 'pods in zones without a candidate node are not counted',
    incoming: incoming(soft(ZONE)),
    nodes: threeZones,
    pods: [on('a1', 'w1'), on('c1', 'w2'), on('c1', 'w3'), on('c1', 'w4')],
    candidates: ['a1', 'b1'],
    // two domains: ln 4 per pod; a = round(1.386) = 1, b = 0 → 100·(1+0−s)/1
    want: { a1: 0, b1: 100 },
  },
];

describe('PodTopologySpread score', () => {
  for (const c of scoreCases) {
    it(c.name, () => {
      const snap = snapshotOf(c.nodes, c.pods);
      const candidates = c.candidates?.map((n) => snap.get(n)!);
      assert.deepEqual(runScore(podTopologySpread, c.incoming, snap, candidates), c.want);
    });
  }
});
