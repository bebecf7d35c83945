// One pod's life on a real node, as the kubelet's pod worker and kuberuntime's SyncPod live it:
// make the sandbox (network namespace, pod IP, /etc/hosts, resolv.conf), set up volumes, run the
// init containers one after another (sidecars keep running), start the containers, restart them
// by the restart policy with the CrashLoopBackOff back-off, run probes and hooks, and on deletion
// stop everything within the grace period and remove what the pod used on the machine. Syncs are
// level-triggered and serialized per pod: any change (a new spec, a container exit, a probe
// result, a back-off expiring) asks for another sync, which looks at everything again.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Container as ContainerSpec, ContainerStatus, ContainerStateTerminated, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { EventRecorder } from '../client/events.js';
import { rfc3339, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { milliValue, quantityToNumber, tryParseQuantity } from '../util/quantity.js';
import type { BackoffKey, ContainerBackoff } from './backoff.js';
import { containerArgv, resolveEnv } from './container-env.js';
import { PRE_STOP_HOOK_FAILED_MESSAGE, runHook, type HookTarget } from './lifecycle-hooks.js';
import { isSidecar, kubeletPodStatus } from './pod-status.js';
import { writePodFiles } from './pod-files.js';
import { ProbeWorker, probeKillMessage, type ProbeKind } from './probes.js';
import { ContainerStartError, type Container, type ContainerRuntime, type ExitInfo, type Mount, type Sandbox } from './runtime/runtime.js';
import { mountsFor, setUpVolumes, tearDownVolumes, type VolumeDeps } from './volumes.js';

const log = logger('pod-worker');

/** What every pod worker of one agent shares. */
export interface PodWorkerDeps {
  runtime: ContainerRuntime;
  nodeName: string;
  hostIP: string;
  /** `<agent state dir>/pods`: each pod gets `<podsDir>/<uid>`. */
  podsDir: string;
  clusterDNS: string[];
  clusterDomain: string;
  hostResolvConf: string;
  nodeAllocatable: { cpu: string; memory: string };
  clock: Clock;
  recorder: EventRecorder;
  backoff: ContainerBackoff;
  /** A pod IP from the node's CIDR, or undefined while the node has none (or it is full). */
  /** The node's pod network is up (it has a CIDR and the runtime built the bridge). */
  networkReady(): boolean;
  allocateIP(): string | undefined;
  releaseIP(ip: string): void;
  /** The service links (`WEB_SERVICE_HOST`, …) for a pod's containers. */
  serviceEnv(pod: Pod): Record<string, string>;
  /** An object from the agent's caches (configmaps, secrets, PVCs, PVs). */
  lookup(resource: string, namespace: string, name: string): Promise<object | undefined>;
  writeStatus(pod: Pod, status: NonNullable<Pod['status']>): Promise<void>;
  /** The final delete of a gracefully deleted pod (grace 0, uid precondition). */
  deletePod(pod: Pod): Promise<void>;
  /** Called when the worker is finished with a pod for good (deleted and cleaned up). */
  onDone(uid: string): void;
}

/** One container of the spec and everything the worker knows of it. */
interface ContainerRecord {
  spec: ContainerSpec;
  init: boolean;
  sidecar: boolean;
  restartCount: number;
  current?: Container;
  state: NonNullable<ContainerStatus['state']>;
  lastState: NonNullable<ContainerStatus['lastState']>;
  containerID?: string;
  ready: boolean;
  started: boolean;
  /** When a start failed before the process ran (config error): retry no sooner than this. */
  retryAt?: number;
  probes: ProbeWorker[];
  /** Set while the container is being killed for a reason the exit should report. */
  killReason?: string;
}

const RETRY_MS = 2000;

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

/** `two_default(uid)`: how the kubelet names a pod in messages. */
function podDesc(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

function quantityBytes(v: string | number | undefined): number | undefined {
  const q = v === undefined ? undefined : tryParseQuantity(String(v));
  return q ? Math.round(quantityToNumber(q)) : undefined;
}
function quantityMillis(v: string | number | undefined): number | undefined {
  const q = v === undefined ? undefined : tryParseQuantity(String(v));
  return q ? Math.ceil(milliValue(q)) : undefined;
}

export class PodWorker {
  pod: Pod;
  readonly uid: string;
  readonly podDir: string;
  private sandbox?: Sandbox;
  private podIP?: string;
  private startTime: string;
  private readonly records = new Map<string, ContainerRecord>();
  private syncing = false;
  private dirty = false;
  private retryTimer?: NodeJS.Timeout;
  private lastStatusJson = '';
  private terminalDone = false;
  private hasInitialized = false;
  private finished = false;
  private deleted = false;
  /** A reason/message for a terminal pod (e.g. a start that can never work under Never). */
  private terminalReason?: { reason: string; message: string };

  constructor(
    pod: Pod,
    private readonly deps: PodWorkerDeps,
  ) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.podDir = join(deps.podsDir, this.uid);
    this.startTime = pod.status?.startTime ?? rfc3339(deps.clock.now());
    // a pod keeps its IP for life: after an agent restart its new sandbox gets the same one
    if (pod.status?.podIP && pod.spec?.hostNetwork !== true) this.podIP = pod.status.podIP;
    const spec = pod.spec ?? { containers: [] };
    for (const c of spec.initContainers ?? []) this.records.set(c.name, this.newRecord(c, true));
    for (const c of spec.containers ?? []) this.records.set(c.name, this.newRecord(c, false));
    // A pod this node reported before an agent restart: its containers are gone (the runtime
    // cleaned them), and the counts carry on from what the API shows.
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const r = this.records.get(s.name);
      if (!r) continue;
      r.restartCount = s.restartCount ?? 0;
      if (s.state?.terminated) r.state = s.state;
      else if (s.state?.running) {
        r.state = { terminated: { exitCode: 137, reason: 'Error', message: 'the node agent restarted; the container was stopped', startedAt: s.state.running.startedAt, finishedAt: rfc3339(deps.clock.now()), containerID: s.containerID } };
        if (!r.init || r.sidecar) this.hasInitialized ||= !r.init;
      } else if (s.lastState?.terminated) r.lastState = s.lastState;
      if (s.containerID) r.containerID = s.containerID;
      if (r.state.terminated && r.state.terminated.exitCode === 0 && r.init && !r.sidecar) r.started = false;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') this.terminalDone = false;
  }

  private newRecord(spec: ContainerSpec, init: boolean): ContainerRecord {
    return { spec, init, sidecar: init && isSidecar(spec), restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, started: false, probes: [] };
  }

  /** The pod's address (after the sandbox exists). */
  get ip(): string | undefined {
    return this.podIP;
  }

  /** The running container of that name, or why there is none (for exec/attach). */
  container(name: string): { container: Container } | { error: { code: number; reason: string; message: string } } {
    const r = this.records.get(name);
    const podName = this.pod.metadata?.name ?? '';
    if (!r) return { error: { code: 400, reason: 'BadRequest', message: `container ${name} is not valid for pod ${podName}` } };
    if (r.current && r.state.running) return { container: r.current };
    const why = r.state.waiting?.reason ?? (r.state.terminated ? 'terminated' : 'unknown');
    return { error: { code: 400, reason: 'BadRequest', message: `container "${name}" in pod "${podName}" is waiting to start: ${why}` } };
  }

  /** The log file of a container's current or previous attempt (validateContainerLogStatus). */
  logs(name: string, previous: boolean): { path: string; running: () => boolean } | { error: { code: number; reason: string; message: string } } {
    const r = this.records.get(name);
    const podName = this.pod.metadata?.name ?? '';
    const bad = (message: string) => ({ error: { code: 400, reason: 'BadRequest', message } });
    if (!r) return bad(`container ${name} is not valid for pod ${podName}`);
    if (previous) {
      if (!r.lastState.terminated) return bad(`previous terminated container "${name}" in pod "${podName}" not found`);
      return { path: this.logPath(name, r.restartCount - 1), running: () => false };
    }
    if (r.state.running || r.state.terminated) {
      const attempt = r.restartCount;
      return { path: this.logPath(name, attempt), running: () => !!r.state.running && r.restartCount === attempt && !this.finished };
    }
    if (r.lastState.terminated) return { path: this.logPath(name, r.restartCount - 1), running: () => false };
    return bad(`container "${name}" in pod "${podName}" is waiting to start: ${r.state.waiting?.reason ?? 'unknown'}`);
  }

  private logPath(name: string, attempt: number): string {
    return join(this.podDir, 'logs', name, `${attempt}.log`);
  }

  /** A new version of the pod from the API (or the final one on deletion). */
  update(pod: Pod): void {
    this.pod = pod;
    this.kick();
  }

  /** The pod is gone from the API (force-deleted, or deleted while this agent was away). */
  removed(): void {
    this.deleted = true;
    this.kick();
  }

  /** Asks for a sync; syncs never overlap, and a request during one runs another after it. */
  kick(): void {
    if (this.finished) return;
    this.dirty = true;
    if (this.syncing) return;
    this.syncing = true;
    void (async () => {
      try {
        while (this.dirty && !this.finished) {
          this.dirty = false;
          try {
            await this.sync();
          } catch (e) {
            log.error('pod sync failed', { pod: podKey(this.pod), error: e instanceof Error ? e.message : String(e) });
            this.retryIn(RETRY_MS);
          }
        }
      } finally {
        this.syncing = false;
      }
    })();
  }

  private retryIn(ms: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, ms);
    this.retryTimer.unref?.();
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.deps.recorder.event(this.pod as never, type, reason, message);
  }

  private get restartPolicy(): string {
    return this.pod.spec?.restartPolicy ?? 'Always';
  }

  private async sync(): Promise<void> {
    const pod = this.pod;
    if (this.deleted || pod.metadata?.deletionTimestamp) {
      await this.terminate();
      return;
    }
    const apiPhase = pod.status?.phase;
    if (apiPhase === 'Succeeded' || apiPhase === 'Failed' || this.terminalReason) {
      await this.finishTerminal();
      return;
    }
    if (!(await this.ensureSandbox())) return;
    const volumes = await setUpVolumes(pod, this.podDir, this.volumeDeps());
    if (!('ok' in volumes)) {
      this.event('Warning', 'FailedMount', volumes.message);
      await this.reportStatus();
      this.retryIn(RETRY_MS);
      return;
    }
    for (const w of volumes.warnings) this.event('Warning', 'FailedMount', w);
    await this.startWhatShouldRun();
    await this.reportStatus();
    if (this.allDone()) await this.finishTerminal();
  }

  private volumeDeps(): VolumeDeps {
    return {
      get: (resource, namespace, name) => this.deps.lookup(resource, namespace, name),
      podIP: this.podIP ?? '',
      podIPs: this.podIP ? [this.podIP] : [],
      hostIP: this.deps.hostIP,
      nodeName: this.deps.nodeName,
      nodeAllocatable: this.deps.nodeAllocatable,
    };
  }

  private async ensureSandbox(): Promise<boolean> {
    if (this.sandbox) return true;
    const pod = this.pod;
    const hostNetwork = pod.spec?.hostNetwork === true;
    const info = this.deps.runtime.info();
    let ip: string | undefined;
    if (!hostNetwork && info.networkIsolation.ok) {
      // the agent kicks every worker once the network is up
      if (!this.deps.networkReady()) return false;
      ip = this.podIP ?? this.deps.allocateIP();
      if (!ip) {
        this.event('Warning', 'FailedCreatePodSandBox', 'Failed to create pod sandbox: the node has no pod CIDR yet, or no free address in it');
        this.retryIn(RETRY_MS);
        return false;
      }
    }
    mkdirSync(join(this.podDir, 'logs'), { recursive: true });
    try {
      this.sandbox = await this.deps.runtime.runPodSandbox({
        podUid: this.uid,
        namespace: pod.metadata?.namespace ?? 'default',
        name: pod.metadata?.name ?? '',
        hostname: pod.spec?.hostname ?? pod.metadata?.name ?? '',
        hostNetwork,
        ...(ip ? { ip } : {}),
        podDir: this.podDir,
      });
    } catch (e) {
      if (ip && ip !== this.podIP) this.deps.releaseIP(ip);
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${e instanceof Error ? e.message : String(e)}`);
      this.retryIn(RETRY_MS);
      return false;
    }
    this.podIP = this.sandbox.ip;
    if (ip && this.sandbox.ip !== ip) this.deps.releaseIP(ip);
    if (this.sandbox.fallbackReason) this.event('Warning', 'HostNetworkFallback', `Pod uses the node's network: ${this.sandbox.fallbackReason}`);
    return true;
  }

  /** The kubelet's computePodActions, reduced: which containers to start now. */
  private async startWhatShouldRun(): Promise<void> {
    const spec = this.pod.spec ?? { containers: [] };
    // init containers, in order
    for (const c of spec.initContainers ?? []) {
      const r = this.records.get(c.name)!;
      if (r.sidecar) {
        if (!r.state.running) {
          if (!(await this.maybeStart(r))) return;
        }
        if (!r.started) return; // the next init container waits for this sidecar to have started
        continue;
      }
      if (r.state.terminated?.exitCode === 0 && !r.current) continue;
      if (this.hasInitialized) continue; // regular containers ran: init containers never rerun
      if (r.state.running) return;
      if (r.state.terminated && r.state.terminated.exitCode !== 0 && this.restartPolicy === 'Never') return;
      await this.maybeStart(r);
      return;
    }
    for (const c of spec.containers ?? []) {
      const r = this.records.get(c.name)!;
      if (r.state.running) continue;
      await this.maybeStart(r);
    }
  }

  /** Whether a container that is not running should start now; starts it (or schedules the retry). */
  private shouldRestart(r: ContainerRecord, exitCode: number): boolean {
    if (r.sidecar) return true;
    if (this.restartPolicy === 'Always') return !r.init || exitCode !== 0;
    if (this.restartPolicy === 'OnFailure') return exitCode !== 0;
    return false;
  }

  private backoffKey(r: ContainerRecord): BackoffKey {
    return { podUid: this.uid, podName: this.pod.metadata?.name ?? '', namespace: this.pod.metadata?.namespace ?? '', container: r.spec.name };
  }

  private async maybeStart(r: ContainerRecord): Promise<boolean> {
    const now = this.deps.clock.now();
    // the last instance's end: still in state (just exited) or already moved to lastState (in back-off)
    const last = r.state.terminated ?? (r.state.waiting?.reason === 'CrashLoopBackOff' ? r.lastState.terminated : undefined);
    if (last) {
      if (!this.shouldRestart(r, last.exitCode)) return false;
      const finished = Date.parse(last.finishedAt ?? '') || now;
      const d = this.deps.backoff.tryRestart(this.backoffKey(r), finished, now);
      if (d.waiting) {
        const fresh = r.state.waiting?.reason !== 'CrashLoopBackOff' || r.state.waiting.message !== d.message;
        r.lastState = { terminated: last };
        r.state = { waiting: { reason: 'CrashLoopBackOff', message: d.message } };
        if (fresh) this.event('Warning', 'BackOff', d.event);
        this.retryIn(d.remainingMs + 5);
        return false;
      }
    }
    if (r.retryAt !== undefined && r.retryAt > now) {
      this.retryIn(r.retryAt - now);
      return false;
    }
    return this.start(r);
  }

  private async start(r: ContainerRecord): Promise<boolean> {
    const pod = this.pod;
    const c = r.spec;
    const wasRun = !!(r.state.terminated || r.lastState.terminated || r.state.waiting?.reason === 'CrashLoopBackOff');
    const attempt = wasRun ? r.restartCount + 1 : r.restartCount;
    const configError = (reason: string, message: string) => {
      r.state = { waiting: { reason, message } };
      r.retryAt = this.deps.clock.now() + RETRY_MS * 5;
      this.event('Warning', 'Failed', `Error: ${message}`);
      this.retryIn(RETRY_MS * 5);
      return false;
    };
    const env = await resolveEnv(pod, c, { ...this.volumeDeps(), serviceEnv: this.deps.serviceEnv(pod) });
    if ('error' in env) return configError('CreateContainerConfigError', env.error);
    const argv = containerArgv(c, env.env);
    if (!Array.isArray(argv)) return configError('CreateContainerError', argv.error);
    for (const w of env.warnings ?? []) this.event('Warning', 'InvalidEnvironmentVariableNames', w);
    const mounts = mountsFor(pod, c, this.podDir, env.env);
    if (!Array.isArray(mounts)) return configError('CreateContainerConfigError', mounts.error);
    const extra: Mount[] = [];
    if (this.sandbox?.isolated) {
      const files = await writePodFiles(this.podDir, pod, {
        clusterDNS: this.deps.clusterDNS,
        clusterDomain: this.deps.clusterDomain,
        hostResolvConf: this.deps.hostResolvConf,
        podIPs: this.podIP ? [this.podIP] : [],
      });
      for (const w of files.warnings) this.event('Warning', 'DNSConfigForming', w);
      extra.push({ hostPath: files.etcHosts, containerPath: '/etc/hosts', readOnly: false }, { hostPath: files.resolvConf, containerPath: '/etc/resolv.conf', readOnly: false });
    }
    const sc = { ...(pod.spec?.securityContext ?? {}), ...(c.securityContext ?? {}) };
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    mkdirSync(join(this.podDir, 'logs', c.name), { recursive: true });
    this.pruneLogs(c.name, attempt);
    let container: Container;
    try {
      container = await this.deps.runtime.startContainer(this.sandbox!, {
        name: c.name,
        attempt,
        image: c.image ?? '',
        argv,
        env: env.env,
        ...(c.workingDir ? { workingDir: c.workingDir } : {}),
        ...(sc.runAsUser !== undefined ? { runAsUser: sc.runAsUser } : {}),
        ...(sc.runAsGroup !== undefined ? { runAsGroup: sc.runAsGroup } : {}),
        mounts: [...extra, ...mounts],
        resources: {
          ...(limits.memory !== undefined ? { memoryLimitBytes: quantityBytes(limits.memory) } : {}),
          ...(limits.cpu !== undefined ? { cpuLimitMillis: quantityMillis(limits.cpu) } : {}),
          ...(requests.cpu !== undefined ? { cpuRequestMillis: quantityMillis(requests.cpu) } : {}),
        },
        stdin: c.stdin === true,
        stdinOnce: c.stdinOnce === true,
        tty: c.tty === true,
        logPath: this.logPath(c.name, attempt),
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const now = rfc3339(this.deps.clock.now());
      if (wasRun) {
        r.restartCount = attempt;
        if (r.state.terminated) r.lastState = { terminated: r.state.terminated };
      }
      const reason = e instanceof ContainerStartError ? e.reason : 'StartError';
      r.state = { terminated: { exitCode: 128, reason, message, startedAt: '1970-01-01T00:00:00Z', finishedAt: now } };
      this.event('Warning', 'Failed', `Error: ${message}`);
      if (this.shouldRestart(r, 128)) this.kick();
      return false;
    }
    if (wasRun) {
      const prev = r.state.terminated ?? r.lastState.terminated;
      if (prev) r.lastState = { terminated: prev };
      r.restartCount = attempt;
    }
    r.current = container;
    r.containerID = container.id;
    r.retryAt = undefined;
    r.state = { running: { startedAt: rfc3339(container.startedAt.getTime()) } };
    r.ready = false;
    r.started = false;
    if (!r.init || r.sidecar) {
      if (!r.init) this.hasInitialized = true;
    }
    this.event('Normal', 'Created', `Created container ${c.name}`);
    this.event('Normal', 'Started', `Started container ${c.name}`);
    void container.exited.then((exit) => this.onExit(r, container, exit));
    if (c.lifecycle?.postStart) {
      const res = await runHook(c.lifecycle.postStart, this.probeTarget(r, container), (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
      if (!res.ok) {
        this.event('Warning', 'FailedPostStartHook', res.message);
        r.killReason = `PostStartHookError: ${res.message}`;
        void container.stop(this.graceMs());
        return true;
      }
    }
    this.startProbes(r, container);
    return true;
  }

  private pruneLogs(name: string, attempt: number): void {
    // keep the current and the previous attempt's logs, as the kubelet's log manager does by default
    const dir = join(this.podDir, 'logs', name);
    try {
      for (const f of readdirSync(dir)) {
        const n = Number(f.replace(/\.log$/, ''));
        if (Number.isInteger(n) && n < attempt - 1) rmSync(join(dir, f), { force: true });
      }
    } catch {
      /* no logs yet */
    }
  }

  private graceMs(): number {
    const g = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g) * 1000;
  }

  private probeTarget(r: ContainerRecord, container: Container): HookTarget {
    const runtime = this.deps.runtime;
    return {
      podName: this.pod.metadata?.name ?? '',
      namespace: this.pod.metadata?.namespace ?? '',
      podUid: this.uid,
      containerName: r.spec.name,
      podIP: this.podIP ?? '127.0.0.1',
      ports: r.spec.ports ?? [],
      exec: async (argv: string[], timeoutMs: number) => {
        const p = runtime.exec(container, { argv, stdin: false, tty: false, timeoutMs });
        const chunks: Buffer[] = [];
        p.stdout.on('data', (d: Buffer) => chunks.push(d));
        p.stderr.on('data', (d: Buffer) => chunks.push(d));
        const res = await p.exited;
        return { exitCode: res.exitCode, timedOut: res.timedOut, output: Buffer.concat(chunks).toString('utf8') };
      },
    };
  }

  private startProbes(r: ContainerRecord, container: Container): void {
    const kinds: [ProbeKind, Probe | undefined][] = [
      ['startup', r.spec.startupProbe],
      ['liveness', r.spec.livenessProbe],
      ['readiness', r.init && !r.sidecar ? undefined : r.spec.readinessProbe],
    ];
    const target = this.probeTarget(r, container);
    const hasStartup = !!r.spec.startupProbe;
    if (!hasStartup) r.started = true;
    if (!r.spec.readinessProbe) r.ready = true;
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      const w = new ProbeWorker({
        kind,
        probe,
        target,
        clock: this.deps.clock,
        startedAt: container.startedAt.getTime(),
        started: () => r.started,
        onResult: (_kind, result) => {
          if (r.current !== container) return;
          if (kind === 'startup') {
            if (result === 'success') {
              r.started = true;
              // as the kubelet: readiness is probed at once when startup succeeds
              for (const p of r.probes) if (p.kind === 'readiness') p.trigger();
            }
            else {
              r.killReason = 'startup probe failed';
              this.event('Normal', 'Killing', probeKillMessage('startup', r.spec.name));
              void container.stop(this.probeGraceMs(probe));
            }
          } else if (kind === 'readiness') r.ready = result === 'success';
          else if (result === 'failure') {
            r.killReason = 'liveness probe failed';
            this.event('Normal', 'Killing', probeKillMessage('liveness', r.spec.name));
            void container.stop(this.probeGraceMs(probe));
          }
          this.kick();
        },
        onFailureOutput: (_kind, _output, message) => this.event('Warning', 'Unhealthy', message),
        onWarning: (_kind, _output, message) => this.event('Warning', 'ProbeWarning', message),
        onError: (_kind, message) => this.event('Warning', 'Unhealthy', message),
      });
      r.probes.push(w);
    }
  }

  private probeGraceMs(probe: Probe): number {
    return ((probe.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30) as number) * 1000;
  }

  private stopProbes(r: ContainerRecord): void {
    for (const w of r.probes) w.stop();
    r.probes = [];
  }

  private onExit(r: ContainerRecord, container: Container, exit: ExitInfo): void {
    if (r.current !== container) return;
    this.stopProbes(r);
    r.current = undefined;
    r.ready = false;
    r.started = false;
    const t: ContainerStateTerminated = {
      exitCode: exit.exitCode,
      reason: exit.reason,
      startedAt: rfc3339(exit.startedAt.getTime()),
      finishedAt: rfc3339(exit.finishedAt.getTime()),
      containerID: container.id,
      ...(exit.message ? { message: exit.message } : {}),
      ...(exit.signal ? { signal: signalNumber(exit.signal) } : {}),
    };
    if (r.killReason && !t.message) t.message = r.killReason;
    r.killReason = undefined;
    r.state = { terminated: t };
    this.kick();
  }

  /** Whether the pod has run to its end: every regular container stopped and none will restart. */
  private allDone(): boolean {
    const spec = this.pod.spec ?? { containers: [] };
    const regular = (spec.containers ?? []).map((c) => this.records.get(c.name)!);
    // init containers that failed under restartPolicy Never end the pod
    for (const c of spec.initContainers ?? []) {
      const r = this.records.get(c.name)!;
      if (!r.sidecar && r.state.terminated && r.state.terminated.exitCode !== 0 && this.restartPolicy === 'Never') return true;
    }
    return regular.every((r) => r.state.terminated && !r.current && !this.shouldRestart(r, r.state.terminated.exitCode));
  }

  private async stopContainers(graceMs: number, all: boolean): Promise<void> {
    const pod = this.pod;
    const running = [...this.records.values()].filter((r) => r.current && (all || r.sidecar));
    // regular containers first, then sidecars in reverse order (as the kubelet does)
    const regular = running.filter((r) => !r.init);
    const sidecars = running.filter((r) => r.sidecar).reverse();
    const deadline = this.deps.clock.now() + graceMs;
    const stopOne = async (r: ContainerRecord) => {
      const c = r.current;
      if (!c) return;
      this.stopProbes(r);
      this.event('Normal', 'Killing', `Stopping container ${r.spec.name}`);
      if (r.spec.lifecycle?.preStop) {
        const left = Math.max(0, deadline - this.deps.clock.now());
        const res = await Promise.race([runHook(r.spec.lifecycle.preStop, this.probeTarget(r, c), left), new Promise<{ ok: true }>((res) => setTimeout(() => res({ ok: true }), left).unref?.())]);
        // the kubelet keeps hook output (and any secret in it) out of this event
        if (!res.ok) this.event('Warning', 'FailedPreStopHook', PRE_STOP_HOOK_FAILED_MESSAGE);
      }
      await c.stop(Math.max(0, deadline - this.deps.clock.now()));
    };
    await Promise.all(regular.map(stopOne));
    for (const r of sidecars) await stopOne(r);
    void pod;
  }

  /** The pod ended (Succeeded/Failed): stop sidecars, free the sandbox, report the final status. */
  private async finishTerminal(): Promise<void> {
    if (this.terminalDone) return;
    await this.stopContainers(this.graceMs(), true);
    await this.reportStatus(true);
    await this.releaseSandbox();
    this.terminalDone = true;
  }

  private async releaseSandbox(): Promise<void> {
    if (this.sandbox) {
      await this.deps.runtime.removePodSandbox(this.sandbox);
      this.sandbox = undefined;
    }
    await tearDownVolumes(this.podDir);
    if (this.podIP && this.pod.spec?.hostNetwork !== true) this.deps.releaseIP(this.podIP);
  }

  /** Deletion: stop within the grace period, remove everything, then the final delete. */
  private async terminate(): Promise<void> {
    await this.stopContainers(this.graceMs(), true);
    if (this.sandbox) {
      await this.deps.runtime.removePodSandbox(this.sandbox);
      this.sandbox = undefined;
    }
    await tearDownVolumes(this.podDir);
    if (this.podIP && this.pod.spec?.hostNetwork !== true) this.deps.releaseIP(this.podIP);
    this.podIP = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.deps.backoff.forget?.(this.uid);
    if (!this.deleted) await this.deps.deletePod(this.pod);
    rmSync(this.podDir, { recursive: true, force: true });
    this.finished = true;
    this.deps.onDone(this.uid);
  }

  /** Stops everything at once (agent shutdown): no API writes. */
  async shutdown(): Promise<void> {
    this.finished = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const r of this.records.values()) this.stopProbes(r);
    await Promise.all([...this.records.values()].map((r) => r.current?.stop(0)));
    if (this.sandbox) await this.deps.runtime.removePodSandbox(this.sandbox).catch(() => undefined);
    await tearDownVolumes(this.podDir).catch(() => undefined);
  }

  private containerStatus(r: ContainerRecord): ContainerStatus {
    return {
      name: r.spec.name,
      state: r.state,
      lastState: r.lastState,
      ready: r.ready && !!r.state.running,
      restartCount: r.restartCount,
      image: r.spec.image ?? '',
      imageID: '',
      ...(r.containerID ? { containerID: r.containerID } : {}),
      started: !!r.state.running && r.started,
    };
  }

  private async reportStatus(terminal = false): Promise<void> {
    const spec = this.pod.spec ?? { containers: [] };
    // Regular containers wait for init containers as PodInitializing.
    const initsPending = (spec.initContainers ?? []).length > 0 && !this.hasInitialized;
    const statuses = (spec.containers ?? []).map((c) => {
      const r = this.records.get(c.name)!;
      const s = this.containerStatus(r);
      if (initsPending && s.state?.waiting?.reason === 'ContainerCreating') s.state = { waiting: { reason: 'PodInitializing' } };
      return s;
    });
    const status = kubeletPodStatus(this.pod, {
      hostIP: this.deps.hostIP,
      ...(this.podIP ? { podIP: this.podIP } : {}),
      startTime: this.startTime,
      sandboxReady: !!this.sandbox && !terminal,
      initContainerStatuses: (spec.initContainers ?? []).map((c) => this.containerStatus(this.records.get(c.name)!)),
      containerStatuses: statuses,
      podIsTerminal: terminal,
      podHasInitialized: this.hasInitialized,
      now: rfc3339(this.deps.clock.now()),
      ...(this.terminalReason ?? {}),
    });
    // conditions keep their transition times; compare without them changing every sync
    const json = JSON.stringify(status);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    await this.deps.writeStatus(this.pod, status);
    if (status.phase) this.pod = { ...this.pod, status: { ...this.pod.status, ...status } };
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
function signalNumber(sig: string): number | undefined {
  return SIGNALS[sig];
}
