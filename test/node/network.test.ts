// Real namespaces, real veths, a real bridge: the pod sandbox is only worth something if packets
// actually flow. Names carry a random part so parallel runs never collide, and addresses come from
// a random 10.200.x.0/24 that nothing else on this machine uses; traffic stays inside the machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import {
  createNodeNetwork,
  createPodSandbox,
  hostVethName,
  listSandboxes,
  networkSupport,
  removeNodeNetwork,
  removePodSandbox,
  type NodeNetwork,
} from '../../src/node/network.js';

const tag = randomBytes(3).toString('hex');
const bridge = `skbr${tag}`;
let subnet = `10.200.${randomInt(0, 256)}`;
let podCidr = `${subnet}.0/24`;
const idA = `t${tag}-a`;
const idB = `t${tag}-b`;
const children: ChildProcess[] = [];
let net: NodeNetwork | undefined;

function run(file: string, args: string[], timeout = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

// A TCP server inside a namespace that answers "pong <ip>"; resolves once it listens.
function serveIn(ns: string, ip: string): Promise<void> {
  const code = `require('net').createServer((s)=>s.end('pong ${ip}')).listen(7070,'${ip}',()=>console.log('ready'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server in ${ns} did not start`)), 10_000);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += String(d)));
    child.stdout?.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`server in ${ns} exited ${c}: ${err}`));
    });
  });
}

function fetchFromHost(ip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: ip, port: 7070, timeout: 5_000 });
    let data = '';
    s.on('data', (d) => (data += String(d)));
    s.on('end', () => resolve(data));
    s.on('timeout', () => s.destroy(new Error(`connect to ${ip} timed out`)));
    s.on('error', reject);
  });
}

before(async () => {
  const support = networkSupport();
  // Never skip: a machine that cannot run this must fail loudly, not pass quietly.
  assert.deepEqual(support, { ok: true }, 'this test needs Linux, root and iproute2');
  // Another run in parallel may hold a 10.200.x.0/24; pick one no route on this machine mentions.
  const routes = await run('ip', ['-4', 'route', 'show']);
  while (routes.includes(`${subnet}.`)) subnet = `10.200.${randomInt(0, 256)}`;
  podCidr = `${subnet}.0/24`;
  net = await createNodeNetwork({ bridge, podCidr });
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const id of await listSandboxes()) {
    if (id.startsWith(`t${tag}`)) await removePodSandbox(id).catch(() => undefined);
  }
  await removeNodeNetwork({ bridge, podCidr, gateway: `${subnet}.1`, prefix: 24 }).catch(() => undefined);
});

test('the node network is idempotent: creating it twice leaves one bridge with the gateway address', async () => {
  assert.ok(net);
  const again = await createNodeNetwork({ bridge, podCidr });
  assert.equal(again.gateway, `${subnet}.1`);
  const out = await run('ip', ['-4', 'addr', 'show', 'dev', bridge]);
  assert.match(out, new RegExp(`inet ${subnet.replace(/\./g, '\\.')}\\.1/24`));
});

test('a sandbox has its IP on eth0 inside its namespace, and pods and host reach each other', async () => {
  assert.ok(net);
  const a = await createPodSandbox(net, { id: idA, ip: `${subnet}.2`, hostname: 'pod-a' });
  const b = await createPodSandbox(net, { id: idB, ip: `${subnet}.3`, hostname: 'pod-b' });
  assert.equal(a.netnsPath, `/var/run/netns/skiff-${idA}`);
  assert.ok((await listSandboxes()).includes(idA));
  const eth0 = await run('ip', ['netns', 'exec', `skiff-${idA}`, 'ip', '-4', 'addr', 'show', 'eth0']);
  assert.match(eth0, new RegExp(`inet ${subnet.replace(/\./g, '\\.')}\\.2/24`));
  const route = await run('ip', ['-n', `skiff-${idA}`, 'route', 'show', 'default']);
  assert.match(route, new RegExp(`default via ${subnet.replace(/\./g, '\\.')}\\.1`));

  await serveIn(`skiff-${idA}`, a.ip);
  const client = `const s=require('net').connect(7070,'${a.ip}');s.setTimeout(5000,()=>process.exit(3));s.pipe(process.stdout)`;
  const fromB = await run('ip', ['netns', 'exec', `skiff-${idB}`, process.execPath, '-e', client]);
  assert.equal(fromB, `pong ${a.ip}`);
  assert.equal(await fetchFromHost(a.ip), `pong ${a.ip}`);
  assert.equal(b.ip, `${subnet}.3`);
});

test('remove() leaves no namespace and no veth, is idempotent, and the bridge goes with removeNodeNetwork', async () => {
  assert.ok(net);
  for (const c of children.splice(0)) c.kill('SIGKILL');
  const c = await createPodSandbox(net, { id: `t${tag}-c`, ip: `${subnet}.4`, hostname: 'pod-c' });
  await c.remove();
  await c.remove();
  await removePodSandbox(idA);
  await removePodSandbox(idB);
  await removePodSandbox(idA);
  const namespaces = await run('ip', ['netns', 'list']);
  assert.doesNotMatch(namespaces, new RegExp(`skiff-t${tag}`));
  const links = await run('ip', ['link', 'show']);
  for (const id of [idA, idB, `t${tag}-c`]) assert.ok(!links.includes(hostVethName(id)), `veth of ${id} is gone`);
  await removeNodeNetwork(net);
  await removeNodeNetwork(net);
  assert.ok(!(await run('ip', ['link', 'show'])).includes(bridge), 'bridge is gone');
});

test('bad input is refused before anything is created', async () => {
  assert.ok(net);
  await assert.rejects(createNodeNetwork({ bridge: 'a-bridge-name-too-long', podCidr }), /invalid bridge name/);
  await assert.rejects(createNodeNetwork({ bridge, podCidr: '10.200.0.1/24' }), /host bits/);
  await assert.rejects(createPodSandbox(net, { id: `t${tag}-d`, ip: `${subnet}.1`, hostname: 'x' }), /not a free host address/);
  await assert.rejects(createPodSandbox(net, { id: 'bad id; rm', ip: `${subnet}.5`, hostname: 'x' }), /invalid sandbox id/);
});
