// The scheduler's cache: every node with the pods bound to it — and the pods it has just
// decided on but whose binding is still in flight ("assumed"), so the next pod already sees them.
// It is fed by informers, and hands each cycle an incremental snapshot: only nodes whose
// generation moved since the last snapshot are copied (Kubernetes' UpdateSnapshot).
import type { NodeInfo, NodeObject, Pod, PodInfo, Snapshot } from './framework.js';
import { addPodToNode, cloneNodeInfo, nodeInfoOf, podInfoOf, removePodFromNode, setNodeObject } from './node-info.js';

const key = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

interface PodState {
  info: PodInfo;
  node: string;
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly snapshotInfos = new Map<string, NodeInfo>();
  private snapshotNodes: NodeInfo[] = [];
  private withAffinity: NodeInfo[] = [];
  private withAntiAffinity: NodeInfo[] = [];
  /** Nodes changed since the last snapshot: only these are copied again. */
  private readonly dirty = new Set<string>();
  private structureChanged = true;

  // ---- nodes ----

  addOrUpdateNode(node: NodeObject): void {
    const name = node.metadata.name!;
    const ni = this.nodes.get(name);
    this.dirty.add(name);
    if (ni) setNodeObject(ni, node);
    else {
      const fresh = nodeInfoOf(node);
      // pods seen before their node (informers race) are attached now
      for (const p of this.pods.values()) if (p.node === name) addPodToNode(fresh, p.info);
      this.nodes.set(name, fresh);
      this.structureChanged = true;
    }
  }

  removeNode(name: string): void {
    if (this.nodes.delete(name)) this.structureChanged = true;
    this.dirty.delete(name);
    this.snapshotInfos.delete(name);
  }

  nodeCount(): number {
    return this.nodes.size;
  }

  // ---- pods ----

  /** A pod bound to a node (from the informer), confirming an assumed one if there was one. */
  addOrUpdatePod(pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (!node) return;
    const k = key(pod);
    const prev = this.pods.get(k);
    if (prev) this.detach(prev.node, k);
    const info = podInfoOf(pod);
    this.pods.set(k, { info, node, assumed: false });
    this.attach(node, info);
  }

  removePod(pod: Pod): void {
    const k = key(pod);
    const prev = this.pods.get(k);
    if (!prev) return;
    this.pods.delete(k);
    this.detach(prev.node, k);
  }

  private attach(node: string, info: PodInfo): void {
    const ni = this.nodes.get(node);
    if (!ni) return;
    addPodToNode(ni, info);
    this.dirty.add(node);
  }

  private detach(node: string, podKey: string): void {
    const ni = this.nodes.get(node);
    if (ni && removePodFromNode(ni, podKey)) this.dirty.add(node);
  }

  /** Counts `pod` on `node` while its binding is in flight. */
  assumePod(info: PodInfo, node: string): void {
    const k = info.key;
    const prev = this.pods.get(k);
    if (prev) this.detach(prev.node, k);
    this.pods.set(k, { info, node, assumed: true });
    this.attach(node, info);
  }

  /** The binding failed: the assumed pod no longer counts. */
  forgetPod(info: PodInfo): void {
    const s = this.pods.get(info.key);
    if (!s?.assumed) return;
    this.pods.delete(info.key);
    this.detach(s.node, info.key);
  }

  isAssumed(pod: Pod): boolean {
    return this.pods.get(key(pod))?.assumed === true;
  }

  // ---- namespaces (for namespaceSelector in pod affinity) ----

  setNamespace(name: string, labels: Record<string, string> | undefined): void {
    this.namespaceLabels.set(name, labels ?? {});
  }

  removeNamespace(name: string): void {
    this.namespaceLabels.delete(name);
  }

  /**
   * A snapshot for one scheduling cycle. Node infos are copies owned by the snapshot, refreshed
   * only where something changed since the last one; the node order is stable between cycles.
   */
  snapshot(): Snapshot {
    let affinityMayHaveChanged = this.structureChanged;
    for (const name of this.dirty) {
      const ni = this.nodes.get(name);
      if (!ni) continue;
      const old = this.snapshotInfos.get(name);
      if (old && old.generation === ni.generation) continue;
      const copy = cloneNodeInfo(ni);
      if (!old || old.podsWithAffinity.length !== copy.podsWithAffinity.length || old.podsWithRequiredAntiAffinity.length !== copy.podsWithRequiredAntiAffinity.length) affinityMayHaveChanged = true;
      this.snapshotInfos.set(name, copy);
      if (old) {
        const i = this.snapshotNodes.indexOf(old);
        if (i >= 0 && !this.structureChanged) this.snapshotNodes[i] = copy;
        if (!affinityMayHaveChanged && (old.podsWithAffinity.length || old.podsWithRequiredAntiAffinity.length)) affinityMayHaveChanged = true;
      }
    }
    this.dirty.clear();
    if (this.structureChanged) {
      this.snapshotNodes = [...this.nodes.keys()].map((n) => this.snapshotInfos.get(n)!).filter(Boolean);
      this.structureChanged = false;
    }
    if (affinityMayHaveChanged) {
      this.withAffinity = this.snapshotNodes.filter((n) => n.podsWithAffinity.length > 0);
      this.withAntiAffinity = this.snapshotNodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    }
    const infos = this.snapshotInfos;
    const labels = this.namespaceLabels;
    return {
      nodes: this.snapshotNodes,
      get: (name) => infos.get(name),
      havePodsWithAffinity: this.withAffinity,
      havePodsWithRequiredAntiAffinity: this.withAntiAffinity,
      namespaceLabels: (ns) => labels.get(ns),
    };
  }
}
