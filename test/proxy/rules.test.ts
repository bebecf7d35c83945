// computeRules as tables: what each service type and policy turns into (which map holds which
// address, which endpoints a chain spreads over, where masquerading happens), and that the output
// is deterministic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { computeRules, type Model } from '../../src/proxy/rules.js';
import { service, slice } from './fixtures.js';

const base = { nodeName: 'n1', nodeIPs: ['192.168.1.10'], clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16' };
const rules = (services: Service[], slices: EndpointSlice[]) => computeRules({ ...base, services, slices });

/** The endpoints (ip:port) the chain a verdict goes to spreads over, following goto chains. */
function targets(m: Model, verdict: string | undefined): string[] {
  if (!verdict?.startsWith('goto ')) return [];
  const chain = m.chains[verdict.slice(5)];
  assert.ok(chain, `chain of ${verdict} exists`);
  const out: string[] = [];
  for (const r of chain.rules) {
    const dnat = /dnat to (\S+)$/.exec(r);
    if (dnat) out.push(dnat[1]!);
    const vmap = /numgen random mod \d+ vmap \{ (.*) \}$/.exec(r);
    if (vmap) for (const g of vmap[1]!.matchAll(/goto (\S+?)(?:,|$)/g)) out.push(...targets(m, `goto ${g[1]}`));
  }
  const gotoLast = chain.rules.at(-1);
  if (gotoLast?.startsWith('goto ')) out.push(...targets(m, gotoLast));
  return [...new Set(out)].sort();
}

const web = (spec: Partial<Service['spec'] & object> = {}, extra: Partial<Service> = {}) =>
  service('web', { clusterIP: '10.43.0.5', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec }, extra);
const eps = (list: Parameters<typeof slice>[1]) => slice('web', list, { port: 8080 });
const two = eps([{ ip: '10.42.0.2', node: 'n1' }, { ip: '10.42.1.2', node: 'n2' }]);

test('a ClusterIP service spreads over its ready endpoints; not-ready ones receive nothing', () => {
  const m = rules([web()], [eps([{ ip: '10.42.0.2' }, { ip: '10.42.0.3', ready: false }, { ip: '10.42.0.4' }])]);
  assert.deepEqual(targets(m, m.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']), ['10.42.0.2:8080', '10.42.0.4:8080']);
  assert.deepEqual(m.sets['cluster-ips']!.elements, ['10.43.0.5']);
  const svcChain = m.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']!.slice(5);
  assert.match(svcChain, /^service-[0-9A-F]{8}-default\/web\/tcp\/p80$/);
  assert.ok(m.chains[svcChain]!.rules.includes('ip daddr 10.43.0.5 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade'), 'traffic from outside the cluster is masqueraded');
});

test('the endpoint chain masquerades hairpin traffic and DNATs with the protocol', () => {
  const m = rules([web({ ports: [{ port: 53, protocol: 'UDP', name: 'dns' }] })], [slice('web', [{ ip: '10.42.0.2' }], { port: 5353, protocol: 'UDP', name: 'dns' })]);
  const ep = Object.entries(m.chains).find(([n]) => n.startsWith('endpoint-'))!;
  assert.match(ep[0], /^endpoint-[0-9A-F]{8}-default\/web\/udp\/dns__10\.42\.0\.2\/5353$/);
  assert.deepEqual(ep[1].rules, ['ip saddr 10.42.0.2 jump mark-for-masquerade', 'meta l4proto udp dnat to 10.42.0.2:5353']);
  assert.ok(m.maps['service-ips']!.elements['10.43.0.5 . udp . 53']);
});

test('when no endpoint is ready, serving terminating ones are used; with none at all the address is rejected', () => {
  const term = rules([web()], [eps([{ ip: '10.42.0.2', ready: false, serving: true, terminating: true }, { ip: '10.42.0.3', ready: false }])]);
  assert.deepEqual(targets(term, term.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']), ['10.42.0.2:8080']);
  const none = rules([web()], [eps([{ ip: '10.42.0.3', ready: false }])]);
  assert.equal(none.maps['service-ips']!.elements['10.43.0.5 . tcp . 80'], undefined);
  assert.equal(none.maps['no-endpoint-services']!.elements['10.43.0.5 . tcp . 80'], 'goto reject-chain');
  const noSlice = rules([web({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })], []);
  assert.equal(noSlice.maps['no-endpoint-nodeports']!.elements['tcp . 30080'], 'goto reject-chain');
});

test('headless, ExternalName and SCTP ports get no rules; slices of other services or IPv6 are ignored', () => {
  const m = rules(
    [
      service('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      service('ext', { type: 'ExternalName', externalName: 'example.com' }),
      web({ ports: [{ port: 80, protocol: 'SCTP' }] }),
    ],
    [eps([{ ip: '10.42.0.2' }]), { ...eps([{ ip: '10.42.0.9' }]), addressType: 'IPv6' }],
  );
  assert.deepEqual(m.maps['service-ips']!.elements, {});
  assert.deepEqual(m.maps['no-endpoint-services']!.elements, {});
  assert.equal(Object.keys(m.chains).filter((n) => /^(service|endpoint)-[0-9A-F]{8}-/.test(n)).length, 0);
});

test('a NodePort service answers on the node ports through a masquerading external chain', () => {
  const m = rules([web({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })], [two]);
  const v = m.maps['service-nodeports']!.elements['tcp . 30080']!;
  assert.match(v, /^goto external-/);
  assert.deepEqual(m.chains[v.slice(5)]!.rules.slice(0, 1), ['jump mark-for-masquerade']);
  assert.deepEqual(targets(m, v), ['10.42.0.2:8080', '10.42.1.2:8080']);
  assert.deepEqual(m.sets['nodeport-ips']!.elements, ['192.168.1.10']);
  assert.ok(m.chains['nat-output']!.rules.some((r) => r.startsWith('fib daddr type local') && r.includes('@service-nodeports')), 'the host reaches NodePorts on any local address, 127.0.0.1 included');
});

test('externalTrafficPolicy Local sends outside traffic only to local endpoints without masquerade, pods and the host still cluster-wide', () => {
  const m = rules([web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] })], [two]);
  const ext = m.maps['service-nodeports']!.elements['tcp . 30080']!.slice(5);
  const r = m.chains[ext]!.rules;
  assert.match(r[0]!, /^ip saddr 10\.42\.0\.0\/16 goto service-/);
  assert.equal(r[1], 'fib saddr type local jump mark-for-masquerade');
  assert.match(r.at(-1)!, /^goto local-/);
  assert.deepEqual(targets(m, r.at(-1)), ['10.42.0.2:8080']);
  assert.ok(!m.chains[r.at(-1)!.slice(5)]!.rules.some((x) => x.includes('mark-for-masquerade')), 'the client address is kept');
  assert.deepEqual(targets(m, m.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']), ['10.42.0.2:8080', '10.42.1.2:8080'], 'the ClusterIP stays cluster-wide');
  const noLocal = rules([web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] })], [eps([{ ip: '10.42.1.2', node: 'n2' }])]);
  const loc = noLocal.chains[noLocal.chains[noLocal.maps['service-nodeports']!.elements['tcp . 30080']!.slice(5)]!.rules.at(-1)!.slice(5)]!;
  assert.deepEqual(loc.rules, ['drop'], 'no local endpoint: outside traffic is dropped');
});

test('internalTrafficPolicy Local sends ClusterIP traffic only to this node; with no local endpoint it is dropped', () => {
  const m = rules([web({ internalTrafficPolicy: 'Local' })], [two]);
  const v = m.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']!;
  assert.match(v, /^goto local-/);
  assert.deepEqual(targets(m, v), ['10.42.0.2:8080']);
  const none = rules([web({ internalTrafficPolicy: 'Local' })], [eps([{ ip: '10.42.1.2', node: 'n2' }])]);
  assert.equal(none.maps['no-endpoint-services']!.elements['10.43.0.5 . tcp . 80'], 'drop');
});

test('a LoadBalancer ingress address is served like the ClusterIP from outside, with its NodePort too', () => {
  const m = rules([web({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] }, { status: { loadBalancer: { ingress: [{ ip: '127.200.0.7' }] } } })], [two]);
  const v = m.maps['service-ips']!.elements['127.200.0.7 . tcp . 80']!;
  assert.match(v, /^goto external-/);
  assert.equal(v, m.maps['service-nodeports']!.elements['tcp . 30080']);
  assert.deepEqual(targets(m, v), ['10.42.0.2:8080', '10.42.1.2:8080']);
});

test('ClientIP affinity keeps a client on its endpoint for the timeout through per-endpoint dynamic sets', () => {
  const m = rules([web({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [two]);
  const sets = Object.entries(m.sets).filter(([n]) => n.startsWith('affinity-'));
  assert.equal(sets.length, 2);
  for (const [, s] of sets) assert.deepEqual(s, { type: 'ipv4_addr', flags: 'dynamic,timeout', timeoutSeconds: 60, elements: [] });
  const svcChain = m.chains[m.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']!.slice(5)]!;
  assert.equal(svcChain.rules.filter((r) => /^ip saddr @affinity-\S+ goto endpoint-/.test(r)).length, 2, 'a known client goes back to its endpoint');
  assert.ok(Object.values(m.chains).some((c) => c.rules.some((r) => /^update @affinity-\S+ \{ ip saddr \}$/.test(r))), 'the endpoint chain records the client');
  const dflt = rules([web({ sessionAffinity: 'ClientIP' })], [two]);
  assert.ok(Object.values(dflt.sets).some((s) => s.timeoutSeconds === 10800), 'the default timeout is 3 hours');
});

test('the same endpoint in two slices counts once; several ports each get their chain', () => {
  const svc = web({ ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] });
  const s1 = slice('web', [{ ip: '10.42.0.2' }], { port: 8080, name: 'http' }, 'web-1');
  const s2 = slice('web', [{ ip: '10.42.0.2' }], { port: 8080, name: 'http' }, 'web-2');
  const s3 = slice('web', [{ ip: '10.42.0.2' }], { port: 8443, name: 'https' }, 'web-3');
  const m = rules([svc], [s1, s2, s3]);
  assert.deepEqual(targets(m, m.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']), ['10.42.0.2:8080']);
  assert.deepEqual(targets(m, m.maps['service-ips']!.elements['10.43.0.5 . tcp . 443']), ['10.42.0.2:8443']);
});

test('the model is deterministic: the order of the input does not matter', () => {
  const a = web({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
  const b = service('api', { clusterIP: '10.43.0.9', ports: [{ port: 81 }] });
  const sb = slice('api', [{ ip: '10.42.0.7' }, { ip: '10.42.0.6' }], { port: 81 });
  const one = rules([a, b], [two, sb]);
  const other = rules([b, a], [sb, { ...two, endpoints: [...two.endpoints].reverse() }]);
  assert.equal(JSON.stringify(one), JSON.stringify(other));
});

test('with a cache, unchanged services reuse their rules and a changed resourceVersion recomputes exactly that service', () => {
  const rv = <T extends { metadata?: { resourceVersion?: string } }>(o: T, v: string): T => ({ ...o, metadata: { ...o.metadata, resourceVersion: v } });
  const a = rv(web(), '1');
  const b = rv(service('api', { clusterIP: '10.43.0.9', ports: [{ port: 81 }] }), '2');
  const sa = rv(two, '3');
  const sb = rv(slice('api', [{ ip: '10.42.0.7' }], { port: 81 }), '4');
  const cache = new Map();
  const first = computeRules({ ...base, services: [a, b], slices: [sa, sb] }, cache);
  assert.equal(JSON.stringify(first), JSON.stringify(rules([a, b], [sa, sb])), 'the cache changes nothing in the result');
  const sb2 = rv({ ...sb, endpoints: [...sb.endpoints, { addresses: ['10.42.0.8'], conditions: { ready: true } }] }, '5');
  const second = computeRules({ ...base, services: [a, b], slices: [sa, sb2] }, cache);
  assert.equal(JSON.stringify(second), JSON.stringify(rules([a, b], [sa, sb2])));
  const webChain = first.maps['service-ips']!.elements['10.43.0.5 . tcp . 80']!.slice(5);
  assert.equal(second.chains[webChain], first.chains[webChain], 'the unchanged service kept its very chain object');
  const apiChain = second.maps['service-ips']!.elements['10.43.0.9 . tcp . 81']!.slice(5);
  assert.match(second.chains[apiChain]!.rules.at(-1)!, /numgen random mod 2/);
  computeRules({ ...base, services: [a], slices: [sa] }, cache);
  assert.deepEqual([...cache.keys()], ['default/web'], 'deleted services leave the cache');
});
