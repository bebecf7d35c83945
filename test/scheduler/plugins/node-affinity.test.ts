import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { nodeAffinity } from '../../../src/scheduler/plugins/node-affinity.js';
import { filterReasons, node, nodeInfo, pod, scores } from '../support/node-fixtures.js';

const NO_MATCH = "node(s) didn't match Pod's node affinity/selector";
const required = (...terms: NodeSelectorTerm[]): Partial<PodSpec> => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
const expr = (key: string, operator: string, values?: string[]): NodeSelectorRequirement => ({ key, operator, ...(values ? { values } : {}) });
const labelled = { disk: 'ssd', zone: 'a', cores: '8' };

describe('NodeAffinity filter', () => {
  const cases: { name: string; spec: Partial<PodSpec>; labels?: Record<string, string>; nodeName?: string; fits: boolean }[] = [
    { name: 'a pod without nodeSelector or affinity fits any node', spec: {}, fits: true },
    { name: 'a nodeSelector matching the labels fits', spec: { nodeSelector: { disk: 'ssd' } }, fits: true },
    { name: 'a nodeSelector with another value does not fit', spec: { nodeSelector: { disk: 'hdd' } }, fits: false },
    { name: 'a nodeSelector on a missing label does not fit', spec: { nodeSelector: { gpu: 'yes' } }, fits: false },
    { name: 'every nodeSelector entry must match', spec: { nodeSelector: { disk: 'ssd', zone: 'b' } }, fits: false },
    { name: 'In matches one of the values', spec: required({ matchExpressions: [expr('zone', 'In', ['b', 'a'])] }), fits: true },
    { name: 'In does not match other values', spec: required({ matchExpressions: [expr('zone', 'In', ['b', 'c'])] }), fits: false },
    { name: 'NotIn rejects a listed value', spec: required({ matchExpressions: [expr('zone', 'NotIn', ['a'])] }), fits: false },
    { name: 'NotIn matches a node without the label', spec: required({ matchExpressions: [expr('gpu', 'NotIn', ['yes'])] }), fits: true },
    { name: 'Exists matches a node with the label', spec: required({ matchExpressions: [expr('disk', 'Exists')] }), fits: true },
    { name: 'Exists does not match a node without the label', spec: required({ matchExpressions: [expr('gpu', 'Exists')] }), fits: false },
    { name: 'DoesNotExist matches a node without the label', spec: required({ matchExpressions: [expr('gpu', 'DoesNotExist')] }), fits: true },
    { name: 'DoesNotExist does not match a node with the label', spec: required({ matchExpressions: [expr('disk', 'DoesNotExist')] }), fits: false },
    { name: 'Gt compares label values as integers', spec: required({ matchExpressions: [expr('cores', 'Gt', ['4'])] }), fits: true },
    { name: 'Gt is strict', spec: required({ matchExpressions: [expr('cores', 'Gt', ['8'])] }), fits: false },
    { name: 'Gt compares numbers, not strings', spec: required({ matchExpressions: [expr('cores', 'Gt', ['10'])] }), fits: false },
    { name: 'Lt compares label values as integers', spec: required({ matchExpressions: [expr('cores', 'Lt', ['10'])] }), fits: true },
    { name: 'Lt does not match a larger value', spec: required({ matchExpressions: [expr('cores', 'Lt', ['8'])] }), fits: false },
    { name: 'Gt does not match a label that is not an integer', spec: required({ matchExpressions: [expr('disk', 'Gt', ['1'])] }), fits: false },
    { name: 'Gt does not match a missing label', spec: required({ matchExpressions: [expr('memory-gb', 'Gt', ['1'])] }), fits: false },
    { name: 'Gt with two values is invalid and matches nothing', spec: required({ matchExpressions: [expr('cores', 'Gt', ['1', '2'])] }), fits: false },
    { name: 'In without values is invalid and matches nothing', spec: required({ matchExpressions: [expr('zone', 'In', [])] }), fits: false },
    { name: 'an unknown operator matches nothing', spec: required({ matchExpressions: [expr('zone', 'Equals', ['a'])] }), fits: false },
    { name: 'the expressions of a term are ANDed', spec: required({ matchExpressions: [expr('zone', 'In', ['a']), expr('disk', 'In', ['hdd'])] }), fits: false },
    { name: 'the terms are ORed', spec: required({ matchExpressions: [expr('zone', 'In', ['b'])] }, { matchExpressions: [expr('disk', 'In', ['ssd'])] }), fits: true },
    { name: 'an empty term matches nothing', spec: required({}), fits: false },
    { name: 'required affinity without terms matches nothing', spec: required(), fits: false },
    { name: 'an invalid term does not spoil a valid one', spec: required({ matchExpressions: [expr('zone', 'In', [])] }, { matchExpressions: [expr('zone', 'In', ['a'])] }), fits: true },
    { name: 'matchFields metadata.name In matches the node by name', spec: required({ matchFields: [expr('metadata.name', 'In', ['node-1'])] }), nodeName: 'node-1', fits: true },
    { name: 'matchFields metadata.name In rejects other nodes', spec: required({ matchFields: [expr('metadata.name', 'In', ['node-1'])] }), nodeName: 'node-2', fits: false },
    { name: 'matchFields metadata.name NotIn rejects the named node', spec: required({ matchFields: [expr('metadata.name', 'NotIn', ['node-1'])] }), nodeName: 'node-1', fits: false },
    {
      name: 'matchFields and matchExpressions in one term are ANDed',
      spec: required({ matchFields: [expr('metadata.name', 'NotIn', ['node-2'])], matchExpressions: [expr('zone', 'In', ['b'])] }),
      nodeName: 'node-1',
      fits: false,
    },
    { name: 'both the nodeSelector and the required affinity must match', spec: { nodeSelector: { disk: 'ssd' }, ...required({ matchExpressions: [expr('zone', 'In', ['b'])] }) }, fits: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterReasons(nodeAffinity, pod(c.spec), nodeInfo(node(c.nodeName ?? 'a', { labels: c.labels ?? labelled })));
      assert.deepEqual(r.reasons, c.fits ? [] : [NO_MATCH]);
      if (!c.fits) assert.equal(r.unresolvable, true);
    });
  }

  it('required terms pinning disjoint node names conflict before any node is checked', () => {
    const p = pod(required({ matchFields: [expr('metadata.name', 'In', ['a']), expr('metadata.name', 'In', ['b'])] }));
    assert.deepEqual(filterReasons(nodeAffinity, p, nodeInfo(node('a'))).reasons, ['pod affinity terms conflict']);
  });
});

