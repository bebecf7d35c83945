// `skiff agent`: a node that joins a running control plane over HTTPS. The `process` runtime
// (the default) runs pods for real on this machine; `sim` registers simulated nodes.
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '../client/client.js';
import { createHttpTransport } from '../client/http.js';
import { startNodeAgent } from '../node/agent.js';
import { RUNTIMES } from '../node/runtime/index.js';
import { SimNodePool } from '../node/sim-nodes.js';
import { setLogLevel } from '../util/log.js';
import { defaultNodeIP, parseCapacity } from './flags.js';
import { clusterDnsIP, parseDnsUpstreams, startNodeServices } from './node-stack.js';

function waitForSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export const AGENT_USAGE = `Usage: skiff agent --server URL --token-file FILE [flags]

  --server URL                 the API server, e.g. https://127.0.0.1:6443
  --token-file FILE            a file holding the bearer token to authenticate with
  --ca-file FILE               the cluster CA (DATA_DIR/pki/ca.crt on the server)
  --insecure-skip-tls-verify   do not check the server's certificate (testing only)
  --name NAME                  node name (default: this machine's hostname)
  --runtime process|sim        how pods run: process (real processes, default) or sim (simulated)
  --node-ip ADDR               with --runtime process: the node's InternalIP (default: first non-loopback IPv4)
  --data-dir DIR               with --runtime process: the agent's state (default ~/.skiff/agent-NAME)
  --cluster-cidr CIDR          the cluster's pod addresses, as the server's (default 10.42.0.0/16)
  --service-cidr CIDR          the cluster's Service addresses, as the server's (default 10.43.0.0/16)
  --dns-upstreams LIST         where this node's DNS sends other names (default: resolv.conf; none)
  --count N                    with --runtime sim: register N nodes NAME-0 … NAME-(N-1)
  --capacity LIST              with --runtime sim: e.g. cpu=128,memory=512Gi,pods=250
On Ctrl-C, simulated nodes leave the cluster (their Node and Lease objects are deleted).
`;

export async function runAgent(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        'token-file': { type: 'string' },
        'ca-file': { type: 'string' },
        'insecure-skip-tls-verify': { type: 'boolean' },
        name: { type: 'string' },
        runtime: { type: 'string' },
        count: { type: 'string' },
        capacity: { type: 'string' },
        'node-ip': { type: 'string' },
        'data-dir': { type: 'string' },
        'cluster-cidr': { type: 'string' },
        'service-cidr': { type: 'string' },
        'dns-upstreams': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`skiff agent: ${(e as Error).message}\n\n${AGENT_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return 0;
  }
  const fail = (m: string) => (process.stderr.write(`skiff agent: ${m}\n\n${AGENT_USAGE}`), 2);
  if (!values.server) return fail('--server is required');
  if (!values['token-file']) return fail('--token-file is required');
  const runtime = values.runtime ?? 'process';
  if (runtime !== 'sim' && runtime !== 'process') return fail(`--runtime ${runtime} is not known: use process or sim`);
  if (!values['ca-file'] && !values['insecure-skip-tls-verify']) return fail('--ca-file is required (or --insecure-skip-tls-verify)');
  if (values['log-level']) setLogLevel(values['log-level'] as never);
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) return fail('--count must be a positive whole number');

  const transport = createHttpTransport({
    server: values.server,
    token: readFileSync(values['token-file'], 'utf8').trim(),
    ...(values['ca-file'] ? { ca: readFileSync(values['ca-file'], 'utf8') } : {}),
    ...(values['insecure-skip-tls-verify'] ? { insecureSkipVerify: true } : {}),
    userAgent: 'skiff-agent',
  });
  const client = createClient(transport);
  const base = (values.name ?? hostname()).toLowerCase();
  if (runtime === 'process') {
    const nodeIP = values['node-ip'] ?? defaultNodeIP();
    const stateDir = values['data-dir'] ?? join(homedir(), '.skiff', `agent-${base}`);
    const serviceCidr = values['service-cidr'] ?? '10.43.0.0/16';
    let dnsUpstreams;
    try {
      clusterDnsIP(serviceCidr);
      dnsUpstreams = parseDnsUpstreams(values['dns-upstreams']);
    } catch (e) {
      return fail((e as Error).message);
    }
    const agent = await startNodeAgent({
      client,
      runtime: RUNTIMES.process({ nodeName: base, stateDir, nodeIP }),
      nodeName: base,
      nodeIP,
      stateDir,
      clusterDNS: [clusterDnsIP(serviceCidr)],
      serverToken: readFileSync(values['token-file'], 'utf8').trim(),
    });
    const services = await startNodeServices({
      client,
      agent,
      nodeName: base,
      nodeIP,
      stateDir,
      clusterCidr: values['cluster-cidr'] ?? '10.42.0.0/16',
      serviceCidr,
      ...(dnsUpstreams !== undefined ? { dnsUpstreams } : {}),
    });
    process.stdout.write(`skiff agent: node ${base} (${nodeIP}) joined ${values.server}\n`);
    await waitForSignal();
    await services.stop();
    await agent.stop();
    client.close();
    return 0;
  }
  const names = count === undefined ? [base] : Array.from({ length: count }, (_, i) => `${base}-${i}`);
  let capacity: Record<string, string>;
  try {
    capacity = parseCapacity(values.capacity);
  } catch (e) {
    return fail(`--capacity: ${(e as Error).message}`);
  }
  const pool = new SimNodePool(client, { names, capacity });
  await pool.start();
  process.stdout.write(`skiff agent: ${names.length} simulated node(s) joined ${values.server}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}\n`);
  await waitForSignal();
  pool.stop();
  await pool.removeNodes();
  client.close();
  return 0;
}
