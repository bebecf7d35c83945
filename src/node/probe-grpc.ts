// gRPC health checking for grpc probes (pkg/probe/grpc): grpc.health.v1 Health/Check over cleartext
// HTTP/2 with node:http2 and a hand-encoded one-field protobuf, instead of a gRPC library.
import { connect as http2Connect } from 'node:http2';
import { formatGoDuration } from './backoff.js';
import { joinHostPort, KUBE_MINOR_VERSION } from './probe-http.js';
import type { ProbeOutcome } from './probes.js';

const GRPC_CODES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * grpc.health.v1.Health/Check on podIP:port for `service` (cleartext HTTP/2, as the kubelet), with
 * upstream's outputs: `service healthy`, `service unhealthy (responded with "NOT_SERVING")`,
 * `timeout: failed to connect service "…" within 1s: context deadline exceeded`, `error: this server
 * does not implement the grpc health protocol (grpc.health.v1.Health): …`, `error: health rpc probe
 * failed: rpc error: code = NotFound desc = unknown service`. A refused connection is reported at
 * once with the connect-timeout wording (upstream's blocking dial retries until the timeout).
 */
export function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  const within = formatGoDuration(timeoutMs);
  const connectTimeout = `timeout: failed to connect service ${JSON.stringify(addr)} within ${within}: context deadline exceeded`;
  return new Promise((resolve) => {
    let finished = false;
    let connected = false;
    const session = http2Connect(`http://${addr}`);
    const finish = (result: ProbeOutcome['result'], output: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      session.destroy();
      resolve({ result, output });
    };
    const timer = setTimeout(() => finish('failure', connected ? `timeout: health rpc did not complete within ${within}` : connectTimeout), timeoutMs);
    session.on('connect', () => (connected = true));
    session.on('error', () => finish('failure', connected ? 'error: health rpc probe failed: rpc error: code = Unavailable desc = connection closed' : connectTimeout));
    const name = Buffer.from(service, 'utf8');
    const message = name.length > 0 ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': `kube-probe/${KUBE_MINOR_VERSION}`,
    });
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => finish('failure', connected ? 'error: health rpc probe failed: rpc error: code = Unavailable desc = stream closed' : connectTimeout));
    req.on('end', () => {
      const code = Number(trailers['grpc-status'] ?? headers['grpc-status'] ?? 2);
      let desc = String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '');
      try {
        desc = decodeURIComponent(desc);
      } catch {
        // keep it as sent
      }
      if (code === 12) return finish('failure', `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${desc}`);
      if (code === 4) return finish('failure', `timeout: health rpc did not complete within ${within}`);
      if (code !== 0) return finish('failure', `error: health rpc probe failed: rpc error: code = ${GRPC_CODES[code] ?? `Code(${code})`} desc = ${desc}`);
      const body = Buffer.concat(chunks);
      const status = body.length > 5 ? servingStatus(body.subarray(5, 5 + body.readUInt32BE(1))) : 0;
      if (status !== 1) return finish('failure', `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status] ?? String(status))})`);
      finish('success', 'service healthy');
    });
    req.end(frame);
  });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

// HealthCheckResponse.status (field 1, varint); other fields skipped; absent means UNKNOWN (0).
function servingStatus(msg: Buffer): number {
  let i = 0;
  const readVarint = (): number => {
    let v = 0;
    for (let shift = 0; i < msg.length && shift < 35; shift += 7) {
      const b = msg[i++]!;
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    return v;
  };
  let status = 0;
  while (i < msg.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (tag >>> 3 === 1) status = v;
    } else if (wire === 2) i += readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return status;
}
