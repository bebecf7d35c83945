// The node IPAM controller of kube-controller-manager (its range allocator), minimal: every Node
// without spec.podCIDR gets the next free block of the cluster CIDR (a /24 of 10.42.0.0/16 by
// default), written to spec.podCIDR and spec.podCIDRs. What is in use is rebuilt from the Nodes
// at start (the Nodes are the one source of truth), and a deleted Node's block is freed. As
// upstream's cidrset, allocation walks on from the last block given and wraps, so a freed block is
// reused only once the others are taken. IPv4 only.
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { createEventRecorder } from '../client/events.js';
import { createInformer } from '../client/informer.js';
import { createWorkQueue } from '../client/workqueue.js';
import type { Clock } from '../util/clock.js';
import { cidrContains, formatIpv4Cidr, parseIpv4Cidr, type Ipv4Cidr } from '../util/ipv4-cidr.js';
import { logger } from '../util/log.js';

const log = logger('node-ipam');
const nodes = resourceFor('', 'v1', 'nodes');
/** Nodes patched at once: enough for thousands of simulated nodes joining together. */
const WORKERS = 8;

/** The blocks of a cluster CIDR, each free or taken (upstream's cidrset). */
export class CidrSet {
  readonly cluster: Ipv4Cidr;
  private readonly used = new Set<number>();
  private readonly blockSize: number;
  private readonly count: number;
  private next = 0;

  /** Throws when the cluster CIDR is not IPv4 or the mask is not longer than the cluster's prefix. */
  constructor(
    clusterCidr: string,
    readonly maskSize: number,
  ) {
    const c = parseIpv4Cidr(clusterCidr);
    if (!c) throw new Error(`cluster CIDR ${JSON.stringify(clusterCidr)} is not an IPv4 CIDR`);
    if (!Number.isInteger(maskSize) || maskSize < c.prefix || maskSize > 32) {
      throw new Error(`node CIDR mask size ${maskSize} does not fit in cluster CIDR ${clusterCidr}`);
    }
    this.cluster = c;
    this.blockSize = 2 ** (32 - maskSize);
    this.count = c.size / this.blockSize;
  }

  /** The next free block as `a.b.c.d/mask`, or undefined when every block is taken. */
  allocate(): string | undefined {
    for (let i = 0; i < this.count; i++) {
      const idx = (this.next + i) % this.count;
      if (this.used.has(idx)) continue;
      this.used.add(idx);
      this.next = (idx + 1) % this.count;
      return formatIpv4Cidr({ base: this.cluster.base + idx * this.blockSize, prefix: this.maskSize });
    }
    return undefined;
  }

  /** Marks a block found on a Node as taken. False when it is not one of this set's blocks. */
  occupy(cidr: string): boolean {
    const idx = this.indexOf(cidr);
    if (idx === undefined) return false;
    this.used.add(idx);
    return true;
  }

  /** Frees a block; blocks outside the set are ignored. */
  release(cidr: string): void {
    const idx = this.indexOf(cidr);
    if (idx !== undefined) this.used.delete(idx);
  }

  free(): number {
    return this.count - this.used.size;
  }

  private indexOf(cidr: string): number | undefined {
    const c = parseIpv4Cidr(cidr);
    if (!c || c.prefix !== this.maskSize || !cidrContains(this.cluster, c.base)) return undefined;
    return (c.base - this.cluster.base) / this.blockSize;
  }
}

export interface NodeIpamOptions {
  /** Default `10.42.0.0/16` (k3s's). */
  clusterCidr?: string;
  /** Prefix length of each node's block (default 24, kube-controller-manager's for IPv4). */
  nodeCidrMaskSize?: number;
  clock?: Clock;
}

/** The pod CIDRs a Node already has (podCIDRs, else podCIDR). */
function podCidrsOf(node: KubeObject): string[] {
  const spec = (node.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
  return spec.podCIDRs?.length ? spec.podCIDRs : spec.podCIDR ? [spec.podCIDR] : [];
}

/**
 * Starts the controller: an informer on Nodes and a few workers. Blocks found on Nodes at start
 * are marked taken before any is handed out. A failed patch frees the block and retries the node
 * with backoff; when the cluster CIDR is full the node gets a `CIDRNotAvailable` event and waits,
 * without polling, until a block is freed. Throws at once for an unusable cluster CIDR. `stop()` ends the informer, the workers and
 * every timer.
 */
export function startNodeIpam(client: Client, opts: NodeIpamOptions = {}): { stop(): void } {
  const clusterCidr = opts.clusterCidr ?? '10.42.0.0/16';
  const set = new CidrSet(clusterCidr, opts.nodeCidrMaskSize ?? 24);
  const informer = createInformer<KubeObject>(client, nodes, opts.clock ? { clock: opts.clock } : {});
  const queue = createWorkQueue<string>(opts.clock ? { clock: opts.clock } : {});
  const recorder = createEventRecorder(client, { component: 'cidrAllocator', ...(opts.clock ? { clock: opts.clock } : {}) });
  /** The block of each node, found on it or given by us (given ones before the Node shows it). */
  const owned = new Map<string, string>();
  /** Nodes that found the cluster CIDR full. */
  const starving = new Set<string>();
  let stopped = false;

  function observe(node: KubeObject): void {
    const name = node.metadata.name ?? '';
    const cidrs = podCidrsOf(node);
    if (cidrs.length === 0) {
      queue.add(name);
      return;
    }
    const mine = cidrs.find((c) => set.occupy(c));
    if (mine) {
      const before = owned.get(name);
      if (before && before !== mine) set.release(before); // it took another block than ours
      owned.set(name, mine);
    }
  }

  function release(name: string): void {
    const cidr = owned.get(name);
    if (!cidr) return;
    owned.delete(name);
    set.release(cidr);
    for (const n of starving) queue.add(n);
    starving.clear();
  }

  informer.onAdd(observe);
  informer.onUpdate((_, n) => observe(n));
  informer.onDelete((n) => release(n.metadata.name ?? ''));

  async function sync(name: string): Promise<void> {
    const node = informer.cache.get(name);
    if (!node || podCidrsOf(node).length > 0) return;
    let cidr = owned.get(name);
    if (!cidr) {
      cidr = set.allocate();
      if (!cidr) {
        // Said once per node, as upstream's range allocator records it on the Node.
        if (!starving.has(name)) recorder.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        if (starving.size === 0) log.warn('no remaining pod CIDRs to allocate; nodes wait for one to be freed', { node: name, clusterCidr });
        starving.add(name);
        return;
      }
      owned.set(name, cidr);
    }
    try {
      await client.patch(nodes, name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (e) {
      if (owned.get(name) === cidr) release(name);
      if (isStatusError(e, 'NotFound')) return;
      throw e;
    }
  }

  async function work(): Promise<void> {
    for (;;) {
      const name = await queue.get();
      if (name === undefined) return;
      try {
        await sync(name);
        queue.forget(name);
      } catch (e) {
        if (!stopped) {
          log.warn('assigning a pod CIDR failed, retrying', { node: name, error: e instanceof Error ? e.message : String(e) });
          queue.addRateLimited(name);
        }
      } finally {
        queue.done(name);
      }
    }
  }

  informer.start();
  // Workers wait for the first list, so every block already on a Node is taken before one is given.
  informer.waitForSync().then(
    () => {
      if (!stopped) for (let i = 0; i < WORKERS; i++) void work();
    },
    () => {},
  );

  return {
    stop() {
      if (stopped) return;
      stopped = true;
      informer.stop();
      queue.shutDown();
      recorder.stop();
    },
  };
}
