// The network Transport: HTTPS to a Kubernetes-compatible API server (ours or a real one), with a
// keep-alive agent so a controller's many small requests reuse connections. Watches read the
// chunked, newline-delimited JSON stream the server writes, one WatchEvent per line.
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { StatusError, errors } from '../api/errors.js';
import type { Status, WatchEvent } from '../api/types.js';
import type { ApiRequest, ApiResponse, Transport, WatchStream } from './transport.js';

export interface HttpTransportOptions {
  /** Base URL, e.g. `https://127.0.0.1:6443` (a path prefix is kept; `http:` works for tests). */
  server: string;
  /** Bearer token sent with every request. */
  token?: string;
  /** PEM CA bundle that signs the server certificate (the system roots when absent). */
  ca?: string | Buffer;
  /** PEM client certificate and key, for client-certificate authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Skips server certificate verification (kubeconfig's insecure-skip-tls-verify). */
  insecureSkipVerify?: boolean;
  /** Per-request limit for ordinary requests (not watches), default 60 s; on expiry the request
   *  rejects as an I/O failure. */
  requestTimeoutMs?: number;
  userAgent?: string;
}

/** Events buffered before the socket is paused, so a slow consumer does not grow memory. */
const HIGH_WATER = 1000;

/** Creates the transport. Contract (see transport.ts): `request` resolves with any HTTP status
 *  (a non-2xx body is the server's Status) and rejects only when no answer came; `watch` rejects
 *  with a StatusError when the server refuses the watch, otherwise yields events until the
 *  response ends or `close()` is called. `close()` on the transport drops idle connections. */
export function createHttpTransport(opts: HttpTransportOptions): Transport {
  const base = new URL(opts.server);
  const secure = base.protocol === 'https:';
  if (!secure && base.protocol !== 'http:') throw new Error(`unsupported server URL ${opts.server}`);
  const prefix = base.pathname.replace(/\/+$/, '');
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
        ...(opts.key !== undefined ? { key: opts.key } : {}),
        rejectUnauthorized: !opts.insecureSkipVerify,
      })
    : new http.Agent({ keepAlive: true });
  const timeoutMs = opts.requestTimeoutMs ?? 60_000;
  const userAgent = opts.userAgent ?? 'skiff/0.1.0';

  function pathWithQuery(req: ApiRequest): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
    }
    const qs = params.toString();
    return `${prefix}${req.path}${qs ? `?${qs}` : ''}`;
  }

  function encodeBody(req: ApiRequest): Buffer | undefined {
    if (req.body === undefined) return undefined;
    // YAML apply patches may arrive as text; everything else is a JSON value (JSON is YAML too).
    if (typeof req.body === 'string' && req.contentType?.includes('yaml')) return Buffer.from(req.body);
    return Buffer.from(JSON.stringify(req.body));
  }

  function send(req: ApiRequest, watch: boolean): { clientReq: http.ClientRequest; response: Promise<http.IncomingMessage> } {
    const body = encodeBody(req);
    const headers: Record<string, string> = { Accept: req.accept ?? 'application/json', 'User-Agent': userAgent };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (body) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const requestOptions: https.RequestOptions = {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: base.port || (secure ? 443 : 80),
      method: req.method,
      path: pathWithQuery(req),
      headers,
      agent,
    };
    const clientReq = (secure ? https : http).request(requestOptions);
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      clientReq.once('response', resolve);
      clientReq.once('error', reject);
    });
    if (!watch) {
      clientReq.setTimeout(timeoutMs, () => clientReq.destroy(new Error(`request timed out after ${timeoutMs} ms: ${req.method} ${req.path}`)));
    }
    clientReq.end(body);
    return { clientReq, response };
  }

  return {
    async request(req: ApiRequest): Promise<ApiResponse> {
      const { response } = send(req, false);
      const res = await response;
      const text = await readAll(res);
      return { status: res.statusCode ?? 0, body: decode(text, res.headers['content-type']) };
    },

    async watch(req: ApiRequest): Promise<WatchStream> {
      const { clientReq, response } = send(req, true);
      const res = await response;
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const body = decode(await readAll(res), res.headers['content-type']);
        throw toStatusError(status, body);
      }
      return watchStream(clientReq, res);
    },

    close() {
      agent.destroy();
    },
  };
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('response aborted')));
  });
}

/** JSON bodies are decoded; anything else (logs, plain-text errors) stays a string. */
function decode(text: string, contentType: string | undefined): unknown {
  if (text === '') return contentType?.includes('json') ? undefined : '';
  if (contentType?.includes('json') || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function toStatusError(code: number, body: unknown): StatusError {
  if (body && typeof body === 'object' && (body as Status).kind === 'Status') return new StatusError(body as Status);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return errors.internal(`unexpected answer ${code} to a watch: ${text}`);
}

/** Adapts a streaming response to a WatchStream: one event per JSON line, iteration ends when the
 *  response ends (server timeout, connection lost) or on close(). A line that is not JSON ends the
 *  stream too: the caller restarts its watch as for any other end. */
function watchStream(clientReq: http.ClientRequest, res: http.IncomingMessage): WatchStream {
  const buffered: WatchEvent[] = [];
  let waiter: ((r: IteratorResult<WatchEvent>) => void) | undefined;
  let ended = false;
  let partial = '';
  const decoder = new StringDecoder('utf8');

  function finish(): void {
    if (ended) return;
    ended = true;
    clientReq.destroy();
    const w = waiter;
    waiter = undefined;
    if (w && buffered.length === 0) w({ done: true, value: undefined });
  }

  function deliver(ev: WatchEvent): void {
    const w = waiter;
    if (w) {
      waiter = undefined;
      w({ done: false, value: ev });
    } else {
      buffered.push(ev);
      if (buffered.length >= HIGH_WATER) res.pause();
    }
  }

  function lines(text: string): void {
    partial += text;
    let nl: number;
    while (!ended && (nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (!line) continue;
      let ev: WatchEvent;
      try {
        ev = JSON.parse(line) as WatchEvent;
      } catch {
        finish();
        return;
      }
      deliver(ev);
    }
  }

  res.on('data', (chunk: Buffer) => lines(decoder.write(chunk)));
  res.once('end', () => {
    lines(decoder.end() + '\n');
    finish();
  });
  res.once('close', finish);
  res.once('error', finish);
  res.once('aborted', finish);
  clientReq.once('error', finish);

  const iterator: AsyncIterator<WatchEvent> = {
    next() {
      const ev = buffered.shift();
      if (ev) {
        if (buffered.length < HIGH_WATER / 2 && res.isPaused() && !ended) res.resume();
        return Promise.resolve({ done: false, value: ev });
      }
      if (ended) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => (waiter = resolve));
    },
    return() {
      stream.close();
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  const stream: WatchStream = {
    [Symbol.asyncIterator]: () => iterator,
    close() {
      buffered.length = 0;
      finish();
    },
  };
  return stream;
}
