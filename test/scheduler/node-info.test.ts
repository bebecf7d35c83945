import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { Resources } from '../../src/scheduler/framework.js';
import { addPodToNode, cloneNodeInfo, isScalarResourceName, nodeInfoOf, podInfoOf, removePodFromNode, setNodeObject } from '../../src/scheduler/node-info.js';
import { container, node, pod } from './support/node-fixtures.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

type Want = Partial<Omit<Resources, 'scalar'>> & { scalar?: Record<string, number> };

function pick(r: Resources, want: Want): Want {
  const out: Want = {};
  for (const k of Object.keys(want) as (keyof Want)[]) (out as Record<string, unknown>)[k] = r[k];
  return out;
}

describe('podInfoOf computes effective requests as resourcehelper.PodRequests', () => {
  const cases: { name: string; spec: Partial<PodSpec>; requests: Want; nonZero: Want }[] = [
    {
      name: 'a pod without requests requests nothing but counts 100m and 200Mi per container when scoring',
      spec: { containers: [container(), container()] },
      requests: { milliCPU: 0, memory: 0, pods: 1 },
      nonZero: { milliCPU: 200, memory: 400 * Mi, pods: 1 },
    },
    {
      name: 'the requests of all containers add up',
      spec: { containers: [container({ cpu: '500m', memory: '1Gi' }), container({ cpu: '1', memory: '512Mi', 'ephemeral-storage': '1Gi' })] },
      requests: { milliCPU: 1500, memory: 1.5 * Gi, ephemeralStorage: Gi },
      nonZero: { milliCPU: 1500, memory: 1.5 * Gi },
    },
    {
      name: 'an explicit zero request stays zero when scoring, only a missing one takes the default',
      spec: { containers: [container({ cpu: '0', memory: '0' })] },
      requests: { milliCPU: 0, memory: 0 },
      nonZero: { milliCPU: 0, memory: 0 },
    },
    {
      name: 'an init container that needs more than the containers sets the request',
      spec: { initContainers: [container({ cpu: '2', memory: '3G' }), container({ cpu: '2', memory: '1G' })], containers: [container({ cpu: '2', memory: '1G' }), container({ cpu: '1', memory: '1G' })] },
      requests: { milliCPU: 3000, memory: 3e9 },
      nonZero: { milliCPU: 3000, memory: 3e9 },
    },
    {
      name: 'an init container smaller than the containers does not add to them',
      spec: { initContainers: [container({ cpu: '100m' })], containers: [container({ cpu: '1' })] },
      requests: { milliCPU: 1000 },
      nonZero: { milliCPU: 1000 },
    },
    {
      name: 'a sidecar init container counts toward the sum of the containers',
      spec: { initContainers: [container({ cpu: '500m', memory: '100Mi' }, { restartPolicy: 'Always' })], containers: [container({ cpu: '1', memory: '200Mi' })] },
      requests: { milliCPU: 1500, memory: 300 * Mi },
      nonZero: { milliCPU: 1500, memory: 300 * Mi },
    },
    {
      name: 'an init container after a sidecar runs beside it',
      spec: {
        initContainers: [container({ cpu: '500m' }, { restartPolicy: 'Always' }), container({ cpu: '2' })],
        containers: [container({ cpu: '1' })],
      },
      requests: { milliCPU: 2500 },
      nonZero: { milliCPU: 2500 },
    },
    {
      name: 'an init container before a sidecar does not run beside it',
      spec: {
        initContainers: [container({ cpu: '2' }), container({ cpu: '500m' }, { restartPolicy: 'Always' })],
        containers: [container({ cpu: '1' })],
      },
      requests: { milliCPU: 2000 },
      nonZero: { milliCPU: 2000 },
    },
    {
      name: 'overhead is added on top of the requests',
      spec: { containers: [container({ cpu: '1', memory: '1Gi' })], overhead: { cpu: '250m', memory: '120Mi' } },
      requests: { milliCPU: 1250, memory: Gi + 120 * Mi },
      nonZero: { milliCPU: 1250, memory: Gi + 120 * Mi },
    },
    {
      name: 'extended resources and hugepages are kept as scalar resources, unknown names are ignored',
      spec: { containers: [container({ 'nvidia.com/gpu': '2', 'hugepages-2Mi': '4Mi', storage: '5' })] },
      requests: { scalar: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': 4 * Mi } },
      nonZero: { scalar: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': 4 * Mi } },
    },
    {
      name: 'fractional quantities round up to the unit',
      spec: { containers: [container({ cpu: '0.0001', memory: '1.5' })] },
      requests: { milliCPU: 1, memory: 2 },
      nonZero: { milliCPU: 1, memory: 2 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pi = podInfoOf(pod(c.spec));
      assert.deepEqual(pick(pi.requests, c.requests), c.requests);
      assert.deepEqual(pick(pi.nonZeroRequests, c.nonZero), c.nonZero);
    });
  }
});

describe('podInfoOf reads host ports and affinity', () => {
  const cases: { name: string; spec: Partial<PodSpec>; ports?: string[]; affinity?: boolean; antiAffinity?: boolean }[] = [
    {
      name: 'a host port without protocol or IP is TCP on 0.0.0.0, and container ports without a host port are skipped',
      spec: { containers: [container(undefined, { ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] })] },
      ports: ['TCP/0.0.0.0/8080'],
    },
    {
      name: 'a host port keeps its protocol and IP',
      spec: { containers: [container(undefined, { ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] })] },
      ports: ['UDP/10.0.0.1/53'],
    },
    {
      name: 'a sidecar holds its host ports, a regular init container does not',
      spec: {
        initContainers: [
          container(undefined, { ports: [{ containerPort: 1, hostPort: 9001 }] }),
          container(undefined, { restartPolicy: 'Always', ports: [{ containerPort: 2, hostPort: 9002 }] }),
        ],
      },
      ports: ['TCP/0.0.0.0/9002'],
    },
    {
      name: 'preferred pod anti-affinity counts as affinity but not as required anti-affinity',
      spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'zone' } }] } } },
      affinity: true,
      antiAffinity: false,
    },
    {
      name: 'required pod anti-affinity counts as both',
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] } } },
      affinity: true,
      antiAffinity: true,
    },
    {
      name: 'node affinity alone is not pod affinity',
      spec: { affinity: { nodeAffinity: {} } },
      affinity: false,
      antiAffinity: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pi = podInfoOf(pod(c.spec, 'web', 'prod'));
      assert.equal(pi.key, 'prod/web');
      if (c.ports) assert.deepEqual(pi.hostPorts, c.ports);
      if (c.affinity !== undefined) assert.equal(pi.hasAffinity, c.affinity);
      if (c.antiAffinity !== undefined) assert.equal(pi.hasRequiredAntiAffinity, c.antiAffinity);
    });
  }
});

