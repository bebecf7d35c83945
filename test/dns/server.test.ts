// The DNS server on real sockets: cluster names over UDP and TCP from 127.0.0.1, forwarding to a
// fake upstream on 127.0.0.2 (TC → TCP retry, ExternalName chased), SERVFAIL with a dead upstream,
// truncation by payload size, malformed messages, and the port freed on stop.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import dnsPacket, { type Answer } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import { createDnsIndex, type DnsIndex } from '../../src/dns/records.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { queryPacket, startFakeUpstream, tcpQuery, udpQuery, udpRaw, type Decoded, type FakeUpstream } from './fake-upstream.js';

const LOCAL = '127.0.0.1';
const UPSTREAM = '127.0.0.2';
const a = (name: string, ip: string): Answer => ({ name, type: 'A', class: 'IN', ttl: 60, data: ip });
const svc = (ns: string, name: string, spec: Service['spec']): Service => ({ metadata: { namespace: ns, name }, spec });


function index(): DnsIndex {
  const ix = createDnsIndex();
  ix.upsertService(svc('default', 'web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80 }] }));
  ix.upsertService(svc('default', 'ext', { type: 'ExternalName', externalName: 'outside.test' }));
  ix.upsertService(svc('default', 'many', { clusterIP: 'None' }));
  ix.upsertSlice({
    addressType: 'IPv4', metadata: { namespace: 'default', name: 'many-1', labels: { 'kubernetes.io/service-name': 'many' } },
    endpoints: Array.from({ length: 20 }, (_, i) => ({ addresses: [`10.42.0.${i + 10}`], conditions: { ready: true } })),
  });
  return ix;
}

describe('DNS server', () => {
  let up: FakeUpstream;
  let srv: DnsServer;
  before(async () => {
    up = await startFakeUpstream(UPSTREAM, {
      'example.test': [a('example.test', '192.0.2.1')],
      'outside.test': [a('outside.test', '192.0.2.7')],
      // 30 records: over 512 bytes, so the upstream truncates over UDP
      'big.test': Array.from({ length: 30 }, (_, i) => a('big.test', `192.0.2.${i + 1}`)),
    });
    srv = await startDnsServer({ host: LOCAL, port: 0, index: index(), clusterDomain: 'cluster.local', upstreams: [{ host: up.host, port: up.port }] });
  });
  after(async () => {
    await srv?.stop();
    await up?.stop();
  });

  test('port 0 picks a free port for UDP and TCP alike', () => {
    assert.ok(srv.port > 0);
  });

  test('a service name over UDP is answered authoritatively with the query ID and RD echoed', async () => {
    const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('web.default.svc.cluster.local', 'A', { id: 777 }));
    assert.equal(packet.id, 777);
    assert.equal(packet.rcode, 'NOERROR');
    assert.equal(packet.flag_aa, true);
    assert.equal(packet.flag_rd, true);
    assert.deepEqual(packet.answers?.map((r) => [r.name, r.type, (r as { data: string }).data, (r as { ttl: number }).ttl]), [['web.default.svc.cluster.local', 'A', '10.43.0.20', 5]]);
  });

  test('the same over TCP', async () => {
    const p = await tcpQuery(LOCAL, srv.port, queryPacket('web.default.svc.cluster.local', 'A'));
    assert.equal(p.rcode, 'NOERROR');
    assert.deepEqual(p.answers?.map((r) => (r as { data: string }).data), ['10.43.0.20']);
  });

  test('several queries on one TCP connection, split across writes, are each answered', async () => {
    const frames = Buffer.concat([
      dnsPacket.streamEncode(queryPacket('web.default.svc.cluster.local', 'A', { id: 1 })),
      dnsPacket.streamEncode(queryPacket('nope.default.svc.cluster.local', 'A', { id: 2 })),
    ]);
    const answers = await new Promise<Decoded[]>((resolve, reject) => {
      const sock = connect({ host: LOCAL, port: srv.port });
      const got: Decoded[] = [];
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('not every answer came'));
      }, 5000);
      sock.on('connect', () => {
        // one byte, then the rest: the server must reassemble frames
        sock.write(frames.subarray(0, 1));
        setTimeout(() => sock.write(frames.subarray(1)), 20);
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          got.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Decoded);
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (got.length === 2) {
          clearTimeout(timer);
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    assert.deepEqual(answers.map((p) => `${p.id} ${p.rcode}`).sort(), ['1 NOERROR', '2 NXDOMAIN']);
  });

  test('an unknown cluster name is NXDOMAIN with the SOA in authority, and is not forwarded', async () => {
    const before = up.seen.length;
    const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('nope.default.svc.cluster.local', 'A'));
    assert.equal(packet.rcode, 'NXDOMAIN');
    assert.equal(packet.authorities?.[0]?.type, 'SOA');
    assert.equal(up.seen.length, before);
  });

  test('an outside name is forwarded to the upstream and relayed with the client\'s ID', async () => {
    const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('example.test', 'A', { id: 31337 }));
    assert.equal(packet.id, 31337);
    assert.equal(packet.rcode, 'NOERROR');
    assert.equal(packet.flag_aa, false);
    assert.deepEqual(packet.answers?.map((r) => (r as { data: string }).data), ['192.0.2.1']);
    assert.ok(up.seen.includes('udp example.test A'));
  });

  test('an upstream NXDOMAIN is relayed as is', async () => {
    const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('missing.test', 'A'));
    assert.equal(packet.rcode, 'NXDOMAIN');
  });

  test('a truncated upstream answer is fetched again over TCP', async () => {
    const p = await tcpQuery(LOCAL, srv.port, queryPacket('big.test', 'A'));
    assert.equal(p.flag_tc, false);
    assert.equal(p.answers?.length, 30);
    assert.ok(up.seen.includes('tcp big.test A'), 'the forwarder retried over TCP');
  });

  test('a forwarded answer too big for a UDP client without EDNS comes back truncated; with EDNS it fits', async () => {
    const small = await udpQuery(LOCAL, srv.port, queryPacket('big.test', 'A'));
    assert.equal(small.packet.flag_tc, true);
    assert.ok(small.bytes <= 512);
    const edns = await udpQuery(LOCAL, srv.port, queryPacket('big.test', 'A', { edns: 4096 }));
    assert.equal(edns.packet.flag_tc, false);
    assert.equal(edns.packet.answers?.length, 30);
  });

  test('a cluster answer over 512 bytes sets TC without EDNS, fits in the EDNS payload, and is whole over TCP', async () => {
    const plain = await udpQuery(LOCAL, srv.port, queryPacket('many.default.svc.cluster.local', 'A'));
    assert.equal(plain.packet.flag_tc, true);
    assert.equal(plain.packet.answers?.length, 0);
    assert.ok(plain.bytes <= 512);
    const edns = await udpQuery(LOCAL, srv.port, queryPacket('many.default.svc.cluster.local', 'A', { edns: 1232 }));
    assert.equal(edns.packet.flag_tc, false);
    assert.equal(edns.packet.answers?.length, 20);
    assert.ok(edns.packet.additionals?.some((r) => r.type === 'OPT'), 'an EDNS query gets an OPT record back');
    const tcp = await tcpQuery(LOCAL, srv.port, queryPacket('many.default.svc.cluster.local', 'A'));
    assert.equal(tcp.answers?.length, 20);
  });

  test('an ExternalName to an outside name answers the CNAME and the upstream\'s addresses for it', async () => {
    const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('ext.default.svc.cluster.local', 'A'));
    assert.equal(packet.rcode, 'NOERROR');
    assert.deepEqual(packet.answers?.map((r) => `${r.type} ${(r as { data: string }).data}`), ['CNAME outside.test', 'A 192.0.2.7']);
  });

  test('a message that does not decode gets FORMERR with its ID', async () => {
    const junk = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
    const raw = await udpRaw(LOCAL, srv.port, junk);
    assert.equal(raw.readUInt16BE(0), 0x1234);
    assert.equal(raw.readUInt16BE(2) & 0x8000, 0x8000);
    assert.equal(raw.readUInt16BE(2) & 0xf, 1);
  });

  test('a query that is not a QUERY gets NOTIMP', async () => {
    const p = queryPacket('web.default.svc.cluster.local', 'A');
    const { packet } = await udpQuery(LOCAL, srv.port, { ...p, flags: (p.flags ?? 0) | (4 << 11) });
    assert.equal(packet.rcode, 'NOTIMP');
  });

  // a real resolver client (Debian's bind9-dnsutils, installed by .ci/run)
  // (asynchronously: the server answers from this very event loop)
  test('dig resolves a service name, over UDP and TCP', async () => {
    const dig = (...extra: string[]) => promisify(execFile)('dig', [...extra, '+short', '+tries=1', '+time=2', '-p', String(srv.port), `@${LOCAL}`, 'web.default.svc.cluster.local'], { encoding: 'utf8' });
    assert.equal((await dig()).stdout.trim(), '10.43.0.20');
    assert.equal((await dig('+tcp')).stdout.trim(), '10.43.0.20');
  });
});

