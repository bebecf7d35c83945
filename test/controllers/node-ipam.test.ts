// Node IPAM: the block arithmetic as tables, then the controller against the real API server:
// distinct blocks, a freed block reused, and a restart that keeps what Nodes already have.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { resourceFor } from '../../src/api/kinds.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { CidrSet, startNodeIpam } from '../../src/controllers/node-ipam.js';
import { eventually } from '../support/eventually.js';

const nodes = resourceFor('', 'v1', 'nodes');
const events = resourceFor('', 'v1', 'events');


test('CidrSet hands out blocks in order, walking on past freed ones until it wraps', () => {
  const s = new CidrSet('10.42.0.0/22', 24);
  assert.deepEqual([s.allocate(), s.allocate()], ['10.42.0.0/24', '10.42.1.0/24']);
  s.release('10.42.0.0/24');
  assert.equal(s.allocate(), '10.42.2.0/24', 'the cursor moves on rather than reusing at once');
  assert.equal(s.allocate(), '10.42.3.0/24');
  assert.equal(s.allocate(), '10.42.0.0/24', 'after wrapping, the freed block is given again');
  assert.equal(s.allocate(), undefined, 'a full set gives nothing');
  assert.equal(s.free(), 0);
});

test('CidrSet takes only its own blocks as occupied', () => {
  const cases: [string, string, boolean][] = [
    ['a block of the cluster CIDR with the node mask is taken', '10.42.9.0/24', true],
    ['a block outside the cluster CIDR is not', '10.43.0.0/24', false],
    ['a block with another mask is not', '10.42.0.0/25', false],
    ['an IPv6 block is not', 'fd00::/64', false],
  ];
  for (const [name, cidr, want] of cases) assert.equal(new CidrSet('10.42.0.0/16', 24).occupy(cidr), want, name);
  const s = new CidrSet('10.42.0.0/23', 24);
  s.occupy('10.42.0.0/24');
  assert.equal(s.allocate(), '10.42.1.0/24', 'an occupied block is skipped');
});

test('CidrSet refuses a mask that does not fit the cluster CIDR', () => {
  assert.throws(() => new CidrSet('10.42.0.0/16', 8), /does not fit/);
  assert.throws(() => new CidrSet('fd00::/48', 64), /not an IPv4 CIDR/);
});

describe('node IPAM controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ipam: { stop(): void } | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-ipam-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('node-ipam-test');
  });
  after(async () => {
    ipam?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cidrOf = async (name: string) => {
    const n = (await c.get(nodes, name)) as unknown as Node;
    return { podCIDR: n.spec?.podCIDR, podCIDRs: n.spec?.podCIDRs };
  };
  const settled = async (names: string[]) => {
    const out: Record<string, string> = {};
    await eventually(`${names.join(', ')} have pod CIDRs`, async () => {
      for (const n of names) {
        const { podCIDR } = await cidrOf(n);
        if (!podCIDR) return false;
        out[n] = podCIDR;
      }
      return true;
    });
    return out;
  };
  const createNode = (name: string) => c.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name } });

  test('every node gets its own block, in podCIDR and podCIDRs', async () => {
    ipam = startNodeIpam(c, { clusterCidr: '10.50.0.0/22' });
    await Promise.all(['n0', 'n1', 'n2'].map(createNode));
    const got = await settled(['n0', 'n1', 'n2']);
    assert.equal(new Set(Object.values(got)).size, 3);
    for (const cidr of Object.values(got)) assert.match(cidr, /^10\.50\.[0-3]\.0\/24$/);
    assert.deepEqual(await cidrOf('n0'), { podCIDR: got.n0, podCIDRs: [got.n0] });
  });

  test('a node that finds the cluster CIDR full gets the block of a deleted node', async () => {
    await createNode('n3');
    await settled(['n3']); // the /22 now is full: four /24s on four nodes
    await createNode('n4');
    const freed = (await cidrOf('n1')).podCIDR;
    await eventually('n4 is told no CIDR is available', async () => {
      const evs = await c.list(events, { namespace: 'default' });
      return evs.items.some((e) => (e.involvedObject as { name?: string }).name === 'n4' && e.reason === 'CIDRNotAvailable' && e.message === 'Node n4 status is now: CIDRNotAvailable');
    });
    assert.equal((await cidrOf('n4')).podCIDR, undefined, 'no block is left for n4 yet');
    await c.delete(nodes, 'n1');
    const got = await settled(['n4']);
    assert.equal(got.n4, freed);
  });

  test('a restarted controller keeps the blocks nodes have and gives a new node a free one', async () => {
    ipam?.stop();
    const before = await settled(['n0', 'n2', 'n3', 'n4']);
    await c.delete(nodes, 'n3');
    ipam = startNodeIpam(c, { clusterCidr: '10.50.0.0/22' });
    await createNode('n5');
    const got = await settled(['n5']);
    assert.equal(got.n5, before.n3, 'the one free block, not one a node holds');
    for (const n of ['n0', 'n2', 'n4']) assert.equal((await cidrOf(n)).podCIDR, before[n], `${n} kept its block`);
  });
});
