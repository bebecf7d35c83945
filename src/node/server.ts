// The node agent's own HTTPS server, the kubelet's streaming endpoints that the API server proxies
// `kubectl logs / exec / attach / port-forward` to:
//   GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
//   /exec/{ns}/{pod}/{container}?command=…&stdin&stdout&stderr&tty     (WebSocket v5/v4.channel.k8s.io, or SPDY v4)
//   /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty              (the same)
//   /portForward/{ns}/{pod}              (WebSocket `SPDY/3.1+portforward.k8s.io`, or `Upgrade: SPDY/3.1`)
// Every request carries `Authorization: Bearer <token>`; failures answer a Kubernetes Status.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { logger } from '../util/log.js';
import type { Container, ExecOptions, ExecProcess } from './runtime/runtime.js';
import { parseLogQuery, streamLog } from './streaming/logs.js';
import { PORT_FORWARD_PROTOCOL, PORT_FORWARD_TUNNEL_PROTOCOL, servePortForward } from './streaming/portforward.js';
import { parseStreamOptions, pickProtocol, serveRemoteCommand } from './streaming/remotecommand.js';
import { serveSpdyRemoteCommand, SPDY_REMOTECOMMAND_PROTOCOLS } from './streaming/remotecommand-spdy.js';
import { selfSignedServingCert } from './streaming/serving-cert.js';
import { attachTarget, execTarget } from './streaming/targets.js';

const log = logger('node-server');

/** A failure to report as a Kubernetes Status (kubectl prints the message). */
export interface StreamError {
  code: number;
  reason: string;
  message: string;
}

export interface NodeServerDeps {
  host: string;
  /** 0 or unset picks a free port. */
  port?: number;
  /** The bearer token every request must carry (the API server's). */
  token: string;
  /** The running container, or why not (400 `container "x" in pod "p" is waiting to start: …`, 404). */
  container(ns: string, pod: string, name: string): { container: Container } | { error: StreamError };
  /** A container's log file, current attempt or previous; `running` says whether follow should keep waiting. */
  logs(ns: string, pod: string, name: string, previous: boolean): { path: string; running: () => boolean } | { error: StreamError };
  /** runtime.exec */
  exec(container: Container, options: ExecOptions): ExecProcess;
  /** Where port-forward connects for a pod: its IP, or why not. */
  podAddress(ns: string, pod: string): { ip: string } | { error: StreamError };
}

export interface NodeServer {
  port: number;
  /** Stops listening and ends every open stream. */
  stop(): Promise<void>;
}

function statusBody(e: StreamError): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code });
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 500: 'InternalError' };
function fail(code: number, message: string): StreamError {
  return { code, reason: REASONS[code] ?? 'InternalError', message };
}

