import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeObject, Pod } from '../../../src/scheduler/framework.js';
import { balancedAllocation, balancedAllocationPlugin } from '../../../src/scheduler/plugins/balanced-allocation.js';
import { container, node, nodeInfo, pod, scores } from '../support/node-fixtures.js';

const requesting = (requests: Record<string, string>) => pod({ containers: [container(requests)] });
const sized = (name: string, cpu: string, memory: string, extra: Record<string, string> = {}) => node(name, { allocatable: { cpu, memory, pods: '110', ...extra } });

// Expected numbers follow upstream's formula: fractions requested/allocatable (capped at 1),
// std = |f1 - f2| / 2 for two resources, score = int((1 - std) * 100).
describe('NodeResourcesBalancedAllocation score', () => {
  const cases: { name: string; pod: Pod; nodes: [NodeObject, ...Pod[]][]; want: Record<string, number>; plugin?: typeof balancedAllocation }[] = [
    {
      // a: 0.75 and 0.5 → std 0.125 → 87; b: 0.5 and 0.5 → 100
      name: 'the node whose cpu and memory would be used alike scores higher',
      pod: requesting({ cpu: '3', memory: '5000' }),
      nodes: [[sized('a', '4', '10000')], [sized('b', '6', '10000')]],
      want: { a: 87, b: 100 },
    },
    {
      // 0.5 and 0 → std 0.25 → 75 (with the 200Mi default it would be 0.5 and 0.2 → 85)
      name: 'unset memory counts as zero, not as the scoring default',
      pod: requesting({ cpu: '500m' }),
      nodes: [[sized('a', '1', '1000Mi')]],
      want: { a: 75 },
    },
    {
      // existing 1000m/0 plus the pod's 0/2000 on 4000m/10000: 0.25 and 0.2 → std 0.025 → 97
      name: 'the existing pods count with their requests',
      pod: requesting({ memory: '2000' }),
      nodes: [[sized('a', '4', '10000'), requesting({ cpu: '1' })]],
      want: { a: 97 },
    },
    {
      // 2/1 is capped at 1, memory 0 → std 0.5 → 50
      name: 'a fraction above 1 is capped',
      pod: requesting({ cpu: '2' }),
      nodes: [[sized('a', '1', '1000Mi')]],
      want: { a: 50 },
    },
    {
      name: 'a pod without requests on an empty node is perfectly balanced',
      pod: pod(),
      nodes: [[sized('a', '1', '1000Mi')]],
      want: { a: 100 },
    },
    {
      // 0.5, 0.25, 0 → mean 0.25, variance 0.125/3 → std 0.2041 → 79
      name: 'with three resources the population standard deviation is used',
      pod: requesting({ cpu: '2', memory: '2500', 'ephemeral-storage': '0' }),
      nodes: [[sized('a', '4', '10000', { 'ephemeral-storage': '100' })]],
      plugin: balancedAllocationPlugin([
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: 'ephemeral-storage', weight: 1 },
      ]),
      want: { a: 79 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const infos = c.nodes.map(([n, ...ps]) => nodeInfo(n, ...ps));
      assert.deepEqual(scores(c.plugin ?? balancedAllocation, c.pod, infos), c.want);
    });
  }

  // A resource no node offers is skipped, so this scorer takes the general path and must agree
  // with the cpu-and-memory fast path the default one takes.
  const general = balancedAllocationPlugin([
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
    { name: 'example.com/unoffered', weight: 1 },
  ]);
  for (const c of cases.filter((x) => !x.plugin)) {
    it(`the general path agrees: ${c.name}`, () => {
      const infos = c.nodes.map(([n, ...ps]) => nodeInfo(n, ...ps));
      assert.deepEqual(scores(general, c.pod, infos), c.want);
    });
  }
});
