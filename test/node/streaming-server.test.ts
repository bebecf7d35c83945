// The node agent's streaming server over real HTTPS, driven by the real `ws` client speaking
// v5.channel.k8s.io: logs, exec with stdin and exit codes, attach, and the Status errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startNodeServer, type NodeServer } from '../../src/node/server.js';
import type { Container } from '../../src/node/runtime/runtime.js';
import { until } from '../support/eventually.js';
import { cleanup, exec, startContainer } from './streaming-fixtures.js';

const TOKEN = 'node-test-token';
let dir = '';
let server: NodeServer;
const containers = new Map<string, Container & { running(): boolean }>();
const logPath = (name: string) => join(dir, `${name}.log`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-node-server-'));
  containers.set('app', startContainer('app', 'echo hello; echo world; sleep 600', logPath('app')));
  containers.set('talk', startContainer('talk', 'while read l; do echo "got $l"; done', logPath('talk'), true));
  server = await startNodeServer({
    host: '127.0.0.1',
    token: TOKEN,
    container: (ns, pod, name) => {
      const c = ns === 'default' && pod === 'p' ? containers.get(name) : undefined;
      return c ? { container: c } : { error: { code: 404, reason: 'NotFound', message: `container "${name}" in pod "${pod}" not found` } };
    },
    logs: (_ns, pod, name, previous) => {
      const c = containers.get(name);
      if (!c) return { error: { code: 404, reason: 'NotFound', message: `container "${name}" in pod "${pod}" not found` } };
      if (previous) return { error: { code: 400, reason: 'BadRequest', message: `previous terminated container "${name}" in pod "${pod}" not found` } };
      return { path: logPath(name), running: () => c.running() };
    },
    exec,
    podAddress: () => ({ ip: '127.0.0.1' }),
  });
});

after(async () => {
  await server?.stop();
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, token = TOKEN): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, rejectUnauthorized: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Session {
  stdout: string;
  stderr: string;
  status: { status: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } } | undefined;
  ws: WebSocket;
  closed: Promise<void>;
}

function open(path: string): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}${path}`, ['v5.channel.k8s.io'], { rejectUnauthorized: false, headers: { Authorization: `Bearer ${TOKEN}` } });
    const s: Session = { stdout: '', stderr: '', status: undefined, ws, closed: new Promise((r) => ws.once('close', () => r())) };
    ws.on('message', (d: Buffer) => {
      const text = d.subarray(1).toString('utf8');
      if (d[0] === 1) s.stdout += text;
      else if (d[0] === 2) s.stderr += text;
      else if (d[0] === 3) s.status = JSON.parse(text);
    });
    ws.once('open', () => {
      assert.equal(ws.protocol, 'v5.channel.k8s.io');
      resolve(s);
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const cmd = (...argv: string[]) => argv.map((a) => `command=${encodeURIComponent(a)}`).join('&');

test('a request without the bearer token is refused with 401', async () => {
  const r = await get('/containerLogs/default/p/app', 'wrong');
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.body).reason, 'Unauthorized');
});

test('containerLogs serves the container output, with tailLines', async () => {
  await until(async () => assert.equal((await get('/containerLogs/default/p/app')).body, 'hello\nworld\n'));
  assert.equal((await get('/containerLogs/default/p/app?tailLines=1')).body, 'world\n');
  const ts = await get('/containerLogs/default/p/app?timestamps=true&tailLines=1');
  assert.match(ts.body, /^\d{4}-\d\d-\d\dT\S+Z world\n$/);
});

test('log errors are Status answers with the runtime side message', async () => {
  const prev = await get('/containerLogs/default/p/app?previous=true');
  assert.equal(prev.status, 400);
  assert.equal(JSON.parse(prev.body).message, 'previous terminated container "app" in pod "p" not found');
  const missing = await get('/containerLogs/default/p/nope');
  assert.equal(missing.status, 404);
  const bad = await get('/containerLogs/default/p/app?tailLines=-1');
  assert.equal(bad.status, 400);
});

test('exec pipes stdin to the command and reports success once stdin is closed', async () => {
  const s = await open(`/exec/default/p/app?${cmd('cat')}&stdin=true&stdout=true&stderr=true`);
  s.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('ping\n')]));
  await until(() => assert.equal(s.stdout, 'ping\n'));
  s.ws.send(Buffer.from([255, 0]));
  await s.closed;
  assert.equal(s.status?.status, 'Success');
});

test('a non-zero exit is a NonZeroExitCode Status naming the code, after all output', async () => {
  const s = await open(`/exec/default/p/app?${cmd('sh', '-c', 'echo out; echo err >&2; exit 7')}&stdout=true&stderr=true`);
  await s.closed;
  assert.equal(s.stdout, 'out\n');
  assert.equal(s.stderr, 'err\n');
  assert.equal(s.status?.reason, 'NonZeroExitCode');
  assert.deepEqual(s.status?.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
});

test('a command that cannot start ends with a Failure Status', async () => {
  const s = await open(`/exec/default/p/app?${cmd('/nonexistent/skiff-binary')}&stdout=true&stderr=true`);
  await s.closed;
  assert.equal(s.status?.status, 'Failure');
  assert.match(s.status?.message ?? '', /ENOENT/);
});

test('exec without a command, or into an unknown container, is refused before the upgrade', async () => {
  await assert.rejects(open('/exec/default/p/app?stdout=true'), /400/);
  await assert.rejects(open(`/exec/default/p/nope?${cmd('true')}&stdout=true`), /404/);
});

test('attach writes to the container stdin and streams its output; detaching leaves it running', async () => {
  const s = await open('/attach/default/p/talk?stdin=true&stdout=true&stderr=true');
  s.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('one\n')]));
  await until(() => assert.equal(s.stdout, 'got one\n'));
  s.ws.close();
  await s.closed;
  assert.equal(containers.get('talk')!.running(), true);
  const again = await open('/attach/default/p/talk?stdin=true&stdout=true');
  again.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('two\n')]));
  await until(() => assert.equal(again.stdout, 'got two\n'));
  again.ws.close();
  await again.closed;
});
