// The node agent (Skiff's kubelet) for a real node: registers the Node with what the machine has,
// renews its Lease, keeps its conditions true, waits for a pod CIDR and builds the pod network,
// and runs one PodWorker per pod bound to it. The same code runs in `skiff up` (in-process client)
// and in `skiff agent` (HTTPS client). Before it starts pods it asks the runtime to clean up what
// a previous agent on this state directory left behind, so the machine holds only what the API
// says should run.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { createInformer, type Informer } from '../client/informer.js';
import { realClock, rfc3339, type Clock } from '../util/clock.js';
import { formatIpv4 } from '../util/ipv4-cidr.js';
import { logger } from '../util/log.js';
import { ContainerBackoff } from './backoff.js';
import { admitPod } from './admission.js';
import { nodeCapacity, nodeObject, nodeStatus, readMachine, type NodeParams } from './node-status.js';
import { PodWorker } from './pod-worker.js';
import { serviceEnv } from './service-env.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { startNodeServer } from './server.js';
import { microTime, NODE_LEASE_NAMESPACE, SIMULATED_ANNOTATION } from './sim-node-object.js';
import { PodIpRange } from './sim-pod-ips.js';

const log = logger('node-agent');
const nodesRT = resourceFor('', 'v1', 'nodes');
const podsRT = resourceFor('', 'v1', 'pods');
const leasesRT = resourceFor('coordination.k8s.io', 'v1', 'leases');

export interface NodeAgentOptions {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  /** The node's InternalIP (kubelet --node-ip); the API server reaches the agent's server there. */
  nodeIP: string;
  /** This agent's own directory: pods' volumes, logs and files live under it. */
  stateDir: string;
  /** The bearer token the API server presents to the agent's server. */
  serverToken: string;
  /** Where the agent's server listens (default: nodeIP). */
  serverHost?: string;
  clusterDNS?: string[];
  clusterDomain?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  clock?: Clock;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  /** Base and cap of the CrashLoopBackOff delay (default 10 s and 300 s). */
  backoffMs?: { initial: number; max: number };
}

export interface NodeAgent {
  readonly nodeName: string;
  readonly serverPort: number;
  /** Resolves once the node's pod network is up: its CIDR and the bridge's (gateway) address. */
  readonly network: Promise<{ podCidr: string; gateway: string; isolated: boolean }>;
  /** Stops every pod's containers and removes what the agent made on the machine. */
  stop(): Promise<void>;
}

