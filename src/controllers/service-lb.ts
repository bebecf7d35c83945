// Skiff's built-in load balancer (k3s' ServiceLB, MetalLB's layer-2 idea): a Service of type
// LoadBalancer gets `status.loadBalancer.ingress` addresses, and every node's proxy forwards those
// addresses' ports to the Service's endpoints. The addresses come from `skiff up --lb-pool CIDR`,
// one free address per Service (or the one asked for in spec.loadBalancerIP), or, without a pool,
// the nodes' own InternalIPs, shared by every LoadBalancer Service as k3s does. A port another
// LoadBalancer Service already holds on those addresses leaves the newer Service pending with an
// event instead of silently stealing the port. Services with a spec.loadBalancerClass belong to
// another implementation and are left alone, as upstream's service controller does.
import type { Service } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import { cidrContains, formatIpv4, parseIpv4, parseIpv4Cidr, type Ipv4Cidr } from '../util/ipv4-cidr.js';
import { done, type ControllerContext, type ControllerDef } from './controller.js';

const services = resourceFor('', 'v1', 'services');
/** One key for every LoadBalancer Service: their addresses and ports depend on each other. */
const ALL = '*all-load-balancers*';
const nodes = resourceFor('', 'v1', 'nodes');

type Ingress = { ip: string; ipMode?: string };

/** The ports a Service holds on its addresses: `80/TCP`. */
function portKeys(svc: Service): string[] {
  return (svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);
}

function isOurs(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass;
}

function ingressIPs(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);
}

/** Older first (creationTimestamp, then name): the older Service keeps a contested port. */
function older(a: Service, b: Service): boolean {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb;
  return `${a.metadata?.namespace}/${a.metadata?.name}` < `${b.metadata?.namespace}/${b.metadata?.name}`;
}

export type LbPlan = { ingress: Ingress[] } | { pending: string };

/**
 * Which addresses `svc` gets, given every other Service (pure). With a pool: its current address
 * if still valid, else spec.loadBalancerIP, else the lowest address no other LoadBalancer Service
 * holds. Without one: the node addresses, unless an older Service holds one of its ports there.
 */
export function planLoadBalancer(svc: Service, others: readonly Service[], pool: Ipv4Cidr | undefined, nodeIPs: readonly string[]): LbPlan {
  const mine = new Set(portKeys(svc));
  const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
  const rivals = others.filter((o) => isOurs(o) && `${o.metadata?.namespace}/${o.metadata?.name}` !== key);
  if (!pool) {
    if (nodeIPs.length === 0) return { pending: 'no node has an address for load balancers yet' };
    for (const o of rivals) {
      if (!older(o, svc)) continue;
      const clash = portKeys(o).find((p) => mine.has(p));
      if (clash) return { pending: `port ${clash} is already used by LoadBalancer service ${o.metadata?.namespace}/${o.metadata?.name} on the node addresses (${nodeIPs.join(', ')})` };
    }
    return { ingress: [...nodeIPs].sort().map((ip) => ({ ip, ipMode: 'VIP' })) };
  }
  const taken = new Map<string, Service>();
  for (const o of rivals) for (const ip of ingressIPs(o)) taken.set(ip, o);
  const inPool = (ip: string) => {
    const n = parseIpv4(ip);
    return n !== undefined && cidrContains(pool, n) && n !== pool.base && n !== pool.base + pool.size - 1;
  };
  const wanted = svc.spec?.loadBalancerIP;
  if (wanted) {
    if (!inPool(wanted)) return { pending: `requested loadBalancerIP ${wanted} is not in the pool ${formatIpv4(pool.base)}/${pool.prefix}` };
    const holder = taken.get(wanted);
    if (holder) {
      const clash = portKeys(holder).find((p) => mine.has(p));
      if (clash) return { pending: `port ${clash} of ${wanted} is already used by LoadBalancer service ${holder.metadata?.namespace}/${holder.metadata?.name}` };
    }
    return { ingress: [{ ip: wanted, ipMode: 'VIP' }] };
  }
  const current = ingressIPs(svc).find((ip) => inPool(ip) && !taken.has(ip));
  if (current) return { ingress: [{ ip: current, ipMode: 'VIP' }] };
  for (let n = pool.base + 1; n < pool.base + pool.size - 1; n++) {
    const ip = formatIpv4(n);
    if (!taken.has(ip)) return { ingress: [{ ip, ipMode: 'VIP' }] };
  }
  return { pending: `no free address left in the pool ${formatIpv4(pool.base)}/${pool.prefix}` };
}

function nodeAddresses(ctx: ControllerContext): string[] {
  const out: string[] = [];
  for (const n of ctx.informer(nodes).cache.list()) {
    const addrs = ((n.status ?? {}) as { addresses?: { type: string; address: string }[] }).addresses ?? [];
    const ip = addrs.find((a) => a.type === 'InternalIP')?.address;
    if (ip && !out.includes(ip)) out.push(ip);
  }
  return out;
}

/** The controller; `pool` is `--lb-pool` (unset: the nodes' own addresses). */
export function createServiceLbController(opts: { pool?: string } = {}): ControllerDef {
  const pool = opts.pool ? parseIpv4Cidr(opts.pool) : undefined;
  if (opts.pool && !pool) throw new Error(`--lb-pool ${JSON.stringify(opts.pool)} is not an IPv4 CIDR`);
  return {
    name: 'service-lb-controller',
    component: 'service-lb-controller',
    watches: [
      // any LoadBalancer Service's change can free or take a port or address another one wants
      { rt: services, keyOf: (o) => ((o as Service).spec?.type === 'LoadBalancer' || ingressIPs(o as Service).length ? ALL : `${o.metadata?.namespace}/${o.metadata?.name}`) },
      { rt: nodes, keyOf: () => (pool ? undefined : ALL) },
    ],
    async reconcile(key, ctx) {
      if (key === ALL) {
        for (const s of ctx.informer(services).cache.list() as Service[]) if (isOurs(s) || ingressIPs(s).length) await reconcileOne(`${s.metadata?.namespace}/${s.metadata?.name}`, ctx);
        return done();
      }
      await reconcileOne(key, ctx);
      return done();
    },
  };

  async function reconcileOne(key: string, ctx: ControllerContext): Promise<void> {
    const svc = ctx.informer(services).cache.get(key) as Service | undefined;
    if (!svc) return;
    const [namespace, name] = key.split('/') as [string, string];
    const current = svc.status?.loadBalancer?.ingress ?? [];
    let want: Ingress[];
    if (!isOurs(svc)) {
      if (svc.spec?.type === 'LoadBalancer') return; // another implementation's
      want = [];
    } else {
      const plan = planLoadBalancer(svc, ctx.informer(services).cache.list() as Service[], pool, nodeAddresses(ctx));
      if ('pending' in plan) {
        ctx.events.event(svc as KubeObject, 'Warning', 'AllocationFailed', `Failed to allocate a load balancer address: ${plan.pending}`);
        want = [];
      } else want = plan.ingress;
    }
    if (JSON.stringify(current) === JSON.stringify(want)) return;
    if (want.length > 0) ctx.events.event(svc as KubeObject, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    try {
      await ctx.client.patch(services, name, 'merge', { status: { loadBalancer: { ingress: want.length ? want : null } } }, { namespace, subresource: 'status' });
    } catch (e) {
      if (isStatusError(e, 'NotFound')) return;
      throw e;
    }
    if (want.length > 0) ctx.events.event(svc as KubeObject, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
  }
}
