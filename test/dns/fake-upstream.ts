// Test helpers for the DNS tests: a fake upstream resolver on a loopback address (UDP and TCP on
// one port, answering from a table, truncating big UDP answers as a real resolver would), and
// one-shot UDP/TCP query functions. Every socket is closed by its stop()/the query itself.
import { createSocket } from 'node:dgram';
import { createServer, connect, type Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

export interface FakeUpstream {
  host: string;
  port: number;
  /** Questions received, as "udp|tcp name TYPE". */
  seen: string[];
  stop(): Promise<void>;
}

/**
 * Answers `records[name]` (A/TXT/… as given; NXDOMAIN for unknown names). UDP answers over 512
 * bytes go out empty with TC, so the asker must retry over TCP.
 */
export async function startFakeUpstream(host: string, records: Record<string, Answer[]>): Promise<FakeUpstream> {
  const seen: string[] = [];
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, host, () => r()));
  const port = udp.address().port;
  const tcp = createServer();
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port, host }, () => resolve());
  });
  const conns = new Set<TcpSocket>();

  function answer(msg: Buffer, transport: 'udp' | 'tcp'): Buffer {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    seen.push(`${transport} ${question.name} ${question.type}`);
    const rs = records[question.name.toLowerCase()];
    const base = { type: 'response' as const, id: q.id ?? 0, questions: q.questions ?? [] };
    const flags = dnsPacket.RECURSION_AVAILABLE | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (rs ? 0 : 3);
    let out = dnsPacket.encode({ ...base, flags, answers: rs ?? [] });
    if (transport === 'udp' && out.length > 512) out = dnsPacket.encode({ ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] });
    return out;
  }

  udp.on('message', (msg, rinfo) => udp.send(answer(msg, 'udp'), rinfo.port, rinfo.address));
  tcp.on('connection', (sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const out = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), 'tcp');
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        sock.write(Buffer.concat([len, out]));
      }
    });
  });
  return {
    host,
    port,
    seen,
    async stop() {
      for (const c of conns) c.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}

export type Decoded = Packet & { rcode?: string; flag_aa?: boolean; flag_tc?: boolean; flag_rd?: boolean; flag_ra?: boolean };

/** A query packet for `name`/`type` (RD set; `edns` adds an OPT record with that payload size). */
export function queryPacket(name: string, type: string, opts: { id?: number; edns?: number } = {}): Packet {
  return {
    type: 'query', id: opts.id ?? 4242, flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
    ...(opts.edns ? { additionals: [{ name: '.', type: 'OPT', udpPayloadSize: opts.edns, flags: 0, options: [] } as unknown as Answer] } : {}),
  };
}

/** Sends one UDP message to host:port and resolves with the raw reply; rejects after `timeoutMs`. */
export function udpRaw(host: string, port: number, msg: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port} in ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

export async function udpQuery(host: string, port: number, p: Packet): Promise<{ packet: Decoded; bytes: number }> {
  const raw = await udpRaw(host, port, dnsPacket.encode(p));
  return { packet: dnsPacket.decode(raw) as Decoded, bytes: raw.length };
}

/** One query over a fresh TCP connection (two-byte length framing). */
export function tcpQuery(host: string, port: number, p: Packet, timeoutMs = 5000): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no TCP answer from ${host}:${port} in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(dnsPacket.streamEncode(p)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Decoded);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    });
  });
}
