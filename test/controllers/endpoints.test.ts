// The Endpoints controller against the real API server, with pods whose status the test writes:
// ready pods as addresses and unready ones as notReadyAddresses, readiness flips, deleted and
// terminating pods leaving, named target ports resolved per pod, publishNotReadyAddresses, headless
// services (label, hostnames, no ports), selectorless services left to their users, and a deleted
// Service taking its Endpoints along. Each test uses its own service name and labels.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../../src/api/errors.js';
import type { KubeObject } from '../../src/api/types.js';
import { until } from '../support/eventually.js';
import { ENDPOINTS, forceDeletePods, makePod, makeService, NS, PODS, SERVICES, setPodStatus, startCluster, type Cluster } from './endpoints-fixtures.js';

describe('Endpoints controller', () => {
  let cl: Cluster;
  const pods: string[] = [];
  const pod = async (name: string, o: Parameters<typeof makePod>[2]) => {
    pods.push(name);
    return makePod(cl.c, name, o);
  };
  const endpoints = async (name: string): Promise<Endpoints> => (await cl.c.get(ENDPOINTS, name, { namespace: NS })) as unknown as Endpoints;
  const ips = (e: Endpoints, which: 'addresses' | 'notReadyAddresses') => (e.subsets ?? []).flatMap((s) => (s[which] ?? []).map((a) => a.ip)).sort();

  before(async () => {
    cl = await startCluster('endpoints');
  });
  after(async () => {
    await forceDeletePods(cl.c, pods);
    await cl.stop();
  });

  test('ready pods are addresses, unready ones notReadyAddresses; readiness flips move them', async () => {
    await makeService(cl.c, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }, { team: 'a' });
    const p1 = await pod('web-1', { labels: { app: 'web' }, ip: '10.42.0.11', node: 'n1' });
    await pod('web-2', { labels: { app: 'web' }, ip: '10.42.0.12' });
    await pod('web-3', { labels: { app: 'web' }, ip: '10.42.0.13', ready: false });
    await pod('other', { labels: { app: 'other' }, ip: '10.42.0.14' });
    const e = await until(async () => {
      const e = await endpoints('web');
      assert.deepEqual(ips(e, 'addresses'), ['10.42.0.11', '10.42.0.12']);
      assert.deepEqual(ips(e, 'notReadyAddresses'), ['10.42.0.13']);
      return e;
    });
    assert.deepEqual(e.metadata?.labels, { team: 'a' });
    assert.equal(e.subsets?.length, 1);
    assert.deepEqual(e.subsets?.[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const a1 = e.subsets?.[0]?.addresses?.[0];
    assert.deepEqual(a1, { ip: '10.42.0.11', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: NS, name: 'web-1', uid: p1.metadata.uid } });

    // Transition times have a second's precision: these transitions are later than the first ones.
    const later = Date.now() + 5000;
    await setPodStatus(cl.c, 'web-3', '10.42.0.13', true, later);
    await setPodStatus(cl.c, 'web-1', '10.42.0.11', false, later);
    const flipped = await until(async () => {
      const e = await endpoints('web');
      assert.deepEqual(ips(e, 'addresses'), ['10.42.0.12', '10.42.0.13']);
      assert.deepEqual(ips(e, 'notReadyAddresses'), ['10.42.0.11']);
      return e;
    });
    // A change the controller saw happen carries the time of the change that caused it.
    assert.equal(flipped.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], new Date(later).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  });

  test('a deleted pod leaves at once; a terminating one leaves as soon as it terminates', async () => {
    await makeService(cl.c, 'del', { selector: { app: 'del' }, ports: [{ port: 80 }] });
    await pod('del-1', { labels: { app: 'del' }, ip: '10.42.1.1', node: 'n1' });
    await pod('del-2', { labels: { app: 'del' }, ip: '10.42.1.2', node: 'n1' });
    await until(async () => assert.deepEqual(ips(await endpoints('del'), 'addresses'), ['10.42.1.1', '10.42.1.2']));
    await cl.c.delete(PODS, 'del-1', { namespace: NS, gracePeriodSeconds: 0 });
    // A graceful deletion on a node keeps the pod (terminating) until its kubelet finishes.
    const terminating = await cl.c.delete(PODS, 'del-2', { namespace: NS, gracePeriodSeconds: 30 });
    assert.ok((terminating as KubeObject).metadata?.deletionTimestamp, 'the pod is terminating, not gone');
    await until(async () => assert.deepEqual((await endpoints('del')).subsets ?? [], []));
  });

  test('a named target port resolves per pod; a pod without it is not an endpoint of that port', async () => {
    await makeService(cl.c, 'named', { selector: { app: 'named' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] });
    await pod('named-1', { labels: { app: 'named' }, ip: '10.42.2.1', ports: [{ name: 'web', containerPort: 8080 }] });
    await pod('named-2', { labels: { app: 'named' }, ip: '10.42.2.2', ports: [{ name: 'web', containerPort: 9090 }] });
    await pod('named-3', { labels: { app: 'named' }, ip: '10.42.2.3', ports: [{ name: 'admin', containerPort: 7070 }] });
    await until(async () => {
      const e = await endpoints('named');
      const byPort = (e.subsets ?? []).map((s) => ({ port: s.ports?.[0]?.port, ips: (s.addresses ?? []).map((a) => a.ip) })).sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
      assert.deepEqual(byPort, [
        { port: 8080, ips: ['10.42.2.1'] },
        { port: 9090, ips: ['10.42.2.2'] },
      ]);
    });
  });

  test('publishNotReadyAddresses lists unready pods as ready', async () => {
    await makeService(cl.c, 'pnr', { selector: { app: 'pnr' }, ports: [{ port: 80 }], publishNotReadyAddresses: true });
    await pod('pnr-1', { labels: { app: 'pnr' }, ip: '10.42.3.1', ready: false });
    await until(async () => {
      const e = await endpoints('pnr');
      assert.deepEqual(ips(e, 'addresses'), ['10.42.3.1']);
      assert.deepEqual(ips(e, 'notReadyAddresses'), []);
    });
  });

  test('a headless service: the headless label, pod hostnames for its subdomain, addresses without ports', async () => {
    await makeService(cl.c, 'db', { selector: { app: 'db' }, clusterIP: 'None' });
    await pod('db-0', { labels: { app: 'db' }, ip: '10.42.4.1', hostname: 'db-0', subdomain: 'db' });
    await pod('db-x', { labels: { app: 'db' }, ip: '10.42.4.2', hostname: 'db-x', subdomain: 'elsewhere' });
    await until(async () => {
      const e = await endpoints('db');
      assert.deepEqual(e.metadata?.labels, { 'service.kubernetes.io/headless': '' });
      assert.deepEqual(
        e.subsets?.map((s) => ({ ports: s.ports, addrs: (s.addresses ?? []).map((a) => [a.ip, a.hostname]) })),
        [{ ports: undefined, addrs: [['10.42.4.1', 'db-0'], ['10.42.4.2', undefined]] }],
      );
    });
  });

  test('a selectorless service\'s Endpoints are its user\'s: left alone', async () => {
    await makeService(cl.c, 'ext', { ports: [{ port: 5432 }] });
    await cl.c.create(ENDPOINTS, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext', namespace: NS }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }] });
    // Let the controller see both, then check nothing was rewritten.
    await makeService(cl.c, 'ext-probe', { selector: { app: 'ext-probe' }, ports: [{ port: 1 }] });
    await until(() => endpoints('ext-probe'));
    const e = await endpoints('ext');
    assert.deepEqual(ips(e, 'addresses'), ['192.0.2.10']);
    assert.equal(e.metadata?.labels, undefined);
  });

  test('Endpoints written before their (selectorless) Service are kept', async () => {
    await cl.c.create(ENDPOINTS, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'early', namespace: NS }, subsets: [{ addresses: [{ ip: '192.0.2.20' }], ports: [{ port: 80 }] }] });
    await makeService(cl.c, 'early-probe', { selector: { app: 'early-probe' }, ports: [{ port: 1 }] });
    await until(() => endpoints('early-probe'));
    await makeService(cl.c, 'early', { ports: [{ port: 80 }] });
    await makeService(cl.c, 'early-probe2', { selector: { app: 'early-probe2' }, ports: [{ port: 1 }] });
    await until(() => endpoints('early-probe2'));
    assert.deepEqual(ips(await endpoints('early'), 'addresses'), ['192.0.2.20']);
  });

  test('deleting a Service deletes its Endpoints', async () => {
    await makeService(cl.c, 'gone', { selector: { app: 'gone' }, ports: [{ port: 80 }] });
    await until(() => endpoints('gone'));
    await cl.c.delete(SERVICES, 'gone', { namespace: NS });
    await until(async () => {
      await assert.rejects(endpoints('gone'), (e) => isStatusError(e, 'NotFound'));
    });
  });

  test('an edited Endpoints object of a selected service is put back', async () => {
    await makeService(cl.c, 'edit', { selector: { app: 'edit' }, ports: [{ port: 80 }] });
    await pod('edit-1', { labels: { app: 'edit' }, ip: '10.42.5.1' });
    const e = await until(async () => {
      const e = await endpoints('edit');
      assert.deepEqual(ips(e, 'addresses'), ['10.42.5.1']);
      return e;
    });
    await cl.c.update(ENDPOINTS, { ...(e as unknown as KubeObject), subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ port: 80 }] }] } as KubeObject);
    await until(async () => assert.deepEqual(ips(await endpoints('edit'), 'addresses'), ['10.42.5.1']));
  });
});
