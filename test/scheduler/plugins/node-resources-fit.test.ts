import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { NodeObject, Pod } from '../../../src/scheduler/framework.js';
import { fitsResources, insufficientResources, nodeResourcesFit } from '../../../src/scheduler/plugins/node-resources-fit.js';
import { podInfoOf } from '../../../src/scheduler/node-info.js';
import { container, filterReasons, node, nodeInfo, pod } from '../support/node-fixtures.js';

const requesting = (requests: Record<string, string>, extra: Partial<PodSpec> = {}) => pod({ containers: [container(requests)], ...extra });
const small = node('small', { allocatable: { cpu: '2', memory: '4Gi', pods: '110', 'ephemeral-storage': '10Gi' } });

describe('NodeResourcesFit filter', () => {
  const cases: { name: string; pod: Pod; node: NodeObject; existing?: Pod[]; reasons: string[]; unresolvable?: boolean }[] = [
    { name: 'a pod whose requests fit in the free resources fits', pod: requesting({ cpu: '1', memory: '1Gi' }), node: small, reasons: [] },
    { name: 'a pod asking exactly for what is left fits', pod: requesting({ cpu: '1500m' }), node: small, existing: [requesting({ cpu: '500m' })], reasons: [] },
    { name: 'a pod with requests too big for the node does not fit, and eviction could not help', pod: requesting({ cpu: '64' }), node: small, reasons: ['Insufficient cpu'], unresolvable: true },
    {
      name: 'a pod that would fit an empty node but not beside the existing pods lacks memory, and eviction could help',
      pod: requesting({ memory: '3Gi' }),
      node: small,
      existing: [requesting({ memory: '2Gi' })],
      reasons: ['Insufficient memory'],
      unresolvable: false,
    },
    {
      name: 'every resource the node lacks is a reason, in upstream order',
      pod: requesting({ cpu: '3', memory: '5Gi', 'ephemeral-storage': '20Gi' }),
      node: small,
      reasons: ['Insufficient cpu', 'Insufficient memory', 'Insufficient ephemeral-storage'],
    },
    {
      name: 'a pod whose init container needs more than its containers does not fit where the containers alone would',
      pod: pod({ initContainers: [container({ cpu: '3' })], containers: [container({ cpu: '1' })] }),
      node: small,
      reasons: ['Insufficient cpu'],
    },
    {
      name: 'a sidecar init container counts toward the sum of the containers',
      pod: pod({ initContainers: [container({ cpu: '1500m' }, { restartPolicy: 'Always' })], containers: [container({ cpu: '1' })] }),
      node: small,
      reasons: ['Insufficient cpu'],
    },
    { name: 'overhead counts toward the request', pod: requesting({ cpu: '2' }, { overhead: { cpu: '100m' } }), node: small, reasons: ['Insufficient cpu'] },
    {
      name: 'a node at its pods capacity refuses even a pod without requests',
      pod: pod(),
      node: node('tiny', { allocatable: { cpu: '4', memory: '8Gi', pods: '2' } }),
      existing: [pod(), pod()],
      reasons: ['Too many pods'],
      unresolvable: false,
    },
    {
      name: 'a full node lists Too many pods before the resources',
      pod: requesting({ cpu: '5' }),
      node: node('tiny', { allocatable: { cpu: '4', memory: '8Gi', pods: '1' } }),
      existing: [pod()],
      reasons: ['Too many pods', 'Insufficient cpu'],
    },
    { name: 'a pod without requests fits a node whose CPU is all requested', pod: pod(), node: small, existing: [requesting({ cpu: '2' })], reasons: [] },
    { name: 'an extended resource the node does not offer is insufficient', pod: requesting({ 'nvidia.com/gpu': '1' }), node: small, reasons: ['Insufficient nvidia.com/gpu'], unresolvable: true },
    {
      name: 'an extended resource the node offers fits until it is used up',
      pod: requesting({ 'nvidia.com/gpu': '1' }),
      node: node('gpu', { allocatable: { cpu: '4', memory: '8Gi', pods: '110', 'nvidia.com/gpu': '2' } }),
      existing: [requesting({ 'nvidia.com/gpu': '2' })],
      reasons: ['Insufficient nvidia.com/gpu'],
      unresolvable: false,
    },
    { name: 'an extended resource requested as zero is not checked', pod: requesting({ 'nvidia.com/gpu': '0' }), node: small, reasons: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterReasons(nodeResourcesFit, c.pod, nodeInfo(c.node, ...(c.existing ?? [])));
      assert.deepEqual(r.reasons, c.reasons);
      if (c.unresolvable !== undefined) assert.equal(r.unresolvable, c.unresolvable);
    });
    it(`the fast check agrees with the reasons: ${c.name}`, () => {
      const ni = nodeInfo(c.node, ...(c.existing ?? []));
      const requests = podInfoOf(c.pod).requests;
      assert.equal(fitsResources(requests, ni), insufficientResources(requests, ni).length === 0);
      assert.equal(fitsResources(requests, ni), c.reasons.length === 0);
    });
  }
});
