// Forwarding of names outside the cluster zone to the host's resolvers, as CoreDNS's `forward`
// plugin: the query goes out over UDP under a fresh random ID from one shared socket per address
// family; an answer with the TC bit is fetched again over TCP from the same upstream. Upstreams are
// tried in order, the next one when the previous has not answered within its share of the timeout;
// after the whole timeout (2 s by default) the query has failed and the caller answers SERVFAIL.
// Nothing is cached.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { logger } from '../util/log.js';

const log = logger('dns-forward');

export interface Upstream {
  host: string;
  port: number;
}

export interface Forwarder {
  /**
   * Sends a wire-format query (its ID is the client's) to the upstreams and resolves with the
   * first answer, carrying the client's ID again, or undefined when none answered in time. Never
   * rejects.
   */
  forward(query: Buffer): Promise<Buffer | undefined>;
  /** Fails every query in flight (undefined) and closes the sockets. Idempotent. */
  close(): void;
}

interface Pending {
  resolve: (b: Buffer | undefined) => void;
  query: Buffer;
  clientId: number;
  sentTo: Upstream[];
  timers: NodeJS.Timeout[];
  settled: boolean;
}

const TC = 1 << 9;

/** Creates a forwarder over `upstreams` (none: every query fails at once). */
export function createForwarder(opts: { upstreams: Upstream[]; timeoutMs?: number }): Forwarder {
  const upstreams = opts.upstreams.slice();
  const timeoutMs = opts.timeoutMs ?? 2000;
  const pending = new Map<number, Pending>();
  const sockets: { v4?: Socket; v6?: Socket } = {};
  let closed = false;

  function socketFor(host: string): Socket {
    const fam = isIPv6(host) ? 'v6' : 'v4';
    let s = sockets[fam];
    if (!s) {
      s = createSocket(fam === 'v6' ? 'udp6' : 'udp4');
      s.on('message', onMessage);
      // ICMP errors (a dead upstream) surface here; the timeout moves on to the next upstream.
      s.on('error', (e) => log.debug('upstream socket error', { error: e.message }));
      s.bind(0);
      sockets[fam] = s;
    }
    return s;
  }

  function settle(p: Pending, id: number, answer: Buffer | undefined): void {
    if (p.settled) return;
    p.settled = true;
    for (const t of p.timers) clearTimeout(t);
    pending.delete(id);
    if (answer) answer.writeUInt16BE(p.clientId, 0);
    p.resolve(answer);
  }

  function onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = pending.get(id);
    if (!p || p.settled) return;
    const from = p.sentTo.find((u) => u.port === rinfo.port && sameHost(u.host, rinfo.address));
    if (!from) return; // not from an upstream we asked: ignore (spoofing, stray answers)
    if (msg.readUInt16BE(2) & TC) {
      const q = Buffer.from(p.query);
      q.writeUInt16BE(id, 0);
      void tcpExchange(from, q, timeoutMs).then(
        (full) => settle(p, id, full ?? Buffer.from(msg)),
        () => settle(p, id, Buffer.from(msg)),
      );
      return;
    }
    settle(p, id, Buffer.from(msg));
  }

  function freshId(): number | undefined {
    for (let i = 0; i < 64; i++) {
      const id = randomInt(0, 65536);
      if (!pending.has(id)) return id;
    }
    return undefined;
  }

  return {
    forward(query) {
      if (closed || !upstreams.length || query.length < 12) return Promise.resolve(undefined);
      const id = freshId();
      if (id === undefined) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const p: Pending = { resolve, query, clientId: query.readUInt16BE(0), sentTo: [], timers: [], settled: false };
        pending.set(id, p);
        const out = Buffer.from(query);
        out.writeUInt16BE(id, 0);
        const step = timeoutMs / upstreams.length;
        upstreams.forEach((u, i) => {
          const send = () => {
            if (p.settled) return;
            p.sentTo.push(u);
            socketFor(u.host).send(out, u.port, u.host, (e) => e && log.debug('send to upstream failed', { upstream: `${u.host}:${u.port}`, error: e.message }));
          };
          if (i === 0) send();
          else p.timers.push(setTimeout(send, step * i));
        });
        p.timers.push(setTimeout(() => settle(p, id, undefined), timeoutMs));
      });
    },
    close() {
      if (closed) return;
      closed = true;
      for (const [id, p] of [...pending]) settle(p, id, undefined);
      sockets.v4?.close();
      sockets.v6?.close();
    },
  };
}

function sameHost(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}

/**
 * One query over TCP (RFC 1035 §4.2.2: a two-byte length before each message): resolves with the
 * answer, or undefined on a timeout, a refused or reset connection, or a short answer.
 */
export function tcpExchange(upstream: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: upstream.host, port: upstream.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (b: Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(b);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(undefined));
  });
}
