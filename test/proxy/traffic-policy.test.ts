// externalTrafficPolicy and internalTrafficPolicy with real traffic, as Kubernetes defines them:
// startProxy programs nftables inside a "node" network namespace (netlab.ts) whose bridge holds a
// pod of this node (a) and a pod labelled as running on another node (b, reachable on the same
// bridge, nodeName 'other' in the slice), plus a client pod of this node (c). An "outside"
// namespace, joined to the node by its own veth uplink on another subnet and routing everything
// through the node, is the client from outside the cluster. Servers answer "<identity> <the peer
// address they see>". Proved: under externalTrafficPolicy Local every outside connection to the
// NodePort and to the LoadBalancer address lands on the local endpoint and keeps the client's
// source address; under Cluster both endpoints answer and the source is the node's (masqueraded);
// Local on a node without a local endpoint drops (the connection times out, it is not refused);
// internalTrafficPolicy Local sends a pod's ClusterIP traffic to the node-local endpoint only.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { nftBinary, runNft } from '../../src/proxy/nft.js';
import { startProxy, type ServiceProxy } from '../../src/proxy/proxier.js';
import { until } from '../support/eventually.js';
import { slice, type Ep } from './fixtures.js';
import { createLab, ipc, type Lab } from './netlab.js';

const SERVICES = resourceFor('', 'v1', 'services');
const SLICES = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
const NODE = 'n1';
const A = '10.77.1.2'; // endpoint on this node
const B = '10.77.1.3'; // endpoint on node 'other'
const C = '10.77.1.4'; // a client pod on this node
const EXT_NODE = '203.0.113.1'; // the node's address on the outside link
const EXT_CLIENT = '203.0.113.2'; // the outside client
const LB_IP = '192.168.251.20';
const PORT = 8080;

/** Answers every TCP connection with "<name> <peer address>" and closes. */
const SERVER = `
const [name, port] = process.argv.slice(1);
require('node:net').createServer((s) => s.end(name + ' ' + s.remoteAddress)).listen(+port, '0.0.0.0', () => console.log('up'));`;

/** n sequential fresh TCP connections; prints a JSON count of the answers ("error: <code>" on failure). */
function connectCode(host: string, port: number, n: number, timeoutMs: number): string {
  return `
const out = {};
const add = (k) => (out[k] = (out[k] || 0) + 1);
const one = () => new Promise((res) => {
  let b = '';
  let done = false;
  const fin = (k) => { if (!done) { done = true; add(k); s.destroy(); res(); } };
  const s = require('node:net').connect({ host: '${host}', port: ${port} });
  s.setTimeout(${timeoutMs}, () => fin('error: TIMEOUT'));
  s.on('data', (d) => (b += d));
  s.on('end', () => fin(b));
  s.on('error', (e) => fin('error: ' + e.code));
});
(async () => { for (let i = 0; i < ${n}; i++) await one(); console.log(JSON.stringify(out)); })();`;
}

