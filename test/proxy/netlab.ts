// A small network made for the proxy's tests, all inside namespaces the test creates: a "node"
// namespace with a bridge (the pod CIDR's gateway) and an uplink interface holding the node's own
// address (and a default route, as a real host has), and "pod" namespaces on the bridge running
// tiny servers that answer with their name over TCP (HTTP) and UDP. destroy() kills every server
// and deletes every namespace (their veths go with them), also after a failure halfway.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Lab {
  node: string;
  nodeIP: string;
  gateway: string;
  podCidr: string;
  clusterCidr: string;
  /** Adds a pod namespace with `ip` on the bridge. */
  addPod(name: string, ip: string): string;
  /** Starts an HTTP server on `port` and a UDP server on `port` answering `name`. */
  serve(pod: string, name: string, port: number): Promise<void>;
  /** Runs node code inside a namespace and returns its stdout (asynchronously: the proxy under
   *  test shares this process's event loop). */
  run(ns: string, code: string): Promise<string>;
  destroy(): void;
}

const SERVER = `
const [name, port] = process.argv.slice(1);
require('node:http').createServer((q, s) => s.end(name)).listen(+port, () => {
  const u = require('node:dgram').createSocket('udp4');
  u.on('message', (m, r) => u.send(name, r.port, r.address));
  u.bind(+port, () => console.log('up'));
});`;

/** `ip` with arguments, throwing with its stderr. */
export function ipc(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createLab(): Lab {
  const tag = randomBytes(3).toString('hex');
  const node = `pxn-${tag}`;
  const pods: string[] = [];
  const procs: ChildProcess[] = [];
  const lab: Lab = {
    node,
    nodeIP: '192.168.250.1',
    gateway: '10.77.1.1',
    podCidr: '10.77.1.0/24',
    clusterCidr: '10.77.0.0/16',
    addPod(name, ip) {
      const ns = `pxp-${tag}-${name}`;
      ipc(['netns', 'add', ns]);
      pods.push(ns);
      const veth = `vx${tag}${name}`.slice(0, 15);
      ipc(['-n', node, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ipc(['-n', node, 'link', 'set', veth, 'master', 'br0', 'up']);
      ipc(['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      ipc(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ipc(['-n', ns, 'link', 'set', 'lo', 'up']);
      ipc(['-n', ns, 'route', 'add', 'default', 'via', lab.gateway]);
      return ns;
    },
    async serve(pod, name, port) {
      const p = spawn('ip', ['netns', 'exec', pod, process.execPath, '-e', SERVER, name, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
      procs.push(p);
      await new Promise<void>((resolve, reject) => {
        p.stdout!.once('data', () => resolve());
        p.once('exit', (c) => reject(new Error(`server ${name} exited ${c}`)));
      });
    },
    run(ns, code) {
      return new Promise((resolve, reject) => {
        execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { encoding: 'utf8', timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out)));
      });
    },
    destroy() {
      for (const p of procs) p.kill('SIGKILL');
      for (const ns of [...pods, node]) {
        try {
          ipc(['netns', 'del', ns]);
        } catch {
          /* already gone */
        }
      }
    },
  };
  try {
    ipc(['netns', 'add', node]);
    ipc(['-n', node, 'link', 'set', 'lo', 'up']);
    ipc(['-n', node, 'link', 'add', 'br0', 'type', 'bridge']);
    ipc(['-n', node, 'addr', 'add', `${lab.gateway}/24`, 'dev', 'br0']);
    ipc(['-n', node, 'link', 'set', 'br0', 'up']);
    // the node's "uplink": a veth pair inside the node namespace (dummy interfaces need a module
    // this kernel may lack); its far end is up so the address and default route are usable
    ipc(['-n', node, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    ipc(['-n', node, 'addr', 'add', `${lab.nodeIP}/24`, 'dev', 'up0']);
    ipc(['-n', node, 'link', 'set', 'up1', 'up']);
    ipc(['-n', node, 'link', 'set', 'up0', 'up']);
    ipc(['-n', node, 'route', 'add', 'default', 'via', '192.168.250.254', 'dev', 'up0', 'onlink']);
    execFileSync('ip', ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

/**
 * Node code that makes `n` fresh connections (HTTP GET, or UDP datagrams from fresh sockets) to
 * host:port and prints a JSON count of the answers; failures count as "error: <code>".
 */
export function clientCode(proto: 'tcp' | 'udp', host: string, port: number, n: number): string {
  return `
const out = {};
const add = (k) => (out[k] = (out[k] || 0) + 1);
const one = () => new Promise((res) => {
  ${
    proto === 'tcp'
      ? `const q = require('node:http').get({ host: '${host}', port: ${port}, agent: false, timeout: 3000 }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => { add(b); res(); }); });
  q.on('timeout', () => q.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  q.on('error', (e) => { add('error: ' + e.code); res(); });`
      : `const s = require('node:dgram').createSocket('udp4');
  const t = setTimeout(() => { add('error: TIMEOUT'); s.close(); res(); }, 2000);
  s.on('message', (m) => { clearTimeout(t); add(String(m)); s.close(); res(); });
  s.on('error', (e) => { clearTimeout(t); add('error: ' + e.code); s.close(); res(); });
  s.send('hi', ${port}, '${host}');`
  }
});
(async () => { for (let i = 0; i < ${n}; i++) await one(); console.log(JSON.stringify(out)); })();`;
}
