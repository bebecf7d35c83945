// The StatefulSet controller's decisions (upstream stateful_set_control.go and
// stateful_set_utils.go, 1.32), pure: the pod and claims of an ordinal, and — from the set, its
// pods and claims and its two revisions — the writes of one sync, in order, and the status they
// lead to. OrderedReady stops at the first write or the first pod not Running and Ready; Parallel
// does everything at once. Scale-down goes from the highest ordinal; a RollingUpdate deletes the
// highest pod at or above the partition that is not of the update revision, one at a time.
import type { KubeObject, OwnerReference } from '../api/types.js';
import { controllerRef, podFromTemplate } from './pod-control.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

type Obj = Record<string, unknown>;
export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    serviceName?: string;
    template?: Obj & { metadata?: { labels?: Record<string, string> }; spec?: Obj };
    volumeClaimTemplates?: (KubeObject & Obj)[];
    podManagementPolicy?: string;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
    minReadySeconds?: number;
    ordinals?: { start?: number };
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
    revisionHistoryLimit?: number;
  };
  status?: StatefulSetStatus;
}
export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
}
type Pod = KubeObject & { spec?: Obj & { volumes?: Obj[]; hostname?: string; subdomain?: string }; status?: { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[] } };
/** A revision as the plan needs it: its name and the template it stands for. */
export interface Rev {
  name: string;
  template: Obj;
}

/** getParentNameAndOrdinal: `<parent>-<ordinal>`, or undefined. */
export function parentAndOrdinal(name: string): { parent: string; ordinal: number } | undefined {
  const m = /^(.*)-([0-9]+)$/.exec(name);
  return m ? { parent: m[1] ?? '', ordinal: Number(m[2]) } : undefined;
}
export const podName = (set: KubeObject, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const claimName = (set: KubeObject, template: KubeObject, ordinal: number): string => `${template.metadata.name}-${set.metadata.name}-${ordinal}`;
export const ordinalOf = (pod: KubeObject): number => parentAndOrdinal(pod.metadata.name ?? '')?.ordinal ?? -1;
export const revisionOf = (pod: KubeObject): string | undefined => pod.metadata.labels?.[REVISION_LABEL];
export const isTerminating = (pod: KubeObject): boolean => !!pod.metadata.deletionTimestamp;
const phase = (p: Pod): string | undefined => p.status?.phase;
export const isFailedOrSucceeded = (p: Pod): boolean => phase(p) === 'Failed' || phase(p) === 'Succeeded';

export function isRunningAndReady(p: Pod): boolean {
  return phase(p) === 'Running' && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isRunningAndAvailable(p: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isRunningAndReady(p)) return false;
  if (minReadySeconds <= 0) return true;
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'Ready');
  const t = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(t) && t + minReadySeconds * 1000 <= nowMs;
}
const isHealthy = (p: Pod, created: boolean): boolean => created && isRunningAndReady(p) && !isTerminating(p);

/** The claims an ordinal's pod uses (getPersistentVolumeClaims), labelled with the selector's matchLabels. */
export function claimsFor(set: StatefulSet, ordinal: number): KubeObject[] {
  return (set.spec.volumeClaimTemplates ?? []).map((t) => {
    const c = structuredClone(t) as KubeObject & Obj;
    c.apiVersion = 'v1';
    c.kind = 'PersistentVolumeClaim';
    c.metadata = { ...c.metadata, name: claimName(set, t, ordinal), namespace: set.metadata.namespace, labels: { ...(c.metadata.labels ?? {}), ...(set.spec.selector?.matchLabels ?? {}) } };
    delete c.status;
    return c;
  });
}

/** newVersionedStatefulSetPod: the pod of `ordinal` from `rev`'s template, with its identity
 *  (name, hostname, subdomain, labels), its claims as volumes and the revision label. */
export function newPod(set: StatefulSet, ordinal: number, rev: Rev): Pod {
  const pod = podFromTemplate(rev.template as never, set) as Pod;
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [REVISION_LABEL]: rev.name };
  setIdentity(set, pod);
  setStorage(set, pod);
  return pod;
}

