// Simulated nodes against the real API server (in-process client): they register Ready with
// capacity, hold and renew Leases, and drive the pods bound to them as a kubelet would (Pending,
// then Running with an address from the node's pod CIDR, Job pods to Succeeded, graceful
// deletions to the end). Node IPAM runs alongside, as in `skiff up`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startNodeIpam } from '../../src/controllers/node-ipam.js';
import { SimNodePool } from '../../src/node/sim-nodes.js';
import { FakeClock, realClock, type Clock } from '../../src/util/clock.js';
import { cidrContains, parseIpv4, parseIpv4Cidr } from '../../src/util/ipv4-cidr.js';
import { eventually } from '../support/eventually.js';

const pods = resourceFor('', 'v1', 'pods');
const nodes = resourceFor('', 'v1', 'nodes');
const leases = resourceFor('coordination.k8s.io', 'v1', 'leases');

/** Polls `cond` until it holds; fails with `what` if it never does. Asserts state, not time. */

/** The real clock, counting the timers armed and not yet fired or cancelled. */
function countingClock(): Clock & { live(): number } {
  let live = 0;
  return {
    now: () => realClock.now(),
    setTimeout(fn, ms) {
      live++;
      let done = false;
      const t = realClock.setTimeout(() => {
        if (!done) live--;
        done = true;
        fn();
      }, ms);
      return {
        cancel() {
          if (!done) live--;
          done = true;
          t.cancel();
        },
      };
    },
    live: () => live,
  };
}

function pod(name: string, nodeName: string, extra: Partial<Pod['spec']> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...meta },
    spec: { nodeName, containers: [{ name: 'web', image: 'nginx:1.25' }], ...extra },
  };
}

