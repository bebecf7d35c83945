// IPv4 addresses and CIDR blocks as plain numbers, for the allocators that carve pod ranges out of
// the cluster CIDR (node IPAM) and pod addresses out of a node's range (simulated nodes). Pure.

/** An IPv4 block: `base` is the network address (host bits cleared), `prefix` its length. */
export interface Ipv4Cidr {
  base: number;
  prefix: number;
  /** Addresses in the block: 2^(32 - prefix). */
  size: number;
}

/** `10.1.2.3` → its 32-bit value, or undefined when it is not a dotted-quad IPv4 address. */
export function parseIpv4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const p = m.slice(1).map(Number) as [number, number, number, number];
  if (p.some((x) => x > 255)) return undefined;
  return p[0] * 2 ** 24 + p[1] * 2 ** 16 + p[2] * 2 ** 8 + p[3];
}

/** A 32-bit value → `10.1.2.3`. */
export function formatIpv4(n: number): string {
  return `${Math.floor(n / 2 ** 24) % 256}.${Math.floor(n / 2 ** 16) % 256}.${Math.floor(n / 2 ** 8) % 256}.${n % 256}`;
}

/** `10.42.0.0/16` → the block (host bits of the address are cleared, as Go's net.ParseCIDR does),
 *  or undefined when it is not an IPv4 CIDR. */
export function parseIpv4Cidr(cidr: string): Ipv4Cidr | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIpv4(cidr.slice(0, slash));
  const bits = cidr.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix, size };
}

/** `{base, prefix}` → `10.42.3.0/24`. */
export function formatIpv4Cidr(c: { base: number; prefix: number }): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** Whether `ip` (a 32-bit value) lies inside `c`. */
export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}
