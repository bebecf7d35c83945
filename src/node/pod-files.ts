// The /etc/hosts and /etc/resolv.conf a pod's containers see, written as the kubelet writes them:
// hosts from managedHostsFileContent / nodeHostsFileContent (pkg/kubelet/kubelet_pods.go), the
// resolver settings from GetPodDNS (pkg/kubelet/network/dns/dns.go) laid out as container
// runtimes write resolv.conf (search, nameservers, options). The agent bind-mounts both files
// into every container of the pod. The content functions are pure; writePodFiles touches disk.
import type { HostAlias, Pod } from 'kubernetes-types/core/v1.js';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MANAGED_HEADER = '# Kubernetes-managed hosts file.\n';
const MANAGED_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';
/** validation.MaxDNSNameservers */
const MAX_NAMESERVERS = 3;
/** validation.MaxDNSSearchPathsExpanded and MaxDNSSearchListCharsExpanded (ExpandedDNSConfig is GA). */
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;
/** utilvalidation.DNS1123SubdomainMaxLength: glibc aborts on longer search paths. */
const MAX_SEARCH_PATH_LENGTH = 253;

/** The pod's hostname and, with spec.subdomain, its domain (GeneratePodHostNameAndDomain). */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.spec?.hostname || pod.metadata?.name || '';
  // truncatePodHostnameIfNeeded: 63 bytes, without a trailing '-' or '.'.
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  const domain = sub ? `${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

export interface EtcHostsOptions {
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** The node's /etc/hosts content; hostNetwork pods get it instead of the managed entries. */
  hostEtcHosts?: string;
}

/**
 * The pod's /etc/hosts: localhost (v4 and v6) lines, one `<podIP>\t<hostname>` line per pod IP (or
 * `<ip>\t<hostname>.<domain>\t<hostname>` with a subdomain), then the `# Entries added by
 * HostAliases.` block. A hostNetwork pod gets the node's hosts file (opts.hostEtcHosts) under the
 * host-network header, plus its aliases.
 */
export function etcHosts(pod: Pod, podIP: string | string[], hostAliases: HostAlias[] = pod.spec?.hostAliases ?? [], opts: EtcHostsOptions = {}): string {
  if (pod.spec?.hostNetwork === true && opts.hostEtcHosts !== undefined) {
    return MANAGED_HEADER_HOST_NETWORK + opts.hostEtcHosts + aliasEntries(hostAliases);
  }
  const { hostname, domain } = podHostnameAndDomain(pod, opts.clusterDomain ?? 'cluster.local');
  let out = MANAGED_HEADER;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of typeof podIP === 'string' ? [podIP] : podIP) {
    out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  }
  return out + aliasEntries(hostAliases);
}

function aliasEntries(aliases: HostAlias[]): string {
  if (aliases.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip ?? ''}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

export interface DnsSettings {
  /** The cluster DNS service addresses (the kubelet's --cluster-dns); empty falls back to the host's. */
  clusterDNS: string[];
  /** `cluster.local` */
  clusterDomain: string;
  /** The node's /etc/resolv.conf content. */
  hostResolvConf: string;
}

/** A resolver configuration (the CRI's DNSConfig). */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** parseResolvConf: nameservers accumulate, the last `search` and `options` lines win. */
export function parseResolvConf(text: string): DnsConfig {
  const cfg: DnsConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    if (fields[0] === 'nameserver' && fields[1] !== undefined) cfg.servers.push(fields[1]);
    if (fields[0] === 'search') cfg.searches = fields.slice(1).map((s) => (s.endsWith('.') ? s.slice(0, -1) : s));
    if (fields[0] === 'options') cfg.options = fields.slice(1);
  }
  return cfg;
}

/**
 * The pod's resolver settings (GetPodDNS). ClusterFirst (the default) and ClusterFirstWithHostNet:
 * the cluster DNS servers only, search `<ns>.svc.<domain> svc.<domain> <domain>` then the host's
 * searches, `ndots:5`; a hostNetwork pod with ClusterFirst, and Default, use the host's settings;
 * None starts empty. spec.dnsConfig is merged on top, then the kubelet's limits apply (3 servers,
 * 32 search paths of at most 253 characters, 2048 characters in all). `warnings` carries the
 * DNSConfigForming event texts when a limit cut something.
 */
export function podDnsConfig(pod: Pod, settings: DnsSettings): DnsConfig & { warnings: string[] } {
  let cfg = parseResolvConf(settings.hostResolvConf);
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const clusterFirst =
    policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && pod.spec?.hostNetwork !== true) || !['None', 'Default', 'ClusterFirst'].includes(policy);
  if (policy === 'None') {
    cfg = { servers: [], searches: [], options: [] };
  } else if (clusterFirst && settings.clusterDNS.length > 0) {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = settings.clusterDomain;
    cfg.servers = [...settings.clusterDNS];
    if (d !== '') cfg.searches = unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...cfg.searches]);
    cfg.options = ['ndots:5'];
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg.servers = unique([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = unique([...cfg.searches, ...(extra.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, extra.options ?? []);
  }
  const warnings: string[] = [];
  if (cfg.servers.length > MAX_NAMESERVERS) {
    cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
    warnings.push(`Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.servers.join(' ')}`);
  }
  let cut = false;
  let searches = cfg.searches;
  if (searches.length > MAX_SEARCH_PATHS) {
    searches = searches.slice(0, MAX_SEARCH_PATHS);
    cut = true;
  }
  const short = searches.filter((s) => s.length <= MAX_SEARCH_PATH_LENGTH);
  if (short.length !== searches.length) cut = true;
  searches = short;
  while (searches.join(' ').length > MAX_SEARCH_CHARS) {
    searches = searches.slice(0, -1);
    cut = true;
  }
  cfg.searches = searches;
  if (cut) warnings.push(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`);
  return { ...cfg, warnings };
}

