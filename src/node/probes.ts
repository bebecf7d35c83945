// Container probes as the kubelet runs them (pkg/probe/{http,tcp,exec}, pkg/kubelet/prober):
// runProbe() performs one check — httpGet (200–399 succeed; a redirect to another host is not
// followed and counts as success with a warning; at most 10 KiB of body read; User-Agent
// kube-probe/<version>; HTTPS without certificate checks), tcpSocket (a connect within the timeout),
// exec (exit 0), grpc (grpc.health.v1 Health/Check over
// cleartext HTTP/2, SERVING succeeds) — and words its outcome as the
// kubelet does (`HTTP probe failed with statuscode: 500`, Go's `dial tcp …: connect: connection
// refused`). ProbeWorker runs one probe of one container instance on a timer with every timing
// field and threshold, and reports only changes of the thresholded result, as the kubelet's worker.
import { connect } from 'node:net';
import type { ContainerPort, Probe } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../util/clock.js';
import type { TimerHandle, TimerQueue } from '../util/timer-queue.js';
import { grpcProbe } from './probe-grpc.js';
import { goDialError, httpGet, joinHostPort, KUBE_MINOR_VERSION, MAX_PROBE_OUTPUT, ProbeFailure, probeHeaders } from './probe-http.js';

export { KUBE_MINOR_VERSION, MAX_PROBE_OUTPUT, ProbeFailure } from './probe-http.js';


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
