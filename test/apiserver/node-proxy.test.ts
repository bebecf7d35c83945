// kubectl logs / exec / port-forward end to end through the API server's node proxy to the node
// agent's streaming server, with real processes behind it (the streaming fixtures' tiny runtime):
// the real kubectl 1.32 speaks WebSocket v5 for exec and SPDY-over-WebSocket for port-forward.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { WebSocket } from 'ws';
import { join } from 'node:path';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { adminKubeconfig } from '../../src/apiserver/pki.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import type { Container } from '../../src/node/runtime/runtime.js';
import { startNodeServer, type NodeServer } from '../../src/node/server.js';
import { until } from '../support/eventually.js';
import { cleanup, exec, startContainer } from '../node/streaming-fixtures.js';

let dir = '';
let srv: ApiServer;
let node: NodeServer;
let client: Client;
let echo: Server;
let echoPort = 0;
const containers = new Map<string, Container & { running(): boolean }>();
const key = (pod: string, c: string) => `${pod}/${c}`;
const logPath = (pod: string, c: string) => join(dir, `${pod}-${c}.log`);
const pods = resourceFor('', 'v1', 'pods');
const nodes = resourceFor('', 'v1', 'nodes');

async function makePod(name: string, containerNames: string[], phase: string, nodeName?: string): Promise<void> {
  const created = await client.create(pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containerNames.map((c) => ({ name: c, image: 'busybox', command: ['sh'] })) },
  } as KubeObject);
  await client.update(pods, { ...created, status: { phase } } as KubeObject, { subresource: 'status' });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-node-proxy-'));
  srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
  client = srv.client('node-proxy-test');
  writeFileSync(join(dir, 'kubeconfig'), adminKubeconfig(srv.url, srv.pki.caPem, srv.pki.adminToken), { mode: 0o600 });
  mkdirSync(join(dir, 'home'));
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;

  containers.set(key('p', 'app'), startContainer('app', 'echo hello; echo world; exec sleep 600', logPath('p', 'app')));
  node = await startNodeServer({
    host: '127.0.0.1',
    token: srv.pki.adminToken,
    container: (_ns, pod, name) => {
      const c = containers.get(key(pod, name));
      return c ? { container: c } : { error: { code: 400, reason: 'BadRequest', message: `container "${name}" in pod "${pod}" is waiting to start: ContainerCreating` } };
    },
    logs: (_ns, pod, name, previous) => {
      const c = containers.get(key(pod, name));
      if (!c || previous) return { error: { code: 400, reason: 'BadRequest', message: `previous terminated container "${name}" in pod "${pod}" not found` } };
      return { path: logPath(pod, name), running: () => c.running() };
    },
    exec,
    podAddress: () => ({ ip: '127.0.0.1' }),
  });
  const n = await client.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as KubeObject);
  await client.update(nodes, { ...n, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: node.port } } } } as KubeObject, { subresource: 'status' });
  await makePod('p', ['app'], 'Running', 'n1');
  await makePod('two', ['app', 'side'], 'Running', 'n1');
  await makePod('done', ['app'], 'Succeeded', 'n1');
  await makePod('pend', ['app'], 'Pending');
  await makePod('att', ['talk'], 'Running', 'n1');
});

