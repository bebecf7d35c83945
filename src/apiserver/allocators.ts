// Service ClusterIPs (from the service CIDR) and NodePorts (30000–32767), allocated without
// collisions. The allocation table is rebuilt from the stored Services at start-up, so the
// store stays the one source of truth; the etcd issue moves it into the store for several
// apiservers. Allocation is random within the range, as kube-apiserver does.
import { errors, field, type FieldError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';

export interface Cidr {
  base: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`invalid CIDR ${cidr}`);
  const [a, b, c, d, bits] = m.slice(1).map(Number) as [number, number, number, number, number];
  const size = 2 ** (32 - bits);
  const ip = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  return { base: ip - (ip % size), size };
}

export function ipToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

export class RangeAllocator {
  private readonly used = new Set<number>();
  constructor(
    readonly first: number,
    readonly last: number,
    private readonly rng: () => number = Math.random,
  ) {}

  has(n: number): boolean {
    return this.used.has(n);
  }
  inRange(n: number): boolean {
    return n >= this.first && n <= this.last;
  }
  /** Marks `n` used; false when it already was. */
  take(n: number): boolean {
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }
  release(n: number): void {
    this.used.delete(n);
  }
  /** A free value, chosen at random, or undefined when the range is full. */
  next(): number | undefined {
    const span = this.last - this.first + 1;
    if (this.used.size >= span) return undefined;
    const start = Math.floor(this.rng() * span);
    for (let i = 0; i < span; i++) {
      const n = this.first + ((start + i) % span);
      if (!this.used.has(n)) {
        this.used.add(n);
        return n;
      }
    }
    return undefined;
  }
}

interface ServicePort {
  name?: string;
  port?: number;
  nodePort?: number;
  protocol?: string;
}
interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
  healthCheckNodePort?: number;
  externalTrafficPolicy?: string;
}

function specOf(svc: KubeObject): ServiceSpec {
  return (svc.spec ?? {}) as ServiceSpec;
}

const needsNodePorts = (t: string | undefined) => t === 'NodePort' || t === 'LoadBalancer';

/** The allocations a Service holds (for release and rebuild). */
export function heldBy(svc: KubeObject): { ips: number[]; ports: number[] } {
  const s = specOf(svc);
  const ips = (s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])).map(ipToNumber).filter((x): x is number => x !== undefined);
  const ports = (s.ports ?? []).map((p) => p.nodePort).filter((x): x is number => typeof x === 'number');
  if (typeof s.healthCheckNodePort === 'number') ports.push(s.healthCheckNodePort);
  return { ips, ports };
}

export class ServiceAllocators {
  readonly ips: RangeAllocator;
  readonly ports: RangeAllocator;
  readonly cidr: Cidr;

  constructor(serviceCidr: string, nodePortRange: [number, number] = [30000, 32767], rng: () => number = Math.random) {
    this.cidr = parseCidr(serviceCidr);
    // network address and broadcast are never handed out
    this.ips = new RangeAllocator(this.cidr.base + 1, this.cidr.base + this.cidr.size - 2, rng);
    this.ports = new RangeAllocator(nodePortRange[0], nodePortRange[1], rng);
  }

  /** The well-known address of the `kubernetes` service: the first of the range. */
  get apiServerIp(): string {
    return ipToString(this.cidr.base + 1);
  }

  /** Records what a stored Service holds (start-up rebuild). */
  restore(svc: KubeObject): void {
    const h = heldBy(svc);
    for (const ip of h.ips) if (this.ips.inRange(ip)) this.ips.take(ip);
    for (const p of h.ports) if (this.ports.inRange(p)) this.ports.take(p);
  }

  release(svc: KubeObject): void {
    const h = heldBy(svc);
    for (const ip of h.ips) this.ips.release(ip);
    for (const p of h.ports) this.ports.release(p);
  }

  /**
   * Fills in clusterIP(s) and nodePorts on `svc` (create, or update from `old`), taking them from
   * the tables. Returns an undo function that gives back what this call took; throws a 422 naming
   * the field when a requested address or port is taken or out of range.
   */
  allocate(svc: KubeObject, old?: KubeObject): () => void {
    const s = specOf(svc);
    const taken: { ips: number[]; ports: number[] } = { ips: [], ports: [] };
    const undo = () => {
      for (const ip of taken.ips) this.ips.release(ip);
      for (const p of taken.ports) this.ports.release(p);
    };
    const fail = (errs: FieldError[]) => {
      undo();
      return errors.invalid('Service', '', svc.metadata.name ?? '', errs);
    };
    const oldHeld = old ? heldBy(old) : { ips: [], ports: [] };

    if (s.type !== 'ExternalName') {
      const want = s.clusterIP ?? s.clusterIPs?.[0];
      if (want === undefined || want === '') {
        const n = this.ips.next();
        if (n === undefined) throw fail([field.invalid('spec.clusterIPs', [], 'failed to allocate IP: range is full')]);
        taken.ips.push(n);
        s.clusterIP = ipToString(n);
        s.clusterIPs = [s.clusterIP];
      } else if (want !== 'None') {
        const n = ipToNumber(want);
        if (n === undefined) throw fail([field.invalid('spec.clusterIPs[0]', want, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')]);
        if (!oldHeld.ips.includes(n)) {
          if (!this.ips.inRange(n)) throw fail([field.invalid('spec.clusterIPs', [want], `failed to allocate IP ${want}: the provided IP (${want}) is not in the valid range. The range of valid IPs is ${ipToString(this.cidr.base)}/${32 - Math.log2(this.cidr.size)}`)]);
          if (!this.ips.take(n)) throw fail([field.invalid('spec.clusterIPs', [want], `failed to allocate IP ${want}: provided IP is already allocated`)]);
          taken.ips.push(n);
        }
        s.clusterIP = want;
        s.clusterIPs = [want];
      } else {
        s.clusterIPs = ['None'];
      }
    }

    if (needsNodePorts(s.type)) {
      const errs: FieldError[] = [];
      (s.ports ?? []).forEach((p, i) => {
        if (p.nodePort === undefined || p.nodePort === 0) {
          // keep the port the old object had for the same service port, as upstream does
          const prev = (specOf(old ?? { metadata: {} }).ports ?? []).find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))?.nodePort;
          if (prev !== undefined) {
            p.nodePort = prev;
            return;
          }
          const n = this.ports.next();
          if (n === undefined) errs.push(field.invalid(`spec.ports[${i}].nodePort`, 0, 'failed to allocate a nodePort: range is full'));
          else {
            taken.ports.push(n);
            p.nodePort = n;
          }
        } else if (!oldHeld.ports.includes(p.nodePort) && !taken.ports.includes(p.nodePort)) {
          if (!this.ports.inRange(p.nodePort)) errs.push(field.invalid(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${this.ports.first}-${this.ports.last}`));
          else if (!this.ports.take(p.nodePort)) errs.push(field.invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
          else taken.ports.push(p.nodePort);
        }
      });
      if (errs.length) throw fail(errs);
    } else {
      for (const p of s.ports ?? []) delete p.nodePort;
    }
    return undo;
  }

  /** After a successful update: gives back what `old` held and `cur` no longer does. */
  releaseDropped(old: KubeObject, cur: KubeObject): void {
    const a = heldBy(old);
    const b = heldBy(cur);
    for (const ip of a.ips) if (!b.ips.includes(ip)) this.ips.release(ip);
    for (const p of a.ports) if (!b.ports.includes(p)) this.ports.release(p);
  }
}
