// The Endpoints controller's pure decisions: which pods count and how (ready, not ready, left
// out), which port each service port means on each pod (named target ports, sidecars, protocol),
// how addresses repack into subsets by port set, labels, truncation, and the trigger time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { findPort, formatTriggerTime, HEADLESS_LABEL, planEndpoints, repackSubsets, shouldPodBeInEndpoints, truncateSubsets, TriggerTimeTracker } from '../../src/controllers/endpoints-plan.js';

interface PodOpts {
  ip?: string;
  ready?: boolean;
  readyAt?: string;
  phase?: string;
  deleting?: boolean;
  node?: string;
  ports?: { name: string; containerPort: number; protocol?: string }[];
  sidecarPorts?: { name: string; containerPort: number }[];
  hostname?: string;
  subdomain?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      containers: [{ name: 'c', ports: o.ports }],
      initContainers: o.sidecarPorts ? [{ name: 'side', restartPolicy: 'Always', ports: o.sidecarPorts }] : [],
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? `10.42.0.${name.replace(/\D/g, '') || '9'}` }),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', ...(o.readyAt ? { lastTransitionTime: o.readyAt } : {}) }],
    },
  } as Pod;
}

function svc(ports: ServicePort[], extra: Partial<NonNullable<Service['spec']>> = {}, labels: Record<string, string> = {}): Service {
  return { metadata: { name: 'web', namespace: 'ns', labels, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { selector: { app: 'web' }, clusterIP: '10.43.0.5', ports, ...extra } };
}

const http: ServicePort = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' };

describe('which pods belong in endpoints', () => {
  const cases: [string, Pod, boolean, boolean][] = [
    ['a running pod with an IP belongs', pod('p1'), false, true],
    ['a pod without an IP does not', pod('p1', { ip: '' }), false, false],
    ['a succeeded pod does not', pod('p1', { phase: 'Succeeded' }), false, false],
    ['a failed pod does not', pod('p1', { phase: 'Failed' }), true, false],
    ['a terminating pod does not, unless terminating ones are included', pod('p1', { deleting: true }), false, false],
    ['a terminating pod does when terminating ones are included', pod('p1', { deleting: true }), true, true],
  ];
  for (const [name, p, incl, want] of cases) test(name, () => assert.equal(shouldPodBeInEndpoints(p, incl), want));
});

describe('FindPort', () => {
  const cases: [string, Pod, ServicePort, number | undefined][] = [
    ['a numeric targetPort is taken as is', pod('p1'), { port: 80, targetPort: 8080 }, 8080],
    ['no targetPort means the service port', pod('p1'), { port: 80 }, 80],
    ['a named targetPort is the container port of that name', pod('p1', { ports: [{ name: 'web', containerPort: 9000 }] }), { port: 80, targetPort: 'web' }, 9000],
    ['a pod lacking the named port has none', pod('p1', { ports: [{ name: 'other', containerPort: 9000 }] }), { port: 80, targetPort: 'web' }, undefined],
    ['the protocol must match too', pod('p1', { ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] }), { port: 53, targetPort: 'dns', protocol: 'TCP' }, undefined],
    ['a sidecar (restartable init container) port counts', pod('p1', { sidecarPorts: [{ name: 'web', containerPort: 7000 }] }), { port: 80, targetPort: 'web' }, 7000],
  ];
  for (const [name, p, sp, want] of cases) test(name, () => assert.equal(findPort(p, sp), want));
});

