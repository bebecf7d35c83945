// Probes against real servers on loopback and real `sh` processes, checked for the kubelet's
// verdicts and wording; the worker's timing and thresholds on a FakeClock with a scripted check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostExec as exec, killGroup, running } from '../support/host-exec.js';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttp2Server, type Http2Session } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Probe } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../src/util/clock.js';
import { TimerQueue } from '../../src/util/timer-queue.js';
import { ProbeWorker, runProbe, type ProbeOutcome, type ProbeTarget, type ProbeKind } from '../../src/node/probes.js';

const sockets = new Set<Socket>();
let http: Server;
let https: Server;
let port = 0;
let tlsPort = 0;
let refusedPort = 0;
let certDir = '';


const target: ProbeTarget = { podIP: '127.0.0.1', ports: [], exec };

function routes(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/ok') res.end('fine');
  else if (url === '/fail') res.writeHead(500).end('broken');
  else if (url === '/redirect-here') res.writeHead(302, { location: '/ok' }).end();
  else if (url === '/redirect-away') res.writeHead(302, { location: `http://localhost:${port}/ok` }).end('away');
  else if (url === '/loop') res.writeHead(302, { location: '/loop' }).end();
  else if (url === '/headers') res.end(JSON.stringify(req.headers));
  else if (url === '/big') res.end('x'.repeat(50 * 1024));
  else if (url === '/hang') sockets.add(req.socket); // never answers
  else res.writeHead(404).end();
}

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

before(async () => {
  http = createServer(routes);
  port = await listen(http);
  certDir = mkdtempSync(join(tmpdir(), 'skiff-probe-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=probe',
    '-days', '1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
  ], { stdio: 'ignore' });
  https = createHttpsServer({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) }, routes);
  tlsPort = await listen(https);
  const closed = createTcpServer();
  refusedPort = await new Promise<number>((r) => closed.listen(0, '127.0.0.1', () => r((closed.address() as AddressInfo).port)));
  await new Promise((r) => closed.close(r));
});

