// The EndpointSlice and mirroring controllers against the real API server, with pods whose status
// the test writes: slice labels, owner and content; readiness flips updating the same slice in
// place; terminating pods as terminating; named ports splitting slices; 250 pods in 3 slices; the
// placeholder of a service without pods; a deleted Service's slices collected; and selectorless
// Services' Endpoints mirrored (not the API server's own `kubernetes`, labelled skip-mirror).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../../src/api/types.js';
import { until } from '../support/eventually.js';
import { ENDPOINTS, forceDeletePods, makePod, makeService, NS, PODS, SERVICES, setPodStatus, SLICES, slicesOf, startCluster, type Cluster } from './endpoints-fixtures.js';

const asSlice = (o: KubeObject) => o as unknown as EndpointSlice;
const byIp = (s: EndpointSlice) => Object.fromEntries(s.endpoints.map((e) => [e.addresses[0], e.conditions]));

describe('EndpointSlice controller', () => {
  let cl: Cluster;
  const pods: string[] = [];
  const pod = async (name: string, o: Parameters<typeof makePod>[2]) => {
    pods.push(name);
    return makePod(cl.c, name, o);
  };
  /** The one slice of a service with at least `n` endpoints. */
  const oneSlice = async (svc: string): Promise<EndpointSlice> => {
    const ss = await slicesOf(cl.c, svc);
    assert.equal(ss.length, 1, `one slice for ${svc}`);
    return asSlice(ss[0] as KubeObject);
  };

  before(async () => {
    cl = await startCluster('endpointslice');
  });
  after(async () => {
    await forceDeletePods(cl.c, pods);
    await cl.stop();
  });

  test('a service gets a labelled, owned slice of its pods; readiness flips update that same slice', async () => {
    const svc = await makeService(cl.c, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, appProtocol: 'http' }] }, { team: 'a' });
    const p1 = await pod('web-1', { labels: { app: 'web' }, ip: '10.42.0.11', node: 'n1' });
    await pod('web-2', { labels: { app: 'web' }, ip: '10.42.0.12', ready: false });
    const s = await until(async () => {
      const s = await oneSlice('web');
      assert.equal(s.endpoints.length, 2);
      return s;
    });
    assert.match(s.metadata?.name ?? '', /^web-[a-z0-9]{5}$/);
    assert.equal(s.metadata?.generateName, 'web-');
    assert.deepEqual(s.metadata?.labels, { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }]);
    const e1 = s.endpoints.find((e) => e.addresses[0] === '10.42.0.11');
    assert.deepEqual(e1, {
      addresses: ['10.42.0.11'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'n1',
      targetRef: { kind: 'Pod', namespace: NS, name: 'web-1', uid: p1.metadata.uid },
    });
    assert.deepEqual(byIp(s)['10.42.0.12'], { ready: false, serving: false, terminating: false });

    await setPodStatus(cl.c, 'web-2', '10.42.0.12', true);
    const after = await until(async () => {
      const s2 = await oneSlice('web');
      assert.deepEqual(byIp(s2)['10.42.0.12'], { ready: true, serving: true, terminating: false });
      return s2;
    });
    assert.equal(after.metadata?.name, s.metadata?.name, 'updated in place, not recreated');
    assert.equal(after.metadata?.uid, s.metadata?.uid);
  });

  test('a terminating pod stays as serving and terminating, not ready; a deleted one leaves', async () => {
    await makeService(cl.c, 'term', { selector: { app: 'term' }, ports: [{ port: 80 }] });
    await pod('term-1', { labels: { app: 'term' }, ip: '10.42.1.1', node: 'n1' });
    await pod('term-2', { labels: { app: 'term' }, ip: '10.42.1.2', node: 'n1' });
    await until(async () => assert.equal((await oneSlice('term')).endpoints.length, 2));
    await cl.c.delete(PODS, 'term-1', { namespace: NS, gracePeriodSeconds: 30 });
    await cl.c.delete(PODS, 'term-2', { namespace: NS, gracePeriodSeconds: 0 });
    await until(async () => {
      const s = await oneSlice('term');
      assert.deepEqual(byIp(s), { '10.42.1.1': { ready: false, serving: true, terminating: true } });
    });
  });

  test('pods whose named port resolves differently are in different slices', async () => {
    await makeService(cl.c, 'named', { selector: { app: 'named' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] });
    await pod('named-1', { labels: { app: 'named' }, ip: '10.42.2.1', ports: [{ name: 'web', containerPort: 8080 }] });
    await pod('named-2', { labels: { app: 'named' }, ip: '10.42.2.2', ports: [{ name: 'web', containerPort: 9090 }] });
    await until(async () => {
      const ss = (await slicesOf(cl.c, 'named')).map(asSlice);
      const summary = ss.map((s) => ({ port: s.ports?.[0]?.port, ips: s.endpoints.map((e) => e.addresses[0]) })).sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
      assert.deepEqual(summary, [
        { port: 8080, ips: ['10.42.2.1'] },
        { port: 9090, ips: ['10.42.2.2'] },
      ]);
    });
  });

  test('publishNotReadyAddresses makes unready pods ready; a headless service\'s slices carry the headless label and hostnames', async () => {
    await makeService(cl.c, 'db', { selector: { app: 'db' }, clusterIP: 'None', publishNotReadyAddresses: true });
    await pod('db-0', { labels: { app: 'db' }, ip: '10.42.3.1', ready: false, hostname: 'db-0', subdomain: 'db' });
    await until(async () => {
      const s = await oneSlice('db');
      assert.equal(s.metadata?.labels?.['service.kubernetes.io/headless'], '');
      assert.deepEqual(s.ports, []);
      assert.deepEqual(s.endpoints.map((e) => [e.addresses[0], e.hostname, e.conditions]), [['10.42.3.1', 'db-0', { ready: true, serving: false, terminating: false }]]);
    });
  });

  test('a service without pods has one empty placeholder slice', async () => {
    await makeService(cl.c, 'empty', { selector: { app: 'nothing-here' }, ports: [{ port: 80 }] });
    const s = await until(() => oneSlice('empty'));
    assert.deepEqual([s.endpoints, s.ports], [[], []]);
  });

  test('250 pods make 3 slices of at most 100; a Service\'s deletion collects them', async () => {
    await makeService(cl.c, 'big', { selector: { app: 'big' }, ports: [{ port: 80 }] });
    const names = Array.from({ length: 250 }, (_, i) => `big-${i}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((n, j) => pod(n, { labels: { app: 'big' }, ip: `10.42.${10 + ((i + j) >> 8)}.${(i + j) & 255}` })));
    }
    await until(
      async () => {
        const ss = (await slicesOf(cl.c, 'big')).map(asSlice);
        assert.deepEqual(ss.map((s) => s.endpoints.length).sort((a, b) => b - a), [100, 100, 50]);
        assert.equal(new Set(ss.flatMap((s) => s.endpoints.map((e) => e.targetRef?.name))).size, 250);
      },
      { timeoutMs: 60_000 },
    );
    await cl.c.delete(SERVICES, 'big', { namespace: NS });
    await until(async () => assert.deepEqual(await slicesOf(cl.c, 'big'), []));
  });
});

describe('EndpointSlice mirroring controller', () => {
  let cl: Cluster;
  before(async () => {
    cl = await startCluster('mirroring');
  });
  after(async () => {
    await cl.stop();
  });

  test('a selectorless service\'s Endpoints are mirrored, kept in step, and the slices go with them', async () => {
    await makeService(cl.c, 'ext', { ports: [{ name: 'pg', port: 5432 }] });
    const ep = await cl.c.create(ENDPOINTS, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'ext', namespace: NS, labels: { team: 'db' } },
      subsets: [{ addresses: [{ ip: '192.0.2.10', nodeName: 'n1' }], notReadyAddresses: [{ ip: '192.0.2.11' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }],
    });
    const s = await until(async () => {
      const s = asSlice((await slicesOf(cl.c, 'ext'))[0] as KubeObject);
      assert.ok(s, 'a mirrored slice');
      return s;
    });
    assert.deepEqual(s.metadata?.labels, { team: 'db', 'kubernetes.io/service-name': 'ext', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'ext', uid: ep.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(s.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    assert.deepEqual(s.endpoints, [
      { addresses: ['192.0.2.10'], conditions: { ready: true }, nodeName: 'n1' },
      { addresses: ['192.0.2.11'], conditions: { ready: false } },
    ]);

    const cur = await cl.c.get(ENDPOINTS, 'ext', { namespace: NS });
    await cl.c.update(ENDPOINTS, { ...cur, subsets: [{ addresses: [{ ip: '192.0.2.12' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }] } as KubeObject);
    await until(async () => {
      const ss = (await slicesOf(cl.c, 'ext')).map(asSlice);
      assert.deepEqual(ss.map((x) => [x.metadata?.name, x.endpoints.map((e) => e.addresses[0])]), [[s.metadata?.name, ['192.0.2.12']]]);
    });

    await cl.c.delete(ENDPOINTS, 'ext', { namespace: NS });
    await until(async () => assert.deepEqual(await slicesOf(cl.c, 'ext'), []));
  });

  test('the API server\'s own `kubernetes` Endpoints (skip-mirror) and a selector service\'s are not mirrored', async () => {
    await makeService(cl.c, 'sel', { selector: { app: 'sel' }, ports: [{ port: 80 }] });
    // The Endpoints controller's placeholder for `sel` proves the controllers have run.
    await until(async () => assert.equal((await slicesOf(cl.c, 'sel')).length, 1));
    const mirrored = (await cl.c.list(SLICES, { namespace: NS, labelSelector: 'endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io' })).items;
    assert.deepEqual(mirrored.map((m) => m.metadata.labels?.['kubernetes.io/service-name']), []);
  });
});
