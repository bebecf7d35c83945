// The resolvers cluster DNS forwards to: the host's own, read from its resolv.conf as CoreDNS's
// `forward . /etc/resolv.conf` reads them. The cluster DNS's own addresses are left out, so a host
// whose resolv.conf points at the cluster DNS does not make it forward to itself in a loop.
import { isIPv4, isIPv6 } from 'node:net';
import type { Upstream } from './forward.js';

/**
 * The `nameserver` lines of a resolv.conf, in order, on port 53, without duplicates and without
 * `opts.skip` (addresses of the cluster DNS itself). IPv6 zone suffixes (`fe80::1%eth0`) are
 * dropped; lines that are not an address are ignored, as glibc ignores them. No nameserver: [].
 */
export function hostUpstreams(resolvConfText: string, opts: { skip?: string[] } = {}): Upstream[] {
  const skip = new Set(opts.skip ?? []);
  const out: Upstream[] = [];
  for (const raw of resolvConfText.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1]!.replace(/%.*$/, '');
    if (!isIPv4(host) && !isIPv6(host)) continue;
    if (skip.has(host) || out.some((u) => u.host === host)) continue;
    out.push({ host, port: 53 });
  }
  return out;
}
