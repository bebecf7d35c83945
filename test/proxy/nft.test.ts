// The nftables backend: diffNft as tables (only what changed is touched), then against the real
// kernel in a network namespace the test makes: a chain of diffs leaves exactly the table a full
// rebuild makes, and stop-style deletion leaves nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { applyNft, deleteTable, diffNft, nftBinary, renderNft, runNft, tableName } from '../../src/proxy/nft.js';
import { computeRules, type Model } from '../../src/proxy/rules.js';
import { service, slice } from './fixtures.js';
import { ipc } from './netlab.js';

const base = { nodeName: 'n1', nodeIPs: ['192.168.1.10'], clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16' };
const model = (services: Service[], slices: EndpointSlice[]): Model => computeRules({ ...base, services, slices });
const web = service('web', { type: 'NodePort', clusterIP: '10.43.0.5', ports: [{ port: 80, nodePort: 30080 }] });
const api = service('api', { clusterIP: '10.43.0.9', sessionAffinity: 'ClientIP', ports: [{ port: 53, protocol: 'UDP' }] });
const webEps = (...ips: string[]) => slice('web', ips.map((ip) => ({ ip })), { port: 8080 });
const apiEps = (...ips: string[]) => slice('api', ips.map((ip) => ({ ip })), { port: 5353, protocol: 'UDP' });
const lines = (s: string) => s.split('\n').filter(Boolean);

/** `nft list table` output with object order and element order (both arbitrary) normalized. */
function normalize(listing: string): string[] {
  const blocks = listing.trim().replace(/\n\}$/, '').split(/\n\t(?=(?:set|map|chain) )/).slice(1);
  return blocks
    .map((b) =>
      b
        .replace(/\s+/g, ' ')
        .replace(/elements = \{ (.*?) \}(?= )/, (_m, items: string) => `elements = { ${items.split(/, (?![^{]*\})/).sort().join(', ')} }`)
        .trim(),
    )
    .sort();
}

test('tableName refuses instance names that would be unsafe in a script', () => {
  assert.equal(tableName('node-1'), 'ip skiff-node-1');
  for (const bad of ['', 'a b', 'x;flush ruleset', '-x', 'a'.repeat(42)]) assert.throws(() => tableName(bad), /invalid proxy instance/, bad);
});

test('diffNft of a model with itself is empty', () => {
  const m = model([web, api], [webEps('10.42.0.2'), apiEps('10.42.0.3')]);
  assert.equal(diffNft(m, m, 't'), '');
});

test('a new endpoint adds its chain and refills only the service chain; the maps are untouched', () => {
  const d = lines(diffNft(model([web], [webEps('10.42.0.2')]), model([web], [webEps('10.42.0.2', '10.42.0.3')]), 't'));
  assert.match(d[0]!, /^add chain ip skiff-t endpoint-\S+__10\.42\.0\.3\/8080$/);
  assert.ok(d.some((l) => /^flush chain ip skiff-t service-\S+$/.test(l)));
  assert.ok(d.some((l) => l.includes('numgen random mod 2 vmap')));
  assert.ok(!d.some((l) => l.includes('element')), 'no map element changes');
  assert.ok(!d.some((l) => l.includes('nat-prerouting')), 'base chains are untouched');
});

test('a removed service deletes its elements first, then flushes and deletes its chains and affinity sets', () => {
  const d = lines(diffNft(model([web, api], [webEps('10.42.0.2'), apiEps('10.42.0.3')]), model([web], [webEps('10.42.0.2')]), 't'));
  const del = d.findIndex((l) => l.startsWith('delete element ip skiff-t service-ips { 10.43.0.9 . udp . 53 }'));
  const firstFlush = d.findIndex((l) => l.startsWith('flush chain'));
  const firstDelChain = d.findIndex((l) => l.startsWith('delete chain'));
  const delSet = d.findIndex((l) => /^delete set ip skiff-t affinity-/.test(l));
  assert.ok(del >= 0 && firstFlush > del && firstDelChain > firstFlush && delSet > firstDelChain, d.join('\n'));
  assert.ok(d.includes('delete element ip skiff-t cluster-ips { 10.43.0.9 }'));
});

test('a service losing its last endpoint moves from service-ips to no-endpoint-services', () => {
  const d = lines(diffNft(model([web], [webEps('10.42.0.2')]), model([web], []), 't'));
  assert.ok(d.includes('delete element ip skiff-t service-ips { 10.43.0.5 . tcp . 80 }'));
  assert.ok(d.includes('add element ip skiff-t no-endpoint-services { 10.43.0.5 . tcp . 80 : goto reject-chain }'));
  assert.ok(d.includes('add element ip skiff-t no-endpoint-nodeports { tcp . 30080 : goto reject-chain }'));
});

describe('against the kernel', () => {
  const ns = `pxt-${process.pid}`;
  before(() => ipc(['netns', 'add', ns]));
  after(() => {
    try {
      ipc(['netns', 'del', ns]);
    } catch {
      /* gone */
    }
  });
  const list = () => runNft(['list', 'table', 'ip', 'skiff-t'], { netns: ns });

  test('a chain of diffs leaves exactly the table a full build of the last model makes', async () => {
    const steps = [
      model([web], [webEps('10.42.0.2')]),
      model([web, api], [webEps('10.42.0.2', '10.42.0.3'), apiEps('10.42.0.4')]),
      model([web, { ...api, spec: { ...api.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } } }], [webEps('10.42.0.3'), apiEps('10.42.0.4', '10.42.0.5')]),
      model([web], []),
      model([web, api], [webEps('10.42.0.7'), apiEps('10.42.0.4')]),
    ];
    await applyNft(renderNft(steps[0]!, 't'), ns);
    for (let i = 1; i < steps.length; i++) await applyNft(diffNft(steps[i - 1]!, steps[i]!, 't'), ns);
    const viaDiffs = normalize(await list());
    await applyNft(renderNft(steps.at(-1)!, 't'), ns);
    const full = normalize(await list());
    assert.ok(full.length > 20, 'the listing was parsed');
    assert.deepEqual(viaDiffs, full);
  });

  test('deleteTable removes the table and is idempotent', async () => {
    await applyNft(renderNft(model([web], []), 't'), ns);
    await deleteTable('t', ns);
    await deleteTable('t', ns);
    assert.doesNotMatch(await runNft(['list', 'tables'], { netns: ns }), /skiff-t/);
  });
});
