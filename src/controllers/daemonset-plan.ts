// Pure placement and update decisions of the DaemonSet controller (pkg/controller/daemon, 1.32):
// which nodes should run a daemon pod (NodeShouldRunDaemonPod: node name, nodeSelector and
// required node affinity, taints against the template's tolerations plus the automatic daemon
// tolerations), which pods to create and delete per node (podsShouldBeOnNode), which old pods a
// RollingUpdate replaces (rollingUpdate, with and without surge), and the status counts
// (updateDaemonSetStatus). No I/O: callers pass nodes and the DaemonSet's claimed pods.
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, PodTemplateSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { scaledValue } from './deployment-math.js';
import { isPodAvailable, isPodReady } from './pod-ranking.js';

/** apps.ControllerRevisionHashLabelKey (DefaultDaemonSetUniqueLabelKey). */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';
/** extensions.DaemonSetTemplateGenerationKey: the pod label carrying the template generation. */
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';
/** The DaemonSet annotation the API server keeps the template generation in. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** util.AddOrUpdateDaemonPodTolerations: what every daemon pod tolerates. */
export function daemonTolerations(spec: PodSpec): Toleration[] {
  const t = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });
  const out = [
    t('node.kubernetes.io/not-ready', 'NoExecute'),
    t('node.kubernetes.io/unreachable', 'NoExecute'),
    t('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    t('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    t('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    t('node.kubernetes.io/unschedulable', 'NoSchedule'),
  ];
  if (spec.hostNetwork) out.push(t('node.kubernetes.io/network-unavailable', 'NoSchedule'));
  return out;
}

/** v1helper.AddOrUpdateTolerationInPodSpec for each daemon toleration: one equal (key, operator,
 *  value, effect) is replaced, otherwise appended. Returns a new spec. */
export function withDaemonTolerations(spec: PodSpec): PodSpec {
  const tols = [...(spec.tolerations ?? [])];
  for (const add of daemonTolerations(spec)) {
    const i = tols.findIndex((o) => o.key === add.key && (o.operator ?? 'Equal') === add.operator && (o.value ?? '') === '' && o.effect === add.effect);
    if (i >= 0) tols[i] = add;
    else tols.push(add);
  }
  return { ...spec, tolerations: tols };
}

/** Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  return op === 'Equal' && (t.value ?? '') === (taint.value ?? '');
}

/** v1helper.FindMatchingUntoleratedTaint: some taint passing `filter` no toleration tolerates. */
export function hasUntoleratedTaint(taints: Taint[], tolerations: Toleration[], filter: (t: Taint) => boolean): boolean {
  return taints.filter(filter).some((taint) => !tolerations.some((t) => toleratesTaint(t, taint)));
}

function labelRequirement(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(labels[r.key]!);
    case 'NotIn':
      return !has || !values.includes(labels[r.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1 || !/^[+-]?\d+$/.test(labels[r.key]!) || !/^[+-]?\d+$/.test(values[0]!)) return false;
      const v = BigInt(labels[r.key]!);
      const b = BigInt(values[0]!);
      return r.operator === 'Gt' ? v > b : v < b;
    }
    default:
      return false;
  }
}

function fieldRequirement(r: NodeSelectorRequirement, node: Node): boolean {
  const values = r.values ?? [];
  if (values.length !== 1 || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
  const v = r.key === 'metadata.name' ? (node.metadata?.name ?? '') : '';
  return r.operator === 'In' ? v === values[0] : v !== values[0];
}

/** One node selector term: its expressions and fields ANDed; an empty term matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return exprs.every((r) => labelRequirement(r, labels)) && fields.every((r) => fieldRequirement(r, node));
}

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required terms (ORed). */
export function fitsNodeAffinity(spec: PodSpec, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) return true;
  return (req.nodeSelectorTerms ?? []).some((t) => termMatches(t, node));
}

/** NodeShouldRunDaemonPod: whether a daemon pod should be placed on the node, and whether one
 *  already there may keep running (only NoExecute taints evict). */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = withDaemonTolerations(ds.spec?.template?.spec ?? { containers: [] });
  const name = node.metadata?.name ?? '';
  if (spec.nodeName && spec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false };
  if (!fitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tols = spec.tolerations ?? [];
  if (hasUntoleratedTaint(taints, tols, (t) => t.effect === 'NoExecute' || t.effect === 'NoSchedule')) {
    return { shouldRun: false, shouldContinueRunning: !hasUntoleratedTaint(taints, tols, (t) => t.effect === 'NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** util.GetTargetNodeName: spec.nodeName, else the node pinned by a required matchFields
 *  metadata.name In [one value]; undefined when neither. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}

/** util.ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes exactly
 *  "metadata.name In [node]"; preferred terms and other affinities are kept. */
export function pinToNode(template: PodTemplateSpec, node: string): PodTemplateSpec {
  const t = structuredClone(template);
  const spec = (t.spec ??= { containers: [] });
  const term: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] };
  spec.affinity = { ...spec.affinity, nodeAffinity: { ...spec.affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } } };
  return t;
}

