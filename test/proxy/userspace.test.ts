// The userspace fallback: which listeners a set of services wants (a table), and real listeners on
// loopback relaying TCP and UDP round robin to two servers on other loopback addresses; stop()
// closes every listener.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { planListeners, UserspaceProxy } from '../../src/proxy/userspace.js';
import { service, slice } from './fixtures.js';
import { until } from '../support/eventually.js';

test('planListeners: NodePorts on every node address and LoadBalancer ingress ports; ClusterIP-only services get none', () => {
  const svcs = [
    service('np', { type: 'NodePort', clusterIP: '10.43.0.5', ports: [{ port: 80, nodePort: 30080 }] }),
    service('lb', { type: 'LoadBalancer', clusterIP: '10.43.0.6', externalTrafficPolicy: 'Local', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }] }, { status: { loadBalancer: { ingress: [{ ip: '127.200.0.1' }] } } }),
    service('cip', { clusterIP: '10.43.0.7', ports: [{ port: 80 }] }),
  ];
  const slices = [
    slice('np', [{ ip: '10.42.0.2' }, { ip: '10.42.0.3', ready: false }], { port: 8080 }),
    slice('lb', [{ ip: '10.42.0.4', node: 'n1' }, { ip: '10.42.1.4', node: 'n2' }], { port: 5353, protocol: 'UDP' }),
  ];
  const plan = planListeners(svcs, slices, 'n1', ['192.168.1.10', '192.168.1.11']);
  assert.deepEqual([...plan.keys()].sort(), ['tcp/192.168.1.10/30080', 'tcp/192.168.1.11/30080', 'udp/127.200.0.1/53', 'udp/192.168.1.10/30053', 'udp/192.168.1.11/30053']);
  assert.deepEqual(plan.get('tcp/192.168.1.10/30080')!.endpoints.map((e) => e.ip), ['10.42.0.2'], 'only ready endpoints');
  assert.deepEqual(plan.get('udp/127.200.0.1/53')!.endpoints.map((e) => e.ip), ['10.42.0.4'], 'externalTrafficPolicy Local: only this node');
});

describe('userspace listeners on loopback', () => {
  const servers: Server[] = [];
  const udps: ReturnType<typeof createSocket>[] = [];
  let port = 0;
  let listenPort = 0;
  const proxy = new UserspaceProxy();
  before(async () => {
    for (const [ip, name] of [['127.0.0.2', 'a'], ['127.0.0.3', 'b']] as const) {
      const s = createServer((c) => c.end(name));
      await new Promise<void>((r) => s.listen(port, ip, () => r()));
      port = (s.address() as AddressInfo).port;
      servers.push(s);
      const u = createSocket('udp4');
      u.on('message', (_m, r) => u.send(name, r.port, r.address));
      await new Promise<void>((r) => u.bind(port, ip, () => r()));
      udps.push(u);
    }
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.54', () => r()));
    listenPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });
  after(() => {
    proxy.stop();
    for (const s of servers) s.close();
    for (const u of udps) u.close();
  });

  const tcp = () =>
    new Promise<string>((resolve, reject) => {
      let out = '';
      const c = connect(listenPort, '127.0.0.54');
      c.on('data', (d) => (out += d));
      c.on('end', () => resolve(out));
      c.on('error', reject);
    });
  const udp = () =>
    new Promise<string>((resolve, reject) => {
      const s = createSocket('udp4');
      const t = setTimeout(() => (s.close(), reject(new Error('no answer'))), 2000);
      s.on('message', (m) => (clearTimeout(t), s.close(), resolve(String(m))));
      s.send('hi', listenPort, '127.0.0.54');
    });

  test('TCP and UDP are relayed round robin to the endpoints, and stop() closes the listeners', async () => {
    const svcs = [service('np', { type: 'NodePort', clusterIP: '10.43.0.5', ports: [{ name: 't', port: 80, nodePort: listenPort }, { name: 'u', port: 53, protocol: 'UDP', nodePort: listenPort }] })];
    const slices = [
      slice('np', [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }], { port, name: 't' }, 'np-t'),
      slice('np', [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }], { port, name: 'u', protocol: 'UDP' }, 'np-u'),
    ];
    proxy.reconcile(planListeners(svcs, slices, 'n1', ['127.0.0.54']));
    assert.deepEqual(proxy.listening(), [`tcp/127.0.0.54/${listenPort}`, `udp/127.0.0.54/${listenPort}`]);
    const first = await until(tcp, { timeoutMs: 5000 });
    const answers = [first, await tcp(), await tcp(), await tcp()];
    assert.deepEqual(answers.sort(), ['a', 'a', 'b', 'b']);
    const u = [await udp(), await udp()].sort();
    assert.deepEqual(u, ['a', 'b']);
    proxy.stop();
    assert.deepEqual(proxy.listening(), []);
    await until(() => assert.rejects(tcp()), { timeoutMs: 5000 });
  });
});
