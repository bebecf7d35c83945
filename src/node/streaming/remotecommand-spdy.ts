// exec and attach over raw SPDY, the fallback of kubectl 1.29+ and the only way of older ones
// (kubelet's cri/streaming/remotecommand/httpstream.go): after `101 Switching Protocols` the
// client opens one SPDY stream per channel, named by the `streamtype` header — `error`, then
// `stdin`, `stdout`, `stderr` as asked, and `resize` with a tty — and we start once all have
// arrived. stdin ends with the stream's FIN; resize carries newline-separated
// `{"Width":W,"Height":H}`; the final Status goes on the error stream (v4.channel.k8s.io).
import type { Duplex } from 'node:stream';
import { exitStatus, type CommandTarget, type StreamOptions } from './remotecommand.js';
import { SpdySession, type SpdyStream } from './spdy.js';

/** The SPDY remotecommand protocols we answer, best first (v4 is the one with exit codes). */
export const SPDY_REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io'];

/** How long the client may take to open all the streams it asked for. */
const STREAMS_TIMEOUT_MS = 30_000;

/**
 * Serves one exec/attach session on an upgraded socket. `start` makes the target once every
 * expected stream is open (so nothing runs for a client that never finishes the handshake).
 */
export function serveSpdyRemoteCommand(socket: Duplex, opts: StreamOptions, start: () => CommandTarget): SpdySession {
  const want = new Set(['error', ...(opts.stdin ? ['stdin'] : []), ...(opts.stdout ? ['stdout'] : []), ...(opts.stderr && !opts.tty ? ['stderr'] : []), ...(opts.tty ? ['resize'] : [])]);
  const streams = new Map<string, SpdyStream>();
  let target: CommandTarget | undefined;
  const timer = setTimeout(() => session.close(), STREAMS_TIMEOUT_MS);
  timer.unref();

  const session = new SpdySession(socket, (s) => {
    const type = s.headers['streamtype'] ?? '';
    if (!want.has(type) || streams.has(type)) {
      s.reset();
      return;
    }
    s.reply();
    s.on('error', () => undefined);
    streams.set(type, s);
    if (streams.size === want.size) {
      clearTimeout(timer);
      run();
    }
  });
  socket.once('close', () => {
    clearTimeout(timer);
    if (target && !finished) target.abandon();
  });

  let finished = false;
  function run(): void {
    const t = (target = start());
    const stdin = streams.get('stdin');
    if (stdin) {
      if (t.stdin) stdin.pipe(t.stdin);
      else stdin.resume();
    }
    const resize = streams.get('resize');
    if (resize) {
      let buf = '';
      resize.on('data', (d: Buffer) => {
        buf += String(d);
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) {
          try {
            const { Width, Height } = JSON.parse(line) as { Width?: number; Height?: number };
            if (Width && Height) t.resize?.(Width, Height);
          } catch {
            // ignored, as the kubelet does
          }
        }
      });
    }
    const ended: Promise<void>[] = [];
    const pump = (from: NodeJS.ReadableStream | undefined, to: SpdyStream | undefined) => {
      if (!from) return;
      if (!to) {
        from.resume();
        return;
      }
      from.on('data', (d: Buffer) => to.write(d));
      ended.push(new Promise<void>((r) => (from.once('end', r), from.once('close', r), from.once('error', r))));
    };
    pump(t.stdout, streams.get('stdout'));
    pump(t.stderr, streams.get('stderr'));
    void t.done.then(async (result) => {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(ended), new Promise<void>((r) => (wait = setTimeout(r, 2000)))]);
      clearTimeout(wait);
      finished = true;
      for (const name of ['stdout', 'stderr']) streams.get(name)?.end();
      streams.get('error')?.end(JSON.stringify(exitStatus(result, opts.command)));
    });
  }

  return session;
}
