// The kubelet's pod phase and conditions, as tables (kubelet_pods_test.go TestPodPhaseWithRestart*
// cases, reduced to what Skiff's agent produces).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { kubeletPodStatus, podPhase } from '../../src/node/pod-status.js';

const running = (name: string, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({ name, state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, ready: true, restartCount: 0, image: 'x', imageID: '', ...extra });
const exited = (name: string, exitCode: number): ContainerStatus => ({ name, state: { terminated: { exitCode } }, ready: false, restartCount: 0, image: 'x', imageID: '' });
const waiting = (name: string, reason: string, lastExit?: number): ContainerStatus => ({
  name,
  state: { waiting: { reason } },
  ...(lastExit !== undefined ? { lastState: { terminated: { exitCode: lastExit } } } : {}),
  ready: false,
  restartCount: 1,
  image: 'x',
  imageID: '',
});

function pod(restartPolicy: string, containers: string[], inits: { name: string; sidecar?: boolean }[] = []): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: {
      restartPolicy,
      containers: containers.map((name) => ({ name, image: 'x' })),
      ...(inits.length ? { initContainers: inits.map((i) => ({ name: i.name, image: 'x', ...(i.sidecar ? { restartPolicy: 'Always' } : {}) })) } : {}),
    },
  } as Pod;
}

describe('podPhase (the kubelet getPhase)', () => {
  const cases: [string, Pod, ContainerStatus[], boolean, boolean, string][] = [
    ['all running → Running', pod('Always', ['a', 'b']), [running('a'), running('b')], false, true, 'Running'],
    ['one still creating → Pending', pod('Always', ['a', 'b']), [running('a'), waiting('b', 'ContainerCreating')], false, true, 'Pending'],
    ['no status yet → Pending', pod('Always', ['a']), [], false, false, 'Pending'],
    ['crash-looping counts as stopped → Running under Always', pod('Always', ['a']), [waiting('a', 'CrashLoopBackOff', 1)], false, true, 'Running'],
    ['all exited 0 under Never → Succeeded', pod('Never', ['a', 'b']), [exited('a', 0), exited('b', 0)], false, true, 'Succeeded'],
    ['one failed under Never → Failed', pod('Never', ['a', 'b']), [exited('a', 0), exited('b', 2)], false, true, 'Failed'],
    ['failed under OnFailure → Running (it will restart)', pod('OnFailure', ['a']), [exited('a', 2)], false, true, 'Running'],
    ['exited 0 under OnFailure → Succeeded', pod('OnFailure', ['a']), [exited('a', 0)], false, true, 'Succeeded'],
    ['exited under Always → Running', pod('Always', ['a']), [exited('a', 0)], false, true, 'Running'],
    ['terminal pod with a failure → Failed whatever the policy', pod('Always', ['a']), [exited('a', 1)], true, true, 'Failed'],
    ['init container running → Pending', pod('Always', ['a'], [{ name: 'i' }]), [running('i'), waiting('a', 'PodInitializing')], false, false, 'Pending'],
    ['init container failed under Never → Failed', pod('Never', ['a'], [{ name: 'i' }]), [exited('i', 1), waiting('a', 'PodInitializing')], false, false, 'Failed'],
    ['sidecar not started yet → Pending', pod('Always', ['a'], [{ name: 's', sidecar: true }]), [running('s', { started: false }), waiting('a', 'PodInitializing')], false, false, 'Pending'],
    ['sidecar and app running → Running', pod('Always', ['a'], [{ name: 's', sidecar: true }]), [running('s', { started: true }), running('a')], false, true, 'Running'],
    ['job done, sidecar stopped → Succeeded', pod('Never', ['a'], [{ name: 's', sidecar: true }]), [exited('s', 137), exited('a', 0)], true, true, 'Succeeded'],
  ];
  for (const [name, p, statuses, terminal, initialized, want] of cases) {
    it(name, () => assert.equal(podPhase(p, statuses, terminal, initialized), want));
  }
});

describe('kubeletPodStatus conditions', () => {
  const base = { hostIP: '127.0.0.1', podIP: '10.42.0.5', startTime: '2026-01-01T00:00:00Z', sandboxReady: true, podIsTerminal: false, now: '2026-01-01T00:00:05Z' };
  it('reports unready containers by name, and keeps PodScheduled and foreign conditions', () => {
    const p: Pod = { ...pod('Always', ['a', 'b']), status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-12-31T00:00:00Z' }, { type: 'example.com/gate', status: 'True' }] } };
    const s = kubeletPodStatus(p, { ...base, initContainerStatuses: [], containerStatuses: [running('a'), running('b', { ready: false })], podHasInitialized: true });
    assert.equal(s.phase, 'Running');
    const byType = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(byType.Ready?.status, 'False');
    assert.equal(byType.Ready?.reason, 'ContainersNotReady');
    assert.equal(byType.ContainersReady?.message, 'containers with unready status: [b]');
    assert.equal(byType.PodReadyToStartContainers?.status, 'True');
    assert.equal(byType.Initialized?.status, 'True');
    assert.equal(byType.PodScheduled?.lastTransitionTime, '2025-12-31T00:00:00Z');
    assert.equal(byType['example.com/gate']?.status, 'True');
    assert.deepEqual(s.podIPs, [{ ip: '10.42.0.5' }]);
  });
  it('is Ready when every container is ready, keeping transition times that did not change', () => {
    const p: Pod = { ...pod('Always', ['a']), status: { conditions: [{ type: 'Initialized', status: 'True', lastTransitionTime: '2025-12-31T00:00:00Z' }] } };
    const s = kubeletPodStatus(p, { ...base, initContainerStatuses: [], containerStatuses: [running('a')], podHasInitialized: true });
    const byType = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(byType.Ready?.status, 'True');
    assert.equal(byType.Initialized?.lastTransitionTime, '2025-12-31T00:00:00Z');
    assert.equal(byType.Ready?.lastTransitionTime, '2026-01-01T00:00:05Z');
  });
  it('names incomplete init containers while initializing', () => {
    const p = pod('Always', ['a'], [{ name: 'i1' }, { name: 'i2' }]);
    const s = kubeletPodStatus(p, { ...base, initContainerStatuses: [exited('i1', 0), running('i2')], containerStatuses: [waiting('a', 'PodInitializing')], podHasInitialized: false });
    const init = s.conditions?.find((c) => c.type === 'Initialized');
    assert.equal(init?.status, 'False');
    assert.equal(init?.message, 'containers with incomplete status: [i2]');
    assert.equal(s.phase, 'Pending');
  });
  it('a succeeded pod says PodCompleted and never leaves its terminal phase', () => {
    const p = pod('Never', ['a']);
    const s = kubeletPodStatus(p, { ...base, sandboxReady: false, podIsTerminal: true, initContainerStatuses: [], containerStatuses: [exited('a', 0)], podHasInitialized: true });
    assert.equal(s.phase, 'Succeeded');
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
    const again = kubeletPodStatus({ ...p, status: { phase: 'Succeeded' } }, { ...base, initContainerStatuses: [], containerStatuses: [running('a')], podHasInitialized: true });
    assert.equal(again.phase, 'Succeeded');
  });
});