after(async () => {
  for (const c of running) killGroup(c);
  for (const s of sockets) s.destroy();
  http?.closeAllConnections();
  https?.closeAllConnections?.();
  await Promise.all([http, https].map((s) => s && new Promise((r) => s.close(r))));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

const get = (path: string, extra: Partial<Probe['httpGet']> = {}, probe: Partial<Probe> = {}): Probe => ({
  httpGet: { port, path, ...extra },
  ...probe,
});

test('httpGet: 200 succeeds with the body as output', async () => {
  assert.deepEqual(await runProbe(get('/ok'), target), { result: 'success', output: 'fine' });
});

test('httpGet: 500 fails with the status code, not the body', async () => {
  assert.deepEqual(await runProbe(get('/fail'), target), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
});

test('httpGet: a redirect on the same host is followed', async () => {
  assert.deepEqual(await runProbe(get('/redirect-here'), target), { result: 'success', output: 'fine' });
});

test('httpGet: a redirect to another host is not followed and succeeds with a warning', async () => {
  assert.deepEqual(await runProbe(get('/redirect-away'), target), {
    result: 'success',
    warning: true,
    output: 'Probe terminated redirects, Response body: away',
  });
});

test('httpGet: a redirect loop stops after 10 redirects', async () => {
  assert.deepEqual(await runProbe(get('/loop'), target), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects`,
  });
});

test('httpGet: a refused connection fails as Go words it', async () => {
  assert.deepEqual(await runProbe({ httpGet: { port: refusedPort, path: '/healthz' } }, target), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${refusedPort}/healthz": dial tcp 127.0.0.1:${refusedPort}: connect: connection refused`,
  });
});

test('httpGet: a server that never answers fails after timeoutSeconds', async () => {
  assert.deepEqual(await runProbe(get('/hang', {}, { timeoutSeconds: 1 }), target), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
});

test('httpGet: sends kube-probe User-Agent, Accept */*, the Host header and custom headers', async () => {
  const out = await runProbe(
    get('/headers', { httpHeaders: [{ name: 'host', value: 'app.example' }, { name: 'x-custom', value: 'a' }, { name: 'X-Custom', value: 'b' }] }),
    target,
  );
  const h = JSON.parse(out.output) as Record<string, string>;
  assert.equal(h['user-agent'], 'kube-probe/1.32');
  assert.equal(h.accept, '*/*');
  assert.equal(h.host, 'app.example');
  assert.equal(h['x-custom'], 'a, b');
});

test('httpGet: an explicit empty Accept header removes it; a given User-Agent wins', async () => {
  const out = await runProbe(get('/headers', { httpHeaders: [{ name: 'Accept', value: '' }, { name: 'User-Agent', value: 'mine' }] }), target);
  const h = JSON.parse(out.output) as Record<string, string>;
  assert.equal(h.accept, undefined);
  assert.equal(h['user-agent'], 'mine');
});

test('httpGet: at most 10 KiB of the body is kept', async () => {
  const out = await runProbe(get('/big'), target);
  assert.equal(out.result, 'success');
  assert.equal(out.output.length, 10 * 1024);
});

test('httpGet: HTTPS is spoken without checking the certificate', async () => {
  assert.deepEqual(await runProbe({ httpGet: { port: tlsPort, path: '/ok', scheme: 'HTTPS' } }, target), { result: 'success', output: 'fine' });
});

test('httpGet: HTTPS to a plain HTTP server fails as Go words it', async () => {
  const out = await runProbe({ httpGet: { port, path: '/ok', scheme: 'HTTPS' } }, target);
  assert.deepEqual(out, { result: 'failure', output: `Get "https://127.0.0.1:${port}/ok": http: server gave HTTP response to HTTPS client` });
});

test('httpGet: a named port resolves from the container ports; a missing name is a probe error', async () => {
  const named = { ...target, ports: [{ name: 'http', containerPort: port }] };
  assert.equal((await runProbe({ httpGet: { port: 'http', path: '/ok' } }, named)).result, 'success');
  assert.deepEqual(await runProbe({ httpGet: { port: 'metrics', path: '/ok' } }, named), { result: 'unknown', output: 'port "metrics" not found' });
});

test('httpGet: host overrides the pod IP', async () => {
  const elsewhere = { ...target, podIP: '192.0.2.1' };
  assert.equal((await runProbe(get('/ok', { host: '127.0.0.1' }), elsewhere)).result, 'success');
});

test('tcpSocket: a listening port succeeds, a closed one is refused', async () => {
  assert.deepEqual(await runProbe({ tcpSocket: { port } }, target), { result: 'success', output: '' });
  assert.deepEqual(await runProbe({ tcpSocket: { port: refusedPort } }, target), {
    result: 'failure',
    output: `dial tcp 127.0.0.1:${refusedPort}: connect: connection refused`,
  });
});

test('exec: exit 0 succeeds with stdout and stderr as output', async () => {
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'echo out; echo err >&2'] } }, target), { result: 'success', output: 'out\nerr\n' });
});

test('exec: a non-zero exit fails with the output', async () => {
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'echo not ready; exit 3'] } }, target), { result: 'failure', output: 'not ready\n' });
});

test('exec: a command outliving timeoutSeconds fails as timed out', async () => {
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'sleep 30'] }, timeoutSeconds: 1 }, target), {
    result: 'failure',
    output: 'command "sh -c sleep 30" timed out',
  });
  assert.equal(running.size, 0, 'the probe command is gone');
});

test('exec: a command that cannot start is a probe error', async () => {
  const out = await runProbe({ exec: { command: ['/nonexistent/probe'] } }, target);
  assert.equal(out.result, 'unknown');
  assert.match(out.output, /ENOENT/);
});

// A grpc.health.v1 server on cleartext HTTP/2: "" serves, "down" does not, others are unknown.
async function grpcServer(t: { after(fn: () => unknown): void }): Promise<number> {
  const server = createHttp2Server();
  const sessions = new Set<Http2Session>();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== '/grpc.health.v1.Health/Check') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service x' }, { endStream: true });
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).subarray(5);
      const service = body.length > 2 ? body.subarray(2).toString('utf8') : '';
      if (service === 'hang') return;
      if (service !== '' && service !== 'down') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'unknown service' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, service === 'down' ? 2 : 1]));
    });
  });
  const p = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
  t.after(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return p;
}

test('grpc: SERVING succeeds, NOT_SERVING fails, an unknown service is an rpc error', async (t) => {
  const gp = await grpcServer(t);
  assert.deepEqual(await runProbe({ grpc: { port: gp } }, target), { result: 'success', output: 'service healthy' });
  assert.deepEqual(await runProbe({ grpc: { port: gp, service: 'down' } }, target), {
    result: 'failure',
    output: 'service unhealthy (responded with "NOT_SERVING")',
  });
  assert.deepEqual(await runProbe({ grpc: { port: gp, service: 'db' } }, target), {
    result: 'failure',
    output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
  });
});

