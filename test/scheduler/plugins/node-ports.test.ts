import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerPort } from 'kubernetes-types/core/v1.js';
import { nodePorts } from '../../../src/scheduler/plugins/node-ports.js';
import { container, filterReasons, node, nodeInfo, pod } from '../support/node-fixtures.js';

const CONFLICT = "node(s) didn't have free ports for the requested pod ports";
const withPorts = (...ports: Omit<ContainerPort, 'containerPort'>[]) => pod({ containers: [container(undefined, { ports: ports.map((p, i) => ({ containerPort: 1000 + i, ...p })) })] });

describe('NodePorts filter', () => {
  const cases: { name: string; used: Omit<ContainerPort, 'containerPort'>[]; wanted: Omit<ContainerPort, 'containerPort'>[]; conflict: boolean }[] = [
    { name: 'a pod without host ports fits a node whose ports are taken', used: [{ hostPort: 80 }], wanted: [], conflict: false },
    { name: 'the same port on 0.0.0.0 conflicts', used: [{ hostPort: 80 }], wanted: [{ hostPort: 80 }], conflict: true },
    { name: 'another port does not conflict', used: [{ hostPort: 80 }], wanted: [{ hostPort: 81 }], conflict: false },
    { name: 'the same port with another protocol does not conflict', used: [{ hostPort: 53, protocol: 'UDP' }], wanted: [{ hostPort: 53 }], conflict: false },
    { name: 'an explicit TCP port conflicts with a port whose protocol defaulted to TCP', used: [{ hostPort: 80 }], wanted: [{ hostPort: 80, protocol: 'TCP' }], conflict: true },
    { name: 'a wildcard request conflicts with the port taken on a specific IP', used: [{ hostPort: 80, hostIP: '10.0.0.1' }], wanted: [{ hostPort: 80 }], conflict: true },
    { name: 'a specific IP conflicts with the port taken on the wildcard', used: [{ hostPort: 80 }], wanted: [{ hostPort: 80, hostIP: '10.0.0.1' }], conflict: true },
    { name: 'the same specific IP conflicts', used: [{ hostPort: 80, hostIP: '10.0.0.1' }], wanted: [{ hostPort: 80, hostIP: '10.0.0.1' }], conflict: true },
    { name: 'two different specific IPs do not conflict', used: [{ hostPort: 80, hostIP: '10.0.0.1' }], wanted: [{ hostPort: 80, hostIP: '10.0.0.2' }], conflict: false },
    { name: 'an IPv6 host IP is told apart from another', used: [{ hostPort: 80, hostIP: 'fd00::1' }], wanted: [{ hostPort: 80, hostIP: 'fd00::2' }], conflict: false },
    { name: 'a wildcard request conflicts with the port taken on an IPv6 address', used: [{ hostPort: 80, hostIP: 'fd00::1' }], wanted: [{ hostPort: 80 }], conflict: true },
    { name: 'one conflicting port among several is enough', used: [{ hostPort: 443 }], wanted: [{ hostPort: 80 }, { hostPort: 443 }], conflict: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterReasons(nodePorts, withPorts(...c.wanted), nodeInfo(node('a'), withPorts(...c.used)));
      assert.deepEqual(r.reasons, c.conflict ? [CONFLICT] : []);
      // evicting the holder would free the port: upstream answers plain Unschedulable
      assert.equal(r.unresolvable, false);
    });
  }
});
