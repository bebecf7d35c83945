// Service links as the kubelet writes them (pkg/kubelet/envvars), as tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { serviceEnv, serviceVariables } from '../../src/node/service-env.js';

const svc = (ns: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[]): Service => ({ metadata: { namespace: ns, name }, spec: { clusterIP, ports } });

test('one service: host, port, named ports and the link variables', () => {
  assert.deepEqual(serviceVariables(svc('default', 'my-web', '10.43.0.12', [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }])), {
    MY_WEB_SERVICE_HOST: '10.43.0.12',
    MY_WEB_SERVICE_PORT: '80',
    MY_WEB_SERVICE_PORT_HTTP: '80',
    MY_WEB_SERVICE_PORT_DNS: '53',
    MY_WEB_PORT: 'tcp://10.43.0.12:80',
    MY_WEB_PORT_80_TCP: 'tcp://10.43.0.12:80',
    MY_WEB_PORT_80_TCP_PROTO: 'tcp',
    MY_WEB_PORT_80_TCP_PORT: '80',
    MY_WEB_PORT_80_TCP_ADDR: '10.43.0.12',
    MY_WEB_PORT_53_UDP: 'udp://10.43.0.12:53',
    MY_WEB_PORT_53_UDP_PROTO: 'udp',
    MY_WEB_PORT_53_UDP_PORT: '53',
    MY_WEB_PORT_53_UDP_ADDR: '10.43.0.12',
  });
  assert.deepEqual(serviceVariables(svc('default', 'headless', 'None', [{ port: 80 }])), {});
});

test('which services a pod sees', () => {
  const all = [svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }]), svc('default', 'other', '10.43.0.7', [{ port: 1 }]), svc('shop', 'web', '10.43.0.9', [{ port: 80 }])];
  const pod = (ns: string, links?: boolean): Pod => ({ metadata: { namespace: ns }, spec: { containers: [], ...(links === undefined ? {} : { enableServiceLinks: links }) } });
  const keys = (env: Record<string, string>) => Object.keys(env).filter((k) => k.endsWith('_SERVICE_HOST')).sort();
  assert.deepEqual(keys(serviceEnv(pod('shop'), all)), ['KUBERNETES_SERVICE_HOST', 'WEB_SERVICE_HOST']);
  assert.deepEqual(keys(serviceEnv(pod('default'), all)), ['KUBERNETES_SERVICE_HOST', 'OTHER_SERVICE_HOST']);
  assert.deepEqual(keys(serviceEnv(pod('shop', false), all)), ['KUBERNETES_SERVICE_HOST']);
});
