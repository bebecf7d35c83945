// What runs beside the API server in `skiff server` and `skiff up`: the controllers
// (controllers/index.ts), the node IPAM controller, the scheduler and, for `skiff up --sim-nodes N`,
// a pool of simulated nodes. Each uses its own
// in-process client, named as the component (its field manager and event source).
import type { ApiServer } from '../apiserver/server.js';
import { startController, stopInformers, type InformerMap } from '../controllers/controller.js';
import { CONTROLLERS } from '../controllers/index.js';
import { startNodeIpam } from '../controllers/node-ipam.js';
import { createLocalPathProvisioner, ensureLocalPathStorageClass } from '../controllers/local-path-provisioner.js';
import { createServiceLbController } from '../controllers/service-lb.js';
import { join } from 'node:path';
import { startNodeAgent, type NodeAgent } from '../node/agent.js';
import { RUNTIMES } from '../node/runtime/index.js';
import { clusterDnsIP, ensureKubeDnsService, parseDnsUpstreams, startNodeServices, type NodeServices } from './node-stack.js';
import { SimNodePool } from '../node/sim-nodes.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { ServerFlags } from './flags.js';

export interface ControlPlane {
  simNodes: number;
  /** The real local node (skiff up without --no-local-node). */
  localNode?: NodeAgent;
  stop(): Promise<void>;
}

export async function startControlPlane(srv: ApiServer, flags: ServerFlags, mode: 'up' | 'server'): Promise<ControlPlane> {
  const ipam = startNodeIpam(srv.client('node-ipam-controller'), { clusterCidr: flags.clusterCidr });
  // the controllers of CONTROLLERS share one informer per resource, as a controller manager does
  const informers: InformerMap = new Map();
  await ensureLocalPathStorageClass(srv.client('skiff-bootstrap'));
  const defs = [
    ...CONTROLLERS,
    createServiceLbController(flags.lbPool ? { pool: flags.lbPool } : {}),
    createLocalPathProvisioner({ baseDir: join(flags.dataDir, 'storage') }),
  ];
  const controllers = await Promise.all(defs.map((def) => startController(def, srv.client(def.name), { informers })));
  const scheduler = new Scheduler(srv.client('default-scheduler'));
  await scheduler.start();
  let pool: SimNodePool | undefined;
  if (mode === 'up' && flags.simNodes > 0) {
    pool = new SimNodePool(srv.client('sim-kubelet'), { names: Array.from({ length: flags.simNodes }, (_, i) => `sim-${i}`), capacity: flags.simNodeCapacity, unreadyImages: flags.simUnreadyImages });
    await pool.start();
  }
  await ensureKubeDnsService(srv.client('skiff-bootstrap'), flags.serviceCidr);
  let localNode: NodeAgent | undefined;
  let nodeServices: NodeServices | undefined;
  if (mode === 'up' && flags.localNode) {
    const stateDir = join(flags.dataDir, 'node');
    localNode = await startNodeAgent({
      client: srv.client('kubelet'),
      clusterDNS: [clusterDnsIP(flags.serviceCidr)],
      runtime: RUNTIMES.process({ nodeName: flags.nodeName, stateDir, nodeIP: flags.nodeIP }),
      nodeName: flags.nodeName,
      nodeIP: flags.nodeIP,
      stateDir,
      serverToken: srv.pki.adminToken,
      // the node that runs the control plane says so, as k3s' server node does
      labels: { 'node-role.kubernetes.io/control-plane': 'true' },
    });
    nodeServices = await startNodeServices({
      client: srv.client('kube-proxy'),
      agent: localNode,
      nodeName: flags.nodeName,
      nodeIP: flags.nodeIP,
      stateDir,
      clusterCidr: flags.clusterCidr,
      serviceCidr: flags.serviceCidr,
      ...(flags.dnsUpstreams !== undefined ? { dnsUpstreams: parseDnsUpstreams(flags.dnsUpstreams)! } : {}),
    });
  }
  return {
    simNodes: mode === 'up' ? flags.simNodes : 0,
    ...(localNode ? { localNode } : {}),
    async stop() {
      await nodeServices?.stop();
      await localNode?.stop();
      pool?.stop();
      await scheduler.stop();
      await Promise.all(controllers.map((c) => c.stop()));
      stopInformers(informers);
      ipam.stop();
    },
  };
}