/** util.GetTemplateGeneration: the DaemonSet's template generation annotation, if any. */
export function templateGeneration(ds: DaemonSet): string | undefined {
  const v = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return v !== undefined && /^-?\d+$/.test(v) ? String(BigInt(v)) : undefined;
}

/** util.CreatePodTemplate: the template with the daemon tolerations and the generation and
 *  revision-hash labels. */
export function daemonPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const t = structuredClone(ds.spec?.template ?? {});
  t.spec = withDaemonTolerations(t.spec ?? { containers: [] });
  const labels = { ...(t.metadata?.labels ?? {}) };
  const gen = templateGeneration(ds);
  if (gen !== undefined) labels[POD_TEMPLATE_GENERATION] = gen;
  if (hash) labels[CONTROLLER_REVISION_HASH] = hash;
  t.metadata = { ...t.metadata, labels };
  return t;
}

/** util.IsPodUpdated: the pod carries the current hash or the current template generation. */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  return (hash.length > 0 && labels[CONTROLLER_REVISION_HASH] === hash) || (generation !== undefined && labels[POD_TEMPLATE_GENERATION] === generation);
}

/** Go's string ordering (bytes, not locale). */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const created = (p: Pod): number => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
/** podByCreationTimestampAndPhase: scheduled pods (spec.nodeName set) first, then oldest first,
 *  then by name. */
export function byCreationTimestampAndPhase(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  return sa - sb || created(a) - created(b) || cmp(a.metadata?.name ?? '', b.metadata?.name ?? '');
}

const isTerminal = (p: Pod): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

/** getNodesToDaemonPods: the claimed pods by target node (pods both terminal and being deleted,
 *  and pods with no target node, left out). */
export function podsByNode(pods: Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    if (isTerminal(p) && p.metadata?.deletionTimestamp) continue;
    const n = targetNodeName(p);
    if (n === undefined) continue;
    const list = out.get(n) ?? [];
    list.push(p);
    out.set(n, list);
  }
  return out;
}

/** util.SurgeCount / UnavailableCount (percentages of `desired` rounded up); 0 for OnDelete. */
export function rollingCounts(ds: DaemonSet, desired: number): { surge: number; unavailable: number } {
  const us = ds.spec?.updateStrategy;
  if ((us?.type ?? 'RollingUpdate') !== 'RollingUpdate' || !us?.rollingUpdate) return { surge: 0, unavailable: 0 };
  const ru = us.rollingUpdate;
  return { surge: scaledValue(ru.maxSurge, desired, true), unavailable: scaledValue(ru.maxUnavailable, desired, true) };
}

/** util.AllowsSurge. */
export const allowsSurge = (ds: DaemonSet): boolean => rollingCounts(ds, 1).surge !== 0;

export interface ManagePlan {
  /** Nodes needing a daemon pod, in node order. */
  create: string[];
  /** Pods to delete, by name. */
  delete: string[];
  /** Failed pods to delete (for the FailedDaemonPod event and the backoff): [pod, node]. */
  failed: [string, string][];
  /** Nodes whose failed pod waits for its backoff to pass. */
  backedOff: string[];
}

/**
 * manage(): per node, podsShouldBeOnNode — create where the pod should run and none is there;
 * delete failed pods, extra pods (all but the oldest; with surge, the oldest new and oldest old)
 * and pods on nodes where they may not continue running; a failed pod whose node is in
 * `failedInBackoff` is left for later. Pods pinned to nodes that do not exist
 * are deleted too (upstream: getUnscheduledPodsWithoutNode, and PodGC for bound ones).
 */