/** The file a container runtime writes for a DNSConfig: search, nameservers, options. */
export function formatResolvConf(cfg: DnsConfig): string {
  let out = '';
  if (cfg.searches.length > 0) out += `search ${cfg.searches.join(' ')}\n`;
  for (const s of cfg.servers) out += `nameserver ${s}\n`;
  if (cfg.options.length > 0) out += `options ${cfg.options.join(' ')}\n`;
  return out;
}

/** The pod's /etc/resolv.conf content (podDnsConfig laid out by formatResolvConf). */
export function resolvConf(pod: Pod, settings: DnsSettings): string {
  return formatResolvConf(podDnsConfig(pod, settings));
}

/** mergeDNSOptions: by name, the pod's entries override; kept in first-seen order (Go's is random). */
function mergeOptions(existing: string[], extra: { name?: string; value?: string }[]): string[] {
  const merged = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    if (i >= 0) merged.set(op.slice(0, i), op.slice(i + 1));
    else merged.set(op, '');
  }
  for (const op of extra) merged.set(op.name ?? '', op.value ?? '');
  return [...merged].map(([name, value]) => (value !== '' ? `${name}:${value}` : name));
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

export interface PodFilesOptions extends DnsSettings {
  podIPs: string[];
  /** The node's /etc/hosts, for hostNetwork pods. */
  hostEtcHosts?: string;
}

/**
 * Writes `<podDir>/etc-hosts` and `<podDir>/resolv.conf` (only when their content changed) and
 * returns their paths, for the agent to bind-mount at /etc/hosts and /etc/resolv.conf, with the
 * DNS warnings for DNSConfigForming events.
 */
export async function writePodFiles(podDir: string, pod: Pod, opts: PodFilesOptions): Promise<{ etcHosts: string; resolvConf: string; warnings: string[] }> {
  await mkdir(podDir, { recursive: true });
  const hostsPath = join(podDir, 'etc-hosts');
  const resolvPath = join(podDir, 'resolv.conf');
  const dns = podDnsConfig(pod, opts);
  await writeAtomically(hostsPath, etcHosts(pod, opts.podIPs, pod.spec?.hostAliases ?? [], { clusterDomain: opts.clusterDomain, hostEtcHosts: opts.hostEtcHosts }));
  await writeAtomically(resolvPath, formatResolvConf(dns));
  return { etcHosts: hostsPath, resolvConf: resolvPath, warnings: dns.warnings };
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === content) return;
  if (current !== undefined) {
    // Already there, maybe bind-mounted into running containers: a bind mount pins the inode, so
    // a changed file is rewritten in place (as the kubelet does) where they can see it.
    await writeFile(path, content);
    return;
  }
  // New: through a temporary file and rename, so no one ever reads half of it.
  const tmp = `${path}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, path);
}

/** Reads the node's /etc/resolv.conf and /etc/hosts, for DnsSettings.hostResolvConf and hostEtcHosts. */
export async function readHostFiles(): Promise<{ resolvConf: string; etcHosts: string }> {
  const [resolv, hosts] = await Promise.all([readFile('/etc/resolv.conf', 'utf8').catch(() => ''), readFile('/etc/hosts', 'utf8').catch(() => '')]);
  return { resolvConf: resolv, etcHosts: hosts };
}
