// Cluster DNS against the real API server: Services and EndpointSlices created, changed and
// deleted through the client show up in the answers of a real server on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startClusterDns, type ClusterDns } from '../../src/dns/cluster-dns.js';
import { until } from '../support/eventually.js';
import { queryPacket, udpQuery } from './fake-upstream.js';

const services = resourceFor('', 'v1', 'services');
const endpointslices = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
const LOCAL = '127.0.0.1';

describe('startClusterDns against the API server', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let dns: ClusterDns;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-dns-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('dns-test');
    dns = await startClusterDns({ client: srv.client('cluster-dns'), host: LOCAL, port: 0, clusterDomain: 'cluster.local', upstreams: [] });
  });
  after(async () => {
    await dns?.stop();
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (name: string, type = 'A') => (await udpQuery(LOCAL, dns.port, queryPacket(name, type))).packet;
  const datas = (p: Awaited<ReturnType<typeof ask>>) => (p.answers ?? []).map((r) => String((r as { data: unknown }).data)).sort();

  test('a created Service answers its allocated ClusterIP, and NXDOMAIN once deleted', async () => {
    const created = await c.create<KubeObject & { spec: { clusterIP: string } }>(services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'default' },
      spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    } as KubeObject);
    const ip = created.spec.clusterIP;
    assert.match(ip, /^10\.43\./);
    await until(async () => assert.deepEqual(datas(await ask('echo.default.svc.cluster.local')), [ip]), { timeoutMs: 10_000 });
    const srvRec = await ask('_http._tcp.echo.default.svc.cluster.local', 'SRV');
    assert.deepEqual((srvRec.answers ?? []).map((r) => (r as { data: { port: number; target: string } }).data.port), [80]);
    await c.delete(services, 'echo', { namespace: 'default' });
    await until(async () => assert.equal((await ask('echo.default.svc.cluster.local')).rcode, 'NXDOMAIN'), { timeoutMs: 10_000 });
  });

  test('a headless Service answers the ready addresses of its EndpointSlices as they change', async () => {
    await c.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'pg', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'pg' }, ports: [{ name: 'sql', port: 5432 }] } } as KubeObject);
    const slice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: 'pg-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'pg' } },
      ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.42.0.7'], hostname: 'pg-0', conditions: { ready: true } },
        { addresses: ['10.42.0.8'], hostname: 'pg-1', conditions: { ready: false } },
      ],
    };
    await c.create(endpointslices, slice as unknown as KubeObject);
    await until(async () => assert.deepEqual(datas(await ask('pg.default.svc.cluster.local')), ['10.42.0.7']), { timeoutMs: 10_000 });
    assert.deepEqual(datas(await ask('pg-0.pg.default.svc.cluster.local')), ['10.42.0.7']);
    assert.deepEqual(datas(await ask('7.0.42.10.in-addr.arpa', 'PTR')), ['pg-0.pg.default.svc.cluster.local']);

    await c.patch(endpointslices, 'pg-abc', 'json', [{ op: 'replace', path: '/endpoints/1/conditions/ready', value: true }], { namespace: 'default' });
    await until(async () => assert.deepEqual(datas(await ask('pg.default.svc.cluster.local')), ['10.42.0.7', '10.42.0.8']), { timeoutMs: 10_000 });
    assert.deepEqual(datas(await ask('pg-1.pg.default.svc.cluster.local')), ['10.42.0.8']);

    await c.delete(endpointslices, 'pg-abc', { namespace: 'default' });
    await until(async () => assert.equal((await ask('pg.default.svc.cluster.local')).rcode, 'NXDOMAIN'), { timeoutMs: 10_000 });
    await c.delete(services, 'pg', { namespace: 'default' });
  });

  test('an ExternalName Service answers a CNAME', async () => {
    await c.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'search', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'search.example.test' } } as KubeObject);
    // no upstreams: the CNAME comes alone
    await until(async () => assert.deepEqual((await ask('search.default.svc.cluster.local')).answers?.map((r) => `${r.type} ${(r as { data: string }).data}`), ['CNAME search.example.test']), { timeoutMs: 10_000 });
  });

  test('stop ends the informers and frees the port', async () => {
    const extra = await startClusterDns({ client: srv.client('cluster-dns-2'), host: LOCAL, port: 0 });
    assert.equal((await udpQuery(LOCAL, extra.port, queryPacket('nothing.default.svc.cluster.local', 'A'))).packet.rcode, 'NXDOMAIN');
    await extra.stop();
    await assert.rejects(
      (async () => {
        const { udpRaw } = await import('./fake-upstream.js');
        const dnsPacket = (await import('dns-packet')).default;
        await udpRaw(LOCAL, extra.port, dnsPacket.encode(queryPacket('x.cluster.local', 'A')), 300);
      })(),
      /no UDP answer/,
    );
  });
});
