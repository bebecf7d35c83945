// Container probes as the kubelet runs them (pkg/probe/{http,tcp,exec}, pkg/kubelet/prober):
// runProbe() performs one check — httpGet (200–399 succeed; a redirect to another host is not
// followed and counts as success with a warning; at most 10 KiB of body read; User-Agent
// kube-probe/<version>; HTTPS without certificate checks), tcpSocket (a connect within the timeout),
// exec (exit 0), grpc (grpc.health.v1 Health/Check over
// cleartext HTTP/2, SERVING succeeds) — and words its outcome as the
// kubelet does (`HTTP probe failed with statuscode: 500`, Go's `dial tcp …: connect: connection
// refused`). ProbeWorker runs one probe of one container instance on a timer with every timing
// field and threshold, and reports only changes of the thresholded result, as the kubelet's worker.
import { connect as http2Connect } from 'node:http2';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIPv6 } from 'node:net';
import type { ContainerPort, HTTPHeader, Probe } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../util/clock.js';
import type { TimerHandle, TimerQueue } from '../util/timer-queue.js';
import { formatGoDuration } from './backoff.js';

/** The kubelet version in probe User-Agents (`kube-probe/1.32`); matches the API server's. */
export const KUBE_MINOR_VERSION = '1.32';
/** At most this much exec output or HTTP body is kept (upstream's maxReadLength / maxRespBodyLength). */
export const MAX_PROBE_OUTPUT = 10 * 1024;

/** Where a probe runs: the pod's address, the container's ports (named ports), a way to exec in it. */
export interface ProbeTarget {
  podIP: string;
  /** The container's spec.ports, to resolve named ports. */
  ports?: ContainerPort[];
  /**
   * Runs argv inside the container; output is stdout and stderr together. Resolves timedOut when
   * timeoutMs passed (the command is then killed). Rejects only when the command could not run.
   */
  exec(argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
}

/**
 * One check's outcome. `unknown` is upstream's probe error (the probe could not be run: a named port
 * that does not exist, an exec that could not start); the worker discards it. `warning` marks a
 * success the kubelet reports with a ProbeWarning event (a redirect it did not follow).
 */
export interface ProbeOutcome {
  result: 'success' | 'failure' | 'unknown';
  output: string;
  warning?: boolean;
}

/** Runs one probe once. Never rejects. */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, timeoutMs);
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(g.port, target.ports);
      const res = await httpGet({
        scheme: g.scheme,
        host: g.host || target.podIP,
        port,
        path: g.path ?? '',
        headers: probeHeaders(g.httpHeaders, `kube-probe/${KUBE_MINOR_VERSION}`),
        timeoutMs,
        maxBody: MAX_PROBE_OUTPUT,
      });
      if (res.status >= 200 && res.status < 400) {
        if (res.status >= 300) return { result: 'success', warning: true, output: `Probe terminated redirects, Response body: ${res.body}` };
        return { result: 'success', output: res.body };
      }
      return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, target.ports);
      return await tcpProbe(probe.tcpSocket.host || target.podIP, port, timeoutMs);
    }
    if (probe.grpc) return await grpcProbe(target.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutMs);
    return { result: 'unknown', output: 'missing probe handler' };
  } catch (e) {
    if (e instanceof ProbeFailure) return { result: 'failure', output: e.message };
    return { result: 'unknown', output: e instanceof Error ? e.message : String(e) };
  }
}

/** A probe that ran and failed with this output (thrown inside runProbe). */
export class ProbeFailure extends Error {}

/** A port number, a numeric string, or the name of one of the container's ports (ResolveContainerPort). */
export function resolvePort(port: number | string, ports: ContainerPort[] | undefined): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[0-9]+$/.test(port)) n = Number(port);
    else throw new Error(`port ${JSON.stringify(port)} not found`);
  }
  if (!(Number.isInteger(n) && n > 0 && n < 65536)) throw new Error(`invalid port number: ${n}`);
  return n;
}

async function execProbe(argv: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if (argv.length === 0) return { result: 'unknown', output: 'exec probe has no command' };
  const r = await target.exec(argv, timeoutMs);
  // upstream: on timeout the output is the CRI's DeadlineExceeded error, not what the command wrote
  if (r.timedOut) return { result: 'failure', output: `command ${JSON.stringify(argv.join(' '))} timed out` };
  const output = r.output.length > MAX_PROBE_OUTPUT ? r.output.slice(0, MAX_PROBE_OUTPUT) : r.output;
  return { result: r.exitCode === 0 ? 'success' : 'failure', output };
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'success', output: '' });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'failure', output: goDialError(e, host, addr) });
    });
  });
}

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** `Liveness`, `Readiness`, `Startup`: how the kubelet names probes in events. */
export function probeKindName(kind: ProbeKind): string {
  return kind[0]!.toUpperCase() + kind.slice(1);
}

