// Reading a container's CRI-format log file the way the kubelet serves `kubectl logs`: each line of
// the file is `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, P marking a partial line the runtime
// split (its continuation follows); we print the text, optionally prefixed with the timestamp, and
// honour tailLines, sinceSeconds/sinceTime and limitBytes. `follow` keeps reading as the file grows
// until the container stops and the file is drained, or the reader is told to stop.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  /** Only the last N lines (after the since filter), counting whole (joined) lines. */
  tailLines?: number;
  /** Only lines logged at or after this instant (ms since epoch). */
  sinceMs?: number;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

/** One parsed line of a CRI log file. */
export interface CriLine {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

const LINE = /^(\S+) (stdout|stderr) ([FP])(?: (.*))?$/s;

/** Parses one line (without its newline) of a CRI log file; undefined for a malformed line. */
export function parseCriLine(line: string): CriLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { time: m[1]!, stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', text: m[4] ?? '' };
}

/** Parses a log query (kubelet's and the pods/log subresource's parameters); throws a message on bad input. */
export function parseLogQuery(q: URLSearchParams, now: number): LogOptions & { previous: boolean } {
  const bool = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
  const int = (k: string, min: number): number | undefined => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min) throw new Error(`invalid value for ${k}: ${JSON.stringify(v)}`);
    return Number(v);
  };
  const opts: LogOptions & { previous: boolean } = { follow: bool('follow'), timestamps: bool('timestamps'), previous: bool('previous') };
  const tail = int('tailLines', 0);
  if (tail !== undefined) opts.tailLines = tail;
  const limit = int('limitBytes', 1);
  if (limit !== undefined) opts.limitBytes = limit;
  const sinceSeconds = int('sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw new Error('at most one of sinceTime or sinceSeconds may be specified');
  if (sinceSeconds !== undefined) opts.sinceMs = now - sinceSeconds * 1000;
  if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (Number.isNaN(t)) throw new Error(`invalid value for sinceTime: ${JSON.stringify(sinceTime)}`);
    opts.sinceMs = t;
  }
  return opts;
}

/** ms since epoch of an RFC3339Nano timestamp (sub-millisecond digits are dropped). */
function timeMs(t: string): number {
  return Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
}

/**
 * Turns CRI lines into output lines (partials joined), filtering by time. Returns the complete
 * lines; keeps an unfinished partial in `pending` for the next call.
 */
class LineAssembler {
  /** Unfinished partial lines, per stream (the runtime splits each stream's lines independently). */
  private readonly pending: Partial<Record<'stdout' | 'stderr', { time: string; text: string }>> = {};
  constructor(private readonly opts: LogOptions) {}

  push(raw: string): string | undefined {
    const l = parseCriLine(raw);
    if (!l) return undefined;
    const before = this.pending[l.stream];
    if (l.partial) {
      this.pending[l.stream] = before ? { time: before.time, text: before.text + l.text } : { time: l.time, text: l.text };
      return undefined;
    }
    const time = before?.time ?? l.time;
    const text = (before?.text ?? '') + l.text;
    delete this.pending[l.stream];
    if (this.opts.sinceMs !== undefined && timeMs(time) < this.opts.sinceMs) return undefined;
    return this.opts.timestamps ? `${time} ${text}\n` : `${text}\n`;
  }
}

export interface LogSink {
  /** Writes output; returns false when the sink wants no more (client gone). */
  write(chunk: string): boolean;
}

/**
 * Streams a log file to the sink per the options. Resolves when done: the file is read (no follow),
 * limitBytes is reached, the container stopped and the file is drained (follow), or `signal` aborts.
 * Watchers and timers are released before it resolves.
 */
export async function streamLog(path: string, opts: LogOptions, running: () => boolean, sink: LogSink, signal?: AbortSignal): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const assembler = new LineAssembler(opts);
  let offset = 0;
  let carry = '';
  let left = opts.limitBytes ?? Infinity;
  let stopped = false;

  const emit = (out: string): void => {
    if (stopped) return;
    if (Buffer.byteLength(out) >= left) {
      out = Buffer.from(out).subarray(0, left).toString('utf8');
      left = 0;
      stopped = true;
    } else left -= Buffer.byteLength(out);
    if (!sink.write(out)) stopped = true;
  };

  /** Reads everything appended since the last call; returns the complete raw lines. */
  const readMore = async (): Promise<string[]> => {
    const size = (await fh.stat()).size;
    if (size < offset) offset = 0; // rotated or truncated: start again
    const chunks: Buffer[] = [];
    while (offset < size) {
      const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      chunks.push(buf.subarray(0, bytesRead));
    }
    const text = carry + Buffer.concat(chunks).toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    return lines;
  };

  try {
    // The initial read: apply tailLines to the assembled lines.
    const initial: string[] = [];
    for (const raw of await readMore()) {
      const out = assembler.push(raw);
      if (out !== undefined) initial.push(out);
    }
    const from = opts.tailLines !== undefined ? Math.max(0, initial.length - opts.tailLines) : 0;
    for (let i = from; i < initial.length && !stopped; i++) emit(initial[i]!);
    if (!opts.follow || stopped || signal?.aborted) return;
    await follow(path, signal, async () => {
      for (const raw of await readMore()) {
        const out = assembler.push(raw);
        if (out !== undefined) emit(out);
      }
      if (stopped) return true;
      // Ended: the container stopped and nothing more was written since our last read.
      if (!running()) {
        for (const raw of await readMore()) {
          const out = assembler.push(raw);
          if (out !== undefined) emit(out);
        }
        return true;
      }
      return false;
    });
  } finally {
    await fh.close();
  }
}

/**
 * Calls `step` whenever the file may have changed (fs.watch), and at least every 250 ms (watch
 * events can be missed, and the container stopping is not a file event), until it returns true
 * or the signal aborts. Steps never overlap.
 */
async function follow(path: string, signal: AbortSignal | undefined, step: () => Promise<boolean>): Promise<void> {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  try {
    try {
      watcher = watch(path, poke);
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined; // polling alone
    }
    signal?.addEventListener('abort', poke);
    while (!signal?.aborted) {
      if (await step()) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, 250);
      });
      clearTimeout(timer);
      wake = undefined;
    }
  } finally {
    clearTimeout(timer);
    watcher?.close();
    signal?.removeEventListener('abort', poke);
  }
}

/** Whether a file exists (for `previous`). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
