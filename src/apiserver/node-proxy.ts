// The API server's side of `kubectl logs / exec / attach / port-forward`: the pods/log, pods/exec,
// pods/attach and pods/portforward subresources are answered by the node running the pod. We
// check the pod and pick the container as kube-apiserver does (pkg/registry/core/pod/strategy.go:
// LogLocation, ExecLocation, PortForwardLocation), then proxy to the node agent's HTTPS server at
// the node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port: a log is streamed
// through; an upgrade (WebSocket or SPDY) is forwarded as a raw request on a TLS connection to
// the node and the two sockets are then piped both ways, like kube-apiserver's UpgradeAwareHandler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import { errors, StatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject, Status } from '../api/types.js';
import { logger } from '../util/log.js';
import type { Registry } from './registry.js';

const log = logger('node-proxy');

export type StreamingSubresource = 'log' | 'exec' | 'attach' | 'portforward';

export interface NodeProxyDeps {
  registry: Registry;
  /** The bearer token the API server presents to node agents (Skiff gives nodes its admin token). */
  nodeToken: string;
  /** The same check as for ordinary requests (WebSocket upgrades bypass the request handler). */
  authenticate(token: string | undefined): boolean;
}

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)\/?$/;

/** The pod subresource a path names, when it is one of the four streamed ones. */
export function matchStreaming(path: string): { namespace: string; pod: string; sub: StreamingSubresource } | undefined {
  const m = PATH.exec(path);
  return m ? { namespace: decodeURIComponent(m[1]!), pod: decodeURIComponent(m[2]!), sub: m[3] as StreamingSubresource } : undefined;
}

interface PodSpecLike {
  nodeName?: string;
  containers?: { name: string }[];
  initContainers?: { name: string }[];
  ephemeralContainers?: { name: string }[];
}

/** The container a request means: `container=` or the pod's default, with kube-apiserver's errors. */
export function pickContainer(pod: KubeObject, requested: string | null): string {
  const name = pod.metadata.name!;
  const spec = (pod.spec ?? {}) as PodSpecLike;
  const containers = (spec.containers ?? []).map((c) => c.name);
  const others = [...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
  if (requested) {
    if (!containers.includes(requested) && !others.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (containers.length === 1) return containers[0]!;
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && containers.includes(annotated)) return annotated;
  const init = (spec.initContainers ?? []).map((c) => c.name);
  throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''}`);
}

interface Target {
  host: string;
  port: number;
  /** The node agent's path and query. */
  path: string;
}

/** Where the node agent serves this request; throws a Status error when it cannot be served. */
export async function resolveTarget(reg: Registry, namespace: string, podName: string, sub: StreamingSubresource, query: URLSearchParams): Promise<Target> {
  const pod = (await reg.get(resourceFor('', 'v1', 'pods'), namespace, podName)).obj;
  const nodeName = (pod.spec as PodSpecLike | undefined)?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${podName} does not have a host assigned`);
  const phase = (pod.status as { phase?: string } | undefined)?.phase ?? 'Pending';
  if (sub !== 'log' && (phase === 'Succeeded' || phase === 'Failed')) throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  if (sub === 'portforward' && phase !== 'Running') throw errors.badRequest(`unable to forward port because pod is not running. Current status=${phase}`);
  const node = (await reg.read(resourceFor('', 'v1', 'nodes'), undefined, nodeName))?.obj;
  if (!node) throw errors.badRequest(`node "${nodeName}" of pod ${podName} not found`);
  const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const host = ['InternalIP', 'ExternalIP', 'Hostname'].map((t) => status.addresses?.find((a) => a.type === t)?.address).find(Boolean);
  const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!host || !port) throw errors.badRequest(`node "${nodeName}" does not report an address and kubelet port to reach it at`);

  const q = new URLSearchParams(query);
  const ns = encodeURIComponent(namespace);
  const p = encodeURIComponent(podName);
  if (sub === 'portforward') return { host, port, path: `/portForward/${ns}/${p}${q.size ? `?${q}` : ''}` };
  const container = encodeURIComponent(pickContainer(pod, q.get('container')));
  q.delete('container');
  const base = sub === 'log' ? 'containerLogs' : sub;
  return { host, port, path: `/${base}/${ns}/${p}/${container}${q.size ? `?${q}` : ''}` };
}

function statusOf(e: unknown): Status {
  if (e instanceof StatusError) return e.status;
  return errors.internal((e as Error).message ?? String(e)).status;
}

/** An HTTP error answer written on a socket whose upgrade we refuse. */
function refuse(socket: Duplex, s: Status): void {
  const body = JSON.stringify(s);
  socket.end(`HTTP/1.1 ${s.code} ${s.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function bearer(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
}

export function createNodeProxy(deps: NodeProxyDeps) {
  /**
   * Serves a non-upgrade request to one of the streamed subresources (GET pods/log; anything else
   * answers 400 as kube-apiserver does for exec without an upgrade). Authentication was done.
   * Throws Status errors before anything is written.
   */
  async function serve(req: IncomingMessage, res: ServerResponse, m: NonNullable<ReturnType<typeof matchStreaming>>, query: URLSearchParams): Promise<void> {
    if (m.sub !== 'log') throw errors.badRequest('Upgrade request required');
    if (req.method !== 'GET') throw errors.methodNotAllowed();
    const t = await resolveTarget(deps.registry, m.namespace, m.pod, m.sub, query);
    await new Promise<void>((resolve, reject) => {
      const up = request({ host: t.host, port: t.port, path: t.path, method: 'GET', rejectUnauthorized: false, headers: { Authorization: `Bearer ${deps.nodeToken}` } }, (nres) => {
        res.writeHead(nres.statusCode ?? 502, { 'Content-Type': nres.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        nres.on('data', (d: Buffer) => res.write(d));
        nres.on('end', () => {
          res.end();
          resolve();
        });
        nres.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      up.on('error', (e) => reject(res.headersSent ? e : errors.internal(`Get "https://${t.host}:${t.port}${t.path}": ${e.message}`)));
      res.on('close', () => {
        up.destroy();
        resolve();
      });
      up.end();
    });
  }

  /** The http server's 'upgrade' event: authenticates, resolves the node, then pipes the sockets. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'https://skiff');
    if (!deps.authenticate(bearer(req))) return refuse(socket, errors.unauthorized().status);
    const m = matchStreaming(url.pathname);
    if (!m || m.sub === 'log') return refuse(socket, errors.badRequest(`unable to upgrade: ${url.pathname} is not a streaming endpoint`).status);
    let t: Target;
    try {
      t = await resolveTarget(deps.registry, m.namespace, m.pod, m.sub, url.searchParams);
    } catch (e) {
      return refuse(socket, statusOf(e));
    }
    const node = connect({ host: t.host, port: t.port, rejectUnauthorized: false });
    let connected = false;
    node.on('error', (e) => {
      if (!connected) refuse(socket, errors.internal(`error dialing backend: ${e.message}`).status);
      else socket.destroy();
    });
    node.once('secureConnect', () => {
      connected = true;
      const lines = [`${req.method} ${t.path} HTTP/1.1`, `Host: ${t.host}:${t.port}`, `Authorization: Bearer ${deps.nodeToken}`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        if (/^(host|authorization|impersonate-.*)$/i.test(name)) continue;
        lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
      }
      node.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) node.write(head);
      node.pipe(socket);
      socket.pipe(node);
      socket.on('close', () => node.destroy());
      node.on('close', () => socket.destroy());
      log.debug('proxying upgrade', { path: t.path, node: `${t.host}:${t.port}` });
    });
  }

  return { serve, upgrade };
}
