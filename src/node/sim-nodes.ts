// Simulated nodes (the idea of kubernetes-sigs/kwok, built in): Node objects with no machine
// behind them, kept alive the way a kubelet keeps a node alive, entirely through the API. One
// SimNodePool drives many nodes cheaply: registration runs a bounded number of creates at once,
// leases renew in staggered batches over the renew interval, one pod informer and one timer heap
// serve every pod of every node (see sim-pod-driver.ts). Nothing here opens a socket to a node
// address: the InternalIPs are made up and never contacted.
import type { Node } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { createInformer, type Informer } from '../client/informer.js';
import { realClock, rfc3339, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { TimerQueue } from '../util/timer-queue.js';
import {
  microTime,
  NODE_LEASE_NAMESPACE,
  SIM_DEFAULT_CAPACITY,
  SIMULATED_ANNOTATION,
  simInternalIP,
  simLeaseObject,
  simNodeObject,
  simNodeStatus,
  type SimCapacity,
  type SimNodeParams,
} from './sim-node-object.js';
import { SimPodDriver, type SimNodeNet } from './sim-pod-driver.js';
import { PodIpRange } from './sim-pod-ips.js';

const log = logger('sim-nodes');
const nodesRT = resourceFor('', 'v1', 'nodes');
const leasesRT = resourceFor('coordination.k8s.io', 'v1', 'leases');

/** Creates and deletes in flight at once while registering or removing nodes. */
const REGISTER_CONCURRENCY = 50;
/** Leases renewed together; batches are spread evenly over the renew interval. */
const LEASE_BATCH = 50;

export interface SimNodePoolOptions {
  /** Node names (e.g. `sim-0 … sim-N-1`). */
  names: string[];
  /** Reported as capacity and allocatable; unset fields take the defaults (32 cpu, 256Gi memory,
   *  110 pods, 1Ti ephemeral-storage). */
  capacity?: SimCapacity;
  /** Extra node labels (win over the kubelet's defaults). */
  labels?: Record<string, string>;
  /** Bound → Running (default 1000 ms). */
  startDelayMs?: number;
  /** Pods owned by a Job complete with exit code 0 this long after running (default 5000 ms). */
  jobPodRunMs?: number;
  /** The Lease's leaseDurationSeconds (default 40, the kubelet's). */
  leaseDurationSeconds?: number;
  /** How often each node renews its Lease (default 10 000 ms, the kubelet's). */
  renewIntervalMs?: number;
  clock?: Clock;
  /** Pod status writes and deletes in flight at once (default 4). When the API server is saturated
   *  this keeps the sims' share of it small, and writes coalesce (a pod due to run before its
   *  Pending write went out is written once, as Running). */
  maxInflightWrites?: number;
  /** Container images that run but never become ready on these nodes — a rollout of a broken
   *  image, for lessons and tests (as a failing readiness probe would). */
  unreadyImages?: string[];
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure
 *  once every call has settled. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure;
}

/**
 * A set of simulated nodes. `start()` registers the Nodes (or takes over existing simulated ones
 * of the same names, refreshing their status), creates their Leases, and begins driving the pods
 * bound to them; it rejects if a name belongs to a Node that is not simulated or if registration
 * fails. `stop()` ends every timer, the informers and the workers, and leaves the objects in
 * place; `removeNodes()` stops the pool and deletes its Nodes and Leases. Pods are never deleted
 * by the pool except to finish a graceful deletion.
 */
export class SimNodePool {
  private readonly clock: Clock;
  private readonly timers: TimerQueue;
  private readonly nets = new Map<string, SimNodeNet>();
  private readonly uids = new Map<string, string>();
  private readonly leases = new Map<string, KubeObject>();
  private readonly renewing = new Set<string>();
  private readonly capacity: Record<string, string>;
  private readonly driver: SimPodDriver;
  private readonly nodeInformer: Informer<KubeObject>;
  private readonly leaseDurationSeconds: number;
  private readonly renewIntervalMs: number;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly opts: SimNodePoolOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    this.timers = new TimerQueue(this.clock, (e) => log.error('timer callback failed', { error: String(e) }));
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 40;
    this.renewIntervalMs = opts.renewIntervalMs ?? 10_000;
    const cap: Record<string, string> = { ...SIM_DEFAULT_CAPACITY };
    for (const [k, v] of Object.entries(opts.capacity ?? {})) if (v !== undefined) cap[k] = v;
    this.capacity = cap;
    const taken = new Set<number>();
    for (const name of new Set(opts.names)) {
      this.nets.set(name, { name, internalIP: simInternalIP(name, taken), pods: new Set(), waiting: new Set() });
    }
    this.driver = new SimPodDriver(client, this.nets, {
      clock: this.clock,
      timers: this.timers,
      startDelayMs: opts.startDelayMs ?? 1000,
      jobPodRunMs: opts.jobPodRunMs ?? 5000,
      maxInflightWrites: opts.maxInflightWrites ?? 4,
      ...(opts.unreadyImages?.length ? { unreadyImages: new Set(opts.unreadyImages) } : {}),
    });
    this.nodeInformer = createInformer<KubeObject>(client, nodesRT, { clock: this.clock });
    this.nodeInformer.onAdd((n) => this.observeNode(n as unknown as Node));
    this.nodeInformer.onUpdate((_, n) => this.observeNode(n as unknown as Node));
  }

  /** The node names this pool drives. */
  names(): string[] {
    return [...this.nets.keys()];
  }

  async start(): Promise<void> {
    const names = this.names();
    await forEachLimit(names, REGISTER_CONCURRENCY, (name) => this.register(name));
    await forEachLimit(names, REGISTER_CONCURRENCY, (name) => this.ensureLease(name));
    if (this.stopped) return;
    this.nodeInformer.start();
    await this.nodeInformer.waitForSync();
    await this.driver.start();
    this.scheduleRenewals();
    log.info('simulated nodes ready', { nodes: names.length });
  }

  /** Ends timers, informers and workers. The Node and Lease objects stay. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.stop();
    this.driver.stop();
    this.nodeInformer.stop();
  }

  /** Stops the pool, then deletes its Leases and Nodes (absent ones are fine). */
  async removeNodes(): Promise<void> {
    this.stop();
    await forEachLimit(this.names(), REGISTER_CONCURRENCY, async (name) => {
      for (const [rt, ns] of [[leasesRT, NODE_LEASE_NAMESPACE], [nodesRT, undefined]] as const) {
        try {
          await this.client.delete(rt, name, ns ? { namespace: ns } : {});
        } catch (e) {
          if (!isStatusError(e, 'NotFound')) throw e;
        }
      }
    });
  }

  private params(name: string): SimNodeParams {
    const net = this.nets.get(name)!;
    return { name, capacity: this.capacity, ...(this.opts.labels ? { labels: this.opts.labels } : {}), internalIP: net.internalIP };
  }

  /** As a kubelet registers: create; if the Node exists (a restart), take it over and post a
   *  fresh status, keeping its address and the transition times of unchanged conditions. */
  private async register(name: string): Promise<void> {
    const now = rfc3339(this.clock.now());
    try {
      const created = await this.client.create(nodesRT, simNodeObject(this.params(name), now));
      this.uids.set(name, created.metadata.uid ?? '');
      return;
    } catch (e) {
      if (!isStatusError(e, 'AlreadyExists')) throw e;
    }
    const existing = (await this.client.get(nodesRT, name)) as unknown as Node;
    if (existing.metadata?.annotations?.[SIMULATED_ANNOTATION] !== 'true') {
      throw new Error(`node "${name}" already exists and is not a simulated node`);
    }
    this.uids.set(name, existing.metadata.uid ?? '');
    const ip = existing.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (ip) this.nets.get(name)!.internalIP = ip;
    const status = simNodeStatus(this.params(name), now, existing.status?.conditions);
    await this.client.patch(nodesRT, name, 'merge', { status }, { subresource: 'status' });
  }

  private async ensureLease(name: string): Promise<void> {
    const lease = simLeaseObject({ name, uid: this.uids.get(name) }, this.leaseDurationSeconds, microTime(this.clock.now()));
    try {
      this.leases.set(name, await this.client.create(leasesRT, lease));
    } catch (e) {
      if (!isStatusError(e, 'AlreadyExists')) throw e;
      this.leases.set(name, await this.client.get(leasesRT, name, { namespace: NODE_LEASE_NAMESPACE }));
      await this.renew(name);
    }
  }

  /** One renewal, as the kubelet's lease controller: update the held Lease with a new renewTime;
   *  on a conflict take the current one (next round renews it), recreate a deleted one. */
  private async renew(name: string): Promise<void> {
    const held = this.leases.get(name);
    const renewTime = microTime(this.clock.now());
    try {
      if (!held) {
        this.leases.set(name, await this.client.create(leasesRT, simLeaseObject({ name, uid: this.uids.get(name) }, this.leaseDurationSeconds, renewTime)));
        return;
      }
      const next = { ...held, spec: { ...(held.spec as object), holderIdentity: name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime } };
      this.leases.set(name, await this.client.update(leasesRT, next));
    } catch (e) {
      if (isStatusError(e, 'NotFound')) this.leases.delete(name);
      else if (isStatusError(e, 'Conflict')) this.leases.set(name, await this.client.get(leasesRT, name, { namespace: NODE_LEASE_NAMESPACE }));
      else throw e;
    }
  }

  /** Batches of LEASE_BATCH nodes, one batch every interval/batches ms, so every node renews once
   *  per interval and never all at once. Deadlines are absolute, so slow rounds do not drift. */
  private scheduleRenewals(): void {
    const names = this.names();
    if (names.length === 0 || this.stopped) return;
    const batches = Math.ceil(names.length / LEASE_BATCH);
    const spacing = this.renewIntervalMs / batches;
    const base = this.clock.now();
    const tick = (i: number) => {
      const b = i % batches;
      for (const name of names.slice(b * LEASE_BATCH, (b + 1) * LEASE_BATCH)) {
        if (this.renewing.has(name)) continue; // the last renewal is still in flight
        this.renewing.add(name);
        this.renew(name)
          .catch((e) => {
            if (!this.stopped) log.warn('lease renewal failed', { node: name, error: e instanceof Error ? e.message : String(e) });
          })
          .finally(() => this.renewing.delete(name));
      }
      this.timers.scheduleAt(base + (i + 2) * spacing, () => tick(i + 1));
    };
    this.timers.scheduleAt(base + spacing, () => tick(0));
  }

  /** A node of ours got its pod CIDR from node IPAM: pods waiting for an address may go on. */
  private observeNode(node: Node): void {
    const net = this.nets.get(node.metadata?.name ?? '');
    if (!net || net.ips) return;
    const cidrs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
    const v4 = cidrs.find((c) => !c.includes(':'));
    if (!v4) return;
    try {
      net.ips = new PodIpRange(v4);
    } catch (e) {
      log.error('unusable pod CIDR on simulated node', { node: net.name, podCIDR: v4, error: String(e) });
      return;
    }
    this.driver.nodeRangeReady(net);
  }
}