describe('DNS server with a dead upstream', () => {
  test('an outside name is SERVFAIL once the timeout passes', async () => {
    // A port that was free a moment ago on 127.0.0.3: nothing answers there.
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.3', () => r()));
    const deadPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const srv = await startDnsServer({ host: LOCAL, port: 0, index: index(), upstreams: [{ host: '127.0.0.3', port: deadPort }], forwardTimeoutMs: 300 });
    try {
      const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('example.test', 'A'));
      assert.equal(packet.rcode, 'SERVFAIL');
      const p = await tcpQuery(LOCAL, srv.port, queryPacket('example.test', 'A'));
      assert.equal(p.rcode, 'SERVFAIL');
      // cluster names still answer
      assert.equal((await udpQuery(LOCAL, srv.port, queryPacket('web.default.svc.cluster.local', 'A'))).packet.rcode, 'NOERROR');
    } finally {
      await srv.stop();
    }
  });

  test('when the first upstream is silent the next one answers', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.3', () => r()));
    const deadPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const live = await startFakeUpstream('127.0.0.4', { 'example.test': [a('example.test', '192.0.2.9')] });
    const srv = await startDnsServer({ host: LOCAL, port: 0, index: index(), upstreams: [{ host: '127.0.0.3', port: deadPort }, { host: live.host, port: live.port }], forwardTimeoutMs: 1000 });
    try {
      const { packet } = await udpQuery(LOCAL, srv.port, queryPacket('example.test', 'A'));
      assert.equal(packet.rcode, 'NOERROR');
      assert.deepEqual(packet.answers?.map((r) => (r as { data: string }).data), ['192.0.2.9']);
    } finally {
      await srv.stop();
      await live.stop();
    }
  });

  test('with no upstream at all an outside name is SERVFAIL at once', async () => {
    const srv = await startDnsServer({ host: LOCAL, port: 0, index: index() });
    try {
      assert.equal((await udpQuery(LOCAL, srv.port, queryPacket('example.test', 'A'))).packet.rcode, 'SERVFAIL');
    } finally {
      await srv.stop();
    }
  });
});

describe('DNS server lifecycle', () => {
  test('stop frees the UDP and TCP port', async () => {
    const srv = await startDnsServer({ host: LOCAL, port: 0, index: index() });
    const port = srv.port;
    await srv.stop();
    await srv.stop(); // idempotent
    const u = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      u.once('error', reject);
      u.bind(port, LOCAL, () => resolve());
    });
    await new Promise<void>((r) => u.close(() => r()));
    const t = createServer();
    await new Promise<void>((resolve, reject) => {
      t.once('error', reject);
      t.listen(port, LOCAL, () => resolve());
    });
    await new Promise<void>((r) => t.close(() => r()));
  });

  test('a cluster domain that differs from the index\'s is refused', async () => {
    await assert.rejects(startDnsServer({ host: LOCAL, port: 0, index: index(), clusterDomain: 'other.local' }), /differs/);
  });
});
