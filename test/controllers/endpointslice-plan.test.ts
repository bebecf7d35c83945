// The EndpointSlice controllers' pure decisions: a pod as an endpoint (ready, serving,
// terminating, node, zone, hostname), endpoints grouped by the ports resolved on each pod, and the
// reconciler's packing: at most maxEndpointsPerSlice per slice, unchanged slices left alone, changes
// landing in as few slices as possible, creates reusing slices about to be deleted, the placeholder.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { desiredGroupsForPods, planSlices, podToEndpoint, type DesiredGroup, type SliceTemplate } from '../../src/controllers/endpointslice-plan.js';

function pod(name: string, o: { ready?: boolean; deleting?: boolean; node?: string; ip?: string; webPort?: number; hostname?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'c', ports: o.webPort ? [{ name: 'web', containerPort: o.webPort }] : [] }], ...(o.node ? { nodeName: o.node } : {}), ...(o.hostname ? { hostname: o.hostname, subdomain: 'web' } : {}) },
    status: { phase: 'Running', podIP: o.ip ?? '10.42.0.1', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  } as Pod;
}
const svc = (extra: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid' },
  spec: { selector: { app: 'web' }, clusterIP: '10.43.0.5', ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }], ...extra },
});

describe('a pod as an endpoint', () => {
  const cases: [string, Pod, Partial<NonNullable<Service['spec']>>, Endpoint['conditions']][] = [
    ['a ready pod is ready and serving', pod('p'), {}, { ready: true, serving: true, terminating: false }],
    ['an unready pod is neither', pod('p', { ready: false }), {}, { ready: false, serving: false, terminating: false }],
    ['a terminating ready pod is serving and terminating but not ready', pod('p', { deleting: true }), {}, { ready: false, serving: true, terminating: true }],
    ['publishNotReadyAddresses makes every pod ready', pod('p', { ready: false, deleting: true }), { publishNotReadyAddresses: true }, { ready: true, serving: false, terminating: true }],
  ];
  for (const [name, p, spec, want] of cases) test(name, () => assert.deepEqual(podToEndpoint(p, svc(spec))?.conditions, want));

  test('node, zone, target and hostname', () => {
    const ep = podToEndpoint(pod('p', { node: 'n1', hostname: 'web-0' }), svc(), (n) => (n === 'n1' ? 'zone-a' : undefined));
    assert.deepEqual(ep, {
      addresses: ['10.42.0.1'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'uid-p' },
      nodeName: 'n1',
      zone: 'zone-a',
      hostname: 'web-0',
    });
  });

  test('a pod without an IPv4 address is no endpoint', () => assert.equal(podToEndpoint(pod('p', { ip: 'fd00::1' }), svc()), undefined));
});

describe('desired endpoints by port set', () => {
  test('pods whose named port differs land in different groups; a pod without it in a group without ports', () => {
    const groups = desiredGroupsForPods(svc(), [pod('a', { webPort: 8080, ip: '10.42.0.1' }), pod('b', { webPort: 8081, ip: '10.42.0.2' }), pod('c', { webPort: 8080, ip: '10.42.0.3' }), pod('d', { ip: '10.42.0.4' })]);
    assert.deepEqual(
      groups.map((g) => ({ ports: g.ports, ips: g.endpoints.map((e) => e.addresses[0]) })),
      [
        { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], ips: ['10.42.0.1', '10.42.0.3'] },
        { ports: [{ name: 'http', port: 8081, protocol: 'TCP' }], ips: ['10.42.0.2'] },
        { ports: [], ips: ['10.42.0.4'] },
      ],
    );
  });

  test('terminating pods are included; finished pods are not', () => {
    const done = { ...pod('f', { ip: '10.42.0.9' }), status: { phase: 'Succeeded', podIP: '10.42.0.9' } } as Pod;
    const groups = desiredGroupsForPods(svc(), [pod('t', { deleting: true, webPort: 80 }), done]);
    assert.deepEqual(groups.flatMap((g) => g.endpoints.map((e) => e.targetRef?.name)), ['t']);
  });
});

const PORTS = [{ name: 'http', port: 8080, protocol: 'TCP' }];
const T: SliceTemplate = {
  namespace: 'ns',
  generateName: 'web-',
  labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
  ownerReference: { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true },
  addressType: 'IPv4',
};
const ep = (i: number, ready = true): Endpoint => ({ addresses: [`10.42.${i >> 8}.${i & 255}`], conditions: { ready, serving: ready, terminating: false }, targetRef: { kind: 'Pod', namespace: 'ns', name: `p${i}`, uid: `u${i}` } });
const eps = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ep(from + i));
const group = (endpoints: Endpoint[], ports = PORTS): DesiredGroup[] => [{ ports, endpoints }];
const slice = (name: string, endpoints: Endpoint[], ports = PORTS, extra: Partial<EndpointSlice> = {}): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'ns', resourceVersion: '1', labels: { ...T.labels }, ownerReferences: [T.ownerReference] },
  addressType: 'IPv4',
  endpoints,
  ports,
  ...extra,
});
const OPTS = { maxEndpointsPerSlice: 100, placeholder: true };
const sizes = (ss: EndpointSlice[]) => ss.map((s) => s.endpoints.length);
const names = (ss: EndpointSlice[]) => ss.map((s) => s.metadata?.name);

