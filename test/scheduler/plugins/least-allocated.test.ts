import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeObject, Pod } from '../../../src/scheduler/framework.js';
import { leastAllocated, leastAllocatedPlugin } from '../../../src/scheduler/plugins/least-allocated.js';
import { container, node, nodeInfo, pod, scores } from '../support/node-fixtures.js';

const requesting = (requests: Record<string, string>) => pod({ containers: [container(requests)] });
const sized = (name: string, cpu: string, memory: string, extra: Record<string, string> = {}) => node(name, { allocatable: { cpu, memory, pods: '110', ...extra } });

// Expected numbers follow upstream's formula: per resource (allocatable - requested) * 100 /
// allocatable in integer division, then the weighted mean, again in integer division.
describe('NodeResourcesFit LeastAllocated score', () => {
  const cases: { name: string; pod: Pod; nodes: [NodeObject, ...Pod[]][]; want: Record<string, number>; plugin?: typeof leastAllocated }[] = [
    {
      name: 'a pod asking for no CPU and no memory on an empty node scores 100',
      pod: requesting({ cpu: '0', memory: '0' }),
      nodes: [[sized('a', '4', '10000')]],
      want: { a: 100 },
    },
    {
      // cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50 → 37; the bigger node: 50 and 50 → 50
      name: 'differently sized machines score by the room left on each',
      pod: requesting({ cpu: '3', memory: '5000' }),
      nodes: [[sized('a', '4', '10000')], [sized('b', '6', '10000')]],
      want: { a: 37, b: 50 },
    },
    {
      // cpu (1000-100)*100/1000 = 90, memory (1000Mi-200Mi)*100/1000Mi = 80 → 85
      name: 'a pod without requests counts as 100m CPU and 200Mi memory',
      pod: pod(),
      nodes: [[sized('a', '1', '1000Mi')]],
      want: { a: 85 },
    },
    {
      // existing pod counts 100m/200Mi too: cpu (1000-200)*100/1000 = 80, memory (1000-400)*100/1000 = 60 → 70
      name: 'existing pods without requests count with the same defaults',
      pod: pod(),
      nodes: [[sized('a', '1', '1000Mi'), pod()]],
      want: { a: 70 },
    },
    {
      // cpu 6000 > 4000 scores 0; memory asked explicitly as 0 scores 100 → 50
      name: 'a resource requested beyond the allocatable scores 0',
      pod: requesting({ cpu: '6', memory: '0' }),
      nodes: [[sized('a', '4', '10000')]],
      want: { a: 50 },
    },
    {
      // cpu 75 (w1), memory 50 (w1), gpu (4-1)*100/4 = 75 (w2) → (75+50+150)/4 = 68
      name: 'an extended resource the pod asks for counts with its weight',
      pod: requesting({ cpu: '1', memory: '5000', 'example.com/gpu': '1' }),
      nodes: [[sized('a', '4', '10000', { 'example.com/gpu': '4' })]],
      plugin: leastAllocatedPlugin([
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: 'example.com/gpu', weight: 2 },
      ]),
      want: { a: 68 },
    },
    {
      // the gpu is skipped: cpu 75, memory 50 → 62
      name: 'an extended resource the pod does not ask for is left out',
      pod: requesting({ cpu: '1', memory: '5000' }),
      nodes: [[sized('a', '4', '10000', { 'example.com/gpu': '4' })]],
      plugin: leastAllocatedPlugin([
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: 'example.com/gpu', weight: 2 },
      ]),
      want: { a: 62 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const infos = c.nodes.map(([n, ...ps]) => nodeInfo(n, ...ps));
      assert.deepEqual(scores(c.plugin ?? leastAllocated, c.pod, infos), c.want);
    });
  }

  // A resource no node offers is skipped, so this scorer takes the general path and must agree
  // with the cpu-and-memory fast path the default one takes.
  const general = leastAllocatedPlugin([
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
