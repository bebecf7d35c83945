// `skiff server` and `skiff up`: run the control plane in the foreground until SIGINT/SIGTERM,
// writing DATA_DIR/kubeconfig once /readyz answers.
import { renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { adminKubeconfig } from '../apiserver/pki.js';
import { startApiServer, type ApiServer } from '../apiserver/server.js';
import { setLogLevel } from '../util/log.js';
import { startControlPlane } from './control-plane.js';
import { parseServerFlags, UsageError, type ServerFlags } from './flags.js';

export const SERVER_USAGE = `Usage: skiff up|server [flags]

  --data-dir DIR                 state, certificates and kubeconfig (default ~/.skiff)
  --port N                       HTTPS port of the API (default 6443; 0 picks a free one)
  --bind-address ADDR            address to listen on (default 0.0.0.0)
  --datastore URL                sqlite:///path/state.db (default DIR/state.db)
  --service-cidr CIDR            Service addresses (default 10.43.0.0/16)
  --cluster-cidr CIDR            pod addresses (default 10.42.0.0/16)
  --service-node-port-range A-B  NodePort range (default 30000-32767)
  --lb-pool CIDR                 addresses for LoadBalancer Services (default: the nodes' own)
  --dns-upstreams LIST           where cluster DNS sends other names: ADDR[:PORT],… or none
                                 (default: the host's resolv.conf)
  --sim-nodes N                  add N simulated nodes (skiff up)
  --sim-node-capacity LIST       each simulated node's capacity, e.g. cpu=8,memory=32Gi,pods=110
  --sim-unready-images LIST      images that run but never become ready on simulated nodes
  --no-local-node                no real local node (skiff up)
  --node-name NAME               the local node's name (default: hostname)
  --node-ip ADDR                 the local node's InternalIP (default: first non-loopback IPv4)
`;

/** Asks /readyz over HTTPS, as kubectl would reach the server. */
function probeReady(srv: ApiServer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${srv.url}/readyz`, { ca: srv.pki.caPem, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function runServer(argv: string[], mode: 'up' | 'server'): Promise<number> {
  let flags: ServerFlags;
  try {
    flags = parseServerFlags(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`skiff ${mode}: ${e.message}\n\n${SERVER_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (flags.help) {
    process.stdout.write(SERVER_USAGE);
    return 0;
  }
  if (flags.logLevel) setLogLevel(flags.logLevel as never);
  const srv = await startApiServer({
    dataDir: flags.dataDir,
    port: flags.port,
    bindAddress: flags.bindAddress,
    serviceCidr: flags.serviceCidr,
    nodePortRange: flags.nodePortRange,
    ...(flags.datastore ? { datastore: flags.datastore } : {}),
  });
  if (!(await probeReady(srv))) {
    process.stderr.write('skiff: the API server did not answer /readyz\n');
    await srv.stop();
    return 1;
  }
  const components = await startControlPlane(srv, flags, mode);
  const kubeconfig = join(flags.dataDir, 'kubeconfig');
  writeFileSync(`${kubeconfig}.tmp`, adminKubeconfig(srv.url, srv.pki.caPem, srv.pki.adminToken), { mode: 0o600 });
  renameSync(`${kubeconfig}.tmp`, kubeconfig);
  process.stdout.write(`Skiff API server ready at ${srv.url}\n`);
  process.stdout.write(`  export KUBECONFIG=${kubeconfig}\n`);
  if (components.simNodes) process.stdout.write(`  ${components.simNodes} simulated node(s): sim-0 … sim-${components.simNodes - 1}\n`);
  if (components.localNode) process.stdout.write(`  local node ${components.localNode.nodeName} (${flags.nodeIP})\n`);

  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stdout.write('Stopping…\n');
  await components.stop();
  await srv.stop();
  return 0;
}