/** The message of the kubelet's Killing event when a probe gives up on a container. */
export function probeKillMessage(kind: 'liveness' | 'startup', container: string): string {
  return `Container ${container} failed ${kind} probe, will be restarted`;
}

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  probe: Probe;
  target: ProbeTarget;
  clock?: Clock;
  /** Shared timers (one runtime timer for many workers); else the worker uses clock.setTimeout. */
  timers?: TimerQueue;
  /** When this container instance started (initialDelaySeconds counts from it); default: now. */
  startedAt?: number;
  /**
   * Whether the container's startup probe has succeeded (container status `started`); liveness and
   * readiness do not probe until it has. Default: always true (no startup probe).
   */
  started?: () => boolean;
  /** Runs one check; default runProbe. Tests swap it. */
  run?: (probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;
  /** The thresholded result changed (never called with the initial value). */
  onResult(kind: ProbeKind, result: 'success' | 'failure', output: string): void;
  /** Every failed check: an `Unhealthy` Warning event with `message` (`Liveness probe failed: …`). */
  onFailureOutput?(kind: ProbeKind, output: string, message: string): void;
  /** A redirect not followed: a `ProbeWarning` Warning event with `message` (`Readiness probe warning: …`). */
  onWarning?(kind: ProbeKind, output: string, message: string): void;
  /** A probe that could not run: an `Unhealthy` event (`… probe errored and resulted in unknown state: …`). */
  onError?(kind: ProbeKind, message: string): void;
}

/** Upstream's maxProbeRetries: a probe that errors (unknown) is retried at once this many times. */
const MAX_PROBE_RETRIES = 3;

/**
 * Probes one container instance periodically, like the kubelet's prober worker: the first tick at
 * once, then every periodSeconds (ticks missed while a slow probe runs are dropped); a tick before
 * initialDelaySeconds since the start, or (liveness/readiness) before startup succeeded, does
 * nothing. The result starts as the kubelet's (readiness failure, liveness success, startup
 * unknown) and changes only after successThreshold / failureThreshold equal results in a row.
 * Liveness and startup stop probing once they reach failure (the container will be restarted:
 * make a new worker for the new instance); startup stops once it succeeds. A deleted pod's
 * liveness/startup workers are the caller's to stop. `stop()` cancels everything; a check still
 * running then is ignored.
 */
export class ProbeWorker {
  readonly kind: ProbeKind;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly periodMs: number;
  private readonly firstTick: number;
  private current: ProbeResult;
  private lastResult: ProbeResult = 'unknown';
  private resultRun = 0;
  private timer: TimerHandle | undefined;
  private inFlight = false;
  private done = false;

  constructor(private readonly opts: ProbeWorkerOptions) {
    this.kind = opts.kind;
    this.clock = opts.clock ?? realClock;
    this.startedAt = opts.startedAt ?? this.clock.now();
    this.periodMs = Math.max(1, opts.probe.periodSeconds ?? 10) * 1000;
    this.current = opts.kind === 'readiness' ? 'failure' : opts.kind === 'liveness' ? 'success' : 'unknown';
    this.firstTick = this.clock.now();
    this.schedule(0);
  }

  /** The thresholded result now. */
  result(): ProbeResult {
    return this.current;
  }

  /** Whether the worker still probes (false after stop(), a liveness/startup failure, startup success). */
  active(): boolean {
    return !this.done;
  }

  /** Probes now, out of turn (the kubelet does so for readiness once a container has started). */
  trigger(): void {
    if (!this.done && !this.inFlight) void this.tick(false);
  }

