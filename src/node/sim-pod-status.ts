// The pod status a kubelet reports at each step of a pod's life, for pods on simulated nodes:
// Pending with containers being created, Running with every container started and ready, and
// (for Job pods) Succeeded with every container completed. Field names, reasons and messages are
// the kubelet's (generateAPIPodStatus and pkg/kubelet/status), so kubectl shows what it would
// show for a real node. Pure: times and addresses are given.
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus, VolumeMountStatus } from 'kubernetes-types/core/v1.js';
import { simHash } from './sim-node-object.js';

export type SimPodStage = 'pending' | 'running' | 'succeeded';

export interface SimPodFacts {
  /** The node's InternalIP. */
  hostIP: string;
  /** The pod's address (required from `running` on). */
  podIP?: string;
  /** When the kubelet admitted the pod (status.startTime), RFC 3339. */
  startTime: string;
  /** When the containers started (`running`, `succeeded`). */
  runningAt?: string;
  /** When the containers finished (`succeeded`). */
  finishedAt?: string;
  /** Images whose containers run but never become ready (a failing readiness probe, simulated). */
  unreadyImages?: ReadonlySet<string>;
}

/** Conditions the kubelet owns; any other condition (DisruptionTarget, readiness gates) is kept. */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/** `nginx:1.25` → `docker.io/library/nginx:1.25`, as container runtimes report the image they ran. */
export function normalizeImage(ref: string): string {
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? '' : ref.slice(at);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  let full = hasDomain ? name : `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  const lastPart = full.slice(full.lastIndexOf('/') + 1);
  if (!digest && !lastPart.includes(':')) full += ':latest';
  return full + digest;
}

/** The image ID a runtime reports: the repository with the image's digest. */
export function simImageID(ref: string): string {
  const full = normalizeImage(ref);
  const at = full.indexOf('@');
  if (at >= 0) return full;
  const repo = full.slice(0, full.lastIndexOf(':'));
  return `${repo}@sha256:${simHash(`image/${full}`)}`;
}

/** A container ID in the simulated runtime's scheme: `sim://<sha256 hex>`, stable per pod and name. */
export function simContainerID(podUid: string, container: string): string {
  return `sim://${simHash(`container/${podUid}/${container}`)}`;
}

/** A Job's pods run to completion; everything else runs until deleted. */
export function isJobPod(pod: Pod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Job' && r.controller !== false);
}

function isSidecar(c: Container): boolean {
  return (c as Container & { restartPolicy?: string }).restartPolicy === 'Always';
}

function mountStatuses(c: Container): VolumeMountStatus[] | undefined {
  if (!c.volumeMounts?.length) return undefined;
  return c.volumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}) }));
}

function waiting(c: Container, reason: string): ContainerStatus {
  return { name: c.name, state: { waiting: { reason } }, lastState: {}, ready: false, restartCount: 0, image: c.image ?? '', imageID: '', started: false };
}

function started(pod: Pod, c: Container, f: SimPodFacts, state: 'running' | 'completed'): ContainerStatus {
  const containerID = simContainerID(pod.metadata?.uid ?? '', c.name);
  const startedAt = f.runningAt ?? f.startTime;
  const mounts = mountStatuses(c);
  const base = { name: c.name, lastState: {}, restartCount: 0, image: normalizeImage(c.image ?? ''), imageID: simImageID(c.image ?? ''), containerID };
  const st: ContainerStatus =
    state === 'running'
      ? { ...base, state: { running: { startedAt } }, ready: true, started: true }
      : { ...base, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: f.finishedAt ?? startedAt, containerID } }, ready: false, started: false };
  return mounts ? { ...st, volumeMounts: mounts } : st;
}