describe('nodeInfoOf reads what a node offers', () => {
  const cases: { name: string; n: ReturnType<typeof node>; want: Want }[] = [
    {
      name: 'allocatable is read in scheduler units',
      n: node('a', { allocatable: { cpu: '3500m', memory: '7Gi', pods: '110', 'ephemeral-storage': '100Gi', 'example.com/foo': '3' } }),
      want: { milliCPU: 3500, memory: 7 * Gi, pods: 110, ephemeralStorage: 100 * Gi, scalar: { 'example.com/foo': 3 } },
    },
    {
      name: 'a node without allocatable offers its capacity',
      n: node('a', { capacity: { cpu: '2', memory: '1Gi', pods: '10' } }),
      want: { milliCPU: 2000, memory: Gi, pods: 10 },
    },
    {
      name: 'allocatable wins over capacity when both are there',
      n: node('a', { allocatable: { cpu: '1' }, capacity: { cpu: '2' } }),
      want: { milliCPU: 1000, pods: 0 },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(pick(nodeInfoOf(c.n).allocatable, c.want), c.want));
});

describe('NodeInfo bookkeeping', () => {
  const big = pod({ containers: [container({ cpu: '1', memory: '1Gi' }, { ports: [{ containerPort: 80, hostPort: 80 }] })], affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] } } }, 'big');
  const small = pod({ containers: [container()] }, 'small');

  it('adding pods sums their requests, ports and affinity, and moves the generation', () => {
    const ni = nodeInfoOf(node('a'));
    const g0 = ni.generation;
    addPodToNode(ni, podInfoOf(big));
    addPodToNode(ni, podInfoOf(small));
    assert.ok(ni.generation > g0);
    assert.deepEqual(pick(ni.requested, { milliCPU: 0, memory: 0, pods: 0 }), { milliCPU: 1000, memory: Gi, pods: 2 });
    assert.deepEqual(pick(ni.nonZeroRequested, { milliCPU: 0, memory: 0 }), { milliCPU: 1100, memory: Gi + 200 * Mi });
    assert.deepEqual([...ni.usedPorts], ['TCP/0.0.0.0/80']);
    assert.deepEqual(ni.podsWithAffinity.map((p) => p.key), ['default/big']);
    assert.deepEqual(ni.podsWithRequiredAntiAffinity.map((p) => p.key), ['default/big']);
  });

  it('removing a pod takes back everything it added and answers whether it was there', () => {
    const ni = nodeInfoOf(node('a'));
    addPodToNode(ni, podInfoOf(big));
    addPodToNode(ni, podInfoOf(small));
    const g = ni.generation;
    assert.equal(removePodFromNode(ni, 'default/big'), true);
    assert.ok(ni.generation > g);
    assert.deepEqual(ni.pods.map((p) => p.key), ['default/small']);
    assert.deepEqual(pick(ni.requested, { milliCPU: 0, memory: 0, pods: 0 }), { milliCPU: 0, memory: 0, pods: 1 });
    assert.equal(ni.usedPorts.size, 0);
    assert.equal(ni.podsWithAffinity.length, 0);
    assert.equal(ni.podsWithRequiredAntiAffinity.length, 0);
    assert.equal(removePodFromNode(ni, 'default/big'), false);
  });

  it('a port two pods hold stays in use until both are gone', () => {
    const ni = nodeInfoOf(node('a'));
    const twin = pod({ containers: [container(undefined, { ports: [{ containerPort: 80, hostPort: 80 }] })] }, 'twin');
    addPodToNode(ni, podInfoOf(big));
    addPodToNode(ni, podInfoOf(twin));
    removePodFromNode(ni, 'default/big');
    assert.deepEqual([...ni.usedPorts], ['TCP/0.0.0.0/80']);
  });

  it('a changed node object keeps the pods and recomputes allocatable', () => {
    const ni = nodeInfoOf(node('a'));
    addPodToNode(ni, podInfoOf(big));
    const g = ni.generation;
    setNodeObject(ni, node('a', { allocatable: { cpu: '16', memory: '64Gi', pods: '50' }, labels: { disk: 'ssd' } }));
    assert.ok(ni.generation > g);
    assert.equal(ni.allocatable.milliCPU, 16000);
    assert.equal(ni.node.metadata.labels?.disk, 'ssd');
    assert.equal(ni.pods.length, 1);
    assert.equal(ni.requested.milliCPU, 1000);
  });

  it('a clone owns its arrays, sets and sums, and keeps the generation', () => {
    const ni = nodeInfoOf(node('a'));
    addPodToNode(ni, podInfoOf(big));
    const copy = cloneNodeInfo(ni);
    assert.equal(copy.generation, ni.generation);
    addPodToNode(ni, podInfoOf(small));
    removePodFromNode(ni, 'default/big');
    assert.deepEqual(copy.pods.map((p) => p.key), ['default/big']);
    assert.equal(copy.requested.milliCPU, 1000);
    assert.deepEqual([...copy.usedPorts], ['TCP/0.0.0.0/80']);
    assert.equal(copy.podsWithRequiredAntiAffinity.length, 1);
  });

  it('two fresh node infos never share a generation', () => {
    assert.notEqual(nodeInfoOf(node('a')).generation, nodeInfoOf(node('a')).generation);
  });
});

describe('isScalarResourceName', () => {
  const cases: [string, boolean][] = [
    ['nvidia.com/gpu', true],
    ['hugepages-1Gi', true],
    ['kubernetes.io/foo', true],
    ['attachable-volumes-aws-ebs', true],
    ['cpu', false],
    ['storage', false],
    ['requests.example.com/foo', false],
  ];
  for (const [name, want] of cases) it(`${name} ${want ? 'is' : 'is not'} a scalar resource`, () => assert.equal(isScalarResourceName(name), want));
});
