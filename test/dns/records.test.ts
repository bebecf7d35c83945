// The cluster zone as a table: one index of Services and EndpointSlices, and for each question
// the rcode and records the Kubernetes DNS specification (and CoreDNS) give.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { createDnsIndex, type DnsIndex, type QueryType } from '../../src/dns/records.js';

function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

function slice(ns: string, name: string, service: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = []): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } },
    endpoints, ports,
  };
}

function fixture(): DnsIndex {
  const ix = createDnsIndex();
  ix.upsertService(svc('default', 'kubernetes', { clusterIP: '10.43.0.1', clusterIPs: ['10.43.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }));
  ix.upsertService(svc('kube-system', 'kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }));
  ix.upsertService(svc('default', 'web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80 }, { port: 8443 }] }));
  ix.upsertSlice(slice('default', 'web-abc', 'web', [{ addresses: ['10.42.0.5'], conditions: { ready: true } }], [{ name: 'http', port: 8080, protocol: 'TCP' }]));
  ix.upsertService(svc('db', 'pg', { clusterIP: 'None', ports: [{ name: 'sql', port: 5432 }] }));
  ix.upsertSlice(slice('db', 'pg-1', 'pg', [
    { addresses: ['10.42.0.7'], hostname: 'pg-0', conditions: { ready: true } },
    { addresses: ['10.42.0.8'], hostname: 'pg-1', conditions: { ready: true } },
    { addresses: ['10.42.0.9'], hostname: 'pg-2', conditions: { ready: false } },
    { addresses: ['10.42.0.11'], conditions: {} },
  ], [{ name: 'sql', port: 5432, protocol: 'TCP' }]));
  ix.upsertService(svc('db', 'empty', { clusterIP: 'None' }));
  ix.upsertSlice(slice('db', 'empty-1', 'empty', [{ addresses: ['10.42.0.30'], conditions: { ready: false } }]));
  ix.upsertService(svc('db', 'eager', { clusterIP: 'None', publishNotReadyAddresses: true }));
  ix.upsertSlice(slice('db', 'eager-1', 'eager', [{ addresses: ['10.42.0.31'], conditions: { ready: false } }]));
  ix.upsertService(svc('default', 'ext', { type: 'ExternalName', externalName: 'example.com' }));
  ix.upsertService(svc('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local.' }));
  return ix;
}

const ix = fixture();
type Case = { name: string; q: string; type: QueryType; rcode: string | undefined; answers?: string[]; additionals?: string[]; soa?: boolean };

/** Records as "name TYPE data" lines, data of SRV as "priority weight port target". */
function show(rs: { name: string; type: string; data?: unknown }[]): string[] {
  return rs.map((r) => {
    const d = r.data as { priority?: number; weight?: number; port?: number; target?: string } | string;
    const data = typeof d === 'object' && d && 'target' in d ? `${d.priority} ${d.weight} ${d.port} ${d.target}` : String(d);
    return `${r.name} ${r.type} ${data}`;
  });
}

const cases: Case[] = [
  { name: 'a ClusterIP service answers its ClusterIP', q: 'web.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['web.default.svc.cluster.local A 10.43.0.20'] },
  { name: 'kubernetes.default works like any service', q: 'kubernetes.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answers: ['kubernetes.default.svc.cluster.local A 10.43.0.1'] },
  { name: 'names are case-insensitive and the answer keeps the asked case', q: 'WEB.Default.SVC.cluster.LOCAL', type: 'A', rcode: 'NOERROR', answers: ['WEB.Default.SVC.cluster.LOCAL A 10.43.0.20'] },
  { name: 'an existing name asked for another type is NODATA with the SOA', q: 'web.default.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'an unknown service is NXDOMAIN with the SOA', q: 'nope.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [], soa: true },
  { name: 'an unknown namespace is NXDOMAIN', q: 'web.nowhere.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'a namespace with services is an empty non-terminal (NODATA)', q: 'default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'a name under an unknown top label is NXDOMAIN', q: 'foo.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'a search-path miss for an outside name is NXDOMAIN', q: 'www.example.org.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'the zone apex answers its SOA', q: 'cluster.local', type: 'SOA', rcode: 'NOERROR', answers: ['cluster.local SOA [object Object]'] },
  { name: 'the zone apex answers NS ns.dns with the kube-dns address', q: 'cluster.local', type: 'NS', rcode: 'NOERROR', answers: ['cluster.local NS ns.dns.cluster.local'], additionals: ['ns.dns.cluster.local A 10.43.0.10'] },
  { name: 'dns-version answers the specification version', q: 'dns-version.cluster.local', type: 'TXT', rcode: 'NOERROR', answers: ['dns-version.cluster.local TXT 1.1.0'] },
  { name: 'SRV of a named port targets the service name, with its address as additional', q: '_http._tcp.web.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR', answers: ['_http._tcp.web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local'], additionals: ['web.default.svc.cluster.local A 10.43.0.20'] },
  { name: 'SRV names are case-insensitive', q: '_HTTPS._TCP.kubernetes.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR', answers: ['_HTTPS._TCP.kubernetes.default.svc.cluster.local SRV 0 100 443 kubernetes.default.svc.cluster.local'] },
  { name: 'SRV with the wrong protocol is NXDOMAIN', q: '_http._udp.web.default.svc.cluster.local', type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  { name: 'SRV of an unknown port name is NXDOMAIN', q: '_grpc._tcp.web.default.svc.cluster.local', type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  { name: 'SRV on the service name lists every port', q: 'kube-dns.kube-system.svc.cluster.local', type: 'SRV', rcode: 'NOERROR', answers: ['kube-dns.kube-system.svc.cluster.local SRV 0 50 53 kube-dns.kube-system.svc.cluster.local', 'kube-dns.kube-system.svc.cluster.local SRV 0 50 53 kube-dns.kube-system.svc.cluster.local'] },
  { name: 'the protocol label of an existing port is an empty non-terminal', q: '_tcp.web.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [], soa: true },
  { name: 'a headless service answers every ready endpoint (unknown readiness counts as ready)', q: 'pg.db.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['pg.db.svc.cluster.local A 10.42.0.7', 'pg.db.svc.cluster.local A 10.42.0.8', 'pg.db.svc.cluster.local A 10.42.0.11'] },
  { name: 'a headless service without ready endpoints is NXDOMAIN (kubernetes/dns#245)', q: 'empty.db.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'publishNotReadyAddresses publishes not-ready endpoints', q: 'eager.db.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['eager.db.svc.cluster.local A 10.42.0.31'] },
  { name: 'a headless endpoint answers by hostname (StatefulSet pods)', q: 'pg-1.pg.db.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['pg-1.pg.db.svc.cluster.local A 10.42.0.8'] },
  { name: 'a not-ready endpoint has no hostname record', q: 'pg-2.pg.db.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'an endpoint without hostname answers by its dashed address', q: '10-42-0-11.pg.db.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['10-42-0-11.pg.db.svc.cluster.local A 10.42.0.11'] },
  { name: 'an endpoint of a ClusterIP service answers by its dashed address too (as CoreDNS)', q: '10-42-0-5.web.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['10-42-0-5.web.default.svc.cluster.local A 10.42.0.5'] },
  { name: 'an ExternalName service has no endpoint names', q: 'x.ext.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'PTR of the kube-dns ClusterIP names the kube-dns service', q: '10.0.43.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['10.0.43.10.in-addr.arpa PTR kube-dns.kube-system.svc.cluster.local'] },
  {
    name: 'headless SRV has one record per ready endpoint, targeting its hostname',
    q: '_sql._tcp.pg.db.svc.cluster.local', type: 'SRV', rcode: 'NOERROR',
    answers: [
      '_sql._tcp.pg.db.svc.cluster.local SRV 0 33 5432 pg-0.pg.db.svc.cluster.local',
      '_sql._tcp.pg.db.svc.cluster.local SRV 0 33 5432 pg-1.pg.db.svc.cluster.local',
      '_sql._tcp.pg.db.svc.cluster.local SRV 0 33 5432 10-42-0-11.pg.db.svc.cluster.local',
    ],
    additionals: ['pg-0.pg.db.svc.cluster.local A 10.42.0.7', 'pg-1.pg.db.svc.cluster.local A 10.42.0.8', '10-42-0-11.pg.db.svc.cluster.local A 10.42.0.11'],
  },
  { name: 'ExternalName answers a CNAME and nothing more for an outside target', q: 'ext.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['ext.default.svc.cluster.local CNAME example.com'] },
  { name: 'ExternalName answers its CNAME for a CNAME question', q: 'ext.default.svc.cluster.local', type: 'CNAME', rcode: 'NOERROR', answers: ['ext.default.svc.cluster.local CNAME example.com'] },
  { name: 'ExternalName to a name inside the zone is chased', q: 'alias.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['alias.default.svc.cluster.local CNAME web.default.svc.cluster.local', 'web.default.svc.cluster.local A 10.43.0.20'] },
  { name: 'a pod name answers the address it spells', q: '10-42-0-99.default.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['10-42-0-99.default.pod.cluster.local A 10.42.0.99'] },
  { name: 'a pod name that is no address is NXDOMAIN', q: 'web-1.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'PTR of a ClusterIP names the service', q: '20.0.43.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['20.0.43.10.in-addr.arpa PTR web.default.svc.cluster.local'] },
  { name: 'PTR of a headless endpoint names its hostname record', q: '7.0.42.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['7.0.42.10.in-addr.arpa PTR pg-0.pg.db.svc.cluster.local'] },
  { name: 'PTR of a ClusterIP service\'s endpoint is not the cluster\'s to answer (forwarded)', q: '5.0.42.10.in-addr.arpa', type: 'PTR', rcode: undefined },
  { name: 'PTR of an address outside the cluster is forwarded', q: '1.1.168.192.in-addr.arpa', type: 'PTR', rcode: undefined },
  { name: 'a name outside the cluster domain is forwarded', q: 'example.com', type: 'A', rcode: undefined },
  { name: 'a name merely ending like the domain is forwarded', q: 'notcluster.local', type: 'A', rcode: undefined },
];

describe('resolve', () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = ix.resolve({ name: c.q, type: c.type });
      assert.equal(r?.rcode, c.rcode);
      if (!r) return;
      if (c.answers) assert.deepEqual(show(r.answers), c.answers);
      if (c.additionals) assert.deepEqual(show(r.additionals), c.additionals);
      if (c.soa !== undefined) {
        assert.equal(r.authority.length, c.soa ? 1 : 0);
        const soa = r.authority[0] as { name: string; type: string; ttl: number; data: { mname: string; rname: string; minimum: number } } | undefined;
        if (c.soa) assert.deepEqual([soa?.name, soa?.type, soa?.ttl, soa?.data.mname, soa?.data.rname, soa?.data.minimum], ['cluster.local', 'SOA', 5, 'ns.dns.cluster.local', 'hostmaster.cluster.local', 5]);
      }
      for (const a of [...r.answers, ...r.additionals]) assert.equal((a as { ttl?: number }).ttl, 5, 'TTL 5 s as CoreDNS');
    });
  }
});

describe('index updates', () => {
  test('a deleted service and its slices leave no records, and the namespace goes with its last service', () => {
    const x = fixture();
    x.deleteService(svc('db', 'pg', {}));
    assert.equal(x.resolve({ name: 'pg.db.svc.cluster.local', type: 'A' })?.rcode, 'NXDOMAIN');
    x.deleteSlice(slice('db', 'pg-1', 'pg', []));
    assert.equal(x.resolve({ name: '7.0.42.10.in-addr.arpa', type: 'PTR' }), undefined);
    x.deleteService(svc('db', 'empty', {}));
    x.deleteService(svc('db', 'eager', {}));
    assert.equal(x.resolve({ name: 'db.svc.cluster.local', type: 'A' })?.rcode, 'NXDOMAIN');
  });
  test('an updated slice replaces the old endpoints and the serial moves forward', () => {
    const x = fixture();
    const before = (x.resolve({ name: 'nope.cluster.local', type: 'A' })!.authority[0] as { data: { serial: number } }).data.serial;
    x.upsertSlice(slice('db', 'pg-1', 'pg', [{ addresses: ['10.42.0.50'], hostname: 'pg-0', conditions: { ready: true } }]));
    assert.deepEqual(show(x.resolve({ name: 'pg.db.svc.cluster.local', type: 'A' })!.answers), ['pg.db.svc.cluster.local A 10.42.0.50']);
    assert.equal(x.resolve({ name: '8.0.42.10.in-addr.arpa', type: 'PTR' }), undefined);
    const after = (x.resolve({ name: 'nope.cluster.local', type: 'A' })!.authority[0] as { data: { serial: number } }).data.serial;
    assert.ok(after > before);
  });
  test('a service changed to another ClusterIP answers the new one and PTR follows', () => {
    const x = fixture();
    x.upsertService(svc('default', 'web', { clusterIP: '10.43.0.21' }));
    assert.deepEqual(show(x.resolve({ name: 'web.default.svc.cluster.local', type: 'A' })!.answers), ['web.default.svc.cluster.local A 10.43.0.21']);
    assert.equal(x.resolve({ name: '20.0.43.10.in-addr.arpa', type: 'PTR' }), undefined);
    assert.equal(x.resolve({ name: '21.0.43.10.in-addr.arpa', type: 'PTR' })?.answers.length, 1);
  });
  test('slices of two address families give A and AAAA for a dual-stack headless service', () => {
    const x = createDnsIndex({ clusterDomain: 'Corp.Example.' });
    x.upsertService(svc('a', 'h', { clusterIP: 'None' }));
    x.upsertSlice(slice('a', 'h-v4', 'h', [{ addresses: ['10.42.1.2'] }]));
    x.upsertSlice({ ...slice('a', 'h-v6', 'h', [{ addresses: ['fd00::2'] }]), addressType: 'IPv6' });
    assert.deepEqual(show(x.resolve({ name: 'h.a.svc.corp.example', type: 'A' })!.answers), ['h.a.svc.corp.example A 10.42.1.2']);
    assert.deepEqual(show(x.resolve({ name: 'h.a.svc.corp.example', type: 'AAAA' })!.answers), ['h.a.svc.corp.example AAAA fd00::2']);
    const nibbles = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
    assert.deepEqual(show(x.resolve({ name: nibbles, type: 'PTR' })!.answers), [`${nibbles} PTR fd00--2.h.a.svc.corp.example`]);
    assert.equal(x.resolve({ name: 'h.a.svc.cluster.local', type: 'A' }), undefined);
  });
});