test('grpc: a server that never answers times out; a refused port cannot connect', async (t) => {
  const gp = await grpcServer(t);
  assert.deepEqual(await runProbe({ grpc: { port: gp, service: 'hang' }, timeoutSeconds: 1 }, target), {
    result: 'failure',
    output: 'timeout: health rpc did not complete within 1s',
  });
  assert.deepEqual(await runProbe({ grpc: { port: refusedPort } }, target), {
    result: 'failure',
    output: `timeout: failed to connect service "127.0.0.1:${refusedPort}" within 1s: context deadline exceeded`,
  });
});

test('grpc: a plain HTTP/2 server without the health service says so', async (t) => {
  const server = createHttp2Server((_req, res) => res.writeHead(404).end());
  const p = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
  t.after(() => new Promise((r) => server.close(r)));
  const out = await runProbe({ grpc: { port: p } }, target);
  assert.equal(out.result, 'failure');
  assert.match(out.output, /^error: health rpc probe failed: rpc error: code = Unknown/);
});

// ---- the worker ----

interface Harness {
  clock: FakeClock;
  worker: ProbeWorker;
  calls: () => number;
  results: [ProbeKind, string, string][];
  failures: string[];
  warnings: string[];
  errors: string[];
}

// A worker whose checks answer from `script` in order (the last answer repeats).
function harness(kind: ProbeKind, probe: Partial<Probe>, script: ProbeOutcome[], extra: { started?: () => boolean; timers?: boolean } = {}): Harness {
  const clock = new FakeClock();
  let n = 0;
  const h: Omit<Harness, 'worker'> = { clock, calls: () => n, results: [], failures: [], warnings: [], errors: [] };
  const worker = new ProbeWorker({
    kind,
    probe: { exec: { command: ['true'] }, ...probe },
    target,
    clock,
    ...(extra.timers ? { timers: new TimerQueue(clock) } : {}),
    ...(extra.started ? { started: extra.started } : {}),
    run: async () => script[Math.min(n++, script.length - 1)]!,
    onResult: (k, r, o) => h.results.push([k, r, o]),
    onFailureOutput: (_k, _o, m) => h.failures.push(m),
    onWarning: (_k, _o, m) => h.warnings.push(m),
    onError: (_k, m) => h.errors.push(m),
  });
  return { ...h, worker };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
// Advances one tick at a time so each async check completes before the next is due.
async function run(h: Harness, ms: number, step = 1000): Promise<void> {
  h.clock.advance(0); // whatever is due now
  await flush();
  for (let t = 0; t < ms; t += step) {
    h.clock.advance(step);
    await flush();
  }
}

const ok: ProbeOutcome = { result: 'success', output: 'ok' };
const bad: ProbeOutcome = { result: 'failure', output: 'boom' };

test('worker: readiness starts failed and turns ready on the first success', async (t) => {
  const h = harness('readiness', { periodSeconds: 10 }, [ok]);
  t.after(() => h.worker.stop());
  assert.equal(h.worker.result(), 'failure');
  await run(h, 0);
  assert.deepEqual(h.results, [['readiness', 'success', 'ok']]);
  await run(h, 30_000);
  assert.equal(h.calls(), 4, 'probes at 0, 10, 20, 30 s');
  assert.equal(h.results.length, 1, 'only changes are reported');
});

test('worker: failureThreshold failures in a row flip readiness; a success in between resets the count', async (t) => {
  const h = harness('readiness', { periodSeconds: 1, failureThreshold: 3, successThreshold: 2 }, [ok, ok, bad, bad, ok, bad, bad, bad, ok, ok]);
  t.after(() => h.worker.stop());
  await run(h, 9000);
  assert.deepEqual(
    h.results.map(([, r]) => r),
    ['success', 'failure', 'success'],
  );
  assert.equal(h.failures.length, 5, 'an Unhealthy event for every failed check');
  assert.equal(h.failures[0], 'Readiness probe failed: boom');
});

test('worker: liveness starts healthy, reports failure after the threshold and stops probing', async (t) => {
  const h = harness('liveness', { periodSeconds: 10 }, [ok, bad]);
  t.after(() => h.worker.stop());
  assert.equal(h.worker.result(), 'success');
  await run(h, 60_000);
  assert.deepEqual(h.results, [['liveness', 'failure', 'boom']]);
  assert.equal(h.calls(), 4, 'one success, three failures, then on hold');
  assert.equal(h.worker.active(), false);
  assert.deepEqual(h.failures, Array(3).fill('Liveness probe failed: boom'));
});

test('worker: nothing is probed before initialDelaySeconds; the first probe comes on the next tick', async (t) => {
  const h = harness('readiness', { periodSeconds: 10, initialDelaySeconds: 15 }, [ok]);
  t.after(() => h.worker.stop());
  await run(h, 19_000);
  assert.equal(h.calls(), 0);
  await run(h, 1000);
  assert.equal(h.calls(), 1);
});

test('worker: liveness and readiness wait for the startup probe', async (t) => {
  let started = false;
  const h = harness('liveness', { periodSeconds: 1 }, [bad], { started: () => started });
  t.after(() => h.worker.stop());
  await run(h, 5000);
  assert.equal(h.calls(), 0);
  started = true;
  await run(h, 3000);
  assert.equal(h.calls(), 3);
  assert.deepEqual(h.results, [['liveness', 'failure', 'boom']]);
});

test('worker: startup starts unknown, reports success once and stops', async (t) => {
  const h = harness('startup', { periodSeconds: 1, failureThreshold: 30 }, [bad, bad, ok]);
  t.after(() => h.worker.stop());
  assert.equal(h.worker.result(), 'unknown');
  await run(h, 10_000);
  assert.deepEqual(h.results, [['startup', 'success', 'ok']]);
  assert.equal(h.calls(), 3);
  assert.deepEqual(h.failures, ['Startup probe failed: boom', 'Startup probe failed: boom']);
});

test('worker: a probe that errors is retried, reported, and does not count', async (t) => {
  const h = harness('readiness', { periodSeconds: 1 }, [{ result: 'unknown', output: 'port "web" not found' }]);
  t.after(() => h.worker.stop());
  await run(h, 1000);
  assert.equal(h.calls(), 6, 'three attempts per tick');
  assert.deepEqual(h.errors, Array(2).fill('Readiness probe errored and resulted in unknown state: port "web" not found'));
  assert.deepEqual(h.results, []);
  assert.equal(h.worker.result(), 'failure');
});

test('worker: a warning counts as success and is reported', async (t) => {
  const h = harness('readiness', {}, [{ result: 'success', warning: true, output: 'Probe terminated redirects, Response body: ' }]);
  t.after(() => h.worker.stop());
  await run(h, 0);
  assert.equal(h.worker.result(), 'success');
  assert.deepEqual(h.warnings, ['Readiness probe warning: Probe terminated redirects, Response body: ']);
});

test('worker: stop() ends probing, and a check in flight is ignored', async () => {
  const clock = new FakeClock();
  let release: (o: ProbeOutcome) => void = () => {};
  const results: string[] = [];
  let calls = 0;
  const w = new ProbeWorker({
    kind: 'readiness',
    probe: { exec: { command: ['true'] }, periodSeconds: 1 },
    target,
    clock,
    run: () => {
      calls++;
      return new Promise<ProbeOutcome>((r) => (release = r));
    },
    onResult: (_k, r) => results.push(r),
  });
  clock.advance(0);
  await flush();
  assert.equal(calls, 1);
  w.stop();
  release(ok);
  clock.advance(10_000);
  await flush();
  assert.equal(calls, 1);
  assert.deepEqual(results, []);
});

test('worker: runs on a shared TimerQueue as well', async (t) => {
  const h = harness('readiness', { periodSeconds: 2 }, [ok], { timers: true });
  t.after(() => h.worker.stop());
  await run(h, 6000);
  assert.equal(h.calls(), 4);
});

test('worker: end to end against a real server, readiness follows the server', async (t) => {
  const clock = new FakeClock();
  const results: string[] = [];
  const w = new ProbeWorker({ kind: 'readiness', probe: get('/ok'), target, clock, onResult: (_k, r) => results.push(r) });
  t.after(() => w.stop());
  clock.advance(0);
  const { eventually } = await import('../support/eventually.js');
  await eventually('ready', () => results.length === 1);
  assert.deepEqual(results, ['success']);
});
