// The kubelet's admission as a table: requests against allocatable and what admitted pods use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { admitPod } from '../../src/node/admission.js';

const pod = (requests: Record<string, string> = {}): Pod => ({ spec: { containers: [{ name: 'c', image: 'x', resources: { requests } }] } });
const alloc = { cpu: '2', memory: '1Gi', pods: '3' };

test('admission by requests, used and allocatable', () => {
  const cases: [string, Pod, Pod[], ReturnType<typeof admitPod>][] = [
    ['fits an empty node', pod({ cpu: '1500m' }), [], { admit: true }],
    ['no requests always fit', pod(), [pod({ cpu: '2' })], { admit: true }],
    ['cpu over what is left', pod({ cpu: '1' }), [pod({ cpu: '1500m' })], { admit: false, reason: 'OutOfcpu', message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000" }],
    ['memory over allocatable', pod({ memory: '2Gi' }), [], { admit: false, reason: 'OutOfmemory', message: "Pod was rejected: Node didn't have enough resource: memory, requested: 2147483648, used: 0, capacity: 1073741824" }],
    ['too many pods', pod(), [pod(), pod(), pod()], { admit: false, reason: 'OutOfpods', message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3" }],
    ['an extended resource the node lacks', pod({ 'example.com/gpu': '1' }), [], { admit: false, reason: 'OutOfexample.com/gpu', message: "Pod was rejected: Node didn't have enough resource: example.com/gpu, requested: 1, used: 0, capacity: 0" }],
  ];
  for (const [name, p, others, want] of cases) assert.deepEqual(admitPod(p, others, alloc), want, name);
});
