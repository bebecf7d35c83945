// The pod status a kubelet reports for a real node, computed from the container statuses the pod
// worker keeps: the phase (the kubelet's getPhase, 1.32 rules, sidecars included) and the
// conditions it owns (PodReadyToStartContainers, Initialized, ContainersReady, Ready), with
// upstream's reasons and messages. Pure: the worker passes the facts and the time.
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';

/** Conditions the kubelet owns; any other (DisruptionTarget, readiness gates) is kept as it is. */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

export function isSidecar(c: Container): boolean {
  return (c as Container & { restartPolicy?: string }).restartPolicy === 'Always';
}

function find(statuses: readonly ContainerStatus[], name: string): ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/**
 * The kubelet's getPhase. `statuses` holds init and regular container statuses together;
 * `podHasInitialized` is true once any regular container has started.
 */
export function podPhase(pod: Pod, statuses: readonly ContainerStatus[], podIsTerminal: boolean, podHasInitialized: boolean): NonNullable<PodStatus['phase']> {
  const spec = pod.spec ?? { containers: [] };
  const restartPolicy = spec.restartPolicy ?? 'Always';
  let pendingRegularInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  for (const c of spec.initContainers ?? []) {
    if (isSidecar(c)) continue;
    const s = find(statuses, c.name);
    if (!s) pendingRegularInit++;
    else if (s.state?.running) pendingRegularInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingRegularInit++;
    } else pendingRegularInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    if (!isSidecar(c)) continue;
    const s = find(statuses, c.name);
    if (!s) unknown++;
    else if (s.state?.running) {
      if (!s.started) pendingSidecars++;
      running++;
    } else if (s.state?.terminated) {
      // terminated sidecars do not count for the phase
    } else if (s.state?.waiting) {
      if (!s.lastState?.terminated) {
        pendingSidecars++;
        waiting++;
      }
    } else {
      pendingSidecars++;
      unknown++;
    }
  }
  for (const c of spec.containers ?? []) {
    const s = find(statuses, c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingRegularInit > 0 || (pendingSidecars > 0 && !podHasInitialized) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, status: 'True' | 'False', now: string, previous: readonly PodCondition[], reason?: string, message?: string): PodCondition {
  const prev = previous.find((c) => c.type === type);
  // As the kubelet's status manager: an unchanged status keeps its transition time.
  const lastTransitionTime = prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
  return { type, status, lastTransitionTime, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/** ContainersReady (GenerateContainersReadyCondition): every container and sidecar ready. */
function containersReady(pod: Pod, statuses: readonly ContainerStatus[], phase: string): { ok: boolean; reason?: string; message?: string } {
  if (phase === 'Succeeded') return { ok: false, reason: 'PodCompleted' };
  const unknown: string[] = [];
  const unready: string[] = [];
  const spec = pod.spec ?? { containers: [] };
  for (const c of [...(spec.initContainers ?? []).filter(isSidecar), ...(spec.containers ?? [])]) {
    const s = find(statuses, c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  const parts: string[] = [];
  if (unknown.length) parts.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (unready.length) parts.push(`containers with unready status: [${unready.join(' ')}]`);
  if (parts.length === 0) return { ok: true };
  return { ok: false, reason: 'ContainersNotReady', message: parts.join(', ') };
}

/** Initialized (GeneratePodInitializedCondition). */
function initialized(pod: Pod, statuses: readonly ContainerStatus[], phase: string, podHasInitialized: boolean): { ok: boolean; reason?: string; message?: string } {
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return { ok: true };
  if (phase === 'Succeeded') return { ok: true, reason: 'PodCompleted' };
  if (podHasInitialized) return { ok: true };
  const incomplete: string[] = [];
  for (const c of inits) {
    const s = find(statuses, c.name);
    if (isSidecar(c)) {
      if (!s?.started) incomplete.push(c.name);
    } else if (!(s?.state?.terminated && s.state.terminated.exitCode === 0)) incomplete.push(c.name);
  }
  if (incomplete.length === 0) return { ok: true };
  return { ok: false, reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` };
}

export interface PodStatusFacts {
  hostIP: string;
  podIP?: string;
  /** status.startTime: when the agent admitted the pod. */
  startTime: string;
  /** The sandbox exists with its network (PodReadyToStartContainers). */
  sandboxReady: boolean;
  initContainerStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  /** The pod's containers will not run again (it finished, or is being torn down for good). */
  podIsTerminal: boolean;
  /** Any regular container has started at least once. */
  podHasInitialized: boolean;
  now: string;
  /** A terminal reason/message the worker sets (e.g. DeadlineExceeded); kept otherwise. */
  reason?: string;
  message?: string;
}

/** The whole status the agent writes for `pod` (merge-patched: fields the API server set stay). */
export function kubeletPodStatus(pod: Pod, f: PodStatusFacts): PodStatus {
  const previous = pod.status?.conditions ?? [];
  const all = [...f.containerStatuses, ...f.initContainerStatuses];
  let phase = podPhase(pod, all, f.podIsTerminal, f.podHasInitialized);
  const apiPhase = pod.status?.phase;
  // pods never leave a terminal phase
  if (apiPhase === 'Succeeded' || apiPhase === 'Failed') phase = apiPhase;
  const ready = containersReady(pod, all, phase);
  const init = initialized(pod, all, phase, f.podHasInitialized);
  const conds: PodCondition[] = previous.filter((c) => !KUBELET_CONDITIONS.has(c.type));
  let podReady = ready;
  if (ready.ok) {
    for (const gate of pod.spec?.readinessGates ?? []) {
      const c = previous.find((x) => x.type === gate.conditionType);
      if (!c) {
        podReady = { ok: false, reason: 'ReadinessGatesNotReady', message: `corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.` };
        break;
      }
      if (c.status !== 'True') {
        podReady = { ok: false, reason: 'ReadinessGatesNotReady', message: `the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}` };
        break;
      }
    }
  }
  const terminalNow = phase === 'Succeeded' || phase === 'Failed';
  conds.push(
    condition('PodReadyToStartContainers', f.sandboxReady && !terminalNow ? 'True' : 'False', f.now, previous),
    condition('Initialized', init.ok ? 'True' : 'False', f.now, previous, init.reason, init.message),
    condition('Ready', podReady.ok ? 'True' : 'False', f.now, previous, podReady.reason, podReady.message),
    condition('ContainersReady', ready.ok ? 'True' : 'False', f.now, previous, ready.reason, ready.message),
  );
  const scheduled = previous.find((c) => c.type === 'PodScheduled');
  conds.push(scheduled ?? condition('PodScheduled', 'True', f.startTime, previous));
  const status: PodStatus = {
    phase,
    conditions: conds,
    hostIP: f.hostIP,
    hostIPs: [{ ip: f.hostIP }],
    startTime: f.startTime,
    containerStatuses: f.containerStatuses,
  };
  if ((pod.spec?.initContainers ?? []).length > 0) status.initContainerStatuses = f.initContainerStatuses;
  if (f.podIP) {
    status.podIP = f.podIP;
    status.podIPs = [{ ip: f.podIP }];
  }
  if (f.reason) status.reason = f.reason;
  if (f.message) status.message = f.message;
  return status;
}