describe('traffic policies (nftables, real traffic from outside the node)', () => {
  let lab: Lab | undefined;
  let outside: string | undefined;
  let srv: ApiServer | undefined;
  let c: Client;
  let dir: string | undefined;
  let proxy: ServiceProxy | undefined;
  let podC: string;
  const procs: ChildProcess[] = [];
  const instance = `tp${process.pid}`;

  async function serve(ns: string, name: string): Promise<void> {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, name, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(p);
    await new Promise<void>((resolve, reject) => {
      p.stdout!.once('data', () => resolve());
      p.once('exit', (code) => reject(new Error(`server ${name} exited ${code}`)));
    });
  }

  before(async () => {
    lab = createLab();
    const a = lab.addPod('a', A);
    const b = lab.addPod('b', B);
    podC = lab.addPod('c', C);
    // the outside client: its own namespace on 203.0.113.0/24, everything routed via the node
    outside = lab.node.replace(/^pxn-/, 'pxo-');
    ipc(['netns', 'add', outside]);
    ipc(['-n', lab.node, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
    ipc(['-n', lab.node, 'addr', 'add', `${EXT_NODE}/24`, 'dev', 'ext0']);
    ipc(['-n', lab.node, 'link', 'set', 'ext0', 'up']);
    ipc(['-n', outside, 'addr', 'add', `${EXT_CLIENT}/24`, 'dev', 'eth0']);
    ipc(['-n', outside, 'link', 'set', 'eth0', 'up']);
    ipc(['-n', outside, 'link', 'set', 'lo', 'up']);
    ipc(['-n', outside, 'route', 'add', 'default', 'via', EXT_NODE]);
    await serve(a, 'a');
    await serve(b, 'b');
    dir = mkdtempSync(join(tmpdir(), 'skiff-proxy-tp-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('proxy-tp-test');
    proxy = await startProxy({
      client: c,
      nodeName: NODE,
      nodeIPs: [lab.nodeIP, EXT_NODE],
      clusterCidr: lab.clusterCidr,
      podCidr: lab.podCidr,
      serviceCidr: '10.43.0.0/16',
      instance,
      netns: lab.node,
      mode: 'nftables',
    });
    await proxy.ready();
  });

  after(async () => {
    try {
      await proxy?.stop();
      if (lab) assert.doesNotMatch(await runNft(['list', 'tables'], { netns: lab.node }), new RegExp(`skiff-${instance}`), 'stop() removed the table');
    } finally {
      for (const p of procs) p.kill('SIGKILL');
      await srv?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (outside) {
        try {
          ipc(['netns', 'del', outside]);
        } catch {
          /* never made */
        }
      }
      lab?.destroy();
    }
  });

  async function createService(name: string, spec: Record<string, unknown>): Promise<Service> {
    return (await c.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ...spec } } as KubeObject)) as unknown as Service;
  }
  async function putSlice(svc: string, eps: Ep[]): Promise<void> {
    const obj = slice(svc, eps, { port: PORT }, `${svc}-x`) as unknown as KubeObject;
    try {
      const cur = await c.get(SLICES, obj.metadata.name!, { namespace: 'default' });
      await c.update(SLICES, { ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } });
    } catch {
      await c.create(SLICES, obj);
    }
  }
  /** Waits until the rules in force name exactly `ips` as the endpoints of service `svc`. */
  async function programmed(svc: string, ips: string[]): Promise<void> {
    await until(
      () => {
        const m = proxy!.model();
        assert.ok(m);
        const eps = Object.keys(m.chains)
          .filter((n) => n.startsWith('endpoint-') && n.includes(`-default/${svc}/tcp/`))
          .map((n) => n.slice(n.lastIndexOf('__') + 2).split('/')[0]!);
        assert.deepEqual([...new Set(eps)].sort(), [...ips].sort());
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  }
  /** n fresh connections from namespace `ns` to host:port; counts of "<identity> <peer seen>". */
  async function hits(ns: string, host: string, port: number, n = 20, timeoutMs = 3000): Promise<Record<string, number>> {
    return JSON.parse(await lab!.run(ns, connectCode(host, port, n, timeoutMs))) as Record<string, number>;
  }

  test('externalTrafficPolicy Local: outside traffic to the NodePort and the LoadBalancer address reaches only the local endpoint, with the client source kept', async () => {
    const svc = await createService('etp-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: PORT }] });
    assert.equal(svc.spec!.externalTrafficPolicy, 'Local');
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    await c.patch(SERVICES, 'etp-local', 'merge', { status: { loadBalancer: { ingress: [{ ip: LB_IP, ipMode: 'VIP' }] } } }, { namespace: 'default', subresource: 'status' });
    await putSlice('etp-local', [{ ip: A, node: NODE }, { ip: B, node: 'other' }]);
    await programmed('etp-local', [A, B]);
    await until(() => assert.ok(proxy!.model()!.maps['service-ips']!.elements[`${LB_IP} . tcp . 80`]), { timeoutMs: 15_000, intervalMs: 50 });
    // every one of 20 connections, to the node's uplink address, to its other address and to the LB address
    assert.deepEqual(await hits(outside!, EXT_NODE, nodePort), { [`a ${EXT_CLIENT}`]: 20 });
    assert.deepEqual(await hits(outside!, lab!.nodeIP, nodePort), { [`a ${EXT_CLIENT}`]: 20 });
    assert.deepEqual(await hits(outside!, LB_IP, 80), { [`a ${EXT_CLIENT}`]: 20 });
    // pods of the cluster reaching the external address get the cluster-wide behaviour (upstream),
    // unmasqueraded: both endpoints, the pod's own address seen
    const fromPod = await hits(podC, lab!.nodeIP, nodePort, 30);
    assert.deepEqual(Object.keys(fromPod).sort(), [`a ${C}`, `b ${C}`], JSON.stringify(fromPod));
  });

  test('externalTrafficPolicy Cluster: outside traffic reaches both endpoints, masqueraded to the node address', async () => {
    const svc = await createService('etp-cluster', { type: 'LoadBalancer', ports: [{ port: 80, targetPort: PORT }] });
    assert.equal(svc.spec!.externalTrafficPolicy ?? 'Cluster', 'Cluster');
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    const lb = '192.168.251.21';
    await c.patch(SERVICES, 'etp-cluster', 'merge', { status: { loadBalancer: { ingress: [{ ip: lb, ipMode: 'VIP' }] } } }, { namespace: 'default', subresource: 'status' });
    await putSlice('etp-cluster', [{ ip: A, node: NODE }, { ip: B, node: 'other' }]);
    await programmed('etp-cluster', [A, B]);
    await until(() => assert.ok(proxy!.model()!.maps['service-ips']!.elements[`${lb} . tcp . 80`]), { timeoutMs: 15_000, intervalMs: 50 });
    // the masquerade source is the node's address on the bridge the endpoints sit on
    for (const [host, port] of [[EXT_NODE, nodePort], [lb, 80]] as const) {
      const h = await hits(outside!, host, port, 30);
      assert.deepEqual(Object.keys(h).sort(), [`a ${lab!.gateway}`, `b ${lab!.gateway}`], `${host}:${port} ${JSON.stringify(h)}`);
    }
  });

  test('externalTrafficPolicy Local on a node without a local endpoint drops outside traffic (it times out), until a local endpoint appears', async () => {
    const svc = await createService('etp-none', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: PORT }] });
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    await putSlice('etp-none', [{ ip: B, node: 'other' }]);
    await programmed('etp-none', [B]); // the remote endpoint serves pods; the local chain drops
    await until(() => assert.equal(proxy!.model()!.maps['service-nodeports']!.elements[`tcp . ${nodePort}`]?.startsWith('goto external-'), true), { timeoutMs: 15_000, intervalMs: 50 });
    assert.deepEqual(await hits(outside!, EXT_NODE, nodePort, 3, 1500), { 'error: TIMEOUT': 3 }, 'dropped, not refused');
    // a pod of this node still reaches the remote endpoint through the same NodePort (cluster-wide for pods)
    assert.deepEqual(await hits(podC, lab!.nodeIP, nodePort, 5), { [`b ${C}`]: 5 });
    await putSlice('etp-none', [{ ip: A, node: NODE }, { ip: B, node: 'other' }]);
    await programmed('etp-none', [A, B]);
    assert.deepEqual(await hits(outside!, EXT_NODE, nodePort), { [`a ${EXT_CLIENT}`]: 20 });
  });

  test('internalTrafficPolicy Local: a pod on the node reaches only the node-local endpoint through the ClusterIP; Cluster reaches both', async () => {
    const local = await createService('itp-local', { internalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: PORT }] });
    const cluster = await createService('itp-cluster', { ports: [{ port: 80, targetPort: PORT }] });
    await putSlice('itp-local', [{ ip: A, node: NODE }, { ip: B, node: 'other' }]);
    await putSlice('itp-cluster', [{ ip: A, node: NODE }, { ip: B, node: 'other' }]);
    await programmed('itp-local', [A]);
    await programmed('itp-cluster', [A, B]);
    assert.deepEqual(await hits(podC, local.spec!.clusterIP!, 80), { [`a ${C}`]: 20 });
    const h = await hits(podC, cluster.spec!.clusterIP!, 80, 30);
    assert.deepEqual(Object.keys(h).sort(), [`a ${C}`, `b ${C}`], JSON.stringify(h));
    // with no local endpoint at all, a Local ClusterIP drops (upstream), it does not refuse
    await putSlice('itp-local', [{ ip: B, node: 'other' }]);
    await programmed('itp-local', []);
    assert.deepEqual(await hits(podC, local.spec!.clusterIP!, 80, 2, 1500), { 'error: TIMEOUT': 2 });
  });
});
