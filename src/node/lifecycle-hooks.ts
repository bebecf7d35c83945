// Container lifecycle hooks (postStart, preStop) as the kubelet runs them (pkg/kubelet/lifecycle/
// handlers.go), with its failure messages. What a failure *does* is the caller's (the pod worker's):
//  - postStart runs right after the container started, beside it (no ordering with its entrypoint);
//    on failure the kubelet records a `FailedPostStartHook` Warning event with the message, kills
//    the container (SIGTERM, grace period) and reports the start as failed (`PostStartHookError`);
//    the restart policy and back-off then apply as to any exit.
//  - preStop runs before SIGTERM when a container is stopped, within the termination grace period
//    (pass what is left of it as timeoutMs); on failure the kubelet records `FailedPreStopHook` with
//    the fixed message `PreStopHook failed` (so secrets in the output don't leak into events) and
//    goes on with SIGTERM.
// An httpGet hook fails only when no response comes (any status code is fine), unlike a probe.
import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../util/clock.js';
import { formatPod } from './backoff.js';
import { httpGet, KUBE_MINOR_VERSION, ProbeFailure, probeHeaders } from './probe-http.js';
import { resolvePort, type ProbeTarget } from './probes.js';

/** A probe target plus who it is, for the messages (`… for Container "c" in Pod "p_ns(uid)" …`). */
export interface HookTarget extends ProbeTarget {
  podName: string;
  namespace: string;
  podUid: string;
  containerName: string;
}

export type HookResult = { ok: true } | { ok: false; message: string };

export interface HookOptions {
  /** Drives sleep hooks; default the real clock. */
  clock?: Clock;
  /** Aborting cuts a sleep hook short as failed (the container died); exec and httpGet are bounded by timeoutMs. */
  signal?: AbortSignal;
}

/** Event reasons the kubelet uses for hook failures. */
export const FAILED_POST_START_HOOK = 'FailedPostStartHook';
export const FAILED_PRE_STOP_HOOK = 'FailedPreStopHook';
/** The start error of a container whose postStart hook failed (upstream ErrPostStartHook). */
export const POST_START_HOOK_ERROR = 'PostStartHookError';
/** The preStop failure event carries this, not the hook's output. */
export const PRE_STOP_HOOK_FAILED_MESSAGE = 'PreStopHook failed';

/**
 * Runs one hook handler to completion, within timeoutMs (exec is killed, httpGet abandoned, sleep
 * cut short — each then fails). Never rejects; `message` is what the kubelet puts in the
 * FailedPostStartHook event.
 */
export async function runHook(handler: LifecycleHandler, target: HookTarget, timeoutMs: number, options: HookOptions = {}): Promise<HookResult> {
  const who = `for Container ${JSON.stringify(target.containerName)} in Pod ${JSON.stringify(
    formatPod({ podName: target.podName, namespace: target.namespace, podUid: target.podUid }),
  )}`;
  if (handler.exec) {
    const argv = handler.exec.command ?? [];
    let error: string | undefined;
    let output = '';
    try {
      if (argv.length === 0) throw new Error('no command');
      const r = await target.exec(argv, timeoutMs);
      output = r.output;
      if (r.timedOut) error = `command ${JSON.stringify(argv.join(' '))} timed out`;
      // upstream's CRI error carries stderr alone; ours is combined, so it is in `message` only
      else if (r.exitCode !== 0) error = `command '${argv.join(' ')}' exited with ${r.exitCode}: `;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (error === undefined) return { ok: true };
    return { ok: false, message: `Exec lifecycle hook ([${argv.join(' ')}]) ${who} failed - error: ${error}, message: ${JSON.stringify(output)}` };
  }
  if (handler.httpGet) {
    const g = handler.httpGet;
    const error = await httpHook(g, target, timeoutMs);
    if (error === undefined) return { ok: true };
    return { ok: false, message: `HTTP lifecycle hook (${g.path ?? ''}) ${who} failed - error: ${error}` };
  }
  if (handler.sleep) {
    const seconds = handler.sleep.seconds;
    const finished = await sleep(seconds * 1000, timeoutMs, options);
    if (finished) return { ok: true };
    return { ok: false, message: `Sleep lifecycle hook (${seconds}) ${who} failed - error: container terminated before sleep hook finished` };
  }
  // tcpSocket is accepted by the API for compatibility, but the kubelet does not run it
  return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(handler)}` };
}

// The error text of an httpGet hook, or undefined when a response came.
async function httpHook(g: NonNullable<LifecycleHandler['httpGet']>, target: ProbeTarget, timeoutMs: number): Promise<string | undefined> {
  let port: number;
  try {
    port = resolvePort(g.port === '' ? 80 : g.port, target.ports);
  } catch (e) {
    return (e as Error).message;
  }
  const request = {
    scheme: g.scheme,
    host: g.host || target.podIP,
    port,
    path: g.path ?? '',
    headers: probeHeaders(g.httpHeaders, `kube-lifecycle/${KUBE_MINOR_VERSION}`),
    timeoutMs,
    maxBody: 4 * 1024,
  };
  try {
    await httpGet(request);
    return undefined;
  } catch (e) {
    const msg = e instanceof ProbeFailure ? e.message : String(e);
    // upstream: an HTTPS hook answered in plain HTTP is retried once over HTTP
    if ((g.scheme ?? '').toUpperCase() === 'HTTPS' && msg.endsWith('http: server gave HTTP response to HTTPS client')) {
      try {
        await httpGet({ ...request, scheme: 'HTTP' });
        return undefined;
      } catch {
        return msg;
      }
    }
    return msg;
  }
}

// Resolves true when `ms` passed, false when the timeout or the abort signal came first.
function sleep(ms: number, timeoutMs: number, options: HookOptions): Promise<boolean> {
  const clock = options.clock ?? realClock;
  const signal = options.signal;
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      done.cancel();
      limit.cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const done = clock.setTimeout(() => finish(true), ms);
    const limit = ms <= timeoutMs ? { cancel() {} } : clock.setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
