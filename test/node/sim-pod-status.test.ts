// The statuses a simulated kubelet reports, checked against what a real kubelet writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { microTime, simInternalIP, simNodeConditions } from '../../src/node/sim-node-object.js';
import { PodIpRange } from '../../src/node/sim-pod-ips.js';
import { isJobPod, normalizeImage, simImageID, simPodStatus, type SimPodFacts, type SimPodStage } from '../../src/node/sim-pod-status.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:01Z';
const T2 = '2026-01-01T00:00:06Z';
const facts: SimPodFacts = { hostIP: '10.200.0.7', podIP: '10.42.3.2', startTime: T0, runningAt: T1, finishedAt: T2 };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, status: PodStatus = {}): Pod {
  return { metadata: { name: 'p', namespace: 'default', uid: 'u-1' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }], ...spec }, status };
}

const cond = (s: PodStatus, type: string) => s.conditions?.find((c) => c.type === type);

test('normalizeImage names images as a container runtime reports them', () => {
  const cases: [string, string, string][] = [
    ['a short Docker Hub name gets docker.io/library and :latest', 'nginx', 'docker.io/library/nginx:latest'],
    ['a tag is kept', 'nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['a Docker Hub user image gets docker.io only', 'bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['a registry with a dot is kept as the domain', 'registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['a registry with a port is a domain, and its port is not a tag', 'localhost:5000/app', 'localhost:5000/app:latest'],
    ['a digest reference gets no tag', 'nginx@sha256:abc', 'docker.io/library/nginx@sha256:abc'],
  ];
  for (const [name, input, want] of cases) assert.equal(normalizeImage(input), want, name);
});

test('simImageID is the repository at a digest', () => {
  assert.match(simImageID('nginx:1.25'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.equal(simImageID('nginx@sha256:abc'), 'docker.io/library/nginx@sha256:abc', 'a pinned digest is the ID');
  assert.notEqual(simImageID('nginx:1.25'), simImageID('nginx:1.26'), 'different tags are different images');
});

test('isJobPod tells pods a Job controls from the rest', () => {
  const cases: [string, Pod['metadata'], boolean][] = [
    ['a pod a Job controls is a Job pod', { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'x', controller: true }] }, true],
    ['a pod a ReplicaSet controls is not', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'x', controller: true }] }, false],
    ['a bare pod is not', {}, false],
  ];
  for (const [name, metadata, want] of cases) assert.equal(isJobPod({ metadata }), want, name);
});

