// The server side of a SPDY/3 session as Kubernetes' clients speak it (moby/spdystream, used by
// client-go for port-forward and for the exec/attach fallback): the client opens streams with
// SYN_STREAM frames whose headers are bare (`streamtype`, `port`, `requestid` — no `:method` or
// `:path`), the server answers SYN_REPLY, both sides send DATA and half-close with FIN.
//
// Why not npm's spdy-transport: its parser rejects a SYN_STREAM without `:method`/`:path`, and it
// enforces SPDY flow-control windows while spdystream never sends WINDOW_UPDATE, so any stream
// would stall after 64 KiB. This file does only what spdystream does: no flow control, no
// priorities, no push. We reuse spdy-transport's copy of the SPDY/3 header dictionary.
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

const require = createRequire(import.meta.url);
const DICTIONARY = (require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<number, Buffer>)[3]!;

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;
const FLAG_FIN = 1;
const MAX_DATA = 32 * 1024;
/** RST_STREAM status codes we send. */
const RST_PROTOCOL_ERROR = 1;
const RST_CANCEL = 5;

/**
 * Runs one header block through a session's zlib stream (SPDY keeps one compression context per
 * direction for the whole session, so blocks must go through in order); a block ends with a sync flush.
 */
function zlibBlock(z: Inflate | Deflate, chunk: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (d: Buffer) => out.push(d);
    const onError = (e: Error) => {
      z.off('data', onData);
      reject(e);
    };
    z.on('data', onData);
    z.once('error', onError);
    z.write(chunk);
    z.flush(constants.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      resolve(Buffer.concat(out));
    });
  });
}

/** One SPDY stream opened by the client: a Duplex of its DATA frames, with the SYN_STREAM headers. */
export class SpdyStream extends Duplex {
  private replied = false;
  private finSent = false;
  constructor(
    readonly id: number,
    /** The client's headers, names in lower case. */
    readonly headers: Record<string, string>,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Accepts the stream (SYN_REPLY). Data may be written only after this. */
  reply(): void {
    if (this.replied) return;
    this.replied = true;
    this.session.sendReply(this.id);
  }

  /** Refuses or aborts the stream (RST_STREAM). */
  reset(): void {
    this.session.sendReset(this.id, RST_CANCEL);
    this.destroy();
  }

  override _read(): void {
    // DATA frames are pushed as they arrive; SPDY without flow control cannot apply back-pressure.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.reply();
    for (let i = 0; i < chunk.length; i += MAX_DATA) this.session.sendData(this.id, chunk.subarray(i, i + MAX_DATA), false);
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.reply();
    this.finSent = true;
    this.session.sendData(this.id, Buffer.alloc(0), true);
    cb();
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.session.forget(this.id);
    cb(err);
  }

  /** @internal */
  remoteData(data: Buffer, fin: boolean): void {
    if (data.length) this.push(data);
    if (fin) this.push(null);
  }

  /** Whether our half is closed (FIN sent). */
  get localClosed(): boolean {
    return this.finSent;
  }
}

/**
 * A SPDY/3 server session over a byte stream (a TLS socket after `101 Switching Protocols`, or a
 * WebSocket tunnel). Emits each new client stream to `onStream`; the session ends when the
 * transport closes or the client sends GOAWAY, and every stream is destroyed with it.
 */
export class SpdySession {
  private buf: Buffer = Buffer.alloc(0);
  private readonly inflate = createInflate({ dictionary: DICTIONARY });
  private readonly deflate = createDeflate({ dictionary: DICTIONARY });
  private readonly streams = new Map<number, SpdyStream>();
  private closed = false;
  private lastStreamId = 0;
  private inbound: Promise<void> = Promise.resolve();
  /** Our frames, in order: a SYN_REPLY waits for its header block, and what follows waits for it. */
  private outbound: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: Duplex,
    private readonly onStream: (s: SpdyStream) => void,
  ) {
    transport.on('data', (d: Buffer) => this.receive(d));
    transport.on('error', () => this.close());
    transport.on('close', () => this.close());
    transport.on('end', () => this.close());
  }