after(async () => {
  client?.close();
  await node?.stop();
  await srv?.stop();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[], input?: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: join(dir, 'home'), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.url}${path}`, { ca: srv.pki.caPem, headers: { Authorization: `Bearer ${srv.pki.adminToken}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const [mode, websockets] of [['WebSocket v5', 'true'], ['the SPDY fallback', 'false']] as const) {
  const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets };
  test(`kubectl exec prints the output and exits with the command exit code (${mode})`, async () => {
    const r = await kubectl(['exec', 'p', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 7'], undefined, env);
    assert.equal(r.stdout, 'hi\n');
    assert.match(r.stderr, /oops/);
    assert.equal(r.code, 7, r.stderr);
  });

  test(`kubectl exec -i passes stdin through and ends when it closes (${mode})`, async () => {
    const r = await kubectl(['exec', '-i', 'p', '--', 'cat'], 'from stdin\n', env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from stdin\n');
  });
}

test('kubectl logs reads the container log, with --tail', async () => {
  await until(async () => assert.equal((await kubectl(['logs', 'p'])).stdout, 'hello\nworld\n'));
  assert.equal((await kubectl(['logs', 'p', '--tail=1'])).stdout, 'world\n');
});

test('kubectl logs -f streams until the container stops', async () => {
  containers.set(key('two', 'side'), startContainer('side', 'echo one; sleep 0.5; echo two', logPath('two', 'side')));
  const r = await kubectl(['logs', '-f', 'two', '-c', 'side']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\n');
});

for (const [mode, websockets] of [['SPDY tunnelled in a WebSocket', 'true'], ['the raw SPDY fallback', 'false']] as const) {
  test(`kubectl port-forward reaches a TCP server at the pod address (${mode})`, async () => {
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: join(dir, 'home'), KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets };
    const pf = spawn('kubectl', ['port-forward', 'pod/p', `:${echoPort}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    try {
      pf.stdout.on('data', (d: Buffer) => (out += String(d)));
      pf.stderr.on('data', (d: Buffer) => (out += String(d)));
      const local = await until(() => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        assert.ok(m, out);
        return Number(m[1]);
      });
      for (const msg of ['first connection', 'second connection', 'x'.repeat(300_000)]) {
        const reply = await new Promise<string>((resolve, reject) => {
          const s = connect(local, '127.0.0.1', () => s.end(msg));
          let got = '';
          s.on('data', (d: Buffer) => (got += String(d)));
          s.on('end', () => resolve(got));
          s.on('error', reject);
        });
        assert.equal(reply, msg, out);
      }
    } finally {
      pf.kill('SIGKILL');
    }
  });
}

test('kubectl port-forward reports a pod port nothing listens on', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const pf = spawn('kubectl', ['port-forward', 'pod/p', `:${port}`], { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: join(dir, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  try {
    pf.stdout.on('data', (d: Buffer) => (out += String(d)));
    pf.stderr.on('data', (d: Buffer) => (out += String(d)));
    const local = await until(() => Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? assert.fail(out)));
    const s = connect(local, '127.0.0.1');
    s.on('error', () => undefined);
    await until(() => assert.match(out, new RegExp(`error forwarding port ${port} to pod p: connect ECONNREFUSED`)));
    s.destroy();
  } finally {
    pf.kill('SIGKILL');
  }
});

test('a WebSocket upgrade without the bearer token is refused with 401', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`${srv.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true`, ['v5.channel.k8s.io'], { ca: srv.pki.caPem, headers: { Authorization: 'Bearer wrong' } });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('upgraded without credentials')));
    ws.once('error', () => undefined);
  });
  assert.equal(status, 401);
});

test('kubectl attach streams the container output and ends when the container exits', async () => {
  const c = startContainer('talk', 'while read l; do echo "got $l"; done', logPath('att', 'talk'), true);
  containers.set(key('att', 'talk'), c);
  const child = spawn('kubectl', ['attach', 'att'], { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: join(dir, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Lines before kubectl has attached go only to the log; keep writing until one shows up.
    await until(() => {
      c.stdin!.write('x\n');
      assert.match(out, /got x/);
    });
    c.stdin!.end();
    assert.equal(await exit, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('the API server answers Kubernetes errors before reaching a node', async () => {
  const cases: [string, string, number, string][] = [
    ['a pod with two containers and no default', '/api/v1/namespaces/default/pods/two/log', 400, 'a container name must be specified for pod two, choose one of: [app side]'],
    ['an unknown container', '/api/v1/namespaces/default/pods/p/log?container=nope', 400, 'container nope is not valid for pod p'],
    ['an unbound pod', '/api/v1/namespaces/default/pods/pend/log', 400, 'pod pend does not have a host assigned'],
    ['a missing pod', '/api/v1/namespaces/default/pods/ghost/log', 404, 'pods "ghost" not found'],
    ['exec without an upgrade', '/api/v1/namespaces/default/pods/p/exec?command=true', 400, 'Upgrade request required'],
    ['the node reports a waiting container', '/api/v1/namespaces/default/pods/two/log?container=app', 400, 'previous terminated container "app" in pod "two" not found'],
  ];
  for (const [what, path, code, message] of cases) {
    const r = await get(path);
    assert.equal(r.status, code, what);
    assert.equal(JSON.parse(r.body).message, message, what);
  }
});

test('kubectl exec into a completed pod is refused with the API server message', async () => {
  const r = await kubectl(['exec', 'done', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/);
});
