// The HTTP GET of httpGet probes and lifecycle hooks (pkg/probe/http): redirects as Go's client
// follows them (same host only), at most 10 KiB of body, kube-probe's User-Agent, HTTPS without
// certificate checks, and Go-worded errors (`dial tcp …: connect: connection refused`).
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv6 } from 'node:net';
import type { HTTPHeader } from 'kubernetes-types/core/v1.js';

/** The kubelet version in probe User-Agents (`kube-probe/1.32`); matches the API server's. */
export const KUBE_MINOR_VERSION = '1.32';
/** At most this much exec output or HTTP body is kept (upstream's maxReadLength / maxRespBodyLength). */
export const MAX_PROBE_OUTPUT = 10 * 1024;
/** A probe that ran and failed with this output (thrown inside runProbe). */
export class ProbeFailure extends Error {}

/** One HTTP GET as the kubelet's prober makes it. */
export interface HttpGetRequest {
  /** `HTTP` (default) or `HTTPS`, any case. */
  scheme?: string;
  host: string;
  port: number;
  /** The path as written in the spec, query included. */
  path: string;
  /** From probeHeaders(). */
  headers: OutgoingHttpHeaders;
  /** For the whole exchange, redirects and body included (Go's Client.Timeout). */
  timeoutMs: number;
  /** Body bytes kept; the rest is not read. */
  maxBody: number;
}

export interface HttpGetResponse {
  status: number;
  body: string;
}

/** Redirects Go's http.Client follows. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GETs the URL the kubelet would build (formatURL), following redirects to the same host up to 10
 * (RedirectChecker(false)): a redirect to another host is returned as is, for the caller to call a
 * warning. HTTPS does not verify certificates. Rejects with a ProbeFailure worded as Go's
 * url.Error (`Get "http://…": dial tcp …: connect: connection refused`, `… context deadline
 * exceeded (Client.Timeout exceeded while awaiting headers)`).
 */
export async function httpGet(r: HttpGetRequest): Promise<HttpGetResponse> {
  const scheme = (r.scheme || 'http').toLowerCase();
  const hostPort = joinHostPort(r.host, r.port);
  const path = r.path === '' || r.path.startsWith('/') ? r.path : `/${r.path}`;
  const first = `${scheme}://${hostPort}${path}`;
  if (scheme !== 'http' && scheme !== 'https') throw new ProbeFailure(`Get ${JSON.stringify(first)}: unsupported protocol scheme ${JSON.stringify(scheme)}`);
  const deadline = Date.now() + r.timeoutMs;
  let url = new URL(first);
  let headers = r.headers;
  let shown = first; // Go prints the URL as built, `http://h:80` without a slash for an empty path
  for (let requests = 1; ; requests++) {
    const res = await getOnce(url, headers, deadline, r.maxBody, shown);
    const location = res.location;
    if (!REDIRECTS.has(res.status) || location === undefined) return res;
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return res;
    }
    if (next.hostname !== url.hostname) return res; // not followed: the caller reports a warning
    if (requests >= 10) throw new ProbeFailure(`Get ${JSON.stringify(next.href)}: stopped after 10 redirects`);
    // Go keeps an explicit Host header only across relative redirects
    if (/^[a-z][a-z0-9+.-]*:/i.test(location)) headers = withoutHost(headers);
    url = next;
    shown = next.href;
  }
}

function withoutHost(h: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out = { ...h };
  delete out.Host;
  return out;
}

function getOnce(
  url: URL,
  headers: OutgoingHttpHeaders,
  deadline: number,
  maxBody: number,
  shown: string,
): Promise<HttpGetResponse & { location?: string }> {
  const fail = (msg: string) => new ProbeFailure(`Get ${JSON.stringify(shown)}: ${msg}`);
  const addr = joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
  return new Promise((resolve, reject) => {
    let settled = false;
    let connected = false;
    let res: IncomingMessage | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, agent: false, rejectUnauthorized: false }, (r) => {
      res = r;
      const chunks: Buffer[] = [];
      let len = 0;
      const done = () =>
        settle(() => {
          r.destroy();
          req.destroy();
          const body = Buffer.concat(chunks).subarray(0, maxBody).toString('utf8');
          const loc = r.headers.location;
          resolve({ status: r.statusCode ?? 0, body, ...(loc !== undefined ? { location: loc } : {}) });
        });
      r.on('data', (c: Buffer) => {
        if (len < maxBody) chunks.push(c);
        len += c.length;
        if (len >= maxBody) done(); // upstream: non-fatal truncation
      });
      r.on('end', done);
      r.on('error', (e) => settle(() => reject(fail(goReadError(e)))));
    });
    req.on('socket', (s) => s.once('connect', () => (connected = true)));
    req.on('error', (e: NodeJS.ErrnoException) =>
      settle(() => reject(fail(connected || e.code === 'ECONNRESET' ? goReadError(e) : goDialError(e, url.hostname, addr)))),
    );
    const timer = setTimeout(
      () =>
        settle(() => {
          req.destroy();
          res?.destroy();
          if (res) reject(fail('context deadline exceeded (Client.Timeout or context cancellation while reading body)'));
          else if (!connected) reject(fail(`dial tcp ${addr}: i/o timeout (Client.Timeout exceeded while awaiting headers)`));
          else reject(fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'));
        }),
      Math.max(0, deadline - Date.now()),
    );
    req.end();
  });
}

/** A connect failure in Go's words: `dial tcp 10.42.0.5:81: connect: connection refused`. */
export function goDialError(e: NodeJS.ErrnoException, host: string, addr: string): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'EADDRNOTAVAIL':
      return `dial tcp ${addr}: connect: cannot assign requested address`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${host}: no such host`;
    default:
      return goReadError(e);
  }
}

// After the connection is up, Go's wording for what can go wrong.
function goReadError(e: NodeJS.ErrnoException): string {
  if (e.message === 'socket hang up') return 'EOF';
  if (e.code === 'ECONNRESET') return 'read: connection reset by peer';
  if (e.code === 'EPROTO' || e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(e.message)) {
    return 'http: server gave HTTP response to HTTPS client';
  }
  return e.message;
}

/** `host:port`, with brackets for IPv6 (net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The request headers of a probe or hook: spec.httpHeaders (names canonicalized, repeats kept),
 * User-Agent (`kube-probe/1.32`, `kube-lifecycle/1.32`) unless given, `Accept: *\/*` unless given
 * (given empty: no Accept at all), and Host only when given non-empty.
 */
export function probeHeaders(list: HTTPHeader[] | undefined, userAgent: string): OutgoingHttpHeaders {
  const h = new Map<string, string[]>();
  for (const { name, value } of list ?? []) {
    const key = canonicalHeader(name);
    h.set(key, [...(h.get(key) ?? []), value]);
  }
  if (!h.has('User-Agent')) h.set('User-Agent', [userAgent]);
  if (!h.has('Accept')) h.set('Accept', ['*/*']);
  else if (h.get('Accept')![0] === '') h.delete('Accept');
  const host = h.get('Host');
  h.delete('Host');
  const out: OutgoingHttpHeaders = {};
  if (host && host[0]) out.Host = host[0];
  for (const [k, v] of h) out[k] = v.length === 1 ? v[0] : v;
  return out;
}

// Go's textproto.CanonicalMIMEHeaderKey: `x-custom-header` → `X-Custom-Header`.
function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}
