// A tiny stand-in runtime for the streaming tests: containers and exec'd commands are real child
// processes of `sh`; a container's output is written to a CRI-format log file and offered live for
// attach, as the process runtime does. Everything started is killed by `cleanup()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Container, ExecOptions, ExecProcess, ExitInfo } from '../../src/node/runtime/runtime.js';

const children = new Set<ChildProcess>();

/** Kills the child's whole process group (it was spawned detached, so it leads one). */
function killGroup(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

/** Kills every process this module started. */
export async function cleanup(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          killGroup(c);
        }),
    ),
  );
}

/** Starts `sh -c script` as a container whose output goes to `logPath` (CRI format) and to attach. */
export function startContainer(name: string, script: string, logPath: string, withStdin = false): Container & { running(): boolean } {
  writeFileSync(logPath, '');
  const child = track(spawn('sh', ['-c', script], { stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true }));
  const out = new PassThrough();
  const err = new PassThrough();
  const startedAt = new Date();
  let running = true;
  const log = (stream: 'stdout' | 'stderr', live: PassThrough) => (d: Buffer) => {
    for (const line of String(d).split('\n').slice(0, String(d).endsWith('\n') ? -1 : undefined)) appendFileSync(logPath, `${new Date().toISOString()} ${stream} F ${line}\n`);
    live.write(d);
  };
  child.stdout!.on('data', log('stdout', out));
  child.stderr!.on('data', log('stderr', err));
  const exited = new Promise<ExitInfo>((resolve) =>
    child.on('exit', (code) => {
      running = false;
      resolve({ exitCode: code ?? 137, reason: code === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date() });
    }),
  );
  return {
    id: `test://${name}`,
    name,
    attempt: 0,
    pid: child.pid!,
    startedAt,
    exited,
    stop: async () => {
      killGroup(child);
      return exited;
    },
    ...(child.stdin ? { stdin: child.stdin } : {}),
    output: { stdout: out, stderr: err },
    running: () => running,
  };
}

/** runtime.exec for the test containers: runs argv as a child process. */
export function exec(_c: Container, o: ExecOptions): ExecProcess {
  const child = track(spawn(o.argv[0]!, o.argv.slice(1), { stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true }));
  const exited = new Promise<{ exitCode: number; timedOut: boolean }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ exitCode: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), timedOut: false }));
  });
  return {
    ...(child.stdin ? { stdin: child.stdin } : {}),
    stdout: child.stdout!,
    stderr: child.stderr!,
    resize: () => undefined,
    exited,
    kill: () => killGroup(child),
  };
}