test('simPodStatus reports each stage as a kubelet does', () => {
  const cases: { name: string; stage: SimPodStage; pod: Pod; check: (s: PodStatus) => void }[] = [
    {
      name: 'a pending pod without init containers shows its containers being created, initialized but not ready',
      stage: 'pending',
      pod: pod(),
      check: (s) => {
        assert.equal(s.phase, 'Pending');
        assert.deepEqual(s.containerStatuses?.map((c) => c.state?.waiting?.reason), ['ContainerCreating', 'ContainerCreating']);
        assert.equal(s.containerStatuses?.[0]?.ready, false);
        assert.equal(s.containerStatuses?.[0]?.image, 'nginx:1.25', 'the spec image until the runtime reports one');
        assert.equal(cond(s, 'Initialized')?.status, 'True');
        assert.equal(cond(s, 'Ready')?.reason, 'ContainersNotReady');
        assert.equal(cond(s, 'Ready')?.message, 'containers with unready status: [app log]');
        assert.equal(cond(s, 'ContainersReady')?.status, 'False');
        assert.equal(cond(s, 'PodReadyToStartContainers')?.status, 'False');
        assert.equal(s.podIP, undefined, 'no address before the sandbox exists');
        assert.equal(s.hostIP, '10.200.0.7');
        assert.equal(s.startTime, T0);
      },
    },
    {
      name: 'a pending pod with init containers shows every container as PodInitializing and is not initialized',
      stage: 'pending',
      pod: pod({ initContainers: [{ name: 'migrate', image: 'app' }] }),
      check: (s) => {
        assert.equal(s.initContainerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
        assert.equal(s.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
        assert.equal(cond(s, 'Initialized')?.status, 'False');
        assert.equal(cond(s, 'Initialized')?.message, 'containers with incomplete status: [migrate]');
      },
    },
    {
      name: 'a running pod has every container running, ready and started, with an ID and the pod address',
      stage: 'running',
      pod: pod({ initContainers: [{ name: 'migrate', image: 'app' }] }),
      check: (s) => {
        assert.equal(s.phase, 'Running');
        assert.deepEqual(s.podIPs, [{ ip: '10.42.3.2' }]);
        for (const c of s.containerStatuses ?? []) {
          assert.equal(c.state?.running?.startedAt, T1);
          assert.equal(c.ready, true);
          assert.equal(c.started, true);
          assert.equal(c.restartCount, 0);
          assert.match(c.containerID ?? '', /^sim:\/\/[0-9a-f]{64}$/);
        }
        const init = s.initContainerStatuses?.[0];
        assert.equal(init?.state?.terminated?.reason, 'Completed');
        assert.equal(init?.state?.terminated?.exitCode, 0);
        assert.equal(init?.ready, true, 'a completed init container counts as ready');
        for (const t of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']) assert.equal(cond(s, t)?.status, 'True', t);
        assert.equal(cond(s, 'Ready')?.lastTransitionTime, T1);
      },
    },
    {
      name: 'a sidecar (an init container that restarts always) keeps running beside the app',
      stage: 'running',
      pod: pod({ initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' } as never] }),
      check: (s) => {
        assert.ok(s.initContainerStatuses?.[0]?.state?.running);
        assert.equal(s.initContainerStatuses?.[0]?.started, true);
      },
    },
    {
      name: 'a completed pod has every container terminated with exit code 0 and is not ready for reason PodCompleted',
      stage: 'succeeded',
      pod: pod(),
      check: (s) => {
        assert.equal(s.phase, 'Succeeded');
        const term = s.containerStatuses?.[0]?.state?.terminated;
        assert.deepEqual([term?.exitCode, term?.reason, term?.startedAt, term?.finishedAt], [0, 'Completed', T1, T2]);
        assert.equal(s.containerStatuses?.[0]?.ready, false);
        assert.equal(cond(s, 'Ready')?.status, 'False');
        assert.equal(cond(s, 'Ready')?.reason, 'PodCompleted');
        assert.equal(cond(s, 'ContainersReady')?.reason, 'PodCompleted');
        assert.equal(cond(s, 'Initialized')?.reason, 'PodCompleted');
        assert.equal(s.podIP, '10.42.3.2', 'the address stays in the status');
      },
    },
    {
      name: 'the scheduler’s PodScheduled condition and conditions the kubelet does not own are kept',
      stage: 'running',
      pod: pod({}, { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-12-31T23:59:59Z' }, { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }] }),
      check: (s) => {
        assert.deepEqual(s.conditions?.map((c) => c.type), ['DisruptionTarget', 'PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
        assert.equal(cond(s, 'PodScheduled')?.lastTransitionTime, '2025-12-31T23:59:59Z');
      },
    },
    {
      name: 'a condition whose status did not change keeps its transition time',
      stage: 'running',
      pod: pod({}, { conditions: [{ type: 'Initialized', status: 'True', lastTransitionTime: T0 }, { type: 'Ready', status: 'False', lastTransitionTime: T0 }] }),
      check: (s) => {
        assert.equal(cond(s, 'Initialized')?.lastTransitionTime, T0);
        assert.equal(cond(s, 'Ready')?.lastTransitionTime, T1);
      },
    },
    {
      name: 'read-only mounts are reported with recursive read-only disabled',
      stage: 'running',
      pod: pod({ containers: [{ name: 'app', image: 'x', volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }, { name: 'data', mountPath: '/data' }] }] }),
      check: (s) => {
        assert.deepEqual(s.containerStatuses?.[0]?.volumeMounts, [
          { name: 'cfg', mountPath: '/etc/cfg', readOnly: true, recursiveReadOnly: 'Disabled' },
          { name: 'data', mountPath: '/data' },
        ]);
      },
    },
  ];
  for (const c of cases) {
    try {
      c.check(simPodStatus(c.pod, c.stage, facts));
    } catch (e) {
      assert.fail(`${c.name}: ${(e as Error).message}`);
    }
  }
});

test('PodIpRange hands out host addresses of the range, never the network, gateway or broadcast address', () => {
  const r = new PodIpRange('10.42.7.0/29'); // .0 network, .1 gateway, .7 broadcast
  const got = [r.allocate(), r.allocate(), r.allocate(), r.allocate(), r.allocate()];
  assert.deepEqual(got, ['10.42.7.2', '10.42.7.3', '10.42.7.4', '10.42.7.5', '10.42.7.6']);
  assert.equal(r.allocate(), undefined, 'a full range gives nothing');
  r.release('10.42.7.4');
  assert.equal(r.allocate(), '10.42.7.4', 'a freed address is given again');
});

test('PodIpRange walks on past a freed address before reusing it, and reserves found addresses', () => {
  const r = new PodIpRange('10.42.0.0/24');
  assert.equal(r.reserve('10.42.0.2'), true);
  assert.equal(r.reserve('10.42.0.2'), false, 'an address cannot be reserved twice');
  assert.equal(r.reserve('10.42.1.2'), false, 'an address outside the range is refused');
  assert.equal(r.allocate(), '10.42.0.3');
  r.release('10.42.0.3');
  assert.equal(r.allocate(), '10.42.0.4');
  assert.throws(() => new PodIpRange('fd00::/64'), /not an IPv4 range/);
});

test('node conditions keep the transition time of a condition whose status did not change', () => {
  const first = simNodeConditions(T0);
  assert.deepEqual(first.map((c) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
  const again = simNodeConditions(T1, [{ type: 'Ready', status: 'True', lastTransitionTime: T0 }, { type: 'DiskPressure', status: 'True', lastTransitionTime: T0 }]);
  assert.equal(again.find((c) => c.type === 'Ready')?.lastTransitionTime, T0);
  assert.equal(again.find((c) => c.type === 'Ready')?.lastHeartbeatTime, T1);
  assert.equal(again.find((c) => c.type === 'DiskPressure')?.lastTransitionTime, T1);
});

test('microTime writes six fractional digits, as metav1.MicroTime', () => {
  assert.equal(microTime(Date.parse('2026-11-22T01:02:03Z')), '2026-11-22T01:02:03.000000Z');
  assert.equal(microTime(Date.parse('2026-11-22T01:02:03.456Z')), '2026-11-22T01:02:03.456000Z');
});

test('simInternalIP gives stable, distinct addresses inside 10.200.0.0/16', () => {
  const taken = new Set<number>();
  const ips = Array.from({ length: 2000 }, (_, i) => simInternalIP(`sim-${i}`, taken));
  assert.equal(new Set(ips).size, 2000);
  for (const ip of ips) assert.match(ip, /^10\.200\.\d+\.\d+$/);
  assert.equal(simInternalIP('sim-0', new Set()), ips[0], 'the same name gets the same address in a new pool');
});

test('a container whose image is configured unready runs but never becomes ready', () => {
  const pod: Pod = { metadata: { name: 'p', uid: 'u' }, spec: { containers: [{ name: 'app', image: 'nginx:broken' }, { name: 'side', image: 'busybox' }] } };
  const f: SimPodFacts = { hostIP: '10.200.0.1', podIP: '10.42.0.2', startTime: '2026-01-01T00:00:00Z', runningAt: '2026-01-01T00:00:01Z', unreadyImages: new Set(['nginx:broken']) };
  const st = simPodStatus(pod, 'running', f);
  assert.equal(st.phase, 'Running');
  assert.deepEqual(st.containerStatuses?.map((c) => [c.name, c.ready, !!c.state?.running]), [['app', false, true], ['side', true, true]]);
  const ready = st.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.message, 'containers with unready status: [app]');
});
