// The scheduler: a small loop over the queue. For each pending pod: take a snapshot, run the
// filters over (a sample of) the nodes, score the feasible ones, pick the best (ties broken by
// the injected random source), assume the pod onto that node in the cache, and bind it through
// `pods/binding` in the background. A pod no node fits gets PodScheduled=False with Kubernetes'
// message, a FailedScheduling event, and waits for a cluster change.
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { createInformer, type Informer } from '../client/informer.js';
import { realClock, rfc3339, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { SchedulerCache } from './cache.js';
import { MAX_NODE_SCORE, type CycleContext, type NodeInfo, type NodeObject, type Plugin, type Pod, type Profile } from './framework.js';
import { podInfoOf } from './node-info.js';
import { defaultProfile } from './plugins/index.js';
import { SchedulingQueue, type QueuedPod } from './queue.js';
import { failureMessage, feasibleNodesToFind } from './diagnosis.js';

const log = logger('scheduler');
const PODS = resourceFor('', 'v1', 'pods');
const NODES = resourceFor('', 'v1', 'nodes');
const NAMESPACES = resourceFor('', 'v1', 'namespaces');

export interface SchedulerOptions {
  profile?: Profile;
  clock?: Clock;
  /** Random source in [0, 1) for breaking ties (tests inject a fixed one). */
  random?: () => number;
  /** How many bindings may be in flight at once. Default 64. */
  maxInFlightBindings?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Scheduling latency of bound pods, for benchmarks: ms from first seen to bind acknowledged. */
export interface SchedulerStats {
  scheduled: number;
  unschedulableAttempts: number;
  bindErrors: number;
  /** From first queued to binding acknowledged (includes waiting behind other pods). */
  latenciesMs: number[];
  /** From taken off the queue to binding acknowledged: the scheduling attempt itself. */
  attemptLatenciesMs: number[];
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly stats: SchedulerStats = { scheduled: 0, unschedulableAttempts: 0, bindErrors: 0, latenciesMs: [], attemptLatenciesMs: [] };
  private readonly profile: Profile;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly recorder: EventRecorder;
  private informers: Informer[] = [];
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private nextStartNodeIndex = 0;
  /** Counts cluster events, so a cycle knows whether anything changed while it ran. */
  private clusterEvents = 0;
  private inFlightBindings = 0;
  private bindingSlots: (() => void)[] = [];
  private readonly maxInFlight: number;

  constructor(private readonly client: Client, opts: SchedulerOptions = {}) {
    this.profile = opts.profile ?? defaultProfile();
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.maxInFlight = opts.maxInFlightBindings ?? 64;
    this.queue = new SchedulingQueue({ clock: this.clock, ...(opts.initialBackoffMs !== undefined ? { initialBackoffMs: opts.initialBackoffMs } : {}), ...(opts.maxBackoffMs !== undefined ? { maxBackoffMs: opts.maxBackoffMs } : {}) });
    this.recorder = createEventRecorder(client, { component: this.profile.schedulerName, clock: this.clock });
  }

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? 'default-scheduler') === this.profile.schedulerName;
  }

  private clusterChanged(): void {
    this.clusterEvents++;
    this.queue.moveAllToActiveOrBackoff();
  }

  /** Starts the informers and the loop; resolves once the caches are filled. */
  async start(): Promise<void> {
    const nodes = createInformer<NodeObject>(this.client, NODES);
    nodes.onAdd((n) => {
      this.cache.addOrUpdateNode(n);
      this.clusterChanged();
    });
    nodes.onUpdate((o, n) => {
      this.cache.addOrUpdateNode(n);
      if (nodeSchedulingChanged(o, n)) this.clusterChanged();
    });
    nodes.onDelete((n) => this.cache.removeNode(n.metadata.name!));

    const namespaces = createInformer(this.client, NAMESPACES);
    namespaces.onAdd((ns) => this.cache.setNamespace(ns.metadata.name!, ns.metadata.labels));
    namespaces.onUpdate((_, ns) => this.cache.setNamespace(ns.metadata.name!, ns.metadata.labels));
    namespaces.onDelete((ns) => this.cache.removeNamespace(ns.metadata.name!));

    const pods = createInformer<Pod>(this.client, PODS);
    pods.onAdd((p) => this.onPod(p));
    pods.onUpdate((_, p) => this.onPod(p));
    pods.onDelete((p) => {
      this.queue.delete(p);
      if (p.spec?.nodeName) {
        this.cache.removePod(p);
        this.clusterChanged();
      }
    });
    this.informers = [nodes, namespaces, pods];
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.running = true;
    this.loopDone = this.loop();
    log.info('scheduler started', { nodes: this.cache.nodeCount() });
  }

  private onPod(p: Pod): void {
    if (p.spec?.nodeName) {
      // bound (by us, by the user, or elsewhere): it counts on its node; it is no longer pending
      this.queue.delete(p);
      const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      if (terminal) {
        this.cache.removePod(p);
        this.clusterChanged();
      } else this.cache.addOrUpdatePod(p);
      return;
    }
    if (p.metadata.deletionTimestamp || !this.responsibleFor(p)) {
      this.queue.delete(p);
      return;
    }
    this.queue.add(p);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const q = await this.queue.pop();
      if (!q) return;
      try {
        await this.scheduleOne(q);
      } catch (e) {
        log.error('scheduling cycle failed', { pod: q.key, err: (e as Error).stack ?? String(e) });
        this.queue.addBackoff(q);
      }
    }
  }

  /** One scheduling cycle for one pod. */
  async scheduleOne(q: QueuedPod): Promise<void> {
    const started = this.clock.now();
    const eventsAtStart = this.clusterEvents;
    const snapshot = this.cache.snapshot();
    const ctx: CycleContext = { pod: podInfoOf(q.pod), snapshot, state: new Map() };
    const nodes = snapshot.nodes;
    const reasons = new Map<string, number>();
    let feasible: NodeInfo[] = [];
    let preFilterReason: string | undefined;

    const filters: Plugin[] = [];
    for (const p of this.profile.plugins) {
      const r = p.plugin.preFilter?.(ctx);
      if (r === 'skip') continue;
      if (r) {
        preFilterReason = r.reasons.join(', ');
        break;
      }
      if (p.plugin.filter) filters.push(p.plugin);
    }
    if (!preFilterReason && nodes.length) {
      const want = feasibleNodesToFind(nodes.length, this.profile.percentageOfNodesToScore);
      const start = this.nextStartNodeIndex % nodes.length;
      let checked = 0;
      for (; checked < nodes.length && feasible.length < want; checked++) {
        const ni = nodes[(start + checked) % nodes.length]!;
        let failed = false;
        for (const plugin of filters) {
          const r = plugin.filter!(ctx, ni);
          if (r) {
            for (const reason of r.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
            failed = true;
            break;
          }
        }
        if (!failed) feasible.push(ni);
      }
      this.nextStartNodeIndex = (start + checked) % nodes.length;
    }

    if (feasible.length === 0) {
      await this.unschedulable(q, failureMessage(nodes.length, reasons, preFilterReason), this.clusterEvents !== eventsAtStart);
      return;
    }

    const chosen = feasible.length === 1 ? feasible[0]! : this.pick(ctx, feasible);
    this.cache.assumePod(ctx.pod, chosen.name);
    this.queue.done(q);
    await this.acquireBindingSlot();
    void this.bind(q, ctx, chosen.name, started).finally(() => this.releaseBindingSlot());
  }

  private pick(ctx: CycleContext, feasible: NodeInfo[]): NodeInfo {
    const n = feasible.length;
    const totals = new Float64Array(n);
    const scoring = this.profile.plugins.filter((p) => p.plugin.score && p.weight > 0 && p.plugin.preScore?.(ctx, feasible) !== 'skip');
    for (const p of scoring) {
      const plugin = p.plugin;
      if (!plugin.score) continue;
      if (plugin.normalizeScore) {
        const scores = new Map<string, number>();
        for (let i = 0; i < n; i++) scores.set(feasible[i]!.name, plugin.score(ctx, feasible[i]!));
        plugin.normalizeScore(ctx, scores);
        for (let i = 0; i < n; i++) totals[i]! += clampScore(scores.get(feasible[i]!.name)!) * p.weight;
      } else {
        for (let i = 0; i < n; i++) totals[i]! += clampScore(plugin.score(ctx, feasible[i]!)) * p.weight;
      }
    }
    // highest total; ties broken uniformly at random (reservoir sampling, as upstream selectHost)
    let best = 0;
    let ties = 0;
    for (let i = 0; i < n; i++) {
      if (totals[i]! > totals[best]! || i === 0) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return feasible[best]!;
  }

  private async bind(q: QueuedPod, ctx: CycleContext, node: string, started: number): Promise<void> {
    const pod = q.pod;
    const { namespace, name } = pod.metadata;
    try {
      await this.client.create(PODS, { apiVersion: 'v1', kind: 'Binding', metadata: { name: name!, namespace: namespace!, uid: pod.metadata.uid! }, target: { apiVersion: 'v1', kind: 'Node', name: node } }, { namespace: namespace!, subresource: 'binding' });
      this.stats.scheduled++;
      const now = this.clock.now();
      this.stats.latenciesMs.push(now - q.firstSeen);
      this.stats.attemptLatenciesMs.push(now - started);
      this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
    } catch (e) {
      this.cache.forgetPod(ctx.pod);
      this.stats.bindErrors++;
      if (isStatusError(e, 'NotFound')) return; // the pod went away
      if (isStatusError(e, 'Conflict') && /already assigned/.test((e as Error).message)) return;
      log.warn('binding failed', { pod: q.key, node, err: (e as Error).message });
      this.recorder.event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${(e as Error).message}`);
      this.queue.addBackoff(q);
    }
  }

  private async unschedulable(q: QueuedPod, message: string, changedMeanwhile: boolean): Promise<void> {
    this.stats.unschedulableAttempts++;
    const pod = q.pod;
    this.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    this.queue.addUnschedulable(q, changedMeanwhile);
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (cond?.status === 'False' && cond.reason === 'Unschedulable' && cond.message === message) return;
    try {
      await this.client.patch(
        PODS,
        pod.metadata.name!,
        'strategic',
        { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339(this.clock.now()) }] } },
        { namespace: pod.metadata.namespace!, subresource: 'status', fieldManager: this.profile.schedulerName },
      );
    } catch (e) {
      if (!isStatusError(e, 'NotFound')) log.warn('could not record the pod condition', { pod: q.key, err: (e as Error).message });
    }
  }

  private acquireBindingSlot(): Promise<void> {
    if (this.inFlightBindings < this.maxInFlight) {
      this.inFlightBindings++;
      return Promise.resolve();
    }
    return new Promise((r) => this.bindingSlots.push(r));
  }

  private releaseBindingSlot(): void {
    const next = this.bindingSlots.shift();
    if (next) next();
    else this.inFlightBindings--;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.queue.close();
    for (const i of this.informers) i.stop();
    await this.loopDone;
    this.recorder.stop();
  }

  /** Waits for queued event writes (tests). */
  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }
}

function clampScore(s: number): number {
  return s < 0 ? 0 : s > MAX_NODE_SCORE ? MAX_NODE_SCORE : s;
}

/** Whether a node change can make a pending pod fit (labels, taints, allocatable, cordon). */
function nodeSchedulingChanged(o: NodeObject, n: NodeObject): boolean {
  return (
    JSON.stringify(o.metadata.labels) !== JSON.stringify(n.metadata.labels) ||
    JSON.stringify(o.spec?.taints) !== JSON.stringify(n.spec?.taints) ||
    o.spec?.unschedulable !== n.spec?.unschedulable ||
    JSON.stringify(o.status?.allocatable) !== JSON.stringify(n.status?.allocatable) ||
    JSON.stringify(o.status?.conditions?.map((c) => [c.type, c.status])) !== JSON.stringify(n.status?.conditions?.map((c) => [c.type, c.status]))
  );
}
