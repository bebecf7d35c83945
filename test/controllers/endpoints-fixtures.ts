// What the Endpoints and EndpointSlice controller tests share: a real API server on a temporary
// SQLite file with the Endpoints, EndpointSlice, mirroring and garbage-collector controllers
// running, and pods whose status (IP, readiness) the test writes itself, as a kubelet would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, stopInformers, type InformerMap, type RunningController } from '../../src/controllers/controller.js';
import { createEndpointsController } from '../../src/controllers/endpoints.js';
import { createEndpointSliceController } from '../../src/controllers/endpointslice.js';
import { createEndpointSliceMirroringController } from '../../src/controllers/endpointslice-mirroring.js';
import { garbageCollector } from '../../src/controllers/garbage-collector.js';

export const PODS = resourceFor('', 'v1', 'pods');
export const SERVICES = resourceFor('', 'v1', 'services');
export const ENDPOINTS = resourceFor('', 'v1', 'endpoints');
export const SLICES = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
export const NS = 'default';

export interface Cluster {
  c: Client;
  stop(): Promise<void>;
}

/** Starts the API server and the controllers (sharing informers, as the control plane does). */
export async function startCluster(prefix: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), `skiff-${prefix}-`));
  let srv: ApiServer | undefined;
  const running: RunningController[] = [];
  const informers: InformerMap = new Map();
  const stop = async () => {
    await Promise.all(running.map((r) => r.stop()));
    stopInformers(informers);
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    for (const def of [garbageCollector, createEndpointsController(), createEndpointSliceController(), createEndpointSliceMirroringController()]) {
      running.push(startController(def, srv.client(def.name), { informers }));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { c: srv.client('test'), stop };
}

export interface PodOpts {
  labels?: Record<string, string>;
  ip: string;
  ready?: boolean;
  node?: string;
  ports?: { name: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
}

/** Creates a pod and writes its status: Running with the IP, Ready as asked. */
export async function makePod(c: Client, name: string, o: PodOpts): Promise<KubeObject> {
  const spec: Record<string, unknown> = { containers: [{ name: 'c', image: 'busybox', ports: o.ports ?? [] }], terminationGracePeriodSeconds: 30 };
  if (o.node) spec.nodeName = o.node;
  if (o.hostname) spec.hostname = o.hostname;
  if (o.subdomain) spec.subdomain = o.subdomain;
  await c.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: o.labels ?? {} }, spec });
  return setPodStatus(c, name, o.ip, o.ready ?? true);
}

/** Writes a pod's status as a kubelet would: Running, the IP, and the Ready condition, whose
 *  lastTransitionTime is now (or `at`, ms since the epoch). */
export async function setPodStatus(c: Client, name: string, ip: string, ready: boolean, at = Date.now()): Promise<KubeObject> {
  const now = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] };
  return c.patch(PODS, name, 'merge', { status }, { namespace: NS, subresource: 'status' });
}

/** Creates a Service selecting `selector` (none: a selectorless one). */
export async function makeService(c: Client, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<KubeObject> {
  return c.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec });
}

/** Deletes pods at once (no kubelet to finish a graceful deletion), ignoring missing ones. */
export async function forceDeletePods(c: Client, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => c.delete(PODS, n, { namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined)));
}

/** The slices of a service, by its service-name label. */
export async function slicesOf(c: Client, svc: string): Promise<KubeObject[]> {
  return (await c.list(SLICES, { namespace: NS, labelSelector: `kubernetes.io/service-name=${svc}` })).items;
}
