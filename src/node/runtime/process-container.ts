// One container of the process runtime, from spawn to exit: the process (on pipes, or on a pty for
// tty: true), its CRI log, the live output for attach, stop with a grace period, and how it ended
// (exit code, signal, OOM kill read from its cgroup). The container is done when its main process
// is, as with runc: whatever it left running in its cgroup is killed then.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import type { Cgroup } from '../cgroups.js';
import { createCriLogWriter, type LogStream } from './cri-log.js';
import { shimWords, type ShimPlan } from './process-shim.js';
import { ContainerStartError, type Container, type ContainerConfig, type ExitInfo } from './runtime.js';

type Pty = typeof import('node-pty');
let ptyModule: Pty | undefined;
/** node-pty, loaded on first use so a node without ttys never loads the native module. */
export function pty(): Pty {
  ptyModule ??= createRequire(import.meta.url)('node-pty') as Pty;
  return ptyModule;
}

/** What exec needs to enter a running container. */
export interface ExecContext {
  pid: number;
  /** False when the container shares the agent's namespaces (no root): exec runs without nsenter. */
  namespaced: boolean;
  plan: Omit<ShimPlan, 'report' | 'failCode' | 'argv' | 'mounts' | 'hostname'>;
  env: Record<string, string>;
  running: () => boolean;
}
const contexts = new WeakMap<Container, ExecContext>();
/** The exec context of a container this runtime started, or undefined. */
export function execContextOf(c: Container): ExecContext | undefined {
  return contexts.get(c);
}

export interface LaunchSpec {
  /** `process://<64 hex>` */
  id: string;
  config: ContainerConfig;
  /** Words before the shim: nsenter/unshare, or nothing. */
  prefix: string[];
  plan: Omit<ShimPlan, 'report' | 'failCode'>;
  env: Record<string, string>;
  cgroup?: Cgroup;
  namespaced: boolean;
}

function signalNumber(name: string): number {
  return (constants.signals as Record<string, number>)[name] ?? 0;
}
function signalName(n: number): string | undefined {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
}

// Output for attach: pushed only while someone reads, so an unwatched container costs no memory.
function liveStream(): PassThrough {
  return new PassThrough();
}
function offer(s: PassThrough, chunk: Buffer | string): void {
  if (s.readableFlowing === true && !s.writableEnded) s.write(chunk);
}

/**
 * Starts the container. Resolves once its program is exec'd; rejects with ContainerStartError when
 * the shim failed before that (program not found, a mount, the working dir), after cleaning up.
 */
