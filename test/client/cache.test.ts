import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/types.js';
import { createIndexer, NAMESPACE_INDEX, objectCacheKey, splitCacheKey } from '../../src/client/cache.js';

function pod(ns: string, name: string, node?: string): KubeObject {
  return { metadata: { namespace: ns, name }, spec: node ? { nodeName: node } : {} };
}
const byNode = (o: KubeObject) => {
  const n = (o.spec as { nodeName?: string } | undefined)?.nodeName;
  return n ? [n] : [];
};
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

test('keys are namespace/name, or the name alone for cluster-scoped objects', async (t) => {
  const cases: [string, KubeObject, string][] = [
    ['a namespaced object is keyed by namespace and name', pod('default', 'web'), 'default/web'],
    ['a cluster-scoped object is keyed by name', { metadata: { name: 'node-1' } }, 'node-1'],
  ];
  for (const [name, obj, key] of cases) {
    await t.test(name, () => {
      assert.equal(objectCacheKey(obj), key);
      assert.deepEqual(splitCacheKey(key), obj.metadata.namespace ? { namespace: obj.metadata.namespace, name: obj.metadata.name } : { name: obj.metadata.name });
    });
  }
});

test('add, update, get, list and delete keep one object per key', () => {
  const c = createIndexer();
  c.add(pod('a', 'x'));
  c.add(pod('b', 'x'));
  const updated = pod('a', 'x', 'n1');
  c.update(updated);
  assert.equal(c.size(), 2);
  assert.equal(c.get('a/x'), updated, 'the cache hands out the object it was given');
  assert.deepEqual(c.listKeys().sort(), ['a/x', 'b/x']);
  assert.equal(c.delete(pod('a', 'x')), updated);
  assert.equal(c.delete('a/x'), undefined, 'deleting an absent key is harmless');
  assert.equal(c.has('a/x'), false);
  assert.deepEqual(names(c.list()), ['x']);
});

test('the namespace index is built in', () => {
  const c = createIndexer();
  c.add(pod('a', 'x'));
  c.add(pod('a', 'y'));
  c.add(pod('b', 'z'));
  c.add({ metadata: { name: 'cluster-wide' } });
  assert.deepEqual(names(c.byIndex(NAMESPACE_INDEX, 'a')), ['x', 'y']);
  assert.deepEqual(names(c.byIndex(NAMESPACE_INDEX, '')), ['cluster-wide']);
  assert.deepEqual(c.byIndex(NAMESPACE_INDEX, 'nope'), []);
});

test('named indexes follow updates and deletes', () => {
  const c = createIndexer();
  c.add(pod('a', 'x', 'n1'));
  c.addIndexer('node', byNode);
  assert.deepEqual(names(c.byIndex('node', 'n1')), ['x'], 'objects present before the index are indexed');
  c.add(pod('a', 'y', 'n1'));
  c.update(pod('a', 'x', 'n2'));
  assert.deepEqual(names(c.byIndex('node', 'n1')), ['y']);
  assert.deepEqual(c.indexKeys('node', 'n2'), ['a/x']);
  c.delete('a/y');
  assert.deepEqual(c.byIndex('node', 'n1'), []);
  assert.throws(() => c.byIndex('missing', 'v'), /index with name missing does not exist/);
  assert.throws(() => c.addIndexer('node', byNode), /indexer conflict/);
});

test('replace makes the content exactly the new list and rebuilds the indexes', () => {
  const c = createIndexer();
  c.addIndexer('node', byNode);
  c.add(pod('a', 'old', 'n1'));
  c.replace([pod('a', 'new', 'n2'), pod('b', 'other', 'n2')]);
  assert.deepEqual(c.listKeys().sort(), ['a/new', 'b/other']);
  assert.deepEqual(c.byIndex('node', 'n1'), []);
  assert.deepEqual(names(c.byIndex('node', 'n2')), ['new', 'other']);
  assert.deepEqual(names(c.byIndex(NAMESPACE_INDEX, 'a')), ['new']);
});
