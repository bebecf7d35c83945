// The pod network sandbox of the node agent (issue 5, point 2): one Linux bridge per node owning
// the first address of the node's pod CIDR, and per pod a network namespace `skiff-<id>` joined to
// that bridge by a veth pair whose pod end is `eth0` with the pod IP. Everything goes through
// iproute2's `ip`, always with execFile and an argument array (never a shell string), because pod
// ids and names come from users. Only Linux as root can do this; networkSupport() says why not
// otherwise, so the agent can fall back to host networking and say so instead of pretending.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where iproute2 keeps named network namespaces (bind-mounted nsfs files). */
export const NETNS_DIR = '/var/run/netns';
/** Every sandbox namespace is named with this prefix, so a restarted agent can find its own. */
export const SANDBOX_PREFIX = 'skiff-';

/** A node's pod network: the bridge, the CIDR it serves, and the gateway address pods route via. */
export interface NodeNetwork {
  bridge: string;
  podCidr: string;
  /** The CIDR's first host address, owned by the bridge; every pod's default route. */
  gateway: string;
  prefix: number;
}

/** One pod's network namespace. remove() is removePodSandbox(id): idempotent. */
export interface PodSandbox {
  id: string;
  /** The namespace's nsfs file; a runtime enters it with setns(2) or `ip netns exec`. */
  netnsPath: string;
  ip: string;
  /** The pod's hostname, for the runtime's UTS namespace (a network namespace has none). */
  hostname: string;
  /** The host end of the veth pair, attached to the bridge. */
  hostVeth: string;
  remove(): Promise<void>;
}

export type NetworkSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether this process can build pod sandboxes: Linux, root, and iproute2's `ip` on PATH (or in
 * /sbin, /usr/sbin). Never throws; the reason is a sentence fit for a Node condition or pod event.
 */
export function networkSupport(): NetworkSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `pod networking needs Linux, this is ${process.platform}` };
  const uid = process.getuid?.();
  if (uid !== 0) return { ok: false, reason: `pod networking needs root, running as uid ${uid ?? 'unknown'}` };
  if (ipBinary() === undefined) return { ok: false, reason: 'pod networking needs iproute2 (the `ip` command), not found' };
  return { ok: true };
}

let ipPath: string | undefined;
function ipBinary(): string | undefined {
  if (ipPath !== undefined) return ipPath;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (d !== '' && existsSync(join(d, 'ip'))) return (ipPath = join(d, 'ip'));
  }
  return undefined;
}

