// Builders of Services and EndpointSlices for the proxy's tests, in the shapes the API serves.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export function service(name: string, spec: Service['spec'] & object, extra: Partial<Service> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ...spec },
    ...extra,
  };
}

export interface Ep {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  node?: string;
}

/** A slice of `svc` with one port (`name`, default unnamed) on every endpoint. */
export function slice(svc: string, eps: Ep[], port: { port: number; protocol?: 'TCP' | 'UDP'; name?: string }, sliceName = `${svc}-abc`): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: sliceName, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: port.name ?? '', port: port.port, protocol: port.protocol ?? 'TCP' }],
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ready: e.ready ?? true,
        ...(e.serving !== undefined ? { serving: e.serving } : {}),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : {}),
      },
      ...(e.node ? { nodeName: e.node } : {}),
    })),
  };
}
