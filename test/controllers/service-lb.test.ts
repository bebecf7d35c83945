// The built-in load balancer: address planning as a table (pool and node-address modes, requested
// addresses, contested ports), then the controller against the real API server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { resourceFor } from '../../src/api/kinds.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { createServiceLbController, planLoadBalancer } from '../../src/controllers/service-lb.js';
import { parseIpv4Cidr } from '../../src/util/ipv4-cidr.js';
import { until } from '../support/eventually.js';

const lb = (name: string, ports: number[], extra: Partial<NonNullable<Service['spec']>> = {}, ingress: string[] = [], created = '2026-01-01T00:00:00Z'): Service => ({
  metadata: { namespace: 'default', name, creationTimestamp: created },
  spec: { type: 'LoadBalancer', ports: ports.map((port) => ({ port, protocol: 'TCP' })), ...extra },
  ...(ingress.length ? { status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } } } : {}),
});
const pool = parseIpv4Cidr('127.200.0.0/29')!;

describe('planLoadBalancer', () => {
  const cases: [string, Service, Service[], boolean, ReturnType<typeof planLoadBalancer>][] = [
    ['the first free pool address', lb('a', [80]), [], true, { ingress: [{ ip: '127.200.0.1', ipMode: 'VIP' }] }],
    ['skips addresses other services hold', lb('b', [80]), [lb('a', [80], {}, ['127.200.0.1'])], true, { ingress: [{ ip: '127.200.0.2', ipMode: 'VIP' }] }],
    ['keeps its own address', lb('b', [80], {}, ['127.200.0.5']), [lb('a', [80], {}, ['127.200.0.1'])], true, { ingress: [{ ip: '127.200.0.5', ipMode: 'VIP' }] }],
    ['a requested address', lb('a', [80], { loadBalancerIP: '127.200.0.4' }), [], true, { ingress: [{ ip: '127.200.0.4', ipMode: 'VIP' }] }],
    ['a requested address outside the pool', lb('a', [80], { loadBalancerIP: '10.0.0.1' }), [], true, { pending: 'requested loadBalancerIP 10.0.0.1 is not in the pool 127.200.0.0/29' }],
    ['a requested address whose port is taken', lb('b', [80], { loadBalancerIP: '127.200.0.1' }), [lb('a', [80], {}, ['127.200.0.1'])], true, { pending: 'port 80/TCP of 127.200.0.1 is already used by LoadBalancer service default/a' }],
    ['a full pool', lb('z', [80]), ['1', '2', '3', '4', '5', '6'].map((n) => lb(`s${n}`, [80], {}, [`127.200.0.${n}`])), true, { pending: 'no free address left in the pool 127.200.0.0/29' }],
    ['node addresses without a pool', lb('a', [80]), [], false, { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }, { ip: '192.0.2.2', ipMode: 'VIP' }] }],
    ['node addresses: an older service holds the port', lb('b', [80], {}, [], '2026-01-02T00:00:00Z'), [lb('a', [80, 443])], false, { pending: 'port 80/TCP is already used by LoadBalancer service default/a on the node addresses (192.0.2.2, 192.0.2.1)' }],
    ['node addresses: other ports share them', lb('b', [8080], {}, [], '2026-01-02T00:00:00Z'), [lb('a', [80])], false, { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }, { ip: '192.0.2.2', ipMode: 'VIP' }] }],
  ];
  for (const [name, svc, others, withPool, want] of cases) {
    test(name, () => assert.deepEqual(planLoadBalancer(svc, others, withPool ? pool : undefined, ['192.0.2.2', '192.0.2.1']), want));
  }
});

describe('the service-lb controller', () => {
  const services = resourceFor('', 'v1', 'services');
  let dir: string;
  let srv: ApiServer;
  let c: Client;
  let ctl: RunningController;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-lb-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('lb-test');
    ctl = startController(createServiceLbController({ pool: '127.200.0.0/24' }), srv.client('service-lb-controller'));
  });
  after(async () => {
    await ctl?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (name: string, type: string, extra: object = {}) =>
    c.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type, selector: { app: name }, ports: [{ port: 80 }], ...extra } });
  const ingressOf = async (name: string) => (((await c.get(services, name, { namespace: "default" })) as Service).status?.loadBalancer?.ingress ?? []).map((i) => i.ip);

  test('a LoadBalancer Service gets a pool address; a ClusterIP one none', async () => {
    await create('web', 'LoadBalancer');
    await create('plain', 'ClusterIP');
    await until(async () => assert.deepEqual(await ingressOf('web'), ['127.200.0.1']));
    assert.deepEqual(await ingressOf('plain'), []);
  });
  test('a contested requested address stays pending with an event', async () => {
    await create('rival', 'LoadBalancer', { loadBalancerIP: '127.200.0.1' });
    await until(async () => {
      const evs = await c.list(resourceFor('', 'v1', 'events'), { namespace: 'default', fieldSelector: 'involvedObject.name=rival' });
      assert.ok(evs.items.some((e) => (e as { reason?: string }).reason === 'AllocationFailed'));
    });
    assert.deepEqual(await ingressOf('rival'), []);
  });
  test('turning the Service into a ClusterIP takes its address back', async () => {
    await c.patch(services, 'web', 'merge', { spec: { type: 'ClusterIP' } }, { namespace: 'default' });
    await until(async () => assert.deepEqual(await ingressOf('web'), []));
    // the freed address and port go to the Service that wanted them
    await until(async () => assert.deepEqual(await ingressOf('rival'), ['127.200.0.1']));
  });
});
