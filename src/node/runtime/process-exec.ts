// `kubectl exec`, exec probes and exec hooks for the process runtime: the command enters the running
// container's namespaces with nsenter (network, UTS, IPC, mount), joins its cgroups, takes its user,
// environment and working directory, and execs. A command that cannot be found ends with exit code
// 126 and runc's message on stderr, which is what kubectl shows.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { execContextOf, pty } from './process-container.js';
import { hostTool, shimWords } from './process-shim.js';
import type { Container, ExecOptions, ExecProcess } from './runtime.js';

/** An exec that could not even begin: exit code 126 and the reason on stderr. */
function failedExec(message: string): ExecProcess {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.end();
  stderr.end(message + '\n');
  return { stdout, stderr, resize() {}, kill() {}, exited: Promise.resolve({ exitCode: 126, timedOut: false }) };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Runs options.argv in the container. The caller reads stdout/stderr and awaits exited. */
export function execInContainer(container: Container, options: ExecOptions): ExecProcess {
  const ctx = execContextOf(container);
  if (!ctx) return failedExec(`container ${container.id} was not started by this runtime`);
  if (!ctx.running()) return failedExec(`cannot exec in a stopped container ${container.name}`);
  if (options.argv.length === 0) return failedExec('exec needs a command');
  const prefix = ctx.namespaced ? [hostTool('nsenter'), '--target', String(ctx.pid), '--net', '--uts', '--ipc', '--mount', '--'] : [];
  const words = [...prefix, ...shimWords({ ...ctx.plan, report: 'stderr', failCode: 126, mounts: [], argv: options.argv })];
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;

  if (options.tty) {
    const p = pty().spawn(words[0]!, words.slice(1), { name: 'xterm', cols: 80, rows: 24, cwd: '/', env: ctx.env });
    let alive = true;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stderr.end();
    p.onData((d) => stdout.write(d));
    const exited = new Promise<{ exitCode: number; timedOut: boolean }>((resolve) =>
      p.onExit(({ exitCode, signal }) => {
        alive = false;
        if (timer) clearTimeout(timer);
        stdout.end();
        resolve({ exitCode: signal ? 128 + signal : exitCode, timedOut });
      }),
    );
    const kill = (): void => {
      if (alive) killGroup(p.pid);
    };
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, options.timeoutMs);
    }
    const proc: ExecProcess = {
      stdout,
      stderr,
      resize: (cols, rows) => {
        if (alive) p.resize(Math.max(1, cols), Math.max(1, rows));
      },
      exited,
      kill,
    };
    if (options.stdin) {
      proc.stdin = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (alive) p.write(chunk.toString('utf8'));
          cb();
        },
        final(cb) {
          if (alive) p.write('\x04'); // EOF on a terminal is ^D
          cb();
        },
      });
    }
    return proc;
  }

  const child = spawn(words[0]!, words.slice(1), {
    env: ctx.env,
    cwd: '/',
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<{ exitCode: number; timedOut: boolean }>((resolve) => {
    child.once('error', (e) => {
      child.stderr?.push(`${e.message}\n`);
      resolve({ exitCode: 126, timedOut });
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const n = signal ? (constants.signals as Record<string, number>)[signal] ?? 9 : 0;
      resolve({ exitCode: signal ? 128 + n : (code ?? 0), timedOut });
    });
  });
  const kill = (): void => killGroup(child.pid);
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
  }
  const proc: ExecProcess = { stdout: child.stdout!, stderr: child.stderr!, resize() {}, exited, kill };
  if (child.stdin) {
    child.stdin.on('error', () => undefined);
    proc.stdin = child.stdin;
  }
  return proc;
}
