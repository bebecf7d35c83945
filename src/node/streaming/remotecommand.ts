// exec and attach over WebSocket, the channel protocol of k8s.io/apimachinery's wsstream and
// client-go's remotecommand (`v5.channel.k8s.io`, `v4.channel.k8s.io` and their base64 forms).
// Each binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (the
// final Status), 4 resize (`{"Width":W,"Height":H}`); v5 adds 255 = close, whose second byte
// names the channel the peer is done writing (kubectl sends [255, 0] when its stdin ends).
import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

/** The subprotocols we speak, best first. */
export const REMOTECOMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v5.base64.channel.k8s.io', 'v4.base64.channel.k8s.io'];

/** The protocol to answer a client offering `offered` (ws's handleProtocols), or false. */
export function pickProtocol(offered: Set<string>): string | false {
  return REMOTECOMMAND_PROTOCOLS.find((p) => offered.has(p)) ?? false;
}

/** What exec/attach connects the WebSocket to. */
export interface CommandTarget {
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  resize?(cols: number, rows: number): void;
  /** How it ended: an exit code, or an error message (the command could not run). */
  done: Promise<{ exitCode: number } | { error: string }>;
  /** The client went away before `done`: kill the exec'd command, or detach from the container. */
  abandon(): void;
}

/** Stream options from the query (`stdin`, `stdout`, `stderr`, `tty`, `command`). */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  command: string[];
}

export function parseStreamOptions(q: URLSearchParams): StreamOptions {
  const bool = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
  return { stdin: bool('stdin'), stdout: bool('stdout'), stderr: bool('stderr'), tty: bool('tty'), command: q.getAll('command') };
}

/** The Status sent on the error channel when the command has ended. */
export function exitStatus(result: { exitCode: number } | { error: string }, command: string[]): object {
  if ('error' in result) return { metadata: {}, status: 'Failure', message: result.error, reason: 'InternalError', details: { causes: [{ message: result.error }] }, code: 500 };
  if (result.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${result.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
  };
}

/** Upper bound on what we buffer for a slow client before pausing the command's output. */
const HIGH_WATER = 1 << 20;

/**
 * Runs one exec/attach session over an accepted WebSocket: copies the target's output to the
 * client, the client's stdin and resizes to the target, and when the target is done sends the
 * Status on channel 3 and closes. If the client goes away first the target is abandoned.
 */
export function serveRemoteCommand(ws: WebSocket, opts: StreamOptions, target: CommandTarget, _req?: IncomingMessage): Promise<void> {
  const base64 = ws.protocol.includes('base64');
  const v5 = ws.protocol.startsWith('v5.');
  let pending = 0;
  const paused = new Set<Readable>();
  let finished = false;

  const send = (channel: number, data: Buffer, from?: Readable): void => {
    if (ws.readyState !== ws.OPEN) return;
    const msg = base64 ? String.fromCharCode(48 + channel) + data.toString('base64') : Buffer.concat([Buffer.from([channel]), data]);
    pending += data.length;
    ws.send(msg, { binary: !base64 }, () => {
      pending -= data.length;
      if (pending < HIGH_WATER) for (const r of paused) r.resume(), paused.delete(r);
    });
    if (from && pending >= HIGH_WATER) {
      from.pause();
      paused.add(from);
    }
  };

  const ended: Promise<void>[] = [];
  const pump = (r: Readable | undefined, channel: number, wanted: boolean) => {
    if (!r) return;
    if (!wanted) {
      r.resume(); // nobody reads it: drain so the command never blocks on a full pipe
      return;
    }
    const onData = (d: Buffer) => send(channel, d, r);
    r.on('data', onData);
    ended.push(
      new Promise<void>((resolve) => {
        const done = () => {
          r.off('data', onData);
          resolve();
        };
        r.once('end', done);
        r.once('close', done);
        r.once('error', done);
      }),
    );
  };
  pump(target.stdout, STDOUT, opts.stdout);
  pump(target.stderr, STDERR, opts.stderr && !opts.tty);

  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    let data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (data.length === 0) return;
    let channel = data[0]!;
    if (base64 || !isBinary) {
      channel = data[0]! - 48;
      data = Buffer.concat([Buffer.from([channel]), Buffer.from(data.subarray(1).toString('ascii'), 'base64')]);
    }
    const payload = data.subarray(1);
    if (channel === STDIN) {
      if (payload.length && target.stdin && !target.stdin.writableEnded) target.stdin.write(payload);
    } else if (channel === RESIZE) {
      try {
        const { Width, Height } = JSON.parse(payload.toString('utf8')) as { Width?: number; Height?: number };
        if (Width && Height) target.resize?.(Width, Height);
      } catch {
        // a malformed resize is ignored, as the kubelet does
      }
    } else if (channel === CLOSE && v5 && payload[0] === STDIN) {
      target.stdin?.end();
    }
  });
  target.stdin?.on('error', () => undefined);

  return new Promise<void>((resolve) => {
    ws.once('close', () => {
      if (!finished) target.abandon();
      resolve();
    });
    ws.on('error', () => undefined);
    void target.done.then(async (result) => {
      // The output streams end shortly after the process; a grandchild holding the pipe must not
      // keep the session open forever, so wait for them a bounded time.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(ended), new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      finished = true;
      if (ws.readyState === ws.OPEN) {
        send(ERROR, Buffer.from(JSON.stringify(exitStatus(result, opts.command))));
        ws.close(1000);
      }
      resolve();
    });
  });
}