function sendError(res: ServerResponse, e: StreamError): void {
  const body = statusBody(e);
  res.writeHead(e.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** An HTTP error answer written on a socket whose upgrade we refuse. */
function refuseUpgrade(socket: Duplex, e: StreamError): void {
  const body = statusBody(e);
  socket.end(`HTTP/1.1 ${e.code} ${REASONS[e.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

type Route =
  | { kind: 'containerLogs' | 'exec' | 'attach'; ns: string; pod: string; container: string }
  | { kind: 'portForward'; ns: string; pod: string };

function route(path: string): Route | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [kind, ns, pod] = parts;
  if (!ns || !pod) return undefined;
  if (kind === 'portForward' && parts.length === 3) return { kind, ns, pod };
  if ((kind === 'containerLogs' || kind === 'exec' || kind === 'attach') && parts.length === 4) return { kind, ns, pod, container: parts[3]! };
  return undefined;
}

/** Starts the node's streaming server (HTTPS, fresh self-signed certificate) on deps.host:deps.port. */
export async function startNodeServer(deps: NodeServerDeps): Promise<NodeServer> {
  const { keyPem, certPem } = await selfSignedServingCert([deps.host]);
  const want = digest(deps.token);
  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization;
    return !!h?.startsWith('Bearer ') && timingSafeEqual(digest(h.slice(7).trim()), want);
  };
  const sockets = new Set<Socket>();
  const aborts = new Set<AbortController>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => pickProtocol(offered),
  });
  const tunnels = new WeakSet<IncomingMessage>();
  wss.on('headers', (headers: string[], req: IncomingMessage) => {
    if (tunnels.has(req)) headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`);
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://node');
    if (!authorized(req)) return sendError(res, fail(401, 'Unauthorized'));
    const r = route(url.pathname);
    if (!r) return sendError(res, fail(404, `the server could not find the requested resource`));
    if (r.kind !== 'containerLogs') return sendError(res, fail(400, 'Upgrade request required'));
    if (req.method !== 'GET') return sendError(res, fail(405, `method ${req.method} not allowed`));
    let opts;
    try {
      opts = parseLogQuery(url.searchParams, Date.now());
    } catch (e) {
      return sendError(res, fail(400, (e as Error).message));
    }
    const file = deps.logs(r.ns, r.pod, r.container, opts.previous);
    if ('error' in file) return sendError(res, file.error);
    const abort = new AbortController();
    aborts.add(abort);
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    try {
      await streamLog(file.path, opts, file.running, { write: (s) => !res.destroyed && (res.write(s), true) }, abort.signal);
    } catch (e) {
      log.warn('reading a log failed', { path: file.path, err: (e as Error).message });
    } finally {
      aborts.delete(abort);
      res.end();
    }
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'https://node');
    if (!authorized(req)) return refuseUpgrade(socket, fail(401, 'Unauthorized'));
    const r = route(url.pathname);
    if (!r || r.kind === 'containerLogs') return refuseUpgrade(socket, fail(404, 'the server could not find the requested resource'));
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();

    if (r.kind === 'portForward') {
      const addr = deps.podAddress(r.ns, r.pod);
      if ('error' in addr) return refuseUpgrade(socket, addr.error);
      const target = {
        podName: r.pod,
        address: () => {
          const a = deps.podAddress(r.ns, r.pod);
          return 'error' in a ? { error: a.error.message } : a;
        },
      };
      if (upgrade === 'websocket') {
        const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
        if (!offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) return refuseUpgrade(socket, fail(400, `unable to upgrade: port-forward over WebSocket needs the ${PORT_FORWARD_TUNNEL_PROTOCOL} subprotocol`));
        // ws refuses a subprotocol with a '/' (not an RFC 7230 token), so we negotiate this one ourselves.
        delete req.headers['sec-websocket-protocol'];
        tunnels.add(req);
        wss.handleUpgrade(req, socket, head, (ws) => servePortForward(createWebSocketStream(ws), target));
        return;
      }
      if (upgrade === 'spdy/3.1') {
        const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim());
        if (!versions.includes(PORT_FORWARD_PROTOCOL)) return refuseUpgrade(socket, fail(400, `unable to upgrade: unsupported stream protocol versions ${JSON.stringify(versions)}`));
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
        if (head.length) socket.unshift(head);
        servePortForward(socket, target);
        return;
      }
      return refuseUpgrade(socket, fail(400, `unable to upgrade: unsupported protocol ${JSON.stringify(upgrade)}`));
    }

    if (upgrade !== 'websocket' && upgrade !== 'spdy/3.1') return refuseUpgrade(socket, fail(400, `unable to upgrade: unsupported protocol ${JSON.stringify(upgrade)}`));
    const found = deps.container(r.ns, r.pod, r.container);
    if ('error' in found) return refuseUpgrade(socket, found.error);
    const opts = parseStreamOptions(url.searchParams);
    if (r.kind === 'exec' && opts.command.length === 0) return refuseUpgrade(socket, fail(400, 'you must specify at least one command for the container'));
    if (!opts.stdin && !opts.stdout && !opts.stderr) return refuseUpgrade(socket, fail(400, 'you must specify at least one of stdin, stdout, stderr'));
    const start = () => (r.kind === 'exec' ? execTarget(found.container, opts, deps.exec) : attachTarget(found.container, opts));
    if (upgrade === 'spdy/3.1') {
      const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((v) => v.trim());
      const protocol = SPDY_REMOTECOMMAND_PROTOCOLS.find((p) => offered.includes(p));
      if (!protocol) return refuseUpgrade(socket, fail(403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(SPDY_REMOTECOMMAND_PROTOCOLS)}`));
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
      if (head.length) socket.unshift(head);
      serveSpdyRemoteCommand(socket, opts, start);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => void serveRemoteCommand(ws, opts, start(), req));
  }

  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => void onRequest(req, res));
  server.requestTimeout = 0; // log follows run long
  server.on('upgrade', onUpgrade);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port ?? 0, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info('node streaming server listening', { host: deps.host, port });
  return {
    port,
    async stop() {
      for (const a of aborts) a.abort();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      wss.close();
    },
  };
}
