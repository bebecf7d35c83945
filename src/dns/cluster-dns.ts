// Cluster DNS as one component: informers over Services and EndpointSlices (all namespaces) keep a
// DnsIndex current, and a DnsServer answers from it. The node agent runs one per node, listening
// where the kube-dns Service's address (10.43.0.10 by default) is forwarded to. Like CoreDNS, it
// waits for the informers' first lists before serving, but no longer than `syncTimeoutMs`, so an
// unreachable API server delays DNS rather than blocking it for good.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { createInformer, type Informer } from '../client/informer.js';
import { logger } from '../util/log.js';
import type { Upstream } from './forward.js';
import { createDnsIndex, type DnsIndex } from './records.js';
import { startDnsServer } from './server.js';

const log = logger('cluster-dns');
const services = resourceFor('', 'v1', 'services');
const endpointslices = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');

export interface ClusterDnsOptions {
  client: Client;
  /** Listen address (default 127.0.0.1) and port (default 53; 0 picks a free one). */
  host?: string;
  port?: number;
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** Resolvers for other names (see hostUpstreams). */
  upstreams?: Upstream[];
  /** Longest wait for the informers' first list before serving anyway (default 5000 ms, as CoreDNS). */
  syncTimeoutMs?: number;
}

export interface ClusterDns {
  readonly host: string;
  readonly port: number;
  /** The live index (read-only use: tests and status). */
  readonly index: DnsIndex;
  /** Stops the informers, then the server. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the informers and the server; rejects when the port cannot be bound (informers stopped). */
export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const index = createDnsIndex(opts.clusterDomain ? { clusterDomain: opts.clusterDomain } : {});
  const svcInf = createInformer<KubeObject & Service>(opts.client, services);
  const sliceInf = createInformer<KubeObject & EndpointSlice>(opts.client, endpointslices);
  svcInf.onAdd((s) => index.upsertService(s));
  svcInf.onUpdate((_, s) => index.upsertService(s));
  svcInf.onDelete((s) => index.deleteService(s));
  sliceInf.onAdd((s) => index.upsertSlice(s));
  sliceInf.onUpdate((_, s) => index.upsertSlice(s));
  sliceInf.onDelete((s) => index.deleteSlice(s));
  const informers: Informer[] = [svcInf as unknown as Informer, sliceInf as unknown as Informer];
  for (const i of informers) i.start();
  const stopInformers = () => informers.forEach((i) => i.stop());

  let timer: NodeJS.Timeout | undefined;
  const synced = await Promise.race([
    Promise.all(informers.map((i) => i.waitForSync())).then(() => true, () => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), opts.syncTimeoutMs ?? 5000))),
  ]);
  clearTimeout(timer);
  if (!synced) log.warn('serving before services and endpointslices were listed', { timeoutMs: opts.syncTimeoutMs ?? 5000 });

  let server;
  try {
    server = await startDnsServer({
      index,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      upstreams: opts.upstreams ?? [],
    });
  } catch (e) {
    stopInformers();
    throw e;
  }
  log.info('cluster DNS serving', { host: server.host, port: server.port, domain: index.clusterDomain, upstreams: (opts.upstreams ?? []).map((u) => `${u.host}:${u.port}`) });
  let stopped: Promise<void> | undefined;
  return {
    host: server.host,
    port: server.port,
    index,
    stop() {
      stopped ??= (async () => {
        stopInformers();
        await server.stop();
      })();
      return stopped;
    },
  };
}
