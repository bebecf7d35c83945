import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { taintToleration, toleratesTaint } from '../../../src/scheduler/plugins/taint-toleration.js';
import { filterReasons, node, nodeInfo, pod, scores } from '../support/node-fixtures.js';

const db: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };

describe('toleratesTaint', () => {
  const cases: { name: string; toleration: Toleration; taint: Taint; want: boolean }[] = [
    { name: 'Equal with the same key, value and effect tolerates', toleration: { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }, taint: db, want: true },
    { name: 'no operator means Equal', toleration: { key: 'dedicated', value: 'db' }, taint: db, want: true },
    { name: 'Equal with another value does not tolerate', toleration: { key: 'dedicated', operator: 'Equal', value: 'web' }, taint: db, want: false },
    { name: 'Exists with the same key tolerates any value', toleration: { key: 'dedicated', operator: 'Exists' }, taint: db, want: true },
    { name: 'Exists with another key does not tolerate', toleration: { key: 'gpu', operator: 'Exists' }, taint: db, want: false },
    { name: 'Exists with an empty key tolerates every taint', toleration: { operator: 'Exists' }, taint: { key: 'anything', value: 'x', effect: 'NoExecute' }, want: true },
    { name: 'an empty effect matches every effect', toleration: { key: 'dedicated', operator: 'Exists' }, taint: { ...db, effect: 'NoExecute' }, want: true },
    { name: 'another effect does not match', toleration: { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint: db, want: false },
    { name: 'Equal with an empty value tolerates a taint without value', toleration: { key: 'spot', operator: 'Equal' }, taint: { key: 'spot', effect: 'NoSchedule' }, want: true },
    { name: 'an unknown operator tolerates nothing', toleration: { key: 'dedicated', operator: 'Matches', value: 'db' }, taint: db, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(toleratesTaint(c.toleration, c.taint), c.want));
});

describe('TaintToleration filter', () => {
  const cases: { name: string; taints: Taint[]; tolerations?: Toleration[]; reasons: string[] }[] = [
    { name: 'a node without taints takes any pod', taints: [], reasons: [] },
    { name: 'a NoSchedule taint keeps off a pod without tolerations', taints: [db], reasons: ['node(s) had untolerated taint {dedicated: db}'] },
    { name: 'a NoExecute taint keeps off a pod without tolerations', taints: [{ key: 'evict', value: 'now', effect: 'NoExecute' }], reasons: ['node(s) had untolerated taint {evict: now}'] },
    { name: 'a PreferNoSchedule taint does not filter', taints: [{ key: 'soft', value: 'yes', effect: 'PreferNoSchedule' }], reasons: [] },
    { name: 'a matching Equal toleration lets the pod on', taints: [db], tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }], reasons: [] },
    { name: 'an Exists toleration for the key lets the pod on', taints: [db], tolerations: [{ key: 'dedicated', operator: 'Exists' }], reasons: [] },
    { name: 'an Exists toleration with an empty key lets the pod onto any tainted node', taints: [db, { key: 'evict', effect: 'NoExecute' }], tolerations: [{ operator: 'Exists' }], reasons: [] },
    {
      name: 'a toleration for another effect does not let the pod on',
      taints: [db],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }],
      reasons: ['node(s) had untolerated taint {dedicated: db}'],
    },
    { name: 'a taint without value is shown with an empty value', taints: [{ key: 'spot', effect: 'NoSchedule' }], reasons: ['node(s) had untolerated taint {spot: }'] },
    {
      name: 'the first untolerated taint is the one reported',
      taints: [db, { key: 'gpu', value: 'a100', effect: 'NoSchedule' }],
      tolerations: [{ key: 'dedicated', operator: 'Exists' }],
      reasons: ['node(s) had untolerated taint {gpu: a100}'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterReasons(taintToleration, pod(c.tolerations ? { tolerations: c.tolerations } : {}), nodeInfo(node('a', { taints: c.taints })));
      assert.deepEqual(r.reasons, c.reasons);
      if (c.reasons.length) assert.equal(r.unresolvable, true);
    });
  }
});

describe('TaintToleration score', () => {
  const soft = (key: string): Taint => ({ key, value: 'x', effect: 'PreferNoSchedule' });
  const nodes = () => [nodeInfo(node('clean')), nodeInfo(node('one', { taints: [soft('a')] })), nodeInfo(node('two', { taints: [soft('a'), soft('b'), db] }))];
  const cases: { name: string; tolerations?: Toleration[]; want: Record<string, number> }[] = [
    // raw counts 0, 1, 2 → reversed against the highest: 100, 100 - 50, 100 - 100
    { name: 'each untolerated PreferNoSchedule taint lowers the score, other effects do not count', want: { clean: 100, one: 50, two: 0 } },
    { name: 'a tolerated PreferNoSchedule taint does not count', tolerations: [{ key: 'b', operator: 'Exists', effect: 'PreferNoSchedule' }], want: { clean: 100, one: 0, two: 0 } },
    { name: 'a toleration with an empty effect counts as tolerating PreferNoSchedule', tolerations: [{ key: 'a', operator: 'Exists' }], want: { clean: 100, one: 100, two: 0 } },
    { name: 'a toleration for NoSchedule only does not tolerate PreferNoSchedule', tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }], want: { clean: 100, one: 50, two: 0 } },
    { name: 'when every node is equally clean they all score 100', tolerations: [{ operator: 'Exists' }], want: { clean: 100, one: 100, two: 100 } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(scores(taintToleration, pod(c.tolerations ? { tolerations: c.tolerations } : {}), nodes()), c.want));
});
