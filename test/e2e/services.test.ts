// Issue 6's story through kubectl with real pods on the local node: a Deployment behind a
// ClusterIP answering from every replica, a NodePort from the host, a LoadBalancer address from
// the cluster's pool, cluster DNS from inside a pod (short, namespaced and full names; headless
// and ExternalName from the host), Endpoints and EndpointSlices, and traffic following a scale-down.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { until } from '../support/eventually.js';
import { flagValue, localNodeFlags, startSkiff, type Skiff } from './harness.js';

const ECHO = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 3
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 2
      volumes: [{name: www, emptyDir: {}}]
      initContainers:
      - name: page
        image: busybox
        command: ["sh", "-c", "hostname > /www/index.html"]
        volumeMounts: [{name: www, mountPath: /www}]
      containers:
      - name: web
        image: python
        command: ["python3", "-m", "http.server", "8080", "--directory", "/www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: http}, periodSeconds: 1}
        volumeMounts: [{name: www, mountPath: /www}]
`;

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

type Reply = { rcode?: string; answers?: { type: string; data: unknown }[]; authorities?: { type: string }[] };

function dnsQuery(server: string, name: string, type: 'A' | 'CNAME' | 'SRV'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const t = setTimeout(() => (sock.close(), reject(new Error(`no DNS answer for ${name}`))), 3000);
    sock.on('message', (m) => {
      clearTimeout(t);
      sock.close();
      resolve(dnsPacket.decode(m) as unknown as Reply);
    });
    sock.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as never] }), 53, server);
  });
}

describe('services, endpoints and cluster DNS on the local node', { timeout: 240_000 }, () => {
  let s: Skiff;
  const flags = localNodeFlags();
  const dnsIP = flagValue(flags, 'service-cidr').replace(/0\/16$/, '10');
  const pool = flagValue(flags, 'lb-pool').replace(/0\/24$/, '');
  let clusterIP = '';
  before(async () => {
    s = await startSkiff(flags);
    const r = await s.kubectl(['apply', '-f', '-'], { input: ECHO });
    assert.equal(r.code, 0, r.stderr);
    await until(
      async () => {
        const d = JSON.parse((await s.kubectl(['get', 'deploy', 'echo', '-o', 'json'])).stdout);
        assert.equal(d.status.readyReplicas, 3);
      },
      { timeoutMs: 60_000 },
    );
  });
  after(async () => {
    await s?.stop();
  });

  async function answers(url: string, n: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(await httpGet(url));
    return seen;
  }

  it('a ClusterIP answers from every ready replica', async () => {
    const r = await s.kubectl(['expose', 'deploy', 'echo', '--port=80', '--target-port=http']);
    assert.equal(r.code, 0, r.stderr);
    clusterIP = (await s.kubectl(['get', 'svc', 'echo', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    await until(async () => assert.equal((await answers(`http://${clusterIP}/`, 30)).size, 3), { timeoutMs: 20_000 });
  });

  it('shows its endpoints (kubectl get endpoints, describe svc)', async () => {
    const ep = await s.kubectl(['get', 'endpoints', 'echo', '--no-headers']);
    assert.match(ep.stdout, /^echo\s+(\d+\.\d+\.\d+\.\d+:8080,?){3}\s/);
    const d = await s.kubectl(['describe', 'svc', 'echo']);
    assert.match(d.stdout, /Endpoints:\s+\d+\.\d+\.\d+\.\d+:8080,\d+\.\d+\.\d+\.\d+:8080,\d+\.\d+\.\d+\.\d+:8080/);
    const slices = await s.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=echo', '-o', 'jsonpath={.items[*].endpoints[*].conditions.ready}']);
    assert.equal(slices.stdout, 'true true true');
  });

  it('a NodePort answers on the node from the host', async () => {
    const r = await s.kubectl(['expose', 'deploy', 'echo', '--name=echo-np', '--type=NodePort', '--port=80', '--target-port=8080']);
    assert.equal(r.code, 0, r.stderr);
    const port = (await s.kubectl(['get', 'svc', 'echo-np', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
    assert.ok(Number(port) >= 30000 && Number(port) <= 32767);
    await until(async () => assert.equal((await answers(`http://127.0.0.1:${port}/`, 30)).size, 3), { timeoutMs: 20_000 });
  });

  it('a LoadBalancer gets an address from the pool and answers there', async () => {
    const r = await s.kubectl(['expose', 'deploy', 'echo', '--name=echo-lb', '--type=LoadBalancer', '--port=8000', '--target-port=8080']);
    assert.equal(r.code, 0, r.stderr);
    const ip = await until(async () => {
      const got = (await s.kubectl(['get', 'svc', 'echo-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).stdout;
      assert.ok(got.startsWith(pool), got);
      return got;
    });
    const wide = await s.kubectl(['get', 'svc', 'echo-lb', '--no-headers']);
    assert.match(wide.stdout, new RegExp(`LoadBalancer\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+8000:\\d+/TCP`));
    await until(async () => assert.ok((await answers(`http://${ip}:8000/`, 5)).size >= 1));
  });

  it('resolves service names inside a pod: short, namespaced and full', async () => {
    const r = await s.kubectl(['run', 'client', '--image=python', '--', 'sleep', '600']);
    assert.equal(r.code, 0, r.stderr);
    await until(async () => assert.equal((await s.kubectl(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])).stdout, 'Running'));
    const py = 'import socket,sys,urllib.request; print(*[socket.gethostbyname(n) for n in sys.argv[1:]]); print(urllib.request.urlopen("http://echo/").status)';
    const out = await until(async () => {
      const x = await s.kubectl(['exec', 'client', '--', 'python3', '-c', py, 'echo', 'echo.default', 'echo.default.svc.cluster.local']);
      assert.equal(x.code, 0, x.stderr);
      return x.stdout;
    });
    assert.equal(out, `${clusterIP} ${clusterIP} ${clusterIP}\n200\n`);
  });

  it('answers headless, SRV, ExternalName and unknown names as Kubernetes DNS does', async () => {
    await s.kubectl(['apply', '-f', '-'], {
      input: `
apiVersion: v1
kind: Service
metadata: {name: echo-headless}
spec: {clusterIP: None, selector: {app: echo}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: docs}
spec: {type: ExternalName, externalName: docs.example.test}
`,
    });
    const podIPs = (await s.kubectl(['get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[*].status.podIP}'])).stdout.split(' ').sort();
    await until(async () => {
      const a = await dnsQuery(dnsIP, 'echo-headless.default.svc.cluster.local', 'A');
      assert.deepEqual((a.answers ?? []).map((x) => x.data as string).sort(), podIPs);
    });
    // a named port has SRV records: one per endpoint of a headless Service
    const srv = await dnsQuery(dnsIP, '_http._tcp.echo-headless.default.svc.cluster.local', 'SRV');
    const targets = (srv.answers ?? []).map((x) => x.data as { port: number; target: string });
    assert.equal(targets.length, 3);
    for (const t of targets) {
      assert.equal(t.port, 8080);
      assert.match(t.target, /^\d+-\d+-\d+-\d+\.echo-headless\.default\.svc\.cluster\.local$/);
    }
    const cname = await dnsQuery(dnsIP, 'docs.default.svc.cluster.local', 'CNAME');
    assert.equal(cname.answers?.[0]?.data, 'docs.example.test');
    const missing = await dnsQuery(dnsIP, 'nope.default.svc.cluster.local', 'A');
    assert.equal(missing.rcode, 'NXDOMAIN');
    assert.equal(missing.authorities?.[0]?.type, 'SOA');
  });

  it('traffic follows a scale-down', async () => {
    const r = await s.kubectl(['scale', 'deploy', 'echo', '--replicas=1']);
    assert.equal(r.code, 0, r.stderr);
    await until(async () => assert.equal((await answers(`http://${clusterIP}/`, 20)).size, 1), { timeoutMs: 30_000 });
  });
});
