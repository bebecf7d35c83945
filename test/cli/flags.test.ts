// The command-line contract of `skiff up` / `skiff server` (DESIGN.md §1): defaults and refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerFlags, UsageError } from '../../src/cli/flags.js';

test('the defaults follow k3s where Kubernetes has none', () => {
  const f = parseServerFlags([]);
  assert.equal(f.port, 6443);
  assert.equal(f.serviceCidr, '10.43.0.0/16');
  assert.equal(f.clusterCidr, '10.42.0.0/16');
  assert.deepEqual(f.nodePortRange, [30000, 32767]);
  assert.equal(f.simNodes, 0);
  assert.equal(f.localNode, true);
});

test('simulated nodes take a count and a capacity', () => {
  const f = parseServerFlags(['--sim-nodes', '3', '--no-local-node', '--sim-node-capacity', 'cpu=8,memory=32Gi,pods=50']);
  assert.equal(f.simNodes, 3);
  assert.equal(f.localNode, false);
  assert.deepEqual(f.simNodeCapacity, { cpu: '8', memory: '32Gi', pods: '50' });
});

const refusals: [string, string[], RegExp][] = [
  ['an unknown flag is refused', ['--bogus'], /bogus/],
  ['a port that is not a number is refused', ['--port', 'x'], /--port must be a whole number/],
  ['an unknown capacity resource is refused', ['--sim-node-capacity', 'gpu=1'], /cannot read capacity "gpu=1"/],
  ['a malformed NodePort range is refused', ['--service-node-port-range', '30000'], /--service-node-port-range/],
];
for (const [name, argv, message] of refusals) {
  test(name, () => assert.throws(() => parseServerFlags(argv), (e: unknown) => e instanceof UsageError && message.test((e as Error).message)));
}