export async function startNodeAgent(o: NodeAgentOptions): Promise<NodeAgent> {
  const clock = o.clock ?? realClock;
  const client = o.client;
  const stateDir = o.stateDir;
  mkdirSync(join(stateDir, 'pods'), { recursive: true });
  const runtime = o.runtime;
  const info = runtime.info();
  const left = await runtime.cleanupLeftovers();
  if (left.sandboxes || left.processes) log.info('removed what a previous agent left', { node: o.nodeName, ...left });

  const recorder: EventRecorder = createEventRecorder(client, { component: 'kubelet', host: o.nodeName, clock });
  const workers = new Map<string, PodWorker>();
  let ips: PodIpRange | undefined;
  const reserved: string[] = [];

  const podInformer: Informer<KubeObject> = createInformer(client, podsRT, { fieldSelector: `spec.nodeName=${o.nodeName}` });
  const cmInformer = createInformer(client, resourceFor('', 'v1', 'configmaps'));
  const secretInformer = createInformer(client, resourceFor('', 'v1', 'secrets'));
  const serviceInformer = createInformer(client, resourceFor('', 'v1', 'services'));
  const caches: Record<string, Informer<KubeObject>> = { configmaps: cmInformer, secrets: secretInformer };

  const backoff = new ContainerBackoff(o.backoffMs ? { baseMs: o.backoffMs.initial, maxMs: o.backoffMs.max } : {});
  const machine0 = readMachine(stateDir);
  const allocatable = { cpu: String(machine0.cpu), memory: `${Math.floor(machine0.memoryBytes / 1024)}Ki` };
  let hostResolvConf = '';
  try {
    hostResolvConf = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    /* none */
  }

  const server = await startNodeServer({
    host: o.serverHost ?? o.nodeIP,
    token: o.serverToken,
    container(ns: string, pod: string, name: string) {
      const w = findWorker(ns, pod);
      if (!w) return { error: { code: 404, reason: 'NotFound', message: `pod "${pod}" not found on node ${o.nodeName}` } };
      return w.container(name);
    },
    logs(ns: string, pod: string, name: string, previous: boolean) {
      const w = findWorker(ns, pod);
      if (!w) return { error: { code: 404, reason: 'NotFound', message: `pod "${pod}" not found on node ${o.nodeName}` } };
      return w.logs(name, previous);
    },
    exec: (container, options) => runtime.exec(container, options),
    podAddress(ns: string, pod: string) {
      const w = findWorker(ns, pod);
      if (!w?.ip) return { error: { code: 400, reason: 'BadRequest', message: `pod "${pod}" has no address on node ${o.nodeName} yet` } };
      return { ip: w.ip };
    },
  });

  function findWorker(ns: string, name: string): PodWorker | undefined {
    for (const w of workers.values()) if (w.pod.metadata?.namespace === ns && w.pod.metadata?.name === name) return w;
    return undefined;
  }

  const params: NodeParams = {
    name: o.nodeName,
    internalIP: o.nodeIP,
    kubeletPort: server.port,
    runtimeVersion: info.version,
    maxPods: o.maxPods ?? 110,
    ...(o.labels ? { labels: o.labels } : {}),
    ...(!info.networkIsolation.ok ? { networkNote: info.networkIsolation.reason } : {}),
  };

  // --- the Node object
  let node: KubeObject;
  try {
    const existing = await client.get(nodesRT, o.nodeName);
    if ((existing.metadata?.annotations ?? {})[SIMULATED_ANNOTATION]) throw new Error(`node ${o.nodeName} is a simulated node; pick another --name`);
    const status = nodeStatus(params, readMachine(stateDir), rfc3339(clock.now()), (existing.status as { conditions?: never[] } | undefined)?.conditions);
    node = await client.patch(nodesRT, o.nodeName, 'merge', { status }, { subresource: 'status' });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
    const obj = nodeObject(params, readMachine(stateDir), rfc3339(clock.now()));
    node = await client.create(nodesRT, obj);
    node = await client.patch(nodesRT, o.nodeName, 'merge', { status: obj.status }, { subresource: 'status' });
  }
  const nodeUid = node.metadata?.uid;
  // what a starting kubelet says on its Node (kubectl describe node)
  recorder.event(node, 'Normal', 'Starting', 'Starting kubelet.');
  recorder.event(node, 'Normal', 'NodeReady', `Node ${o.nodeName} status is now: NodeReady`);
  if (!info.networkIsolation.ok) recorder.event(node, 'Warning', 'HostNetworkFallback', `Pods use the node's network: ${info.networkIsolation.reason}`);
  if (!info.resourceLimits.ok) recorder.event(node, 'Warning', 'NoResourceLimits', `Container resource limits are not enforced: ${info.resourceLimits.reason}`);

  // --- the Lease, renewed every renewIntervalMs
  const leaseDurationSeconds = o.leaseDurationSeconds ?? 40;
  const renewLease = async () => {
    const spec = { holderIdentity: o.nodeName, leaseDurationSeconds, renewTime: microTime(clock.now()) };
    try {
      await client.patch(leasesRT, o.nodeName, 'merge', { spec }, { namespace: NODE_LEASE_NAMESPACE });
    } catch (e) {
      if (!isStatusError(e, 'NotFound')) throw e;
      await client.create(leasesRT, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: o.nodeName, namespace: NODE_LEASE_NAMESPACE, ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: o.nodeName, uid: nodeUid }] } : {}) },
        spec,
      });
    }
  };
  await renewLease();
  let lastStatusAt = clock.now();
  let lastConditions = JSON.stringify(((node.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).map((c) => [c.type, c.status]));
  const heartbeat = setInterval(() => {
    void renewLease().catch((e) => log.warn('lease renewal failed', { error: String(e) }));
    // node status: when a condition changes, and at least every minute (nodeStatusReportFrequency is 5 min upstream)
    const m = readMachine(stateDir);
    const status = nodeStatus(params, m, rfc3339(clock.now()), ((node.status ?? {}) as { conditions?: never[] }).conditions);
    const conds = JSON.stringify((status.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status]));
    if (conds !== lastConditions || clock.now() - lastStatusAt >= 60_000) {
      lastConditions = conds;
      lastStatusAt = clock.now();
      void client
        .patch(nodesRT, o.nodeName, 'merge', { status }, { subresource: 'status' })
        .then((n) => (node = n))
        .catch((e) => log.warn('node status update failed', { error: String(e) }));
    }
  }, o.renewIntervalMs ?? 10_000);
  heartbeat.unref?.();

  // --- the pod network, once node IPAM gave the node a CIDR
  const nodeInformer = createInformer(client, nodesRT, { fieldSelector: `metadata.name=${o.nodeName}` });
  let networkReady: Promise<void> | undefined;
  let announceNetwork!: (n: { podCidr: string; gateway: string; isolated: boolean }) => void;
  const network = new Promise<{ podCidr: string; gateway: string; isolated: boolean }>((r) => (announceNetwork = r));
  const onNode = (n: KubeObject) => {
    node = n;
    const cidr = (n.spec as { podCIDR?: string } | undefined)?.podCIDR;
    if (!cidr || networkReady) return;
    networkReady = (async () => {
      try {
        if (info.networkIsolation.ok) await runtime.setupNodeNetwork(cidr);
        ips = new PodIpRange(cidr);
        for (const ip of reserved) ips.reserve(ip);
        announceNetwork({ podCidr: cidr, gateway: formatIpv4(ips.cidr.base + 1), isolated: info.networkIsolation.ok });
        for (const w of workers.values()) w.kick();
      } catch (e) {
        log.error('pod network setup failed', { cidr, error: String(e) });
        networkReady = undefined;
      }
    })();
  };
  nodeInformer.onAdd(onNode);
  nodeInformer.onUpdate((_o, n) => onNode(n));

  const deps = {
    runtime,
    nodeName: o.nodeName,
    hostIP: o.nodeIP,
    podsDir: join(stateDir, 'pods'),
    clusterDNS: o.clusterDNS ?? ['10.43.0.10'],
    clusterDomain: o.clusterDomain ?? 'cluster.local',
    hostResolvConf,
    nodeAllocatable: allocatable,
    clock,
    recorder,
    backoff,
    networkReady: () => ips !== undefined,
    allocateIP: () => ips?.allocate(),
    releaseIP: (ip: string) => ips?.release(ip),
    lookup: async (resource: string, namespace: string, name: string) => {
      const inf = caches[resource];
      if (inf) return inf.cache.get(`${namespace}/${name}`) as object | undefined;
      try {
        return await client.get(resourceFor('', 'v1', resource), name, resource === 'persistentvolumes' ? {} : { namespace });
      } catch (e) {
        if (isStatusError(e, 'NotFound')) return undefined;
        throw e;
      }
    },
    writeStatus: async (pod: Pod, status: NonNullable<Pod['status']>) => {
      try {
        await client.patch(podsRT, pod.metadata?.name ?? '', 'merge', { status }, { namespace: pod.metadata?.namespace, subresource: 'status' });
      } catch (e) {
        if (!isStatusError(e, 'NotFound')) throw e;
      }
    },
    deletePod: async (pod: Pod) => {
      try {
        await client.delete(podsRT, pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace, gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
      } catch (e) {
        if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) throw e;
      }
    },
    serviceEnv: (pod: Pod) => serviceEnv(pod, serviceInformer.cache.list() as Service[]),
    onDone: (uid: string) => workers.delete(uid),
  };

  const nodeAllocatable = nodeCapacity(machine0, o.maxPods ?? 110).allocatable;
  const rejected = new Set<string>();
  /** The kubelet's admission, for a pod this node has not started before. */
  const admit = (pod: Pod): boolean => {
    const phase = pod.status?.phase;
    if (pod.status?.startTime || pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return true;
    const active = [...workers.values()].map((w) => w.pod).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const verdict = admitPod(pod, active, nodeAllocatable);
    if (verdict.admit) return true;
    rejected.add(pod.metadata?.uid ?? '');
    recorder.event(pod as KubeObject, 'Warning', verdict.reason, verdict.message);
    void deps.writeStatus(pod, { phase: 'Failed', reason: verdict.reason, message: verdict.message, startTime: rfc3339(clock.now()) }).catch((e) => log.warn('rejecting a pod failed', { error: String(e) }));
    return false;
  };

  const onPod = (obj: KubeObject) => {
    const pod = obj as Pod;
    const uid = pod.metadata?.uid ?? '';
    if (rejected.has(uid)) return;
    let w = workers.get(uid);
    if (!w) {
      if (!admit(pod)) return;
      if (pod.status?.podIP && pod.spec?.hostNetwork !== true) {
        if (ips) ips.reserve(pod.status.podIP);
        else reserved.push(pod.status.podIP);
      }
      w = new PodWorker(pod, deps);
      workers.set(uid, w);
    }
    w.update(pod);
  };
  podInformer.onAdd(onPod);
  podInformer.onUpdate((_o, n) => onPod(n));
  podInformer.onDelete((obj) => {
    rejected.delete(obj.metadata?.uid ?? '');
    workers.get(obj.metadata?.uid ?? '')?.removed();
  });
  // a configMap or secret change reaches the mounted files (and env at the next start)
  const kickAll = () => {
    for (const w of workers.values()) w.kick();
  };
  cmInformer.onUpdate(kickAll);
  secretInformer.onUpdate(kickAll);

  cmInformer.start();
  secretInformer.start();
  serviceInformer.start();
  nodeInformer.start();
  await Promise.all([cmInformer.waitForSync(), secretInformer.waitForSync(), serviceInformer.waitForSync(), nodeInformer.waitForSync()]);
  podInformer.start();
  await podInformer.waitForSync();

  return {
    nodeName: o.nodeName,
    serverPort: server.port,
    network,
    async stop() {
      clearInterval(heartbeat);
      podInformer.stop();
      nodeInformer.stop();
      cmInformer.stop();
      secretInformer.stop();
      serviceInformer.stop();
      await Promise.all([...workers.values()].map((w) => w.shutdown()));
      workers.clear();
      await server.stop();
      await runtime.shutdown();
      await recorder.flush().catch(() => undefined);
      recorder.stop();
    },
  };
}
