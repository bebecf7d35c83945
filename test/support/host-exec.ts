// A stand-in for a runtime's exec in probe and hook tests: runs argv as a real process on this
// machine, in its own process group so a timeout kills the command and whatever it started (as a
// container's cgroup would). `running` holds the live ones, for the tests' cleanup and checks.
import { spawn, type ChildProcess } from 'node:child_process';

export const running = new Set<ChildProcess>();

export function killGroup(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function hostExec(argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    let output = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (output += String(d)));
    child.stderr!.on('data', (d: Buffer) => (output += String(d)));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      running.delete(child);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ exitCode: code ?? 137, output, timedOut });
    });
  });
}
