// The kubelet half of simulated nodes: one pod informer for the whole pool, and for every pod bound
// to one of its nodes the status transitions a kubelet would report (Pending with containers
// being created → Running and Ready after a delay → Succeeded for Job pods), then the final
// delete of a gracefully deleted pod. Deadlines sit in one TimerQueue; status writes go through a
// work queue drained by a bounded number of workers, so thousands of pods bound at once cannot
// starve the API server, and a pod whose Pending write has not gone out yet when it is due to run
// is written once, as Running.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { createInformer, type Informer } from '../client/informer.js';
import { createWorkQueue, type WorkQueue } from '../client/workqueue.js';
import { rfc3339, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import type { TimerHandle, TimerQueue } from '../util/timer-queue.js';
import type { PodIpRange } from './sim-pod-ips.js';
import { isJobPod, simPodStatus, type SimPodStage } from './sim-pod-status.js';

const log = logger('sim-nodes');
const pods = resourceFor('', 'v1', 'pods');

/** What the driver knows of one simulated node; the pool owns it and fills `ips` once the node
 *  has a pod CIDR (then calls `nodeRangeReady`). */
export interface SimNodeNet {
  name: string;
  internalIP: string;
  ips?: PodIpRange;
  /** Keys of the tracked pods bound to this node. */
  pods: Set<string>;
  /** Keys of pods due to run that wait for an address (no pod CIDR yet, or the range is full). */
  waiting: Set<string>;
}

export interface SimPodDriverOptions {
  clock: Clock;
  timers: TimerQueue;
  /** Bound → Running. */
  startDelayMs: number;
  /** Running → Succeeded, for pods owned by a Job. */
  jobPodRunMs: number;
  /** Status writes and deletes in flight at once. */
  maxInflightWrites: number;
  /** Images that run but never become ready. */
  unreadyImages?: ReadonlySet<string>;
}

const STAGE_RANK: Record<SimPodStage, number> = { pending: 0, running: 1, succeeded: 2 };
/** Sims finish a graceful deletion quickly: a real grace period would only slow tests and benches. */
const MAX_SIM_GRACE_MS = 1000;

interface Tracked {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  node: string;
  /** Where the pod should be now, and what the API has been told. */
  stage: SimPodStage;
  written?: SimPodStage;
  startTime: string;
  runningAt?: number;
  finishedAt?: number;
  ip?: string;
  /** Whether `ip` is counted as used in the node's range (false once released). */
  ipHeld: boolean;
  timer?: TimerHandle;
  /** Deletion seen: the pending timer waits out the (capped) grace period. */
  deleting: boolean;
  /** The grace period is over: the next sync deletes the pod for good. */
  deleteDue: boolean;
  /** Succeeded or Failed (by us or someone else): nothing more to drive. */
  terminal: boolean;
}

/**
 * Drives every pod bound to a node in `nodes`. `start()` resolves once the informer has synced
 * (pods found already running keep their address and start time); handlers never throw. Writes
 * that fail are retried with per-pod backoff; a pod that went away (404) or was replaced by a
 * pod of the same name (uid precondition) is dropped. `stop()` ends the informer and the workers;
 * writes already in flight finish but change nothing afterwards.
 */
export class SimPodDriver {
  private readonly informer: Informer<KubeObject>;
  private readonly queue: WorkQueue<string>;
  private readonly tracked = new Map<string, Tracked>();
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly nodes: Map<string, SimNodeNet>,
    private readonly opts: SimPodDriverOptions,
  ) {
    // A plain informer: `spec.nodeName in (...)` is no field selector Kubernetes offers, and one
    // watch for the pool is cheaper than one per node.
    this.informer = createInformer<KubeObject>(client, pods, { clock: opts.clock });
    this.queue = createWorkQueue<string>({ clock: opts.clock });
    this.informer.onAdd((o) => this.observe(o as unknown as Pod));
    this.informer.onUpdate((_, o) => this.observe(o as unknown as Pod));
    this.informer.onDelete((o) => {
      const t = this.tracked.get(keyOf(o as unknown as Pod));
      if (t && t.uid === o.metadata.uid) this.forget(t);
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    // Workers start only now, so no address is handed out before every running pod has
    // reserved its own.
    for (let i = 0; i < this.opts.maxInflightWrites; i++) void this.work();
  }

  stop(): void {
    this.stopped = true;
    this.informer.stop();
    this.queue.shutDown();
    for (const t of this.tracked.values()) t.timer?.cancel();
  }

  /** `net.ips` was just set: reserve the addresses of pods found running there, and let the pods
   *  that waited for an address go on. */
  nodeRangeReady(net: SimNodeNet): void {
    if (!net.ips) return;
    for (const key of net.pods) {
      const t = this.tracked.get(key);
      if (t?.ip && !t.ipHeld && !t.terminal) t.ipHeld = net.ips.reserve(t.ip);
    }
    this.retryWaiting(net);
  }

  /** Pods tracked (for tests and diagnostics). */
  trackedCount(): number {
    return this.tracked.size;
  }

  private retryWaiting(net: SimNodeNet): void {
    for (const key of net.waiting) this.queue.add(key);
    net.waiting.clear();
  }

  private observe(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || this.stopped) return;
    const net = this.nodes.get(nodeName);
    if (!net) return;
    const key = keyOf(pod);
    let t = this.tracked.get(key);
    if (t && t.uid !== pod.metadata?.uid) {
      this.forget(t);
      t = undefined;
    }
    const phase = pod.status?.phase;
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    if (!t) {
      if (terminal) return; // finished before we looked: nothing to drive
      t = this.adopt(pod, net);
    }
    if (pod.metadata?.deletionTimestamp) {
      this.beginDeletion(t, pod);
    } else if (terminal && !t.terminal) {
      // Ended by us (the write echoing back) or by someone else: either way, nothing more to do.
      t.terminal = true;
      t.timer?.cancel();
      this.releaseIp(t);
    }
  }

  /** Starts tracking a pod: a new one starts at Pending; one found Running (a restarted pool)
   *  keeps its address and start time. */
  private adopt(pod: Pod, net: SimNodeNet): Tracked {
    const now = this.opts.clock.now();
    const st = pod.status;
    const t: Tracked = {
      key: keyOf(pod),
      namespace: pod.metadata?.namespace ?? 'default',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
      node: net.name,
      stage: 'pending',
      startTime: st?.startTime ?? rfc3339(now),
      ipHeld: false,
      deleting: false,
      deleteDue: false,
      terminal: false,
    };
    this.tracked.set(t.key, t);
    net.pods.add(t.key);
    if (st?.phase === 'Running' && (st.podIP || pod.spec?.hostNetwork)) {
      t.stage = t.written = 'running';
      const startedAt = st.containerStatuses?.[0]?.state?.running?.startedAt;
      t.runningAt = startedAt ? Date.parse(startedAt) : now;
      if (st.podIP && !pod.spec?.hostNetwork) {
        t.ip = st.podIP;
        if (net.ips) t.ipHeld = net.ips.reserve(st.podIP);
      }
      if (isJobPod(pod)) t.timer = this.opts.timers.scheduleAt(t.runningAt + this.opts.jobPodRunMs, () => this.complete(t));
      return t;
    }
    this.queue.add(t.key);
    t.timer = this.opts.timers.scheduleIn(this.opts.startDelayMs, () => this.run(t, isJobPod(pod)));
    return t;
  }

  private run(t: Tracked, job: boolean): void {
    t.stage = 'running';
    t.runningAt = this.opts.clock.now();
    if (job) t.timer = this.opts.timers.scheduleIn(this.opts.jobPodRunMs, () => this.complete(t));
    this.queue.add(t.key);
  }

  private complete(t: Tracked): void {
    t.stage = 'succeeded';
    t.finishedAt = this.opts.clock.now();
    this.queue.add(t.key);
  }

  /** As a kubelet finishing a graceful deletion: stop the containers, then delete with grace 0. */
  private beginDeletion(t: Tracked, pod: Pod): void {
    if (t.deleting) return;
    t.deleting = true;
    t.timer?.cancel();
    const graceMs = Math.min((pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000, MAX_SIM_GRACE_MS);
    t.timer = this.opts.timers.scheduleIn(graceMs, () => {
      t.deleteDue = true;
      this.queue.add(t.key);
    });
  }

  private forget(t: Tracked): void {
    t.timer?.cancel();
    this.releaseIp(t);
    this.tracked.delete(t.key);
    const net = this.nodes.get(t.node);
    net?.pods.delete(t.key);
    net?.waiting.delete(t.key);
  }

  private releaseIp(t: Tracked): void {
    if (!t.ip || !t.ipHeld) return;
    t.ipHeld = false;
    const net = this.nodes.get(t.node);
    net?.ips?.release(t.ip);
    if (net && net.waiting.size > 0) this.retryWaiting(net);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        if (!this.stopped) {
          log.warn('pod status write failed, retrying', { pod: key, error: e instanceof Error ? e.message : String(e) });
          this.queue.addRateLimited(key);
        }
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Brings the API up to date with where the pod should be. Throws to be retried. */
  private async sync(key: string): Promise<void> {
    const t = this.tracked.get(key);
    if (!t || this.stopped) return;
    const cached = this.informer.cache.get(key);
    if (!cached || cached.metadata.uid !== t.uid) return;
    const pod = cached as unknown as Pod;
    if (t.deleteDue) return this.deleteNow(t);
    if (t.deleting || t.terminal || (t.written && STAGE_RANK[t.written] >= STAGE_RANK[t.stage])) return;

    const stage = t.stage;
    const net = this.nodes.get(t.node);
    if (!net) return;
    let podIP: string | undefined;
    if (stage !== 'pending') {
      if (pod.spec?.hostNetwork) podIP = net.internalIP;
      else {
        if (!t.ip) {
          const ip = net.ips?.allocate();
          if (!ip) {
            // No pod CIDR yet (node IPAM has not got to this node) or the range is full: wait,
            // as a CNI plugin would keep the sandbox from starting.
            if (net.ips) log.warn('no free pod address on node', { node: net.name, pod: key });
            net.waiting.add(key);
            return;
          }
          t.ip = ip;
          t.ipHeld = true;
        }
        podIP = t.ip;
      }
    }
    const status = simPodStatus(pod, stage, {
      hostIP: net.internalIP,
      ...(podIP ? { podIP } : {}),
      startTime: t.startTime,
      ...(t.runningAt !== undefined ? { runningAt: rfc3339(t.runningAt) } : {}),
      ...(t.finishedAt !== undefined ? { finishedAt: rfc3339(t.finishedAt) } : {}),
      ...(this.opts.unreadyImages ? { unreadyImages: this.opts.unreadyImages } : {}),
    });
    try {
      await this.client.patch(pods, t.name, 'merge', { status }, { namespace: t.namespace, subresource: 'status' });
    } catch (e) {
      if (isStatusError(e, 'NotFound')) return; // gone: the informer's delete will forget it
      throw e;
    }
    if (this.tracked.get(key) !== t) return;
    if (!t.written || STAGE_RANK[stage] > STAGE_RANK[t.written]) t.written = stage;
    // The sandbox is gone once the pod completed: its address goes back to the range (the
    // status keeps showing it, as a kubelet's does).
    if (stage === 'succeeded') this.releaseIp(t);
    if (t.stage !== stage) this.queue.add(key);
  }

  private async deleteNow(t: Tracked): Promise<void> {
    try {
      await this.client.delete(pods, t.name, { namespace: t.namespace, gracePeriodSeconds: 0, preconditions: { uid: t.uid } });
    } catch (e) {
      // Already gone, or a new pod took the name: either way this one is done.
      if (isStatusError(e, 'NotFound') || isStatusError(e, 'Conflict')) return;
      throw e;
    }
  }
}

function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
