// The cluster DNS server: UDP and TCP on one port. Questions inside the cluster zone (and reverse
// names of cluster addresses) are answered from the DnsIndex with the AA bit; everything else is
// forwarded to the upstream resolvers (SERVFAIL when none answers). An ExternalName's CNAME to a
// name outside the zone is followed through the upstreams, as CoreDNS does, so stub resolvers that
// do not chase CNAMEs still get addresses. A UDP answer larger than the client can take (512
// bytes, or its EDNS payload size) is replaced by an empty one with the TC bit, and the client
// asks again over TCP. Messages are encoded and decoded by dns-packet.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { isIPv6 } from 'node:net';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { logger } from '../util/log.js';
import { createForwarder, type Upstream } from './forward.js';
import type { DnsIndex, DnsResult, QueryType } from './records.js';

const log = logger('dns');

const RCODES: Record<string, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** The EDNS payload size we advertise and the most we send over UDP (DNS flag day 2020). */
const EDNS_PAYLOAD = 1232;
/** A TCP connection idle this long is closed (CoreDNS's read timeout). */
const TCP_IDLE_MS = 10_000;

export interface DnsServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port for both UDP and TCP; 0 picks a free one (default 53). */
  port?: number;
  index: DnsIndex;
  /** Must equal index.clusterDomain when given (a guard against wiring two zones together). */
  clusterDomain?: string;
  /** Resolvers for names outside the cluster zone, tried in order. */
  upstreams?: Upstream[];
  /** How long a forwarded query may take before SERVFAIL (default 2000 ms). */
  forwardTimeoutMs?: number;
}