describe('packing endpoints into slices', () => {
  test('250 endpoints and no slices make 3 new slices of 100, 100 and 50', () => {
    const plan = planSlices([], group(eps(0, 250)), T, OPTS);
    assert.deepEqual(sizes(plan.create), [100, 100, 50]);
    assert.deepEqual([plan.update.length, plan.delete.length], [0, 0]);
    assert.equal(plan.create[0]?.metadata?.generateName, 'web-');
    assert.deepEqual(plan.create[0]?.ports, PORTS);
  });

  test('nothing changes when the slices already say it all', () => {
    const plan = planSlices([slice('a', eps(0, 100)), slice('b', eps(100, 150))], group(eps(0, 150)), T, OPTS);
    assert.deepEqual(plan, { create: [], update: [], delete: [] });
  });

  test('a readiness change updates only the slice holding that endpoint', () => {
    const desired = eps(0, 150);
    desired[120] = ep(120, false);
    const plan = planSlices([slice('a', eps(0, 100)), slice('b', eps(100, 150))], group(desired), T, OPTS);
    assert.deepEqual(names(plan.update), ['b']);
    assert.equal(plan.update[0]?.endpoints[20]?.conditions?.ready, false);
    assert.deepEqual([plan.create.length, plan.delete.length], [0, 0]);
  });

  test('a new endpoint goes into the slice being updated anyway', () => {
    const plan = planSlices([slice('a', eps(0, 100)), slice('b', eps(100, 150))], group([...eps(0, 149), ep(500)]), T, OPTS);
    assert.deepEqual(names(plan.update), ['b']);
    assert.deepEqual(plan.update[0]?.endpoints.map((e) => e.targetRef?.name).slice(-2), ['p148', 'p500']);
  });

  test('new endpoints alone go into the fullest unchanged slice they fit in', () => {
    const plan = planSlices([slice('a', eps(0, 90)), slice('b', eps(90, 150)), slice('c', eps(150, 170))], group([...eps(0, 170), ep(900), ep(901)]), T, OPTS);
    assert.deepEqual(names(plan.update), ['a']);
    assert.deepEqual(sizes(plan.update), [92]);
  });

  test('a slice left empty is deleted', () => {
    const plan = planSlices([slice('a', eps(0, 100)), slice('b', eps(100, 110))], group(eps(0, 100)), T, OPTS);
    assert.deepEqual(names(plan.delete), ['b']);
    assert.deepEqual([plan.create.length, plan.update.length], [0, 0]);
  });

  test('when the port changes, the old slice is reused by name rather than deleted and recreated', () => {
    const ports2 = [{ name: 'http', port: 9090, protocol: 'TCP' }];
    const plan = planSlices([slice('a', eps(0, 3))], group(eps(0, 3), ports2), T, OPTS);
    assert.deepEqual(names(plan.update), ['a']);
    assert.deepEqual(plan.update[0]?.ports, ports2);
    assert.equal(plan.update[0]?.metadata?.resourceVersion, '1');
    assert.deepEqual([plan.create.length, plan.delete.length], [0, 0]);
  });

  test('a service without endpoints keeps one empty placeholder slice', () => {
    const plan = planSlices([], [], T, OPTS);
    assert.equal(plan.create.length, 1);
    assert.deepEqual([plan.create[0]?.endpoints, plan.create[0]?.ports], [[], []]);
    const again = planSlices([slice('ph', [], [])], [], T, OPTS);
    assert.deepEqual(again, { create: [], update: [], delete: [] });
  });

  test('the last endpoints leaving turn their slice into the placeholder', () => {
    const plan = planSlices([slice('a', eps(0, 3))], [], T, OPTS);
    assert.deepEqual(names(plan.update), ['a']);
    assert.deepEqual([plan.update[0]?.endpoints, plan.update[0]?.ports], [[], []]);
    assert.equal(plan.delete.length, 0);
  });

  test('a slice owned by something else is deleted, not reused', () => {
    const foreign = slice('x', eps(0, 3), PORTS, {});
    foreign.metadata = { ...foreign.metadata, ownerReferences: [{ ...T.ownerReference, uid: 'old-svc' }] };
    const plan = planSlices([foreign], group(eps(0, 3)), T, OPTS);
    assert.deepEqual(names(plan.delete), ['x']);
    assert.deepEqual(sizes(plan.create), [3]);
  });

  test('changed service labels update every slice', () => {
    const plan = planSlices([slice('a', eps(0, 3))], group(eps(0, 3)), { ...T, labels: { ...T.labels, team: 'x' } }, OPTS);
    assert.deepEqual(names(plan.update), ['a']);
    assert.equal(plan.update[0]?.metadata?.labels?.team, 'x');
  });

  test('annotations ride along on written slices; they alone do not cause a write unless they matter', () => {
    const t = { ...T, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' } };
    assert.deepEqual(planSlices([slice('a', eps(0, 3))], group(eps(0, 3)), t, OPTS).update, []);
    const plan = planSlices([slice('a', eps(0, 3))], group(eps(0, 3)), { ...t, annotationsMatter: true }, OPTS);
    assert.equal(plan.update[0]?.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-01T00:00:00Z');
  });
});
