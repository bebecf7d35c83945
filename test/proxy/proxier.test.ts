// The proxy end to end on real parts: the real API server, startProxy programming nftables inside
// a "node" network namespace the test makes, two "pod" namespaces on its bridge running servers
// and a third as the client. Load is spread over ready endpoints only, UDP too; NodePorts answer
// from pods and from the node itself (127.0.0.1 included); ClientIP affinity sticks; a
// LoadBalancer address answers; a service without endpoints refuses; stop() removes the table.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { nftBinary, runNft } from '../../src/proxy/nft.js';
import { startProxy, type ServiceProxy } from '../../src/proxy/proxier.js';
import { until } from '../support/eventually.js';
import { slice, type Ep } from './fixtures.js';
import { clientCode, createLab, type Lab } from './netlab.js';

const SERVICES = resourceFor('', 'v1', 'services');
const SLICES = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
const A = '10.77.1.2';
const B = '10.77.1.3';

describe('service proxy (nftables, real traffic)', () => {
  let lab: Lab;
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let proxy: ServiceProxy | undefined;
  let client: string;
  const instance = `t${process.pid}`;

  before(async () => {
    lab = createLab();
    const a = lab.addPod('a', A);
    const b = lab.addPod('b', B);
    client = lab.addPod('c', '10.77.1.4');
    await lab.serve(a, 'a', 8080);
    await lab.serve(b, 'b', 8080);
    dir = mkdtempSync(join(tmpdir(), 'skiff-proxy-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('proxy-test');
    proxy = await startProxy({ client: c, nodeName: 'n1', nodeIPs: [lab.nodeIP], clusterCidr: lab.clusterCidr, podCidr: lab.podCidr, serviceCidr: '10.43.0.0/16', instance, netns: lab.node, mode: 'nftables' });
    await proxy.ready();
  });
  after(async () => {
    try {
      await proxy?.stop();
      if (lab) assert.doesNotMatch(await runNft(['list', 'tables'], { netns: lab.node }), new RegExp(`skiff-${instance}`), 'stop() removed the table');
    } finally {
      await srv?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      lab?.destroy();
    }
  });

  async function createService(name: string, spec: Record<string, unknown>): Promise<Service> {
    return (await c.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec } as KubeObject)) as unknown as Service;
  }
  async function putSlice(svc: string, eps: Ep[], port: { port: number; protocol?: 'TCP' | 'UDP'; name?: string }, name = `${svc}-${port.name ?? 'x'}`): Promise<void> {
    const obj = slice(svc, eps, port, name) as unknown as KubeObject;
    try {
      const cur = await c.get(SLICES, name, { namespace: 'default' });
      await c.update(SLICES, { ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } });
    } catch {
      await c.create(SLICES, obj);
    }
  }
  /** Runs n fresh connections from `ns` and returns the answer counts. */
  const hits = async (proto: 'tcp' | 'udp', host: string, port: number, n: number, ns = client) => JSON.parse(await lab.run(ns, clientCode(proto, host, port, n))) as Record<string, number>;
  /** Waits until `n` connections all get answers in `want` (and returns the counts). */
  const answered = (proto: 'tcp' | 'udp', host: string, port: number, want: string[], n = 20, ns = client) =>
    until(
      async () => {
        const h = await hits(proto, host, port, n, ns);
        assert.deepEqual(Object.keys(h).filter((k) => !want.includes(k)), [], JSON.stringify(h));
        return h;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );

  test('a ClusterIP spreads TCP and UDP over ready endpoints; a not-ready endpoint receives nothing until ready', async () => {
    const svc = await createService('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 8080 }], selector: { app: 'web' } });
    const ip = svc.spec!.clusterIP!;
    assert.match(ip, /^10\.43\./);
    await putSlice('web', [{ ip: A, node: 'n1' }, { ip: B, ready: false, node: 'n1' }], { port: 8080, name: 'http' });
    await putSlice('web', [{ ip: A, node: 'n1' }, { ip: B, ready: false, node: 'n1' }], { port: 8080, name: 'dns', protocol: 'UDP' });
    assert.deepEqual(await answered('tcp', ip, 80, ['a'], 20), { a: 20 });
    assert.deepEqual(await answered('udp', ip, 53, ['a'], 10), { a: 10 });
    await putSlice('web', [{ ip: A, node: 'n1' }, { ip: B, node: 'n1' }], { port: 8080, name: 'http' });
    await putSlice('web', [{ ip: A, node: 'n1' }, { ip: B, node: 'n1' }], { port: 8080, name: 'dns', protocol: 'UDP' });
    await until(async () => assert.deepEqual(Object.keys(await hits('tcp', ip, 80, 30)).sort(), ['a', 'b']), { timeoutMs: 15_000, intervalMs: 200 });
    await until(async () => assert.deepEqual(Object.keys(await hits('udp', ip, 53, 30)).sort(), ['a', 'b']), { timeoutMs: 15_000, intervalMs: 200 });
    // the host (the node namespace itself) reaches the ClusterIP too
    await answered('tcp', ip, 80, ['a', 'b'], 6, lab.node);
  });

  test('a NodePort answers on the node address from pods, and on 127.0.0.1 and the node address from the node itself', async () => {
    const svc = await createService('np', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'np' } });
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    await putSlice('np', [{ ip: A, node: 'n1' }, { ip: B, node: 'n1' }], { port: 8080 });
    await answered('tcp', lab.nodeIP, nodePort, ['a', 'b'], 10);
    await answered('tcp', '127.0.0.1', nodePort, ['a', 'b'], 10, lab.node);
    await answered('tcp', lab.nodeIP, nodePort, ['a', 'b'], 10, lab.node);
  });

  test('ClientIP session affinity keeps a client on one endpoint', async () => {
    const svc = await createService('sticky', { sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'sticky' } });
    await putSlice('sticky', [{ ip: A }, { ip: B }], { port: 8080 });
    const h = await answered('tcp', svc.spec!.clusterIP!, 80, ['a', 'b'], 20);
    assert.equal(Object.keys(h).length, 1, `all 20 connections went to one endpoint: ${JSON.stringify(h)}`);
  });

  test('a LoadBalancer ingress address answers', async () => {
    const svc = await createService('lb', { type: 'LoadBalancer', ports: [{ port: 8000, targetPort: 8080 }], selector: { app: 'lb' } });
    await c.patch(SERVICES, 'lb', 'merge', { status: { loadBalancer: { ingress: [{ ip: '192.168.251.10', ipMode: 'VIP' }] } } }, { namespace: 'default', subresource: 'status' });
    await putSlice('lb', [{ ip: B }], { port: 8080 });
    assert.ok(svc.spec!.ports![0]!.nodePort);
    assert.deepEqual(await answered('tcp', '192.168.251.10', 8000, ['b'], 5), { b: 5 });
  });

  test('a service without endpoints refuses connections, and stops refusing once it has one', async () => {
    const svc = await createService('empty', { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'empty' } });
    const ip = svc.spec!.clusterIP!;
    await answered('tcp', ip, 80, ['error: ECONNREFUSED'], 3);
    await putSlice('empty', [{ ip: A }], { port: 8080 });
    await answered('tcp', ip, 80, ['a'], 3);
    assert.equal(proxy!.status().mode, 'nftables');
  });
});

test('in userspace mode the proxy says ClusterIPs are unreachable, and why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-proxy-us-'));
  const srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
  const proxy = await startProxy({ client: srv.client('proxy-test'), nodeName: 'n1', nodeIPs: ['127.0.0.54'], clusterCidr: '10.42.0.0/16', instance: 'us', mode: 'userspace' });
  try {
    await proxy.ready();
    const s = proxy.status();
    assert.equal(s.mode, 'userspace');
    assert.match(s.reason, /ClusterIPs are unreachable/);
    assert.equal(proxy.model(), undefined);
  } finally {
    await proxy.stop();
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