export interface DnsServer {
  readonly host: string;
  /** The port UDP and TCP both listen on. */
  readonly port: number;
  /** Closes both sockets, every TCP connection and the forwarder. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the server; rejects when the port cannot be bound for both UDP and TCP. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const index = opts.index;
  if (opts.clusterDomain !== undefined && opts.clusterDomain.toLowerCase().replace(/\.$/, '') !== index.clusterDomain) {
    throw new Error(`cluster domain ${opts.clusterDomain} differs from the index's ${index.clusterDomain}`);
  }
  const forwarder = createForwarder({ upstreams: opts.upstreams ?? [], ...(opts.forwardTimeoutMs ? { timeoutMs: opts.forwardTimeoutMs } : {}) });
  const { udp, tcp, port } = await bindBoth(host, opts.port ?? 53);
  const conns = new Set<TcpSocket>();

  udp.on('message', (msg, rinfo) => {
    const out = handle(msg, 'udp');
    // Cluster answers are sent synchronously: no promise per query on the hot path.
    if (out === undefined) return;
    if (!(out instanceof Promise)) udp.send(out, rinfo.port, rinfo.address);
    else void out.then((b) => b && !closing && udp.send(b, rinfo.port, rinfo.address));
  });
  // A failed send (the client went away) surfaces here too; the server keeps serving.
  udp.on('error', (e) => log.debug('udp socket error', { error: e.message }));
  tcp.on('connection', (sock) => serveTcp(sock));
  tcp.on('error', (e) => log.warn('tcp server error', { error: e.message }));

  function serveTcp(sock: TcpSocket): void {
    conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void Promise.resolve(handle(msg, 'tcp')).then((out) => {
          if (!out || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  /**
   * One message in, the bytes to send back out (undefined: send nothing): at once for what the
   * index answers, as a promise when upstreams are involved. Never throws or rejects.
   */
  function handle(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined | Promise<Buffer | undefined> {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12 || msg.readUInt16BE(2) & 0x8000) return undefined;
      return headerOnly(msg, RCODES.FORMERR!);
    }
    try {
      if (query.type === 'response') return undefined;
      const opt = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      const limit = transport === 'tcp' ? 65535 : opt ? Math.max(512, Math.min(opt.udpPayloadSize ?? 512, EDNS_PAYLOAD)) : 512;
      if ((query as { opcode?: string }).opcode !== 'QUERY') return respond(query, { rcode: 'NOTIMP' }, limit, !!opt);
      const q = query.questions?.[0];
      if (!q || query.questions!.length !== 1) return respond(query, { rcode: 'FORMERR' }, limit, !!opt);
      const result = index.resolve({ name: q.name, type: q.type as QueryType });
      if (!result) return forwarded(msg, query, limit, !!opt).catch(() => headerOnly(msg, RCODES.SERVFAIL!));
      if (needsChase(q, result)) {
        return chaseExternal(q, result).then(
          () => respond(query, { ...result, aa: true }, limit, !!opt),
          () => headerOnly(msg, RCODES.SERVFAIL!),
        );
      }
      return respond(query, { ...result, aa: true }, limit, !!opt);
    } catch (e) {
      log.error('query failed', { error: e instanceof Error ? e.message : String(e) });
      return headerOnly(msg, RCODES.SERVFAIL!);
    }
  }

  /** True when the answer ends in a CNAME to a name outside the zone that the upstreams must resolve. */
  function needsChase(q: Question, result: DnsResult): boolean {
    const last = result.answers[result.answers.length - 1];
    return q.type !== 'CNAME' && last?.type === 'CNAME' && !index.inZone(last.data);
  }

  /** Relays the upstreams' answer (truncated for the client if needed), or SERVFAIL. */
  async function forwarded(msg: Buffer, query: Packet, limit: number, edns: boolean): Promise<Buffer> {
    const answer = await forwarder.forward(msg);
    if (!answer) return respond(query, { rcode: 'SERVFAIL' }, limit, edns);
    if (answer.length <= limit) return answer;
    let decoded: Packet;
    try {
      decoded = dnsPacket.decode(answer);
    } catch {
      return respond(query, { rcode: 'SERVFAIL' }, limit, edns);
    }
    return respond(query, { rcode: (decoded as { rcode?: string }).rcode ?? 'NOERROR', truncated: true, ra: true }, limit, edns);
  }

  /** An ExternalName CNAME to a name outside the zone: the upstreams' records for the target are appended. */
  async function chaseExternal(q: Question, result: DnsResult): Promise<void> {
    const last = result.answers[result.answers.length - 1];
    if (last?.type !== 'CNAME') return;
    const sub = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: last.data, type: q.type, class: 'IN' }] });
    const answer = await forwarder.forward(sub);
    if (!answer) return; // the CNAME alone: the client may still follow it itself
    try {
      const up = dnsPacket.decode(answer);
      if ((up as { rcode?: string }).rcode === 'NXDOMAIN') result.rcode = 'NXDOMAIN';
      result.answers.push(...(up.answers ?? []));
    } catch {
      /* a garbled upstream answer: keep the CNAME alone */
    }
  }

  function respond(
    query: Packet,
    r: Partial<Omit<DnsResult, 'rcode'>> & { rcode: string; aa?: boolean; truncated?: boolean; ra?: boolean },
    limit: number,
    edns: boolean,
  ): Buffer {
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    let flags = rd | dnsPacket.RECURSION_AVAILABLE | (RCODES[r.rcode] ?? RCODES.SERVFAIL!) | (r.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0);
    const opt: Answer[] = edns ? [{ name: '.', type: 'OPT', udpPayloadSize: EDNS_PAYLOAD, flags: 0, options: [] } as unknown as Answer] : [];
    const packet: Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: flags | (r.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0),
      questions: query.questions ?? [],
      answers: r.answers ?? [],
      authorities: r.authority ?? [],
      additionals: [...(r.additionals ?? []), ...opt],
    };
    let out = dnsPacket.encode(packet);
    if (out.length > limit) {
      flags |= dnsPacket.TRUNCATED_RESPONSE;
      out = dnsPacket.encode({ ...packet, flags, answers: [], authorities: [], additionals: opt });
    }
    return out;
  }

  let stopped: Promise<void> | undefined;
  let closing = false;
  return {
    host,
    port,
    stop() {
      stopped ??= (async () => {
        closing = true;
        forwarder.close();
        for (const c of conns) c.destroy();
        await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      })();
      return stopped;
    },
  };
}

/** A reply of just the query's header with QR and `rcode` (for messages that do not decode). */
function headerOnly(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  const rd = msg.readUInt16BE(2) & dnsPacket.RECURSION_DESIRED;
  const opcode = msg.readUInt16BE(2) & 0x7800;
  out.writeUInt16BE(0x8000 | opcode | rd | dnsPacket.RECURSION_AVAILABLE | rcode, 2);
  return out;
}

/** Binds UDP and TCP to the same port; with port 0, retries a few times when TCP finds the UDP port taken. */
async function bindBoth(host: string, port: number): Promise<{ udp: Socket; tcp: Server; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    const chosen = udp.address().port;
    const tcp = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: chosen, host }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port: chosen };
    } catch (e) {
      udp.close();
      if (port !== 0 || attempt >= 10 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
}