describe('simulated nodes', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ipam: { stop(): void } | undefined;
  let pool: SimNodePool;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sim-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('sim-nodes-test');
    ipam = startNodeIpam(c, { clusterCidr: '10.42.0.0/16' });
    pool = new SimNodePool(c, { names: ['sim-0', 'sim-1'], capacity: { cpu: '8' }, labels: { zone: 'a' }, startDelayMs: 300, jobPodRunMs: 200, renewIntervalMs: 100 });
    await pool.start();
  });
  after(async () => {
    pool?.stop();
    ipam?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nodes register Ready, with capacity equal to allocatable, labels, addresses and nodeInfo', async () => {
    const n = (await c.get(nodes, 'sim-0')) as unknown as Node;
    assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'sim-0');
    assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(n.metadata?.labels?.['kubernetes.io/arch'], 'amd64');
    assert.equal(n.metadata?.labels?.type, 'sim');
    assert.equal(n.metadata?.labels?.zone, 'a');
    assert.equal(n.metadata?.annotations?.['skiff.dev/simulated'], 'true');
    assert.deepEqual(n.status?.capacity, { cpu: '8', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' });
    assert.deepEqual(n.status?.allocatable, n.status?.capacity);
    const ready = n.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'KubeletReady');
    assert.equal(ready?.message, 'kubelet is posting ready status');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(n.status?.conditions?.find((x) => x.type === type)?.status, 'False', type);
    }
    const internal = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    assert.ok(cidrContains(parseIpv4Cidr('10.200.0.0/16')!, parseIpv4(internal) ?? 0), `InternalIP ${internal} is in 10.200.0.0/16`);
    assert.deepEqual(n.status?.addresses?.find((a) => a.type === 'Hostname'), { type: 'Hostname', address: 'sim-0' });
    assert.equal(n.status?.nodeInfo?.kubeletVersion, 'v1.32.4-skiff-sim');
    assert.equal(n.status?.nodeInfo?.containerRuntimeVersion, 'sim://0.1.0');
    assert.equal(n.status?.nodeInfo?.operatingSystem, 'linux');
    const other = (await c.get(nodes, 'sim-1')) as unknown as Node;
    assert.notEqual(other.status?.addresses?.[0]?.address, internal, 'each node has its own address');
  });

  test('node IPAM gives each simulated node its own /24', async () => {
    let cidrs: string[] = [];
    await eventually('both nodes have a pod CIDR', async () => {
      cidrs = await Promise.all(['sim-0', 'sim-1'].map(async (n) => ((await c.get(nodes, n)) as unknown as Node).spec?.podCIDR ?? ''));
      return cidrs.every((x) => x !== '');
    });
    assert.notEqual(cidrs[0], cidrs[1]);
    for (const x of cidrs) assert.match(x, /^10\.42\.\d+\.0\/24$/);
  });

  test('every node holds a Lease in kube-node-lease and renews it', async () => {
    const first = (await c.get(leases, 'sim-1', { namespace: 'kube-node-lease' })) as unknown as Lease;
    assert.equal(first.spec?.holderIdentity, 'sim-1');
    assert.equal(first.spec?.leaseDurationSeconds, 40);
    assert.match(first.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(first.metadata?.ownerReferences?.[0]?.kind, 'Node');
    await eventually('the lease is renewed', async () => {
      const l = (await c.get(leases, 'sim-1', { namespace: 'kube-node-lease' })) as unknown as Lease;
      return l.spec?.renewTime !== first.spec?.renewTime;
    });
  });

  test('a bound pod goes Pending (containers being created), then Running and Ready with an address from the node pod CIDR', async () => {
    const seen: Pod[] = [];
    const w = await c.watch(pods, { namespace: 'default', fieldSelector: 'metadata.name=web-1' });
    const collecting = (async () => {
      for await (const ev of w) {
        seen.push(ev.object as unknown as Pod);
        if ((ev.object as unknown as Pod).status?.phase === 'Running') break;
      }
    })();
    await c.create(pods, pod('web-1', 'sim-0', { initContainers: [{ name: 'setup', image: 'busybox' }] }));
    await collecting;
    w.close();

    const pending = seen.find((p) => p.status?.phase === 'Pending' && p.status.containerStatuses);
    assert.ok(pending, 'a Pending status with container statuses was reported first');
    assert.equal(pending.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
    assert.equal(pending.status?.conditions?.find((x) => x.type === 'Initialized')?.reason, 'ContainersNotInitialized');
    assert.ok(pending.status?.hostIP && pending.status.startTime);

    const p = (await c.get(pods, 'web-1', { namespace: 'default' })) as unknown as Pod;
    const node = (await c.get(nodes, 'sim-0')) as unknown as Node;
    assert.equal(p.status?.phase, 'Running');
    assert.ok(cidrContains(parseIpv4Cidr(node.spec!.podCIDR!)!, parseIpv4(p.status?.podIP ?? '') ?? 0), `${p.status?.podIP} in ${node.spec?.podCIDR}`);
    assert.deepEqual(p.status?.podIPs, [{ ip: p.status?.podIP }]);
    assert.equal(p.status?.hostIP, node.status?.addresses?.[0]?.address);
    for (const type of ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) {
      assert.equal(p.status?.conditions?.find((x) => x.type === type)?.status, 'True', type);
    }
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state?.running?.startedAt);
    assert.match(cs?.containerID ?? '', /^sim:\/\/[0-9a-f]{64}$/);
    assert.equal(cs?.image, 'docker.io/library/nginx:1.25');
    assert.equal(p.status?.initContainerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(p.status?.qosClass, 'BestEffort', 'fields the kubelet does not write are kept');
  });

  test('pods on one node get distinct addresses', async () => {
    await Promise.all(['a', 'b', 'c'].map((s) => c.create(pods, pod(`multi-${s}`, 'sim-1'))));
    const ips: string[] = [];
    await eventually('all three run', async () => {
      ips.length = 0;
      for (const s of ['a', 'b', 'c']) {
        const p = (await c.get(pods, `multi-${s}`, { namespace: 'default' })) as unknown as Pod;
        if (p.status?.phase !== 'Running') return false;
        ips.push(p.status.podIP ?? '');
      }
      return true;
    });
    assert.equal(new Set(ips).size, 3, ips.join(' '));
    for (const ip of ips) assert.doesNotMatch(ip, /\.(0|1|255)$/, 'network, gateway and broadcast addresses are never given');
  });

  test('a pod owned by a Job completes: Succeeded, exit code 0, Ready False with reason PodCompleted', async () => {
    await c.create(pods, pod('job-x-abcde', 'sim-1', { restartPolicy: 'Never' }, { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'job-x', uid: randomUUID(), controller: true }] }));
    let p: Pod | undefined;
    await eventually('the Job pod succeeds', async () => {
      p = (await c.get(pods, 'job-x-abcde', { namespace: 'default' })) as unknown as Pod;
      return p.status?.phase === 'Succeeded';
    });
    const term = p?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 0);
    assert.equal(term?.reason, 'Completed');
    const ready = p?.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'PodCompleted');
  });

  test('a gracefully deleted pod is removed for good', async () => {
    await c.create(pods, pod('doomed', 'sim-0'));
    await eventually('it runs', async () => ((await c.get(pods, 'doomed', { namespace: 'default' })) as unknown as Pod).status?.phase === 'Running');
    const marked = (await c.delete(pods, 'doomed', { namespace: 'default' })) as KubeObject;
    assert.ok(marked.metadata.deletionTimestamp, 'the API server only marked it (30 s grace)');
    await eventually('the pod is gone', async () => {
      try {
        await c.get(pods, 'doomed', { namespace: 'default' });
        return false;
      } catch (e) {
        return isStatusError(e, 'NotFound');
      }
    });
  });

  test('a pod on a node without a pod CIDR waits for one, then runs', async () => {
    ipam?.stop();
    ipam = undefined;
    const late = new SimNodePool(c, { names: ['sim-late'], startDelayMs: 0, renewIntervalMs: 1000 });
    await late.start();
    try {
      await c.create(pods, pod('patient', 'sim-late'));
      await eventually('the pod reports Pending', async () => ((await c.get(pods, 'patient', { namespace: 'default' })) as unknown as Pod).status?.containerStatuses !== undefined);
      await new Promise((r) => setTimeout(r, 200));
      const waiting = (await c.get(pods, 'patient', { namespace: 'default' })) as unknown as Pod;
      assert.equal(waiting.status?.phase, 'Pending');
      assert.equal(waiting.status?.podIP, undefined);
      ipam = startNodeIpam(c, { clusterCidr: '10.42.0.0/16' });
      let p: Pod | undefined;
      await eventually('the pod runs once the node has a CIDR', async () => {
        p = (await c.get(pods, 'patient', { namespace: 'default' })) as unknown as Pod;
        return p.status?.phase === 'Running';
      });
      const node = (await c.get(nodes, 'sim-late')) as unknown as Node;
      assert.ok(cidrContains(parseIpv4Cidr(node.spec!.podCIDR!)!, parseIpv4(p?.status?.podIP ?? '') ?? 0));
    } finally {
      await late.removeNodes();
    }
    await assert.rejects(c.get(nodes, 'sim-late'), (e) => isStatusError(e, 'NotFound'));
    await assert.rejects(c.get(leases, 'sim-late', { namespace: 'kube-node-lease' }), (e) => isStatusError(e, 'NotFound'));
  });

  test('a restarted pool takes its nodes over and leaves running pods as they are', async () => {
    const before = (await c.get(pods, 'web-1', { namespace: 'default' })) as unknown as Pod;
    pool.stop();
    pool = new SimNodePool(c, { names: ['sim-0', 'sim-1'], capacity: { cpu: '8' }, startDelayMs: 300, renewIntervalMs: 100 });
    await pool.start();
    const after = (await c.get(pods, 'web-1', { namespace: 'default' })) as unknown as Pod;
    assert.equal(after.status?.phase, 'Running');
    assert.equal(after.status?.podIP, before.status?.podIP);
    const n = (await c.get(nodes, 'sim-0')) as unknown as Node;
    assert.equal(n.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
    // A new pod on the same node does not get the address the running one holds.
    await c.create(pods, pod('web-2', 'sim-0'));
    await eventually('the new pod runs', async () => ((await c.get(pods, 'web-2', { namespace: 'default' })) as unknown as Pod).status?.phase === 'Running');
    const fresh = (await c.get(pods, 'web-2', { namespace: 'default' })) as unknown as Pod;
    assert.notEqual(fresh.status?.podIP, before.status?.podIP);
  });

  test('a name taken by a node that is not simulated is refused', async () => {
    await c.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'real-1' } });
    const intruder = new SimNodePool(c, { names: ['real-1'] });
    await assert.rejects(intruder.start(), /node "real-1" already exists and is not a simulated node/);
    intruder.stop();
  });

  test('delays and renewals follow the injected clock: nothing moves until it is advanced', async () => {
    const clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'));
    const p = new SimNodePool(c, { names: ['sim-fake'], startDelayMs: 60_000, jobPodRunMs: 60_000, renewIntervalMs: 10_000, clock });
    await p.start();
    try {
      const lease = async () => ((await c.get(leases, 'sim-fake', { namespace: 'kube-node-lease' })) as unknown as Lease).spec?.renewTime;
      assert.equal(await lease(), '2026-03-01T00:00:00.000000Z');
      await c.create(pods, pod('fake-job', 'sim-fake', { restartPolicy: 'Never' }, { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: randomUUID(), controller: true }] }));
      const phase = async () => ((await c.get(pods, 'fake-job', { namespace: 'default' })) as unknown as Pod).status;
      await eventually('the pod reports Pending', async () => (await phase())?.containerStatuses !== undefined);
      assert.equal((await phase())?.phase, 'Pending');
      assert.equal((await phase())?.startTime, '2026-03-01T00:00:00Z');

      clock.advance(60_000);
      await eventually('the pod runs once the start delay has passed', async () => (await phase())?.phase === 'Running');
      assert.equal((await phase())?.containerStatuses?.[0]?.state?.running?.startedAt, '2026-03-01T00:01:00Z');
      // The whole minute passes at once, so renewals after the first find it still in flight and
      // skip: the lease shows the first renewal, 10 s in.
      await eventually('the lease was renewed at the first renewal time', async () => (await lease()) === '2026-03-01T00:00:10.000000Z');

      clock.advance(60_000);
      await eventually('the Job pod completes once its run time has passed', async () => (await phase())?.phase === 'Succeeded');
      assert.equal((await phase())?.containerStatuses?.[0]?.state?.terminated?.finishedAt, '2026-03-01T00:02:00Z');
    } finally {
      await p.removeNodes();
    }
  });

  test('stop() leaves no timer armed', async () => {
    const clock = countingClock();
    const p = new SimNodePool(c, { names: ['sim-timers'], startDelayMs: 5000, jobPodRunMs: 5000, renewIntervalMs: 50, clock });
    await p.start();
    await c.create(pods, pod('slow', 'sim-timers'));
    await eventually('the pod is seen and waiting to start', async () => ((await c.get(pods, 'slow', { namespace: 'default' })) as unknown as Pod).status?.containerStatuses !== undefined);
    assert.ok(clock.live() > 0, 'timers were armed while running');
    await p.removeNodes();
    assert.equal(clock.live(), 0);
  });
});