/** initIdentity: the labels (updateIdentity), plus hostname and subdomain, which are immutable
 *  and so set only when the pod is made. */
function setIdentity(set: StatefulSet, pod: Pod): void {
  updateIdentity(pod);
  pod.spec = { ...(pod.spec ?? {}), hostname: pod.metadata.name };
  if (set.spec.serviceName) pod.spec.subdomain = set.spec.serviceName;
}
function updateIdentity(pod: Pod): void {
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: pod.metadata.name ?? '', [POD_INDEX_LABEL]: String(ordinalOf(pod)) };
}

function setStorage(set: StatefulSet, pod: Pod): void {
  const templates = set.spec.volumeClaimTemplates ?? [];
  if (!templates.length) return;
  const names = new Set(templates.map((t) => t.metadata.name));
  const ord = ordinalOf(pod);
  const claimVolumes = templates.map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: claimName(set, t, ord) } }));
  pod.spec = { ...(pod.spec ?? {}), volumes: [...claimVolumes, ...(pod.spec?.volumes ?? []).filter((v) => !names.has(v.name as string))] };
}

/** identityMatches && storageMatches (hostname and subdomain are not compared: immutable). */
export function podMatchesSet(set: StatefulSet, pod: Pod): boolean {
  const p = parentAndOrdinal(pod.metadata.name ?? '');
  const l = pod.metadata.labels ?? {};
  if (!p || p.parent !== set.metadata.name || pod.metadata.namespace !== set.metadata.namespace || l[POD_NAME_LABEL] !== pod.metadata.name) return false;
  const vols = new Map((pod.spec?.volumes ?? []).map((v) => [v.name as string, v]));
  return (set.spec.volumeClaimTemplates ?? []).every((t) => (vols.get(t.metadata.name ?? '')?.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName === claimName(set, t, p.ordinal));
}

/** The pod with identity and storage put right (UpdateStatefulPod). */
export function repairedPod(set: StatefulSet, pod: Pod): Pod {
  const copy = structuredClone(pod);
  updateIdentity(copy);
  setStorage(set, copy);
  return copy;
}

const isSetRef = (r: OwnerReference, set: KubeObject) => r.kind === 'StatefulSet' && r.apiVersion.startsWith('apps/') && r.name === set.metadata.name;
const isPodRef = (r: OwnerReference, pod: KubeObject) => r.kind === 'Pod' && r.apiVersion === 'v1' && r.name === pod.metadata.name;
const refKey = (r: OwnerReference) => JSON.stringify([r.apiVersion, r.kind, r.name, r.uid, r.controller === true, r.blockOwnerDeletion === true]);

/** updateClaimOwnerRefForSetAndPod (with isClaimOwnerUpToDate's guards): the owner references a
 *  claim should carry under the retention policy — the set as controller when whenDeleted is
 *  Delete (unless whenScaled is Delete and the pod is scaled away), the pod as controller when
 *  whenScaled is Delete and the pod is scaled away. A claim referring to an earlier set or pod of
 *  the same name (another uid) is left alone; one controlled by something else only loses our
 *  references. Returns undefined when the claim is already right. */
export function claimOwnerRefs(set: StatefulSet, claim: KubeObject, pod: KubeObject): OwnerReference[] | undefined {
  const before = claim.metadata.ownerReferences ?? [];
  const podKnown = !!pod.metadata.uid;
  const ours = (r: OwnerReference) => isSetRef(r, set) || (podKnown && isPodRef(r, pod));
  if (before.some((r) => (isSetRef(r, set) && r.uid !== set.metadata.uid) || (podKnown && isPodRef(r, pod) && r.uid !== pod.metadata.uid))) return undefined;
  const unexpectedController = before.some((r) => r.controller && !ours(r));
  const policy = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const start = set.spec.ordinals?.start ?? 0;
  const ord = ordinalOf(pod);
  const scaledDown = ord < start || ord >= start + (set.spec.replicas ?? 1);
  const refs = before.filter((r) => !ours(r));
  if (!unexpectedController) {
    if (policy.whenDeleted === 'Delete' && !(policy.whenScaled === 'Delete' && scaledDown)) refs.push({ ...controllerRef(set), apiVersion: 'apps/v1', kind: 'StatefulSet' });
    if (policy.whenScaled === 'Delete' && scaledDown && podKnown) refs.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', controller: true, blockOwnerDeletion: true });
  }
  const same = refs.length === before.length && refs.map(refKey).sort().join() === before.map(refKey).sort().join();
  return same ? undefined : refs;
}

/** One write of a sync. */
export type Action =
  | { op: 'create'; pod: Pod; claims: KubeObject[] }
  | { op: 'delete'; pod: Pod }
  | { op: 'update'; pod: Pod; claims: KubeObject[] }
  /** createMissingPersistentVolumeClaims for a Pending pod. */
  | { op: 'claims'; pod: Pod; claims: KubeObject[] }
  | { op: 'claimRefs'; pod: Pod; claim: KubeObject; refs: OwnerReference[] };

export interface PlanInput {
  set: StatefulSet;
  /** The set's pods (controlled by it), terminating ones included. */
  pods: Pod[];
  /** Claims of the set's namespace by name. */
  claims: Map<string, KubeObject>;
  current: Rev;
  update: Rev;
  collisionCount: number;
  nowMs: number;
}
export interface Plan {
  actions: Action[];
  status: StatefulSetStatus;
  /** Why the sync stopped early (OrderedReady), for logs and tests. */
  waiting?: string;
}

/** computeReplicaStatus over the pods that exist. */
function countStatus(pods: Pod[], set: StatefulSet, current: Rev, update: Rev, nowMs: number): StatefulSetStatus {
  const s: StatefulSetStatus = { replicas: 0, readyReplicas: 0, currentReplicas: 0, updatedReplicas: 0, availableReplicas: 0 };
  for (const p of pods) {
    s.replicas++;
    if (isRunningAndReady(p)) {
      s.readyReplicas++;
      if (isRunningAndAvailable(p, set.spec.minReadySeconds ?? 0, nowMs)) s.availableReplicas++;
    }
    if (!isTerminating(p)) {
      if (revisionOf(p) === current.name) s.currentReplicas++;
      if (revisionOf(p) === update.name) s.updatedReplicas++;
    }
  }
  return s;
}

/** The claims of `pod` whose owner references the retention policy wants changed. */
function claimFixes(set: StatefulSet, pod: Pod, claims: Map<string, KubeObject>): Action[] {
  const out: Action[] = [];
  for (const want of claimsFor(set, ordinalOf(pod))) {
    const have = claims.get(want.metadata.name ?? '');
    const refs = have && claimOwnerRefs(set, have, pod);
    if (have && refs) out.push({ op: 'claimRefs', pod, claim: have, refs });
  }
  return out;
}

/** updateStatefulSet: the writes of one sync and the status after them. */
export function planStatefulSet(inp: PlanInput): Plan {
  const { set, current, update } = inp;
  const start = set.spec.ordinals?.start ?? 0;
  const count = set.spec.replicas ?? 1;
  const monotonic = set.spec.podManagementPolicy !== 'Parallel';
  const status = countStatus(inp.pods, set, current, update, inp.nowMs);
  Object.assign(status, { currentRevision: current.name, updateRevision: update.name, collisionCount: inp.collisionCount, observedGeneration: set.metadata.generation });
  const actions: Action[] = [];
  const done = (waiting?: string): Plan => ({ actions, status, ...(waiting ? { waiting } : {}) });
  if (set.metadata.deletionTimestamp) return done();

  const replicas: (Pod | undefined)[] = new Array(count).fill(undefined);
  const condemned: Pod[] = [];
  for (const p of inp.pods) {
    const o = ordinalOf(p);
    if (o < 0) continue;
    if (o >= start && o < start + count) replicas[o - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  // newVersionedStatefulSetPod: below the partition a pod is made from the current revision;
  // otherwise (OnDelete included: a deleted pod comes back updated) from the update revision.
  const revFor = (i: number): Rev => (i < partition ? current : update);
  const firstUnhealthy = [...replicas, ...condemned].find((p) => p && !isHealthy(p, true));

  for (let i = 0; i < count; i++) {
    const ordinal = start + i;
    let pod = replicas[i];
    if (pod && isFailedOrSucceeded(pod)) {
      if (!isTerminating(pod)) actions.push({ op: 'delete', pod });
      if (monotonic) return done(`pod ${pod.metadata.name} is being replaced`);
      continue;
    }
    if (!pod) {
      const rev = revFor(i);
      pod = newPod(set, ordinal, rev);
      const fresh = pod;
      const claims = claimsFor(set, ordinal)
        .filter((c) => !inp.claims.has(c.metadata.name ?? ''))
        .map((c) => ({ ...c, metadata: { ...c.metadata, ownerReferences: claimOwnerRefs(set, c, fresh) ?? c.metadata.ownerReferences } }));
      actions.push({ op: 'create', pod, claims });
      status.replicas++;
      if (rev.name === current.name) status.currentReplicas++;
      if (rev.name === update.name) status.updatedReplicas++;
      if (monotonic) return done(`created ${pod.metadata.name}`);
      continue;
    }
    const missing = claimsFor(set, ordinal).filter((c) => !inp.claims.has(c.metadata.name ?? ''));
    if (phase(pod) === 'Pending' && missing.length) actions.push({ op: 'claims', pod, claims: missing });
    if (isTerminating(pod)) {
      if (monotonic) return done(`waiting for ${pod.metadata.name} to terminate`);
      continue;
    }
    if (!isRunningAndReady(pod) && monotonic) return done(`waiting for ${pod.metadata.name} to be Running and Ready`);
    if (!isRunningAndAvailable(pod, set.spec.minReadySeconds ?? 0, inp.nowMs) && monotonic) return done(`waiting for ${pod.metadata.name} to be available`);
    if (!podMatchesSet(set, pod) || (missing.length && phase(pod) !== 'Pending')) actions.push({ op: 'update', pod: repairedPod(set, pod), claims: missing });
    actions.push(...claimFixes(set, pod, inp.claims));
  }

  // Claims of condemned pods get their retention-policy owners before any pod goes.
  for (const pod of condemned) actions.push(...claimFixes(set, pod, inp.claims));
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return done(`waiting for ${pod.metadata.name} to terminate`);
      continue;
    }
    if (monotonic && !isHealthy(pod, true) && pod !== firstUnhealthy) return done(`waiting for ${firstUnhealthy?.metadata.name} to be healthy before scaling down`);
    actions.push({ op: 'delete', pod });
    if (revisionOf(pod) === current.name) status.currentReplicas--;
    if (revisionOf(pod) === update.name) status.updatedReplicas--;
    if (monotonic) return done(`scaling down ${pod.metadata.name}`);
  }

  if (set.spec.updateStrategy?.type === 'OnDelete') return done();
  for (let t = count - 1; t >= partition; t--) {
    const pod = replicas[t];
    if (!pod) return done();
    if (revisionOf(pod) !== update.name && !isTerminating(pod)) {
      actions.push({ op: 'delete', pod });
      if (revisionOf(pod) === current.name) status.currentReplicas--;
      return done(`updating ${pod.metadata.name}`);
    }
    if (!isHealthy(pod, true)) return done(`waiting for ${pod.metadata.name} to be healthy during the update`);
  }
  return done();
}

/** completeRollingUpdate: once every pod is updated and ready, the update revision becomes current. */
export function completeRollingUpdate(set: StatefulSet, s: StatefulSetStatus): StatefulSetStatus {
  const want = set.spec.replicas ?? 1;
  if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && s.updatedReplicas === want && s.readyReplicas === want && s.replicas === want) {
    return { ...s, currentReplicas: s.updatedReplicas, currentRevision: s.updateRevision };
  }
  return s;
}

/** inconsistentStatus: whether the status needs writing. */
export function statusNeedsWrite(set: StatefulSet, s: StatefulSetStatus): boolean {
  const o = (set.status ?? {}) as Partial<StatefulSetStatus>;
  const keys: (keyof StatefulSetStatus)[] = ['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'];
  return keys.some((k) => (o[k] ?? 0) !== (s[k] ?? 0));
}