  /** Stops probing; no callback runs after this. Idempotent. */
  stop(): void {
    this.done = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.done) return;
    this.timer?.cancel();
    const fn = () => void this.tick(true);
    this.timer = this.opts.timers ? this.opts.timers.scheduleIn(ms, fn) : this.clock.setTimeout(fn, ms);
  }

  // The next tick of the period grid that is still ahead (a ticker drops ticks it could not deliver).
  private scheduleNextTick(): void {
    const now = this.clock.now();
    const n = Math.floor((now - this.firstTick) / this.periodMs) + 1;
    this.schedule(this.firstTick + n * this.periodMs - now);
  }

  private async tick(fromTimer: boolean): Promise<void> {
    if (this.done || this.inFlight) {
      if (fromTimer) this.scheduleNextTick();
      return;
    }
    const { kind, probe } = this.opts;
    const started = this.opts.started?.() ?? true;
    // upstream compares whole seconds: int32(time.Since(startedAt).Seconds()) < initialDelaySeconds
    const elapsedSec = Math.floor((this.clock.now() - this.startedAt) / 1000);
    const skip = elapsedSec < (probe.initialDelaySeconds ?? 0) || (kind !== 'startup' && !started);
    if (!skip) {
      this.inFlight = true;
      try {
        await this.probeOnce();
      } finally {
        this.inFlight = false;
      }
    }
    if (fromTimer) this.scheduleNextTick();
  }

  private async probeOnce(): Promise<void> {
    const { kind, probe, target } = this.opts;
    const run = this.opts.run ?? runProbe;
    let out: ProbeOutcome = { result: 'unknown', output: '' };
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      out = await run(probe, target);
      if (out.result !== 'unknown') break;
    }
    if (this.done) return;
    const name = probeKindName(kind);
    if (out.result === 'unknown') {
      this.opts.onError?.(kind, `${name} probe errored and resulted in unknown state: ${out.output}`);
      return; // upstream throws the result away: neither counted nor reported
    }
    if (out.result === 'failure') this.opts.onFailureOutput?.(kind, out.output, `${name} probe failed: ${out.output}`);
    else if (out.warning) this.opts.onWarning?.(kind, out.output, `${name} probe warning: ${out.output}`);

    if (this.lastResult === out.result) this.resultRun++;
    else {
      this.lastResult = out.result;
      this.resultRun = 1;
    }
    const failureThreshold = probe.failureThreshold ?? 3;
    const successThreshold = probe.successThreshold ?? 1;
    if (out.result === 'failure' && this.resultRun < failureThreshold) return;
    if (out.result === 'success' && this.resultRun < successThreshold) return;

    const changed = this.current !== out.result;
    this.current = out.result;
    if ((kind === 'liveness' || kind === 'startup') && out.result === 'failure') this.stop();
    if (kind === 'startup' && out.result === 'success') this.stop();
    if (changed) this.opts.onResult(kind, out.result, out.output);
  }
}

// ---- HTTP GET, shared with lifecycle hooks (lifecycle-hooks.ts) ----

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

// ---- gRPC health checking (pkg/probe/grpc), over node:http2 instead of a gRPC library ----

const GRPC_CODES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * grpc.health.v1.Health/Check on podIP:port for `service` (cleartext HTTP/2, as the kubelet), with
 * upstream's outputs: `service healthy`, `service unhealthy (responded with "NOT_SERVING")`,
 * `timeout: failed to connect service "…" within 1s: context deadline exceeded`, `error: this server
 * does not implement the grpc health protocol (grpc.health.v1.Health): …`, `error: health rpc probe
 * failed: rpc error: code = NotFound desc = unknown service`. A refused connection is reported at
 * once with the connect-timeout wording (upstream's blocking dial retries until the timeout).
 */
export function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  const within = formatGoDuration(timeoutMs);
  const connectTimeout = `timeout: failed to connect service ${JSON.stringify(addr)} within ${within}: context deadline exceeded`;
  return new Promise((resolve) => {
    let finished = false;
    let connected = false;
    const session = http2Connect(`http://${addr}`);
    const finish = (result: ProbeOutcome['result'], output: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      session.destroy();
      resolve({ result, output });
    };
    const timer = setTimeout(() => finish('failure', connected ? `timeout: health rpc did not complete within ${within}` : connectTimeout), timeoutMs);
    session.on('connect', () => (connected = true));
    session.on('error', () => finish('failure', connected ? 'error: health rpc probe failed: rpc error: code = Unavailable desc = connection closed' : connectTimeout));
    const name = Buffer.from(service, 'utf8');
    const message = name.length > 0 ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': `kube-probe/${KUBE_MINOR_VERSION}`,
    });
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => finish('failure', connected ? 'error: health rpc probe failed: rpc error: code = Unavailable desc = stream closed' : connectTimeout));
    req.on('end', () => {
      const code = Number(trailers['grpc-status'] ?? headers['grpc-status'] ?? 2);
      let desc = String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '');
      try {
        desc = decodeURIComponent(desc);
      } catch {
        // keep it as sent
      }
      if (code === 12) return finish('failure', `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${desc}`);
      if (code === 4) return finish('failure', `timeout: health rpc did not complete within ${within}`);
      if (code !== 0) return finish('failure', `error: health rpc probe failed: rpc error: code = ${GRPC_CODES[code] ?? `Code(${code})`} desc = ${desc}`);
      const body = Buffer.concat(chunks);
      const status = body.length > 5 ? servingStatus(body.subarray(5, 5 + body.readUInt32BE(1))) : 0;
      if (status !== 1) return finish('failure', `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status] ?? String(status))})`);
      finish('success', 'service healthy');
    });
    req.end(frame);
  });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

// HealthCheckResponse.status (field 1, varint); other fields skipped; absent means UNKNOWN (0).
function servingStatus(msg: Buffer): number {
  let i = 0;
  const readVarint = (): number => {
    let v = 0;
    for (let shift = 0; i < msg.length && shift < 35; shift += 7) {
      const b = msg[i++]!;
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    return v;
  };
  let status = 0;
  while (i < msg.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (tag >>> 3 === 1) status = v;
    } else if (wire === 2) i += readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return status;
}
