// More of issue 6 through kubectl with real pods: a not-ready pod gets no traffic (and gets it once
// ready), sessionAffinity ClientIP keeps a client on one pod, a UDP Service, and a Service with
// several ports.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/eventually.js';
import { localNodeFlags, startSkiff, type Skiff } from './harness.js';

// three pods answering with their name over HTTP (8080) and UDP (9090); ready only once /tmp/ready-<name> exists
const PODS = ['a', 'b', 'c']
  .map(
    (n) => `
apiVersion: v1
kind: Pod
metadata: {name: multi-${n}, labels: {app: multi}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: python
    command: ["python3", "-c", "import http.server,socket,threading\\nname=socket.gethostname()\\nu=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('',9090))\\ndef udp():\\n  while True:\\n    d,a=u.recvfrom(100); u.sendto(name.encode(),a)\\nthreading.Thread(target=udp,daemon=True).start()\\nclass H(http.server.BaseHTTPRequestHandler):\\n  def do_GET(s):\\n    s.send_response(200); s.end_headers(); s.wfile.write(name.encode())\\n  def log_message(s,*a): pass\\nhttp.server.ThreadingHTTPServer(('',8080),H).serve_forever()"]
    ports: [{name: http, containerPort: 8080}, {name: echo, containerPort: 9090, protocol: UDP}]
    readinessProbe: {exec: {command: ["test", "-f", "/tmp/ready-multi-${n}"]}, periodSeconds: 1}
`,
  )
  .join('---\n');

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

function udpAsk(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const t = setTimeout(() => (sock.close(), reject(new Error('no UDP answer'))), 2000);
    sock.on('message', (m) => {
      clearTimeout(t);
      sock.close();
      resolve(m.toString());
    });
    sock.send('hi', port, ip);
  });
}

describe('service traffic rules on the local node', { timeout: 240_000 }, () => {
  let s: Skiff;
  before(async () => {
    for (const n of ['a', 'b', 'c']) rmSync(`/tmp/ready-multi-${n}`, { force: true });
    s = await startSkiff(localNodeFlags());
    const r = await s.kubectl(['apply', '-f', '-'], { input: PODS });
    assert.equal(r.code, 0, r.stderr);
    const svc = await s.kubectl(['apply', '-f', '-'], {
      input: `
apiVersion: v1
kind: Service
metadata: {name: multi}
spec:
  selector: {app: multi}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: echo, port: 90, targetPort: echo, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: multi}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
`,
    });
    assert.equal(svc.code, 0, svc.stderr);
    await until(async () => assert.equal((await s.kubectl(['get', 'pods', '-l', 'app=multi', '-o', 'jsonpath={.items[*].status.phase}'])).stdout, 'Running Running Running'), { timeoutMs: 60_000 });
  });
  after(async () => {
    await s?.stop();
    // the runtime runs on the node's own filesystem: the readiness flags are host files
    for (const n of ['a', 'b', 'c']) rmSync(`/tmp/ready-multi-${n}`, { force: true });
  });

  const ipOf = async (svc: string) => (await s.kubectl(['get', 'svc', svc, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  async function answers(url: string, n: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(await httpGet(url));
    return seen;
  }

  it('a not-ready pod receives no traffic, and receives it once ready', async () => {
    for (const n of ['a', 'b']) assert.equal((await s.kubectl(['exec', `multi-${n}`, '--', 'touch', `/tmp/ready-multi-${n}`])).code, 0);
    const ip = await ipOf('multi');
    await until(async () => assert.deepEqual([...(await answers(`http://${ip}/`, 30))].sort(), ['multi-a', 'multi-b']), { timeoutMs: 20_000 });
    assert.equal((await s.kubectl(['exec', 'multi-c', '--', 'touch', '/tmp/ready-multi-c'])).code, 0);
    await until(async () => assert.deepEqual([...(await answers(`http://${ip}/`, 40))].sort(), ['multi-a', 'multi-b', 'multi-c']), { timeoutMs: 20_000 });
  });

  it('a UDP port of a multi-port Service reaches the pods', async () => {
    const ip = await ipOf('multi');
    const seen = await until(async () => {
      const got = new Set<string>();
      for (let i = 0; i < 30; i++) got.add(await udpAsk(ip, 90));
      assert.ok(got.size >= 2, [...got].join(' '));
      return got;
    });
    for (const x of seen) assert.match(x, /^multi-[abc]$/);
  });

  it('sessionAffinity ClientIP keeps a client on one pod', async () => {
    const ip = await ipOf('sticky');
    await until(async () => assert.equal((await answers(`http://${ip}/`, 1)).size, 1));
    const seen = await answers(`http://${ip}/`, 30);
    assert.equal(seen.size, 1, [...seen].join(' '));
  });
});