export function planManage(ds: DaemonSet, nodes: Node[], pods: Pod[], hash: string, failedInBackoff: (node: string) => boolean = () => false): ManagePlan {
  const byNode = podsByNode(pods);
  const plan: ManagePlan = { create: [], delete: [], failed: [], backedOff: [] };
  const surge = allowsSurge(ds);
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const onNode = byNode.get(name);
    if (shouldRun && !onNode) {
      plan.create.push(name);
    } else if (shouldContinueRunning && onNode) {
      const running: Pod[] = [];
      for (const p of onNode) {
        if (p.metadata?.deletionTimestamp) continue;
        if (p.status?.phase === 'Failed') {
          // Deleting failed pods fights a kubelet that rejects them: backed off per node.
          if (failedInBackoff(name)) {
            plan.backedOff.push(name);
            continue;
          }
          plan.delete.push(p.metadata?.name ?? '');
          plan.failed.push([p.metadata?.name ?? '', name]);
        } else if (p.status?.phase === 'Succeeded') {
          plan.delete.push(p.metadata?.name ?? '');
        } else running.push(p);
      }
      running.sort(byCreationTimestampAndPhase);
      if (!surge) {
        for (const p of running.slice(1)) plan.delete.push(p.metadata?.name ?? '');
      } else {
        let newSeen = false;
        let oldSeen = false;
        for (const p of running) {
          const isNew = p.metadata?.labels?.[CONTROLLER_REVISION_HASH] === hash;
          if (isNew && !newSeen) newSeen = true;
          else if (!isNew && !oldSeen) oldSeen = true;
          else plan.delete.push(p.metadata?.name ?? '');
        }
      }
    } else if (!shouldContinueRunning && onNode) {
      for (const p of onNode) if (!p.metadata?.deletionTimestamp) plan.delete.push(p.metadata?.name ?? '');
    }
  }
  const known = new Set(nodes.map((n) => n.metadata?.name ?? ''));
  for (const [n, ps] of [...byNode].sort(([a], [b]) => cmp(a, b))) {
    if (known.has(n)) continue;
    for (const p of ps) if (!p.metadata?.deletionTimestamp) plan.delete.push(p.metadata?.name ?? '');
  }
  return plan;
}

/** findUpdatedPodsOnNode: the node's one new and one old live pod; ok false when it has more. */
function updatedOnNode(pods: Pod[], hash: string, gen: string | undefined): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(p, hash, gen)) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { newPod, oldPod, ok: true };
}

/**
 * rollingUpdate(): which old pods to delete (maxSurge 0: within maxUnavailable, unavailable old
 * pods always) or, with surge, on which nodes to start a new pod beside the old one and which old
 * pods whose replacement is available to delete.
 */
export function planRollingUpdate(ds: DaemonSet, nodes: Node[], pods: Pod[], hash: string, now: number): { create: string[]; delete: string[] } {
  const byNode = podsByNode(pods);
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
    desired++;
    const n = node.metadata?.name ?? '';
    if (!byNode.has(n)) byNode.set(n, []);
  }
  let { surge: maxSurge, unavailable: maxUnavailable } = rollingCounts(ds, desired);
  if (desired > 0 && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const gen = templateGeneration(ds);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const avail = (p: Pod) => isPodAvailable(p, minReady, now);
  const entries = [...byNode].sort(([a], [b]) => cmp(a, b));
  if (maxSurge === 0) {
    let numUnavailable = 0;
    const allowed: string[] = [];
    const candidates: string[] = [];
    for (const [, ps] of entries) {
      const { newPod, oldPod, ok } = updatedOnNode(ps, hash, gen);
      if (!ok || (!newPod && !oldPod) || (newPod && oldPod)) numUnavailable++;
      else if (newPod) {
        if (!avail(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!avail(oldPod)) allowed.push(oldPod.metadata?.name ?? '');
        else if (numUnavailable < maxUnavailable) candidates.push(oldPod.metadata?.name ?? '');
      }
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    return { create: [], delete: [...allowed, ...candidates.slice(0, remaining)] };
  }
  let numSurge = 0;
  const create: string[] = [];
  const del: string[] = [];
  for (const [node, ps] of entries) {
    const { newPod, oldPod, ok } = updatedOnNode(ps, hash, gen);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (!oldPod) continue;
    if (!newPod) {
      if (!avail(oldPod)) create.push(node);
      else if (numSurge < maxSurge) {
        numSurge++;
        create.push(node);
      }
    } else if (!avail(newPod)) numSurge++;
    else del.push(oldPod.metadata?.name ?? '');
  }
  return { create, delete: del };
}

export interface DaemonSetCounts {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  numberUnavailable: number;
  updatedNumberScheduled: number;
}

/** updateDaemonSetStatus's counts; the oldest pod of a node is the one that counts. */
export function daemonSetCounts(ds: DaemonSet, nodes: Node[], pods: Pod[], hash: string, now: number): DaemonSetCounts {
  const byNode = podsByNode(pods);
  const c: DaemonSetCounts = { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, updatedNumberScheduled: 0 };
  const gen = templateGeneration(ds);
  for (const node of nodes) {
    const onNode = byNode.get(node.metadata?.name ?? '') ?? [];
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
      if (onNode.length > 0) c.numberMisscheduled++;
      continue;
    }
    c.desiredNumberScheduled++;
    if (onNode.length === 0) continue;
    c.currentNumberScheduled++;
    const pod = [...onNode].sort(byCreationTimestampAndPhase)[0]!;
    if (isPodReady(pod)) {
      c.numberReady++;
      if (isPodAvailable(pod, ds.spec?.minReadySeconds ?? 0, now)) c.numberAvailable++;
    }
    if (isPodUpdated(pod, hash, gen)) c.updatedNumberScheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}
