// The CRI container log format the kubelet reads for `kubectl logs`: one record per line,
// `<RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>\n`. A line longer than the maximum is
// split into partial records (tag P) followed by a final one (tag F), as containerd does, so a
// reader can put it back together. Output of each stream is split into lines independently.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** containerd's default max container log line size. */
export const MAX_LOG_LINE = 16 * 1024;

export type LogStream = 'stdout' | 'stderr';

/**
 * RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints for the CRI (always 9 digits
 * here, which every CRI log reader accepts). `subMillisNs` (0..999999) supplies the digits below a millisecond.
 */
export function rfc3339Nano(d: Date, subMillisNs = 0): string {
  const iso = d.toISOString(); // 2024-01-01T00:00:00.123Z
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19)}.${ms}${String(subMillisNs).padStart(6, '0').slice(0, 6)}Z`;
}

/** Formats one CRI record. `content` must not contain a newline. */
export function criRecord(time: string, stream: LogStream, partial: boolean, content: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${time} ${stream} ${partial ? 'P' : 'F'} `), Buffer.from(content), Buffer.from('\n')]);
}

export interface CriLogWriter {
  /** Adds output of one stream; complete lines are written at once, a trailing partial line waits. */
  write(stream: LogStream, chunk: Buffer | string): void;
  /** Writes any unfinished lines (as final records) and closes the file. Idempotent. */
  close(): Promise<void>;
}

/**
 * Appends CRI records to `path` (created with its directory if missing). The caller owns the
 * writer and must close() it; write errors are swallowed after the first is reported via onError,
 * because a full disk must not take the container down with it.
 */
export function createCriLogWriter(path: string, opts: { maxLine?: number; now?: () => Date; onError?: (e: Error) => void } = {}): CriLogWriter {
  const maxLine = opts.maxLine ?? MAX_LOG_LINE;
  const now = opts.now ?? (() => new Date());
  mkdirSync(dirname(path), { recursive: true });
  const file: WriteStream = createWriteStream(path, { flags: 'a' });
  let failed = false;
  file.on('error', (e) => {
    if (!failed) opts.onError?.(e);
    failed = true;
  });
  const pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  let closed: Promise<void> | undefined;
  const stamp = (): string => rfc3339Nano(now(), Number(process.hrtime.bigint() % 1_000_000n));
  const emit = (stream: LogStream, partial: boolean, content: Buffer): void => {
    if (!failed) file.write(criRecord(stamp(), stream, partial, content));
  };
  return {
    write(stream, chunk) {
      if (closed) return;
      let buf = Buffer.concat([pending[stream], typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl >= 0 && nl <= maxLine) {
          emit(stream, false, buf.subarray(0, nl));
          buf = buf.subarray(nl + 1);
        } else if (buf.length > maxLine) {
          emit(stream, true, buf.subarray(0, maxLine));
          buf = buf.subarray(maxLine);
        } else break;
      }
      pending[stream] = Buffer.from(buf);
    },
    close() {
      if (!closed) {
        for (const s of ['stdout', 'stderr'] as const) if (pending[s].length > 0) emit(s, false, pending[s]);
        closed = new Promise((resolve) => file.end(() => resolve()));
      }
      return closed;
    },
  };
}
