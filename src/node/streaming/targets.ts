// What `kubectl exec` and `kubectl attach` are connected to: a command started in the container
// through the runtime, or the container's own stdin and output. Each session gets its own view
// of the container's output, so a client going away detaches it and touches nothing else.
import { PassThrough } from 'node:stream';
import type { Container, ExecOptions, ExecProcess } from '../runtime/runtime.js';
import type { CommandTarget, StreamOptions } from './remotecommand.js';

/** Starts `opts.command` in the container; a start failure becomes the target's error. */
export function execTarget(container: Container, opts: StreamOptions, exec: (c: Container, o: ExecOptions) => ExecProcess): CommandTarget {
  let proc: ExecProcess;
  try {
    proc = exec(container, { argv: opts.command, stdin: opts.stdin, tty: opts.tty });
  } catch (e) {
    return { done: Promise.resolve({ error: errorText(e) }), abandon: () => undefined };
  }
  return {
    ...(proc.stdin ? { stdin: proc.stdin } : {}),
    stdout: proc.stdout,
    stderr: proc.stderr,
    resize: (w, h) => proc.resize(w, h),
    done: proc.exited.then(
      (r) => ({ exitCode: r.exitCode }),
      (e: unknown) => ({ error: errorText(e) }),
    ),
    abandon: () => proc.kill(),
  };
}

function errorText(e: unknown): string {
  return `error executing command in container: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * Attaches to the running container: its live output, and its stdin when it was started with
 * one. Ends (successfully) when the container exits. Detaching never closes the container's stdin.
 */
export function attachTarget(container: Container, opts: StreamOptions): CommandTarget {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const src = container.output;
  const onOut = (d: Buffer) => stdout.write(d);
  const onErr = (d: Buffer) => stderr.write(d);
  src?.stdout.on('data', onOut);
  src?.stderr.on('data', onErr);
  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    src?.stdout.off('data', onOut);
    src?.stderr.off('data', onErr);
    stdout.end();
    stderr.end();
  };
  let stdin: PassThrough | undefined;
  if (opts.stdin && container.stdin) {
    const target = container.stdin;
    stdin = new PassThrough();
    stdin.on('data', (d: Buffer) => {
      if (!target.writableEnded && !target.destroyed) target.write(d);
    });
  }
  const done = container.exited.then(() => {
    detach();
    return { exitCode: 0 };
  });
  return {
    ...(stdin ? { stdin } : {}),
    stdout,
    stderr,
    ...(container.resize ? { resize: (w: number, h: number) => container.resize!(w, h) } : {}),
    done,
    abandon: detach,
  };
}