export async function launchContainer(spec: LaunchSpec): Promise<Container> {
  const { config } = spec;
  const log = createCriLogWriter(config.logPath);
  const out = { stdout: liveStream(), stderr: liveStream() };
  const write = (s: LogStream, d: Buffer | string): void => {
    log.write(s, d);
    offer(out[s], d);
  };
  const startedAt = new Date();
  let pid: number;
  let exitedRaw: Promise<{ code: number | null; signal: string | undefined }>;
  let stdin: Writable | undefined;
  let resize: ((cols: number, rows: number) => void) | undefined;
  let streamsClosed: Promise<void>;
  let killMain: (sig: NodeJS.Signals) => void;

  if (config.tty) {
    const words = [...spec.prefix, ...shimWords({ ...spec.plan, report: 'stderr', failCode: 127 })];
    const p = pty().spawn(words[0]!, words.slice(1), { name: 'xterm', cols: 80, rows: 24, cwd: '/', env: spec.env });
    pid = p.pid;
    let alive = true;
    p.onData((d) => write('stdout', d));
    exitedRaw = new Promise((resolve) =>
      p.onExit(({ exitCode, signal }) => {
        alive = false;
        resolve({ code: signal ? null : exitCode, signal: signal ? signalName(signal) : undefined });
      }),
    );
    streamsClosed = exitedRaw.then(() => undefined);
    if (config.stdin) {
      stdin = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (alive) p.write(chunk.toString('utf8'));
          cb();
        },
      });
    }
    resize = (cols, rows) => {
      if (alive) p.resize(Math.max(1, cols), Math.max(1, rows));
    };
    killMain = (sig) => {
      if (alive) p.kill(sig);
    };
  } else {
    const words = [...spec.prefix, ...shimWords({ ...spec.plan, report: 'fd3', failCode: 127 })];
    const child = spawn(words[0]!, words.slice(1), {
      env: spec.env,
      cwd: '/',
      stdio: [config.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    try {
      await spawned;
    } catch (e) {
      await log.close();
      throw new ContainerStartError(`cannot start ${words[0]}: ${(e as Error).message}`);
    }
    pid = child.pid!;
    child.stdout!.on('data', (d: Buffer) => write('stdout', d));
    child.stderr!.on('data', (d: Buffer) => write('stderr', d));
    exitedRaw = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal: signal ?? undefined })));
    streamsClosed = new Promise((resolve) => child.once('close', () => resolve()));
    stdin = child.stdin ?? undefined;
    stdin?.on('error', () => undefined); // EPIPE when the process is gone: attach sees it close
    killMain = (sig) => {
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
    };
    // The shim closes fd 3 when it execs the program, or writes why it could not first.
    const failure = await new Promise<string>((resolve) => {
      let msg = '';
      const fd3 = child.stdio[3] as NodeJS.ReadableStream;
      fd3.on('data', (d: Buffer) => (msg += String(d)));
      fd3.on('error', () => resolve(msg));
      fd3.on('close', () => resolve(msg));
    });
    if (failure !== '') {
      await exitedRaw;
      if (spec.cgroup) await spec.cgroup.remove().catch(() => 0);
      await log.close();
      throw new ContainerStartError(failure);
    }
  }

  const killAll = async (): Promise<void> => {
    if (spec.cgroup) await spec.cgroup.killAll();
    try {
      process.kill(-pid, 'SIGKILL'); // the container's session/process group (no cgroup: all we have)
    } catch {
      /* gone */
    }
  };

  let stopping: 'TERM' | 'KILL' | undefined;
  const exited: Promise<ExitInfo> = exitedRaw.then(async ({ code, signal }) => {
    const finishedAt = new Date();
    const oomKills = spec.cgroup?.oomKills() ?? 0;
    await killAll();
    // Pipes close once every holder is gone; bounded in case something escaped the cgroup.
    await Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 2000))]);
    await log.close();
    out.stdout.end();
    out.stderr.end();
    if (spec.cgroup) await spec.cgroup.remove().catch(() => 0);
    const exitCode = signal !== undefined ? 128 + signalNumber(signal) : (code ?? 0);
    const reason: ExitInfo['reason'] = oomKills > 0 && exitCode !== 0 ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const info: ExitInfo = { exitCode, reason, startedAt, finishedAt };
    if (signal !== undefined) info.signal = signal;
    return info;
  });
  let done = false;
  void exited.then(() => (done = true));

  const container: Container = {
    id: spec.id,
    name: config.name,
    attempt: config.attempt,
    pid,
    startedAt,
    exited,
    stop(graceMs: number) {
      if (done || stopping !== undefined) {
        if (stopping === 'TERM' && graceMs <= 0) {
          stopping = 'KILL';
          void killAll();
        }
        return exited;
      }
      stopping = graceMs > 0 ? 'TERM' : 'KILL';
      if (stopping === 'TERM') {
        killMain('SIGTERM');
        const timer = setTimeout(() => {
          stopping = 'KILL';
          void killAll();
        }, graceMs);
        void exited.then(() => clearTimeout(timer));
      } else void killAll();
      return exited;
    },
    output: out,
  };
  if (stdin) container.stdin = stdin;
  if (resize) container.resize = resize;
  contexts.set(container, {
    pid,
    namespaced: spec.namespaced,
    plan: { cgroupDirs: spec.plan.cgroupDirs, workingDir: spec.plan.workingDir ?? '/', uid: spec.plan.uid, gid: spec.plan.gid },
    env: spec.env,
    running: () => !done,
  });
  return container;
}