function condition(type: string, status: 'True' | 'False', at: string, previous: PodCondition[], reason?: string, message?: string): PodCondition {
  const prev = previous.find((c) => c.type === type);
  // As the kubelet's status manager: an unchanged status keeps its transition time.
  const lastTransitionTime = prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : at;
  // No lastProbeTime: the kubelet's is always null, and null in a merge patch means "remove".
  return { type, status, lastTransitionTime, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/**
 * The status fields a kubelet would write for `pod` at `stage` (to be merge-patched onto the pod's
 * status: qosClass and other fields the apiserver set are left alone). Conditions the kubelet
 * does not own are kept, first, as its status manager keeps them.
 */
export function simPodStatus(pod: Pod, stage: SimPodStage, f: SimPodFacts): PodStatus {
  const spec = pod.spec ?? { containers: [] };
  const inits = spec.initContainers ?? [];
  const containers = spec.containers ?? [];
  const previous = pod.status?.conditions ?? [];
  const at = stage === 'pending' ? f.startTime : stage === 'running' ? (f.runningAt ?? f.startTime) : (f.finishedAt ?? f.runningAt ?? f.startTime);
  const pendingInits = stage === 'pending' ? inits.filter((c) => !isSidecar(c)).map((c) => c.name) : [];
  const readiness = [...inits.filter(isSidecar), ...containers].map((c) => c.name);

  let initStatuses: ContainerStatus[];
  let statuses: ContainerStatus[];
  const conds: PodCondition[] = previous.filter((c) => !KUBELET_CONDITIONS.has(c.type));
  const scheduled = previous.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  if (stage === 'pending') {
    // With init containers the kubelet reports every container as PodInitializing.
    const reason = inits.length > 0 ? 'PodInitializing' : 'ContainerCreating';
    initStatuses = inits.map((c) => waiting(c, reason));
    statuses = containers.map((c) => waiting(c, reason));
    const unready = `containers with unready status: [${readiness.join(' ')}]`;
    conds.push(
      condition('PodReadyToStartContainers', 'False', at, previous),
      pendingInits.length > 0
        ? condition('Initialized', 'False', at, previous, 'ContainersNotInitialized', `containers with incomplete status: [${pendingInits.join(' ')}]`)
        : condition('Initialized', 'True', at, previous),
      condition('Ready', 'False', at, previous, 'ContainersNotReady', unready),
      condition('ContainersReady', 'False', at, previous, 'ContainersNotReady', unready),
    );
  } else if (stage === 'running') {
    initStatuses = inits.map((c) => (isSidecar(c) ? started(pod, c, f, 'running') : { ...started(pod, c, { ...f, finishedAt: f.runningAt }, 'completed'), ready: true }));
    const unreadyImages = f.unreadyImages;
    const neverReady = (c: Container) => !!unreadyImages && (unreadyImages.has(c.image ?? '') || unreadyImages.has(normalizeImage(c.image ?? '')));
    statuses = containers.map((c) => (neverReady(c) ? { ...started(pod, c, f, 'running'), ready: false } : started(pod, c, f, 'running')));
    const notReady = containers.filter(neverReady).map((c) => c.name);
    const unready = `containers with unready status: [${notReady.join(' ')}]`;
    conds.push(
      condition('PodReadyToStartContainers', 'True', at, previous),
      condition('Initialized', 'True', at, previous),
      notReady.length ? condition('Ready', 'False', at, previous, 'ContainersNotReady', unready) : condition('Ready', 'True', at, previous),
      notReady.length ? condition('ContainersReady', 'False', at, previous, 'ContainersNotReady', unready) : condition('ContainersReady', 'True', at, previous),
    );
  } else {
    initStatuses = inits.map((c) => (isSidecar(c) ? started(pod, c, f, 'completed') : { ...started(pod, c, { ...f, finishedAt: f.runningAt }, 'completed'), ready: true }));
    statuses = containers.map((c) => started(pod, c, f, 'completed'));
    conds.push(
      condition('PodReadyToStartContainers', 'False', at, previous),
      condition('Initialized', 'True', at, previous, 'PodCompleted'),
      condition('Ready', 'False', at, previous, 'PodCompleted'),
      condition('ContainersReady', 'False', at, previous, 'PodCompleted'),
    );
  }
  conds.push(scheduled ?? condition('PodScheduled', 'True', f.startTime, previous));

  const status: PodStatus = {
    phase: stage === 'pending' ? 'Pending' : stage === 'running' ? 'Running' : 'Succeeded',
    conditions: conds,
    hostIP: f.hostIP,
    hostIPs: [{ ip: f.hostIP }],
    startTime: f.startTime,
    containerStatuses: statuses,
  };
  if (inits.length > 0) status.initContainerStatuses = initStatuses;
  if (f.podIP && stage !== 'pending') {
    status.podIP = f.podIP;
    status.podIPs = [{ ip: f.podIP }];
  }
  return status;
}
