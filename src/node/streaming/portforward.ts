// Port forwarding as the kubelet serves it (pkg/kubelet/cri/streaming/portforward/httpstream.go):
// over one SPDY session, each forwarded connection is a pair of client-opened streams sharing a
// `requestid` — an `error` stream and a `data` stream, both naming the pod `port`. We connect a
// TCP socket to the pod's address and copy bytes both ways; if that fails the reason goes on the
// error stream. When the pod side is done we close the data stream, then the error stream (the
// client waits for the error stream's end before it releases the connection).
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from './spdy.js';

/** The port-forward protocol the client asks for in `X-Stream-Protocol-Version`. */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket subprotocol of the SPDY-over-WebSocket tunnel (kubectl 1.30+). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** How long the second stream of a pair may lag behind the first. */
const PAIR_TIMEOUT_MS = 30_000;

export interface PortForwardTarget {
  /** For error messages: `pod/ns`-like name. */
  podName: string;
  /** Where to connect, resolved per connection (the pod's IP can change across restarts). */
  address(): { ip: string } | { error: string };
}

/**
 * Serves port-forward streams over a SPDY session on `transport` until it closes. Returns the
 * session (closing it ends every forwarded connection).
 */
export function servePortForward(transport: Duplex, target: PortForwardTarget): SpdySession {
  const pairs = new Map<string, Pair>();
  const sockets = new Set<Socket>();
  const session = new SpdySession(transport, (stream) => {
    const type = stream.headers['streamtype'];
    const requestId = stream.headers['requestid'] ?? stream.headers['port'] ?? '';
    if ((type !== 'data' && type !== 'error') || !stream.headers['port']) {
      stream.reset();
      return;
    }
    stream.reply();
    stream.on('error', () => undefined);
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(requestId);
        pair?.data?.reset();
        pair?.error?.reset();
      }, PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      stream.reset(); // a second stream of the same kind for one request
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      forward(pair.data, pair.error);
    }
  });

  transport.once('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    for (const s of sockets) s.destroy();
  });

  function forward(data: SpdyStream, error: SpdyStream): void {
    // The client never writes on the error stream; drain it so its FIN is seen.
    error.resume();
    const port = Number(data.headers['port']);
    const fail = (msg: string) => {
      error.end(`error forwarding port ${data.headers['port']} to pod ${target.podName}: ${msg}`);
      data.end();
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`invalid port ${JSON.stringify(data.headers['port'])}`);
    const addr = target.address();
    if ('error' in addr) return fail(addr.error);
    const sock = connect({ host: addr.ip, port, allowHalfOpen: true });
    sockets.add(sock);
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      data.pipe(sock);
    });
    sock.on('data', (d: Buffer) => {
      if (!data.destroyed) data.write(d);
    });
    sock.on('end', () => {
      if (!data.destroyed) data.end();
      if (!error.destroyed) error.end();
    });
    sock.on('error', (e: Error) => {
      if (!connected) fail(e.message);
      else {
        data.destroyed || data.end();
        error.destroyed || error.end();
      }
    });
    sock.on('close', () => sockets.delete(sock));
    data.on('close', () => sock.destroy());
  }

  return session;
}