describe('planEndpoints', () => {
  test('ready pods are addresses and unready ones notReadyAddresses, in one subset per port set', () => {
    const plan = planEndpoints(svc([http]), [pod('p2'), pod('p1', { ready: false, node: 'n1' }), pod('p3')]);
    assert.deepEqual(plan.subsets, [
      {
        addresses: [
          { ip: '10.42.0.2', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'uid-p2' } },
          { ip: '10.42.0.3', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'uid-p3' } },
        ],
        notReadyAddresses: [{ ip: '10.42.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p1' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    assert.equal(plan.truncated, false);
  });

  test('a named target port resolves per pod; a pod without it is left out of that port; ports offered by the same pods share a subset', () => {
    const s = svc([{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }, { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' }]);
    const plan = planEndpoints(s, [pod('p1', { ports: [{ name: 'web', containerPort: 8080 }] }), pod('p2', { ports: [{ name: 'web', containerPort: 8081 }] }), pod('p3')]);
    const summary = plan.subsets.map((ss) => ({ ips: (ss.addresses ?? []).map((a) => a.ip), ports: (ss.ports ?? []).map((p) => `${p.name}:${p.port}`) }));
    assert.deepEqual(summary, [
      { ips: ['10.42.0.1'], ports: ['http:8080'] },
      { ips: ['10.42.0.2'], ports: ['http:8081'] },
      { ips: ['10.42.0.1', '10.42.0.2', '10.42.0.3'], ports: ['metrics:9090'] },
    ]);
  });

  test('publishNotReadyAddresses lists every pod as ready, terminating ones included', () => {
    const plan = planEndpoints(svc([http], { publishNotReadyAddresses: true }), [pod('p1', { ready: false }), pod('p2', { deleting: true })]);
    assert.deepEqual(plan.subsets[0]?.addresses?.map((a) => a.ip), ['10.42.0.1', '10.42.0.2']);
    assert.equal(plan.subsets[0]?.notReadyAddresses, undefined);
  });

  test('terminating pods and pods without an IP are left out', () => {
    const plan = planEndpoints(svc([http]), [pod('p1', { deleting: true }), pod('p2', { ip: '' })]);
    assert.deepEqual(plan.subsets, []);
  });

  test('a headless service without ports lists addresses without ports, and carries the headless label', () => {
    const plan = planEndpoints(svc([], { clusterIP: 'None' }, { team: 'a' }), [pod('p1', { hostname: 'web-0', subdomain: 'web' }), pod('p2', { hostname: 'x', subdomain: 'other' })]);
    assert.deepEqual(plan.subsets, [
      {
        addresses: [
          { ip: '10.42.0.1', hostname: 'web-0', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p1' } },
          { ip: '10.42.0.2', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'uid-p2' } },
        ],
      },
    ]);
    assert.deepEqual(plan.labels, { team: 'a', [HEADLESS_LABEL]: '' });
  });

  test('a ClusterIP service without ports gets no addresses; its labels are the service\'s', () => {
    const plan = planEndpoints(svc([], {}, { [HEADLESS_LABEL]: '', team: 'a' }), [pod('p1')]);
    assert.deepEqual(plan.subsets, []);
    assert.deepEqual(plan.labels, { team: 'a' });
  });
});

describe('repacking and truncation', () => {
  test('the same address both ready and not ready for one port is not ready (not ready trumps ready)', () => {
    const a = { ip: '10.0.0.1' };
    const out = repackSubsets([{ addresses: [a], ports: [{ port: 1 }] }, { notReadyAddresses: [a], ports: [{ port: 1 }] }]);
    assert.deepEqual(out, [{ notReadyAddresses: [a], ports: [{ port: 1 }] }]);
  });

  test('ports offered by the same addresses merge into one subset', () => {
    const a = { ip: '10.0.0.1' };
    const b = { ip: '10.0.0.2' };
    const out = repackSubsets([{ addresses: [b], ports: [{ port: 1 }] }, { addresses: [a], ports: [{ port: 2 }] }, { addresses: [a, b], ports: [{ port: 2 }] }, { addresses: [a, b], ports: [{ port: 1 }] }]);
    assert.deepEqual(out, [{ addresses: [a, b], ports: [{ port: 1 }, { port: 2 }] }]);
  });

  test('beyond the capacity, ready addresses are kept before not-ready ones', () => {
    const addrs = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.0.${base}.${i}` }));
    const { subsets, truncated } = truncateSubsets([{ addresses: addrs(3, 0), notReadyAddresses: addrs(3, 1) }], 4);
    assert.equal(truncated, true);
    assert.equal(subsets[0]?.addresses?.length, 3);
    assert.equal(subsets[0]?.notReadyAddresses?.length, 1);
  });

  test('more than 1000 pods are truncated to 1000 addresses and flagged', () => {
    const pods = Array.from({ length: 1100 }, (_, i) => ({ ...pod(`p${i}`), status: { phase: 'Running', podIP: `10.42.${i >> 8}.${i & 255}`, conditions: [{ type: 'Ready', status: 'True' }] } }) as Pod);
    const plan = planEndpoints(svc([http]), pods);
    assert.equal(plan.truncated, true);
    assert.equal(plan.subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0), 1000);
  });
});

describe('the last-change trigger time', () => {
  test('a service seen for the first time has none; then the earliest change since the last sync', () => {
    const t = new TriggerTimeTracker();
    const s = svc([http]);
    assert.equal(t.compute('ns/web', s, [pod('p1', { readyAt: '2026-01-01T00:00:10Z' })]), undefined);
    assert.equal(t.compute('ns/web', s, [pod('p1', { readyAt: '2026-01-01T00:00:10Z' })]), undefined, 'nothing changed');
    const at = t.compute('ns/web', s, [pod('p1', { readyAt: '2026-01-01T00:00:30Z' }), pod('p2', { readyAt: '2026-01-01T00:00:20Z' })]);
    assert.equal(formatTriggerTime(at ?? 0), '2026-01-01T00:00:20Z');
  });

  test('the format trims fractional zeros as Go\'s RFC3339Nano', () => {
    assert.equal(formatTriggerTime(Date.parse('2026-01-01T00:00:00.250Z')), '2026-01-01T00:00:00.25Z');
    assert.equal(formatTriggerTime(Date.parse('2026-01-01T00:00:00Z')), '2026-01-01T00:00:00Z');
  });
});
