// The container runtime interface of the node agent, shaped after the CRI (RunPodSandbox,
// CreateContainer/StartContainer, StopContainer, ExecSync/Exec/Attach, ListPodSandbox): the agent
// decides *what* should run, a runtime makes it so. The first runtime is `process` (runtime/process.ts):
// each container is a real process on the node's own filesystem, isolated with Linux namespaces and
// cgroups. A runtime for OCI images can implement the same interface later. Runtimes are listed in
// runtime/index.ts.
import type { Readable, Writable } from 'node:stream';

/** What the agent asks of a pod sandbox: its network and hostname. */
export interface SandboxConfig {
  podUid: string;
  namespace: string;
  name: string;
  /** The pod's hostname (spec.hostname or the pod name), for the UTS namespace. */
  hostname: string;
  /** spec.hostNetwork: the pod shares the node's network namespace (and has the node's IP). */
  hostNetwork: boolean;
  /** The pod IP the agent chose from the node's pod CIDR; ignored when hostNetwork. */
  ip?: string;
  /** A directory that belongs to this pod alone (volumes, /etc/hosts, logs live under it). */
  podDir: string;
}

export interface Sandbox {
  /** Stable for the pod: the runtime may use it to name namespaces, cgroups, files. */
  id: string;
  podUid: string;
  /** The address containers are reachable at: the pod IP, or the node's for hostNetwork. */
  ip: string;
  /** True when the pod got its own network namespace; false means host networking. */
  isolated: boolean;
  /** Why the pod could not be isolated (host networking as a fallback), for an event; else undefined. */
  fallbackReason?: string;
}

/** A bind mount into one container's mount namespace. */
export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerResources {
  /** limits.memory in bytes: the process is OOM-killed above it. */
  memoryLimitBytes?: number;
  /** limits.cpu in millicores: a CFS quota (quota/period). */
  cpuLimitMillis?: number;
  /** requests.cpu in millicores: cpu.shares / cpu.weight. */
  cpuRequestMillis?: number;
}

export interface ContainerConfig {
  /** The container's name in the pod spec. */
  name: string;
  /** restartCount at this start (CRI's attempt); the log file is `<attempt>.log`. */
  attempt: number;
  image: string;
  /** The argv to run: command + args, already expanded ($(VAR)); never empty. */
  argv: string[];
  /** The whole environment of the process, already resolved (valueFrom, envFrom). */
  env: Record<string, string>;
  workingDir?: string;
  runAsUser?: number;
  runAsGroup?: number;
  /** Volumes, /etc/hosts and /etc/resolv.conf, in mount order. */
  mounts: Mount[];
  resources: ContainerResources;
  /** Keep stdin open for `kubectl attach -i` (spec.stdin), and allocate a tty (spec.tty). */
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  /** Where stdout/stderr go, in the CRI log format (`<RFC3339Nano> stdout F <line>`). */
  logPath: string;
}

/** How a container ended. reason is what the kubelet reports in state.terminated.reason. */
export interface ExitInfo {
  exitCode: number;
  /** The signal that ended it, when one did (SIGKILL for an OOM kill or a forced stop). */
  signal?: string;
  reason: 'Completed' | 'Error' | 'OOMKilled' | 'ContainerCannotRun' | 'StartError';
  message?: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface Container {
  /** `<runtime>://<64 hex>`, reported as containerStatuses[].containerID. */
  id: string;
  name: string;
  attempt: number;
  pid: number;
  startedAt: Date;
  /** Resolves once, when the container's main process has exited and its cgroup is empty. */
  exited: Promise<ExitInfo>;
  /**
   * SIGTERM, then SIGKILL to every process of the container after graceMs. Resolves with how it
   * ended. Idempotent.
   */
  stop(graceMs: number): Promise<ExitInfo>;
  /** The container's stdin, when config.stdin (for attach). */
  stdin?: Writable;
  /** Live output for attach: every chunk written to the log is also emitted here. */
  output: { stdout: Readable; stderr: Readable } | undefined;
  /** Resizes the container's tty (attach -t). No-op without a tty. */
  resize?(cols: number, rows: number): void;
}

export interface ExecOptions {
  argv: string[];
  stdin: boolean;
  tty: boolean;
  /** Kill the command after this long (probes, hooks); unset = no limit. */
  timeoutMs?: number;
}

/** A command running inside a container's namespaces, cgroup, user and environment. */
export interface ExecProcess {
  stdin?: Writable;
  stdout: Readable;
  /** With tty, stderr is merged into stdout and this is an empty stream. */
  stderr: Readable;
  resize(cols: number, rows: number): void;
  /** Exit code (128+signal when killed; timedOut when timeoutMs passed). */
  exited: Promise<{ exitCode: number; timedOut: boolean }>;
  kill(): void;
}

export interface RuntimeInfo {
  /** `process` */
  name: string;
  /** Reported as nodeInfo.containerRuntimeVersion: `process://0.1.0`. */
  version: string;
  /** Whether pods get their own network namespace here (else host networking), and why not. */
  networkIsolation: { ok: true } | { ok: false; reason: string };
  /** Whether resources.limits are enforced (cgroups), and why not. */
  resourceLimits: { ok: true; cgroupVersion: 1 | 2 } | { ok: false; reason: string };
}

export interface ContainerRuntime {
  info(): RuntimeInfo;
  /** Makes the node's pod network (bridge owning the CIDR's gateway, NAT out) once the node has a CIDR. */
  setupNodeNetwork(podCidr: string): Promise<void>;
  runPodSandbox(config: SandboxConfig): Promise<Sandbox>;
  /** Stops every container of the sandbox (with SIGKILL) and removes its namespaces, mounts, cgroups. Idempotent. */
  removePodSandbox(sandbox: Sandbox): Promise<void>;
  /** Starts a container. Rejects (with a message fit for an event) when the process cannot start. */
  startContainer(sandbox: Sandbox, config: ContainerConfig): Promise<Container>;
  /** Runs a command in a running container (kubectl exec, exec probes, exec hooks). */
  exec(container: Container, options: ExecOptions): ExecProcess;
  /**
   * What a previous agent left on this machine for this node: sandbox ids with what they hold.
   * The agent removes them (or adopts them, for a runtime that can) before it starts pods.
   */
  cleanupLeftovers(): Promise<{ sandboxes: number; processes: number }>;
  /** Stops everything this runtime started and removes the node network. */
  shutdown(): Promise<void>;
}

/**
 * What startContainer rejects with when the process cannot start: reason and message as the
 * kubelet reports them in state.terminated (exit code 128), e.g. `exec: "foo": executable file
 * not found in $PATH`. Any other rejection is a runtime failure, not the container's.
 */
export class ContainerStartError extends Error {
  readonly reason: 'StartError' | 'ContainerCannotRun';
  readonly exitCode = 128;
  constructor(message: string, reason: 'StartError' | 'ContainerCannotRun' = 'StartError') {
    super(message);
    this.reason = reason;
  }
}
