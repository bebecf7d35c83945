// Pod addresses out of one node's pod CIDR, as the host-local IPAM plugin hands them out: the
// network address and the first host (the bridge's gateway) are never given, nor the broadcast
// address; allocation walks on from the last address given, so a freed address is not reused at
// once (a stale endpoint pointing at it would reach a stranger).
import { cidrContains, formatIpv4, parseIpv4, parseIpv4Cidr, type Ipv4Cidr } from '../util/ipv4-cidr.js';

export class PodIpRange {
  readonly cidr: Ipv4Cidr;
  private readonly used = new Set<number>();
  private readonly first: number;
  private readonly last: number;
  private cursor: number;

  /** Throws when `cidr` is not an IPv4 CIDR with room for at least one pod (/30 or wider). */
  constructor(cidr: string) {
    const c = parseIpv4Cidr(cidr);
    if (!c || c.size < 4) throw new Error(`pod CIDR ${JSON.stringify(cidr)} is not an IPv4 range with room for pods`);
    this.cidr = c;
    this.first = c.base + 2;
    this.last = c.base + c.size - 2;
    this.cursor = this.first;
  }

  /** The next free address, or undefined when every address is in use. */
  allocate(): string | undefined {
    const span = this.last - this.first + 1;
    for (let i = 0; i < span; i++) {
      const n = this.cursor;
      this.cursor = n >= this.last ? this.first : n + 1;
      if (!this.used.has(n)) {
        this.used.add(n);
        return formatIpv4(n);
      }
    }
    return undefined;
  }

  /** Marks an address already in use (a pod found running at start). False when it is outside the
   *  range or taken. */
  reserve(ip: string): boolean {
    const n = parseIpv4(ip);
    if (n === undefined || !cidrContains(this.cidr, n) || n < this.first || n > this.last || this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  /** Frees an address; unknown addresses are ignored. */
  release(ip: string): void {
    const n = parseIpv4(ip);
    if (n !== undefined) this.used.delete(n);
  }

  inUse(): number {
    return this.used.size;
  }
}
