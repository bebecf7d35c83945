import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERR_REASON_NODE_NAME, nodeName } from '../../../src/scheduler/plugins/node-name.js';
import { filterReasons, node, nodeInfo, pod } from '../support/node-fixtures.js';

describe('NodeName filter', () => {
  const cases: { name: string; wanted?: string; node: string; reasons: string[] }[] = [
    { name: 'a pod without nodeName fits any node', node: 'a', reasons: [] },
    { name: 'a pod naming the node fits it', wanted: 'a', node: 'a', reasons: [] },
    { name: 'a pod naming another node does not fit', wanted: 'b', node: 'a', reasons: [ERR_REASON_NODE_NAME] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterReasons(nodeName, pod(c.wanted ? { nodeName: c.wanted } : {}), nodeInfo(node(c.node)));
      assert.deepEqual(r.reasons, c.reasons);
      if (c.reasons.length) assert.equal(r.unresolvable, true);
    });
  }

  it('words the reason as Kubernetes does', () => assert.equal(ERR_REASON_NODE_NAME, "node(s) didn't match the requested node name"));
});
