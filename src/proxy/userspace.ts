// The userspace fallback of the proxy, for machines where the kernel cannot be programmed (not
// root, no nftables): one listener per NodePort on each node address and per LoadBalancer ingress
// address and port, relaying each TCP connection (or UDP client) to the service's endpoints in
// turn (round robin), as kube-proxy's long-gone userspace mode did. ClusterIPs cannot be served
// this way (nothing owns those addresses), which the proxier's status says.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { logger } from '../util/log.js';
import { categorize, endpointsFor, hasClusterIP, slicesByService, type Endpoint } from './endpoints.js';

const log = logger('proxy-userspace');
/** A UDP client's relay socket is closed after this long without traffic. */
const UDP_IDLE_MS = 30_000;

/** One address:port to listen on and where it leads. */
export interface Listen {
  proto: 'tcp' | 'udp';
  ip: string;
  port: number;
  endpoints: Endpoint[];
}

/** Every listener the fallback wants, keyed `proto/ip/port`, for these services (pure). */
export function planListeners(services: readonly Service[], slices: readonly EndpointSlice[], nodeName: string, nodeIPs: readonly string[]): Map<string, Listen> {
  const out = new Map<string, Listen>();
  const bySvc = slicesByService(slices);
  for (const svc of services) {
    const spec = svc.spec;
    if (!spec || !hasClusterIP(svc) || (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer')) continue;
    const lbIps = spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean) : [];
    const slices2 = bySvc.get(`${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name}`) ?? [];
    for (const p of spec.ports ?? []) {
      const proto = (p.protocol ?? 'TCP') === 'TCP' ? 'tcp' : p.protocol === 'UDP' ? 'udp' : undefined;
      if (!proto) continue;
      const { cluster, local } = categorize(endpointsFor(p, slices2), nodeName);
      const endpoints = spec.externalTrafficPolicy === 'Local' ? local : cluster;
      const targets = [...(p.nodePort ? nodeIPs.map((ip) => [ip, p.nodePort!] as const) : []), ...lbIps.map((ip) => [ip, p.port] as const)];
      for (const [ip, port] of targets) out.set(`${proto}/${ip}/${port}`, { proto, ip, port, endpoints });
    }
  }
  return out;
}

interface Live {
  want: Listen;
  next: number;
  close(): void;
}

/** Listeners kept in line with a plan; reconcile() is idempotent, stop() closes everything. */
export class UserspaceProxy {
  private readonly live = new Map<string, Live>();

  /** Opens what is new, closes what is gone, and swaps endpoint lists in place for the rest. */
  reconcile(plan: Map<string, Listen>): void {
    for (const [k, l] of this.live) {
      if (!plan.has(k)) {
        l.close();
        this.live.delete(k);
      }
    }
    for (const [k, want] of plan) {
      const cur = this.live.get(k);
      if (cur) cur.want = want;
      else this.live.set(k, this.open(want));
    }
  }

  /** The addresses currently listened on, `proto/ip/port`, sorted. */
  listening(): string[] {
    return [...this.live.keys()].sort();
  }

  stop(): void {
    for (const l of this.live.values()) l.close();
    this.live.clear();
  }

  private pick(l: Live): Endpoint | undefined {
    const eps = l.want.endpoints;
    if (eps.length === 0) return undefined;
    return eps[l.next++ % eps.length];
  }

  private open(want: Listen): Live {
    return want.proto === 'tcp' ? this.openTcp(want) : this.openUdp(want);
  }

  private openTcp(want: Listen): Live {
    const live: Live = { want, next: 0, close: () => server.close() };
    const server: Server = createServer((conn) => {
      const ep = this.pick(live);
      if (!ep) return conn.destroy();
      const up = createConnection({ host: ep.ip, port: ep.port });
      conn.pipe(up).pipe(conn);
      conn.on('error', () => up.destroy());
      up.on('error', () => conn.destroy());
    });
    server.on('error', (e) => log.warn('cannot listen', { address: `${want.ip}:${want.port}`, error: String(e) }));
    server.listen(want.port, want.ip);
    return live;
  }

  private openUdp(want: Listen): Live {
    const clients = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout; pending?: Buffer[] }>();
    const server = createSocket('udp4');
    const live: Live = {
      want,
      next: 0,
      close: () => {
        server.close();
        for (const c of clients.values()) {
          clearTimeout(c.timer);
          c.sock.close();
        }
      },
    };
    server.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let c = clients.get(key);
      if (!c) {
        const ep = this.pick(live);
        if (!ep) return;
        const sock = createSocket('udp4');
        sock.on('message', (reply) => server.send(reply, rinfo.port, rinfo.address));
        sock.on('error', () => undefined);
        sock.connect(ep.port, ep.ip);
        const fresh: { sock: UdpSocket; timer: NodeJS.Timeout; pending?: Buffer[] } = { sock, timer: setTimeout(() => undefined, 0), pending: [msg] };
        clients.set(key, fresh);
        sock.once('connect', () => {
          for (const m of fresh.pending ?? []) sock.send(m);
          delete fresh.pending;
        });
        c = fresh;
      } else if (c.pending) c.pending.push(msg);
      else c.sock.send(msg);
      const cc = c;
      clearTimeout(cc.timer);
      cc.timer = setTimeout(() => {
        cc.sock.close();
        clients.delete(key);
      }, UDP_IDLE_MS);
      cc.timer.unref();
    });
    server.on('error', (e) => log.warn('cannot listen', { address: `${want.ip}:${want.port}/udp`, error: String(e) }));
    server.bind(want.port, want.ip);
    return live;
  }
}