/** Runs `ip <args>`; rejects with ip's stderr in the message so failures say what went wrong. */
function ip(args: string[]): Promise<string> {
  const bin = ipBinary();
  if (bin === undefined) return Promise.reject(new Error('iproute2 `ip` not found'));
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

/**
 * Runs several ip commands in one process (`ip [-n ns] -batch -`, one per line on stdin): a pod's
 * sandbox takes two processes instead of ten, which is most of its start time. With `force`, ip
 * goes on past a failing line (for idempotent removal); otherwise it stops at the first and fails.
 */
function ipBatch(lines: string[][], opts: { netns?: string; force?: boolean } = {}): Promise<void> {
  const bin = ipBinary();
  if (bin === undefined) return Promise.reject(new Error('iproute2 `ip` not found'));
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || opts.force) resolve();
      else reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || `exit ${code}`}`));
    });
    // every word was checked by the callers (IFNAME, SANDBOX_ID, parsed addresses): no spaces, no quotes
    child.stdin.end(lines.map((l) => l.join(' ')).join('\n') + '\n');
  });
}

function linkExists(name: string): boolean {
  return existsSync(join('/sys/class/net', name));
}

// Interface names are at most 15 bytes (IFNAMSIZ - 1); ip refuses longer ones with a cryptic error.
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
// Pod ids become file names under /var/run/netns and arguments to ip: keep them boring.
const SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function ipToInt(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses "a.b.c.d/p" into its network base (host bits must be zero) and prefix, or throws. */
function parseCidr(cidr: string): { base: number; prefix: number } {
  const [addr, p, extra] = cidr.split('/');
  const base = addr === undefined ? undefined : ipToInt(addr);
  const prefix = Number(p);
  if (extra !== undefined || base === undefined || !/^\d{1,2}$/.test(p ?? '') || prefix < 8 || prefix > 30) {
    throw new Error(`invalid pod CIDR ${JSON.stringify(cidr)}: want a.b.c.d/p with 8 <= p <= 30`);
  }
  if (base % 2 ** (32 - prefix) !== 0) throw new Error(`invalid pod CIDR ${cidr}: host bits are set`);
  return { base, prefix };
}

/**
 * Makes sure the bridge exists, owns the CIDR's first address, and is up. Idempotent: calling it
 * again (say, after an agent restart) changes nothing that is already right. Throws on a bad
 * bridge name or CIDR, or when ip fails.
 */
export async function createNodeNetwork(opts: { bridge: string; podCidr: string }): Promise<NodeNetwork> {
  if (!IFNAME.test(opts.bridge)) throw new Error(`invalid bridge name ${JSON.stringify(opts.bridge)}: at most 15 of [A-Za-z0-9_.-]`);
  const { base, prefix } = parseCidr(opts.podCidr);
  const gateway = intToIp(base + 1);
  if (!linkExists(opts.bridge)) {
    try {
      await ip(['link', 'add', opts.bridge, 'type', 'bridge']);
    } catch (e) {
      if (!linkExists(opts.bridge)) throw e; // lost a race with another caller: fine
    }
  }
  // `replace` rather than `add` so a second call does not fail with "File exists".
  await ip(['addr', 'replace', `${gateway}/${prefix}`, 'dev', opts.bridge]);
  await ip(['link', 'set', opts.bridge, 'up']);
  return { bridge: opts.bridge, podCidr: opts.podCidr, gateway, prefix };
}

/** Deletes the bridge (and with it the host route to the pod CIDR). No error if already gone. */
export async function removeNodeNetwork(net: NodeNetwork): Promise<void> {
  if (!linkExists(net.bridge)) return;
  try {
    await ip(['link', 'del', net.bridge]);
  } catch (e) {
    if (linkExists(net.bridge)) throw e;
  }
}

/** The namespace name of a sandbox. */
export function sandboxNamespace(id: string): string {
  return SANDBOX_PREFIX + id;
}

/** The host-side veth of a sandbox: `vskiff` + 9 hex digits of the id's hash = 15 bytes. */
export function hostVethName(id: string): string {
  return 'vskiff' + createHash('sha256').update(id).digest('hex').slice(0, 9);
}

function checkId(id: string): void {
  if (!SANDBOX_ID.test(id)) throw new Error(`invalid sandbox id ${JSON.stringify(id)}: 1-63 of [A-Za-z0-9_.-], starting alphanumeric`);
}

/**
 * Creates the pod's network namespace `skiff-<id>` with `lo` up and `eth0` holding `ip`/prefix,
 * its veth peer on the node's bridge, and a default route via the bridge address. The ip must be
 * a host address in the node's CIDR other than the gateway. If anything fails halfway, whatever
 * was made is removed before the error is thrown. A leftover sandbox of the same id (say, from a
 * crashed agent) is removed first, so the result is always exactly what was asked.
 */
export async function createPodSandbox(net: NodeNetwork, opts: { id: string; ip: string; hostname: string }): Promise<PodSandbox> {
  checkId(opts.id);
  const { base, prefix } = parseCidr(net.podCidr);
  const addr = ipToInt(opts.ip);
  const size = 2 ** (32 - prefix);
  if (addr === undefined || addr <= base + 1 || addr >= base + size - 1) {
    throw new Error(`pod IP ${JSON.stringify(opts.ip)} is not a free host address of ${net.podCidr} (gateway ${net.gateway})`);
  }
  const ns = sandboxNamespace(opts.id);
  const hostVeth = hostVethName(opts.id);
  await removePodSandbox(opts.id);
  try {
    // the pod end is made inside the namespace, already named eth0
    await ipBatch([
      ['netns', 'add', ns],
      ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns],
      ['link', 'set', hostVeth, 'master', net.bridge],
      ['link', 'set', hostVeth, 'up'],
    ]);
    await ipBatch(
      [
        ['addr', 'add', `${opts.ip}/${prefix}`, 'dev', 'eth0'],
        ['link', 'set', 'eth0', 'up'],
        ['link', 'set', 'lo', 'up'],
        ['route', 'add', 'default', 'via', net.gateway],
      ],
      { netns: ns },
    );
  } catch (e) {
    await removePodSandbox(opts.id).catch(() => undefined);
      throw e;
  }
  const id = opts.id;
  return { id, netnsPath: join(NETNS_DIR, ns), ip: opts.ip, hostname: opts.hostname, hostVeth, remove: () => removePodSandbox(id) };
}

/**
 * Deletes the sandbox's host veth and its namespace (which takes eth0 with it). Idempotent: no
 * error when either is already gone. Processes still inside the namespace keep it alive in the
 * kernel until they exit, but it is no longer reachable by name.
 */
export async function removePodSandbox(id: string): Promise<void> {
  checkId(id);
  const hostVeth = hostVethName(id);
  const path0 = join(NETNS_DIR, sandboxNamespace(id));
  if (linkExists(hostVeth) && existsSync(path0)) {
    // the usual case in one process; whatever is left after it is removed one by one below
    await ipBatch(
      [
        ['link', 'del', hostVeth],
        ['netns', 'del', sandboxNamespace(id)],
      ],
      { force: true },
    );
  }
  if (linkExists(hostVeth)) {
    try {
      await ip(['link', 'del', hostVeth]);
    } catch (e) {
      if (linkExists(hostVeth)) throw e;
    }
  }
  const path = join(NETNS_DIR, sandboxNamespace(id));
  if (existsSync(path)) {
    try {
      await ip(['netns', 'del', sandboxNamespace(id)]);
    } catch (e) {
      if (existsSync(path)) throw e;
    }
  }
}

/**
 * The ids (namespace names without the `skiff-` prefix) of every sandbox namespace on this
 * machine, sorted, so a restarted agent can adopt or remove them with removePodSandbox(id).
 */
export async function listSandboxes(): Promise<string[]> {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR)
    .filter((n) => n.startsWith(SANDBOX_PREFIX) && n.length > SANDBOX_PREFIX.length)
    .map((n) => n.slice(SANDBOX_PREFIX.length))
    .sort();
}

/**
 * Turns on IPv4 forwarding (net.ipv4.ip_forward), which pod traffic routed via the bridge to
 * other interfaces needs. Machine-wide and never turned off again, as every CNI plugin does.
 * Throws when the sysctl cannot be written.
 */
export function enableIpForward(): void {
  const path = '/proc/sys/net/ipv4/ip_forward';
  if (readFileSync(path, 'utf8').trim() === '1') return;
  writeFileSync(path, '1');
}
