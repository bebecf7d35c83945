import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { nodeUnschedulable } from '../../../src/scheduler/plugins/node-unschedulable.js';
import { filterReasons, node, nodeInfo, pod } from '../support/node-fixtures.js';

describe('NodeUnschedulable filter', () => {
  const cases: { name: string; cordoned: boolean; tolerations?: Toleration[]; reasons: string[] }[] = [
    { name: 'a schedulable node takes any pod', cordoned: false, reasons: [] },
    { name: 'a cordoned node refuses a pod without tolerations', cordoned: true, reasons: ['node(s) were unschedulable'] },
    {
      name: 'a cordoned node takes a pod tolerating the unschedulable taint',
      cordoned: true,
      tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
      reasons: [],
    },
    { name: 'a cordoned node takes a pod that tolerates everything', cordoned: true, tolerations: [{ operator: 'Exists' }], reasons: [] },
    {
      name: 'a toleration for another effect does not let the pod onto a cordoned node',
      cordoned: true,
      tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }],
      reasons: ['node(s) were unschedulable'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterReasons(nodeUnschedulable, pod(c.tolerations ? { tolerations: c.tolerations } : {}), nodeInfo(node('a', { unschedulable: c.cordoned })));
      assert.deepEqual(r.reasons, c.reasons);
      if (c.reasons.length) assert.equal(r.unresolvable, true);
    });
  }
});
