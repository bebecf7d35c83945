// Cluster DNS benchmark: queries per second the server answers for service names. Prints figures
// and writes bench/results/dns.json. Never run by the tests.
//   node --import tsx bench/dns.ts [seconds=5] [inFlight=128]
//
// The server runs alone in a child process (one Node thread: one core) over an index of 1,000
// ClusterIP Services and 100 headless Services with 10 endpoints each; this process is the one
// client, firing UDP queries over a few sockets with a bounded number in flight (a query not
// answered within 1 s is counted lost and its slot reused). The names asked mix ClusterIP A,
// headless A, SRV and NXDOMAIN, as pods' search paths do.
// Anchor: issue 6's target ≥ 15,000 q/s on one core; CoreDNS does about 33,700 q/s on two.
import { fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { createDnsIndex } from '../src/dns/records.js';
import { startDnsServer } from '../src/dns/server.js';

const SERVICES = 1000;
const HEADLESS = 100;
const ENDPOINTS = 10;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function serve(): Promise<void> {
  const index = createDnsIndex();
  for (let i = 0; i < SERVICES; i++) {
    index.upsertService({ metadata: { namespace: `ns-${i % 20}`, name: `svc-${i}` }, spec: { clusterIP: `10.43.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] } });
  }
  for (let h = 0; h < HEADLESS; h++) {
    index.upsertService({ metadata: { namespace: 'db', name: `hl-${h}` }, spec: { clusterIP: 'None', ports: [{ name: 'sql', port: 5432 }] } });
    index.upsertSlice({
      addressType: 'IPv4', metadata: { namespace: 'db', name: `hl-${h}-x`, labels: { 'kubernetes.io/service-name': `hl-${h}` } },
      ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
      endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({ addresses: [`10.42.${h}.${e + 2}`], hostname: `hl-${h}-${e}`, conditions: { ready: true } })),
    });
  }
  const server = await startDnsServer({ host: '127.0.0.1', port: 0, index });
  const started = process.cpuUsage();
  process.send!({ port: server.port });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'cpu') process.send!({ cpu: process.cpuUsage(started) });
    if (m.cmd === 'stop') void server.stop().then(() => process.exit(0));
  });
}

function names(): { name: string; type: 'A' | 'SRV' }[] {
  const out: { name: string; type: 'A' | 'SRV' }[] = [];
  for (let i = 0; i < SERVICES; i++) out.push({ name: `svc-${i}.ns-${i % 20}.svc.cluster.local`, type: 'A' });
  for (let h = 0; h < HEADLESS; h++) out.push({ name: `hl-${h}.db.svc.cluster.local`, type: 'A' });
  for (let i = 0; i < 100; i++) out.push({ name: `_http._tcp.svc-${i}.ns-${i % 20}.svc.cluster.local`, type: 'SRV' });
  for (let i = 0; i < 200; i++) out.push({ name: `svc-${i}.ns-${i % 20}.svc.cluster.local.svc.cluster.local`, type: 'A' }); // search-path misses
  return out;
}

async function client(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const inFlight = Number(process.argv[3] ?? 128);
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
  const qs = names();
  const packets = qs.map((q, i) => dnsPacket.encode({ type: 'query', id: i, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: q.name, type: q.type }] }));

  const SOCKETS = 4;
  const socks: Socket[] = [];
  // Each slot is one query in flight: its ID is the slot number; sentAt 0 means free.
  const sentAt = new Float64Array(inFlight);
  const slotQuery = new Int32Array(inFlight);
  let answered = 0;
  let lost = 0;
  let rcodeErrors = 0;
  let measuring = false;
  let running = true;
  const latencies: number[] = [];
  let next = 0;

  function send(slot: number): void {
    if (!running) return;
    const qi = next++ % packets.length;
    const pkt = Buffer.from(packets[qi]!);
    pkt.writeUInt16BE(slot, 0);
    slotQuery[slot] = qi;
    sentAt[slot] = performance.now();
    socks[slot % SOCKETS]!.send(pkt, port, '127.0.0.1');
  }
  for (let s = 0; s < SOCKETS; s++) {
    const sock = createSocket('udp4');
    sock.on('message', (msg) => {
      const slot = msg.readUInt16BE(0);
      if (slot >= inFlight || sentAt[slot] === 0) return;
      const rcode = msg.readUInt16BE(2) & 0xf;
      const q = qs[slotQuery[slot]!]!;
      const wantNx = q.name.endsWith('.svc.cluster.local.svc.cluster.local');
      if (rcode !== (wantNx ? 3 : 0)) rcodeErrors++;
      if (measuring) {
        answered++;
        if (answered % 16 === 0) latencies.push(performance.now() - sentAt[slot]!);
      }
      send(slot);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    socks.push(sock);
  }
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (let s = 0; s < inFlight; s++) {
      if (sentAt[s]! > 0 && now - sentAt[s]! > 1000) {
        if (measuring) lost++;
        send(s);
      }
    }
  }, 250);
  for (let s = 0; s < inFlight; s++) send(s);

  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  child.send({ cmd: 'cpu' });
  const cpu0 = await new Promise<NodeJS.CpuUsage>((r) => child.once('message', (m: { cpu: NodeJS.CpuUsage }) => r(m.cpu)));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const got = answered;
  child.send({ cmd: 'cpu' });
  const cpu1 = await new Promise<NodeJS.CpuUsage>((r) => child.once('message', (m: { cpu: NodeJS.CpuUsage }) => r(m.cpu)));
  running = false;
  clearInterval(sweeper);
  for (const s of socks) s.close();
  child.send({ cmd: 'stop' });
  await new Promise((r) => child.once('exit', r));

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0) * 1000) / 1000;
  const serverCpuSec = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6;
  const results = {
    bench: 'dns',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    setup: { services: SERVICES, headless: HEADLESS, endpointsPerHeadless: ENDPOINTS, distinctNames: qs.length, inFlight, sockets: SOCKETS, seconds },
    queriesPerSec: Math.round(got / elapsed),
    // answers per second per core-second the server used: the one-core figure when the client, not the server, is the limit
    queriesPerServerCpuSec: Math.round(got / serverCpuSec),
    serverCpuUtilisation: Math.round((serverCpuSec / elapsed) * 100) / 100,
    latencyMs: { p50: pct(50), p99: pct(99) },
    lost,
    wrongRcodes: rcodeErrors,
    anchor: { target: '≥ 15,000 q/s on one core (issue 6)', coredns: 'about 33,700 q/s on two cores' },
  };
  console.log(JSON.stringify(results, null, 2));
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/dns.json'), JSON.stringify(results, null, 2) + '\n');
}

if (process.argv.includes('--serve')) await serve();
else await client();