  /** Ends the session: destroys every stream and the transport. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.destroy();
    this.streams.clear();
    this.inflate.close();
    this.deflate.close();
    this.transport.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private receive(d: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) break;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      // Header blocks decompress asynchronously; frames are handled strictly in arrival order.
      this.inbound = this.inbound
        .then(() => (this.closed ? undefined : this.frame(frame)))
        .catch(() => this.close()); // a malformed frame or header block: nothing sensible remains
    }
  }

  private async frame(f: Buffer): Promise<void> {
    const flags = f[4]!;
    const body = f.subarray(8);
    if ((f[0]! & 0x80) === 0) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      this.streams.get(id)?.remoteData(body, (flags & FLAG_FIN) !== 0);
      return;
    }
    const type = f.readUInt16BE(2);
    switch (type) {
      case SYN_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.decodeHeaders(body.subarray(10));
        if (id <= this.lastStreamId || id % 2 === 0) {
          this.sendReset(id, RST_PROTOCOL_ERROR);
          return;
        }
        this.lastStreamId = id;
        const s = new SpdyStream(id, headers, this);
        this.streams.set(id, s);
        if (flags & FLAG_FIN) s.remoteData(Buffer.alloc(0), true);
        this.onStream(s);
        return;
      }
      case HEADERS:
        await this.decodeHeaders(body.subarray(4)); // keeps the shared zlib context in step
        return;
      case RST_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        this.streams.get(id)?.destroy();
        return;
      }
      case PING:
        // Echo the client's pings (odd ids); we send none of our own.
        if (body.readUInt32BE(0) % 2 === 1) this.write(f);
        return;
      case GOAWAY:
        this.close();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE, NOOP: nothing to do without flow control
    }
  }

  private async decodeHeaders(block: Buffer): Promise<Record<string, string>> {
    const raw = await zlibBlock(this.inflate, block);
    const headers: Record<string, string> = {};
    let off = 4;
    const n = raw.readUInt32BE(0);
    for (let i = 0; i < n; i++) {
      const nl = raw.readUInt32BE(off);
      const name = raw.subarray(off + 4, off + 4 + nl).toString('utf8').toLowerCase();
      off += 4 + nl;
      const vl = raw.readUInt32BE(off);
      const value = raw.subarray(off + 4, off + 4 + vl).toString('utf8');
      off += 4 + vl;
      headers[name] = value.split('\0')[0]!;
    }
    return headers;
  }

  private controlFrame(type: number, flags: number, body: Buffer): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8003, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt32BE(body.length, 4);
    head[4] = flags;
    return Buffer.concat([head, body]);
  }

  private control(type: number, flags: number, body: Buffer): void {
    this.write(this.controlFrame(type, flags, body));
  }

  private write(b: Buffer | (() => Promise<Buffer>)): void {
    this.outbound = this.outbound
      .then(async () => {
        const bytes = typeof b === 'function' ? await b() : b;
        if (!this.closed && !this.transport.destroyed) this.transport.write(bytes);
      })
      .catch(() => this.close());
  }

  /** @internal */
  sendReply(id: number): void {
    this.write(async () => {
      const block = await zlibBlock(this.deflate, Buffer.alloc(4)); // zero header pairs
      const body = Buffer.alloc(4);
      body.writeUInt32BE(id, 0);
      return this.controlFrame(SYN_REPLY, 0, Buffer.concat([body, block]));
    });
  }

  /** @internal */
  sendReset(id: number, code: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id, 0);
    body.writeUInt32BE(code, 4);
    this.control(RST_STREAM, 0, body);
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    head.writeUInt32BE(data.length, 4);
    head[4] = fin ? FLAG_FIN : 0;
    this.write(data.length ? Buffer.concat([head, data]) : head);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }
}
