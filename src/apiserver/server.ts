// Starting and stopping an API server: open the store, fill the watch cache, generate or load the
// PKI, make the cluster's first objects, and serve HTTPS. `startApiServer` is what `skiff up`,
// `skiff server` and the integration tests call.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { createClient, type Client } from '../client/client.js';
import type { Transport } from '../client/transport.js';
import { MemoryStore } from '../store/memory.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { realClock, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { ServiceAllocators } from './allocators.js';
import { createHandler } from './handler.js';
import { createHttpHandler } from './http.js';
import { createInProcessTransport } from './in-process.js';
import { ensureNamespaces, systemContext } from './namespaces.js';
import { createNodeProxy } from './node-proxy.js';
import { loadOrCreatePki, tokenMatches, type ClusterPki } from './pki.js';
import { Registry } from './registry.js';
import { WatchCache } from './watch-cache.js';

const log = logger('apiserver');

/** The Kubernetes release Skiff's API matches (kubectl's dispatcher picks its bundled 1.32 from this). */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.4+skiff' };

export interface ApiServerOptions {
  dataDir: string;
  /** 0 picks a free port. Default 6443. */
  port?: number;
  /** Address to listen on. Default 0.0.0.0 (kube-apiserver's default). */
  bindAddress?: string;
  /** `sqlite:///path/state.db[?synchronous=NORMAL|FULL]` (default `DATA_DIR/state.db`, FULL) or `memory://`. */
  datastore?: string;
  serviceCidr?: string;
  nodePortRange?: [number, number];
  clock?: Clock;
  /** How often watches that asked for bookmarks get one. Default 60 s. */
  bookmarkIntervalMs?: number;
  /** How often history is compacted (everything older than the previous pass). Default 5 min. */
  compactIntervalMs?: number;
  /** Extra names/addresses for the serving certificate. */
  tlsSans?: string[];
}

export interface ApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  pki: ClusterPki;
  registry: Registry;
  /** A transport that calls this server in-process. */
  transport(userAgent?: string): Transport;
  /** An admin client over the in-process transport. */
  client(userAgent?: string): Client;
  stop(): Promise<void>;
}

export function openStore(url: string | undefined, dataDir: string): Store {
  if (!url) return SqliteStore.open(join(dataDir, 'state.db'));
  if (url === 'memory://') return new MemoryStore();
  if (url.startsWith('sqlite://')) {
    // sqlite:///path/state.db[?synchronous=NORMAL|FULL]
    const [path, query] = url.slice('sqlite://'.length).split('?') as [string, string | undefined];
    const sync = new URLSearchParams(query ?? '').get('synchronous')?.toUpperCase();
    if (sync !== undefined && sync !== 'NORMAL' && sync !== 'FULL') throw new Error(`synchronous must be NORMAL or FULL, got ${sync}`);
    return SqliteStore.open(path, sync ? { durability: sync } : {});
  }
  throw new Error(`unsupported datastore ${JSON.stringify(url)}: use sqlite:///path/state.db (etcd:// arrives with the etcd backend)`);
}

/** The address other machines and pods reach this host at (first non-loopback IPv4). */
export function advertiseAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

async function ensureKubernetesService(reg: Registry, port: number): Promise<void> {
  const ctx = systemContext();
  const services = resourceFor('', 'v1', 'services');
  const endpoints = resourceFor('', 'v1', 'endpoints');
  try {
    await reg.create(services, 'default', {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: reg.allocators.apiServerIp, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
    }, ctx);
  } catch (e) {
    if (!isStatusError(e, 'AlreadyExists')) throw e;
  }
  const want = { metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets: [{ addresses: [{ ip: advertiseAddress() }], ports: [{ name: 'https', port, protocol: 'TCP' }] }] };
  const cur = await reg.read(endpoints, 'default', 'kubernetes');
  await reg.update(endpoints, 'default', 'kubernetes', cur ? { ...cur.obj, subsets: want.subsets } : want, ctx);
  // and its EndpointSlice, as kube-apiserver's endpoint reconciler writes both (the proxy and
  // `kubectl describe svc kubernetes` read slices)
  const slices = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
  const slice = {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [advertiseAddress()], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  const curSlice = await reg.read(slices, 'default', 'kubernetes');
  if (curSlice) await reg.update(slices, 'default', 'kubernetes', { ...curSlice.obj, endpoints: slice.endpoints, ports: slice.ports }, ctx);
  else await reg.create(slices, 'default', slice, ctx);
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const started = Date.now();
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const clock = opts.clock ?? realClock;
  const pkiPromise = loadOrCreatePki(dataDir, opts.tlsSans ?? []);
  const store = openStore(opts.datastore, dataDir);
  const cache = await WatchCache.start(store);
  const allocators = new ServiceAllocators(opts.serviceCidr ?? '10.43.0.0/16', opts.nodePortRange);
  for (const svc of cache.list(resourceFor('', 'v1', 'services'))) allocators.restore(svc.obj);

  // a Terminating namespace is emptied by the namespace controller (controllers/namespace.ts)
  const registry = new Registry(store, cache, clock, allocators);
  const handle = createHandler(registry, { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000 });
  await ensureNamespaces(registry);

  const pki = await pkiPromise;
  let ready = false;
  let port = opts.port ?? 6443;
  const authenticate = (token: string | undefined) => token !== undefined && tokenMatches(token, pki.adminToken);
  // logs, exec, attach and port-forward are served by the pod's node; nodes trust the admin token
  const nodeProxy = createNodeProxy({ registry, nodeToken: pki.adminToken, authenticate });
  const onRequest = createHttpHandler({
    handle,
    authenticate,
    nodeProxy,
    version: { ...KUBERNETES_VERSION, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}` },
    serverAddress: () => `${advertiseAddress()}:${port}`,
    ready: () => ready,
    now: () => clock.now(),
  });
  const server: Server = createServer({ key: pki.keyPem, cert: pki.certPem, keepAliveTimeout: 60_000 }, (req, res) => void onRequest(req, res));
  server.headersTimeout = 60_000;
  server.on('upgrade', (req, socket, head) => void nodeProxy.upgrade(req, socket, head));
  server.requestTimeout = 0; // watches and log streams run long
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, opts.bindAddress ?? '0.0.0.0', () => {
      server.off('error', rej);
      res();
    });
  });
  port = (server.address() as AddressInfo).port;
  await ensureKubernetesService(registry, port);

  // Compaction: each pass drops history older than the revision seen at the previous pass.
  let lastSeen = await store.currentRevision();
  const compactTimer = setInterval(() => {
    const target = lastSeen;
    void store.currentRevision().then(async (cur) => {
      lastSeen = cur;
      if (target > (await store.compactedRevision())) await store.compact(target);
    }).catch((e: Error) => log.warn('compaction failed', { err: e.message }));
  }, opts.compactIntervalMs ?? 300_000);
  compactTimer.unref();

  ready = true;
  log.info('API server ready', { port, ms: Date.now() - started });
  const sockets = new Set<import('node:stream').Duplex>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const transport = (ua?: string) => createInProcessTransport(handle, ua);
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    pki,
    registry,
    transport,
    client: (ua?: string) => createClient(transport(ua)),
    async stop() {
      ready = false;
      clearInterval(compactTimer);
      await new Promise<void>((res) => {
        server.close(() => res());
        for (const s of sockets) s.destroy();
      });
      cache.stop();
      await store.close();
    },
  };
}
