// The service proxy of one node (kube-proxy): informers on Services and EndpointSlices, and on
// any change the rule model is recomputed (rules.ts) and the difference from what the kernel holds
// is applied as one nftables transaction (nft.ts). Bursts of changes within a few milliseconds
// are coalesced into one apply; an apply never overlaps another. The table is rebuilt in full only
// at start and after a failed apply (when what the kernel holds is no longer known). Where nftables
// cannot be used (not root, no `nft`), the userspace fallback serves NodePorts and LoadBalancer
// addresses, and status() says that ClusterIPs are then unreachable and why.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { resourceFor } from '../api/kinds.js';
import type { Client } from '../client/client.js';
import { createInformer } from '../client/informer.js';
import { logger } from '../util/log.js';
import { applyNft, deleteTable, diffNft, nftBinary, renderNft, tableName } from './nft.js';
import { computeRules, type Model, type RulesCache } from './rules.js';
import { planListeners, UserspaceProxy } from './userspace.js';

const log = logger('proxy');
const SERVICES = resourceFor('', 'v1', 'services');
const SLICES = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
/** After a failed apply, the next (full) attempt waits this long. */
const RETRY_MS = 1000;

export type ProxyMode = 'nftables' | 'userspace';

export interface ProxyOptions {
  client: Client;
  nodeName: string;
  /** Addresses NodePorts answer on (the host's own connections reach them on any local address). */
  nodeIPs: string[];
  clusterCidr: string;
  podCidr?: string;
  /** Connections to unallocated addresses of it are dropped (as upstream); optional. */
  serviceCidr?: string;
  /** Names the table `ip skiff-<instance>`: one per proxy, so several share a machine. */
  instance: string;
  /** Forced mode; by default nftables when possible, else userspace with the reason in status(). */
  mode?: ProxyMode;
  /** Run nft (and the sysctls) inside this named network namespace (tests). */
  netns?: string;
  /** Changes within this many ms are applied together (default 5). */
  coalesceMs?: number;
  /** Called after every successful apply with the model now in force (do not mutate it). */
  onApplied?: (model: Model, info: { full: boolean; lines: number }) => void;
}

export interface ProxyStatus {
  mode: ProxyMode;
  /** Why this mode: the reason nftables could not be used, or what nftables mode serves. */
  reason: string;
}

export interface ServiceProxy {
  status(): ProxyStatus;
  /** Resolves once the first full ruleset (or listener set) is in force. */
  ready(): Promise<void>;
  /** The model last applied (nftables mode), for inspection. */
  model(): Model | undefined;
  /** Stops the informers and removes the table (or closes the listeners). Idempotent. */
  stop(): Promise<void>;
}

/** Whether nftables mode can run here, and if not why (a sentence for status()). */
export function nftablesSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `nftables needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: `programming nftables needs root, running as uid ${process.getuid?.() ?? 'unknown'}` };
  if (!nftBinary()) return { ok: false, reason: 'nftables (the `nft` command, Debian package nftables) is not installed' };
  return { ok: true };
}

/**
 * Sets a sysctl (in `netns` when given). net.ipv4.conf.all.route_localnet=1 lets the host's own
 * connections to 127.0.0.1:<nodePort> be DNATed to a pod (as kube-proxy's iptables mode does);
 * net.bridge.bridge-nf-call-iptables=1 makes pod-to-pod traffic on the node bridge pass the ip
 * hooks, so replies from a service's endpoint to a pod on the same bridge are un-DNATed.
 */
async function sysctl(key: string, value: string, netns?: string): Promise<void> {
  const path = `/proc/sys/${key.replaceAll('.', '/')}`;
  if (!netns) {
    if (existsSync(path)) writeFileSync(path, value);
    return;
  }
  await new Promise<void>((resolve) => {
    execFile('ip', ['netns', 'exec', netns, 'sh', '-c', `[ -e ${path} ] && echo ${value} > ${path}; true`], () => resolve());
  });
}

/** Starts the proxy for one node; see ProxyOptions. Rejects when nftables mode was forced but cannot run. */
export async function startProxy(opts: ProxyOptions): Promise<ServiceProxy> {
  tableName(opts.instance); // validate early
  const support = nftablesSupport();
  if (opts.mode === 'nftables' && !support.ok) throw new Error(support.reason);
  const mode: ProxyMode = opts.mode ?? (support.ok ? 'nftables' : 'userspace');
  const status: ProxyStatus =
    mode === 'nftables'
      ? { mode, reason: 'ClusterIPs, NodePorts and LoadBalancer addresses are forwarded by nftables' }
      : { mode, reason: `${support.ok ? 'userspace mode was asked for' : support.reason}: only NodePorts and LoadBalancer addresses are served (by userspace listeners); ClusterIPs are unreachable` };
  const services = createInformer(opts.client, SERVICES);
  const slices = createInformer(opts.client, SLICES);
  const userspace = mode === 'userspace' ? new UserspaceProxy() : undefined;
  let current: Model | undefined;
  const cache: RulesCache = new Map();
  let stopped = false;
  let dirty = true;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let firstDone: () => void = () => undefined;
  const first = new Promise<void>((r) => (firstDone = r));

  if (mode === 'nftables') {
    await sysctl('net.ipv4.conf.all.route_localnet', '1', opts.netns);
    await sysctl('net.bridge.bridge-nf-call-iptables', '1', opts.netns);
  }

  async function applyOnce(): Promise<void> {
    const svcs = services.cache.list() as unknown as Service[];
    const sls = slices.cache.list() as unknown as EndpointSlice[];
    if (userspace) {
      userspace.reconcile(planListeners(svcs, sls, opts.nodeName, opts.nodeIPs));
      return;
    }
    const next = computeRules({
      services: svcs,
      slices: sls,
      nodeName: opts.nodeName,
      nodeIPs: opts.nodeIPs,
      clusterCidr: opts.clusterCidr,
      ...(opts.podCidr ? { podCidr: opts.podCidr } : {}),
      ...(opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {}),
    }, cache);
    const full = current === undefined;
    const script = full ? renderNft(next, opts.instance) : diffNft(current!, next, opts.instance);
    try {
      await applyNft(script, opts.netns);
    } catch (e) {
      current = undefined; // unknown now: rebuild in full next time
      throw e;
    }
    current = next;
    if (script !== '') opts.onApplied?.(next, { full, lines: script.split('\n').length - 1 });
  }

  async function loop(): Promise<void> {
    while (dirty && !stopped) {
      dirty = false;
      try {
        await applyOnce();
        firstDone();
      } catch (e) {
        log.error('applying service rules failed; rebuilding in full', { error: String(e) });
        dirty = true;
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      }
    }
  }

  function kick(): void {
    if (running || timer || stopped) return;
    running = loop().finally(() => {
      running = undefined;
      if (dirty) schedule();
    });
  }

  function schedule(): void {
    dirty = true;
    if (stopped || timer || running || !services.hasSynced() || !slices.hasSynced()) return;
    timer = setTimeout(() => {
      timer = undefined;
      kick();
    }, opts.coalesceMs ?? 5);
  }

  for (const inf of [services, slices]) {
    inf.onAdd(schedule);
    inf.onUpdate((a, b) => {
      if (a !== b) schedule();
    });
    inf.onDelete(schedule);
    inf.start();
  }
  await Promise.all([services.waitForSync(), slices.waitForSync()]);
  schedule();

  return {
    status: () => ({ ...status }),
    ready: () => first,
    model: () => current,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      services.stop();
      slices.stop();
      await running;
      userspace?.stop();
      if (mode === 'nftables') await deleteTable(opts.instance, opts.netns);
    },
  };
}