describe('NodeAffinity score', () => {
  const preferred = (...terms: PreferredSchedulingTerm[]): Partial<PodSpec> => ({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms } } });
  const nodes = () => [
    nodeInfo(node('both', { labels: { disk: 'ssd', zone: 'a' } })),
    nodeInfo(node('ssd', { labels: { disk: 'ssd' } })),
    nodeInfo(node('zone-a', { labels: { zone: 'a' } })),
    nodeInfo(node('none')),
  ];
  const cases: { name: string; spec: Partial<PodSpec>; want: Record<string, number> }[] = [
    { name: 'without preferred terms every node scores 0', spec: {}, want: { both: 0, ssd: 0, 'zone-a': 0, none: 0 } },
    {
      // raw 10, 8, 2, 0 → scaled to the highest: 100, 80, 20, 0
      name: 'the weights of the matched terms add up and are scaled to the best node',
      spec: preferred({ weight: 8, preference: { matchExpressions: [expr('disk', 'In', ['ssd'])] } }, { weight: 2, preference: { matchExpressions: [expr('zone', 'In', ['a'])] } }),
      want: { both: 100, ssd: 80, 'zone-a': 20, none: 0 },
    },
    {
      // raw 3, 3, 0, 0 → 100, 100, 0, 0
      name: 'one matched term gives its nodes the full score',
      spec: preferred({ weight: 3, preference: { matchExpressions: [expr('disk', 'Exists')] } }),
      want: { both: 100, ssd: 100, 'zone-a': 0, none: 0 },
    },
    {
      // raw 7, 5, 2, 0 → 700/7, 500/7 = 71, 200/7 = 28, 0 (integer division)
      name: 'scaling divides as integers',
      spec: preferred({ weight: 5, preference: { matchExpressions: [expr('disk', 'In', ['ssd'])] } }, { weight: 2, preference: { matchExpressions: [expr('zone', 'In', ['a'])] } }),
      want: { both: 100, ssd: 71, 'zone-a': 28, none: 0 },
    },
    {
      name: 'an empty preference matches no node',
      spec: preferred({ weight: 5, preference: {} }),
      want: { both: 0, ssd: 0, 'zone-a': 0, none: 0 },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(scores(nodeAffinity, pod(c.spec), nodes()), c.want));
});
