// Lifecycle hooks against real `sh` processes and a real server on loopback, checked for the
// kubelet's verdicts and the messages of its FailedPostStartHook events; sleep hooks on a FakeClock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostExec as exec, killGroup, running } from '../support/host-exec.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { FakeClock } from '../../src/util/clock.js';
import { runHook, type HookTarget } from '../../src/node/lifecycle-hooks.js';

let server: Server;
let port = 0;
let refusedPort = 0;
const seen: IncomingMessage[] = [];


const target: HookTarget = { podIP: '127.0.0.1', ports: [], exec, podName: 'web', namespace: 'shop', podUid: 'u-7', containerName: 'app' };
const who = 'for Container "app" in Pod "web_shop(u-7)"';

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    res.writeHead(req.url === '/broken' ? 500 : 200).end('done');
  });
  port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
  const closed = createTcpServer();
  refusedPort = await new Promise<number>((r) => closed.listen(0, '127.0.0.1', () => r((closed.address() as AddressInfo).port)));
  await new Promise((r) => closed.close(r));
});

after(async () => {
  for (const c of running) killGroup(c);
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

test('exec hook: exit 0 is success', async () => {
  assert.deepEqual(await runHook({ exec: { command: ['sh', '-c', 'echo hi'] } }, target, 5000), { ok: true });
});

test('exec hook: a non-zero exit fails with the kubelet message, output quoted', async () => {
  assert.deepEqual(await runHook({ exec: { command: ['sh', '-c', 'echo nope; exit 3'] } }, target, 5000), {
    ok: false,
    message: `Exec lifecycle hook ([sh -c echo nope; exit 3]) ${who} failed - error: command 'sh -c echo nope; exit 3' exited with 3: , message: "nope\\n"`,
  });
});

test('exec hook: a command outliving the timeout is killed and fails', async () => {
  assert.deepEqual(await runHook({ exec: { command: ['sh', '-c', 'sleep 30'] } }, target, 300), {
    ok: false,
    message: `Exec lifecycle hook ([sh -c sleep 30]) ${who} failed - error: command "sh -c sleep 30" timed out, message: ""`,
  });
  assert.equal(running.size, 0, 'the hook process is gone');
});

test('httpGet hook: any response is success, even a 500, and it says kube-lifecycle', async () => {
  seen.length = 0;
  assert.deepEqual(await runHook({ httpGet: { port, path: '/broken' } }, target, 5000), { ok: true });
  assert.equal(seen[0]?.headers['user-agent'], 'kube-lifecycle/1.32');
});

test('httpGet hook: a named port resolves from the container ports', async () => {
  assert.deepEqual(await runHook({ httpGet: { port: 'web', path: '/x' } }, { ...target, ports: [{ name: 'web', containerPort: port }] }, 5000), { ok: true });
});

test('httpGet hook: no answer fails with Go words in the kubelet message', async () => {
  assert.deepEqual(await runHook({ httpGet: { port: refusedPort, path: '/hook' } }, target, 5000), {
    ok: false,
    message: `HTTP lifecycle hook (/hook) ${who} failed - error: Get "http://127.0.0.1:${refusedPort}/hook": dial tcp 127.0.0.1:${refusedPort}: connect: connection refused`,
  });
});

test('httpGet hook: HTTPS answered in plain HTTP is retried over HTTP, as the kubelet does', async () => {
  assert.deepEqual(await runHook({ httpGet: { port, path: '/ok', scheme: 'HTTPS' } }, target, 5000), { ok: true });
});

test('sleep hook: waits its seconds on the clock', async () => {
  const clock = new FakeClock();
  let done: unknown;
  void runHook({ sleep: { seconds: 5 } }, target, 30_000, { clock }).then((r) => (done = r));
  clock.advance(4999);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, undefined);
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(done, { ok: true });
});

test('sleep hook: cut short by the timeout fails as the kubelet says', async () => {
  const clock = new FakeClock();
  const p = runHook({ sleep: { seconds: 60 } }, target, 2000, { clock });
  clock.advance(2000);
  assert.deepEqual(await p, {
    ok: false,
    message: `Sleep lifecycle hook (60) ${who} failed - error: container terminated before sleep hook finished`,
  });
});

test('sleep hook: cut short by an abort fails too', async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  const p = runHook({ sleep: { seconds: 60 } }, target, 120_000, { clock, signal: ac.signal });
  ac.abort();
  assert.equal((await p).ok, false);
});

test('tcpSocket hook: not run, as by the kubelet, with a clear message', async () => {
  const r = await runHook({ tcpSocket: { port } }, target, 1000);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /^Cannot run handler: invalid handler: /);
});
