// The one behaviour suite every Store implementation must pass (kine runs one suite per backend).
// A backend's test file calls storeConformance with a factory that opens a fresh, empty store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type Store,
  type StoreEvent,
  type WatchHandle,
} from '../../src/store/store.js';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

/** Collects a watch's events; `until` resolves when the predicate holds (or fails after a while). */
interface Collector {
  events: StoreEvent[];
  batches: number;
  error: Error | undefined;
  handle: WatchHandle;
  until(pred: (c: Collector) => boolean): Promise<void>;
}

async function collect(store: Store, prefix: string, after: number): Promise<Collector> {
  const c = { events: [] as StoreEvent[], batches: 0, error: undefined as Error | undefined } as Collector;
  c.handle = await store.watch(prefix, after, {
    onEvents: (evs) => {
      c.batches++;
      c.events.push(...evs);
    },
    onError: (err) => {
      c.error = err;
    },
  });
  c.until = (pred) => waitFor(() => pred(c));
  return c;
}

/** Yields to the event loop until `cond` holds; a hang becomes a failure instead of a stuck run. */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), 'condition never became true');
}

function brief(e: StoreEvent): string {
  return `${e.type} ${e.kv.key}=${e.kv.value}@${e.kv.modRevision}`;
}

/** Registers the conformance tests for one Store implementation under `name`. */
export function storeConformance(name: string, open: () => Promise<OpenedStore>): void {
  /** Runs `body` on a fresh store and always cleans up. */
  function it(title: string, body: (store: Store) => Promise<void>): void {
    test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await open();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    });
  }

  it('an empty store is at revision 0 with nothing compacted', async (s) => {
    assert.equal(await s.currentRevision(), 0);
    assert.equal(await s.compactedRevision(), 0);
    assert.equal(await s.get('/a'), undefined);
    assert.deepEqual(await s.list('/'), { kvs: [], revision: 0, more: false });
  });

  it('create, get, update and delete round-trip with revisions', async (s) => {
    const c = await s.create('/a', 'one');
    assert.deepEqual(c, { key: '/a', value: 'one', createRevision: 1, modRevision: 1 });
    assert.deepEqual(await s.get('/a'), c);
    const u = await s.update('/a', 'two', 1);
    assert.deepEqual(u, { key: '/a', value: 'two', createRevision: 1, modRevision: 2 });
    const u2 = await s.update('/a', 'three');
    assert.equal(u2.modRevision, 3);
    const d = await s.delete('/a', 3);
    assert.deepEqual(d, { key: '/a', value: 'three', createRevision: 1, modRevision: 4 });
    assert.equal(await s.get('/a'), undefined);
    assert.equal(await s.currentRevision(), 4);
    const again = await s.create('/a', 'reborn');
    assert.deepEqual(again, { key: '/a', value: 'reborn', createRevision: 5, modRevision: 5 });
  });

  it('expected failures throw the StoreError subclasses and use no revision', async (s) => {
    await s.create('/a', 'v');
    await assert.rejects(s.create('/a', 'w'), (e) => e instanceof KeyExistsError && e.key === '/a');
    await assert.rejects(s.update('/missing', 'v'), (e) => e instanceof KeyNotFoundError && e.key === '/missing');
    await assert.rejects(s.delete('/missing'), KeyNotFoundError);
    await assert.rejects(s.update('/a', 'w', 7), (e) => {
      assert.ok(e instanceof RevisionMismatchError);
      assert.deepEqual(e.current, { key: '/a', value: 'v', createRevision: 1, modRevision: 1 });
      return true;
    });
    await assert.rejects(s.delete('/a', 0), RevisionMismatchError);
    assert.equal(await s.currentRevision(), 1);
    assert.equal((await s.get('/a'))?.value, 'v');
  });

  it('revisions increase strictly across keys, also for writes issued together', async (s) => {
    const kvs = await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/k/${i}`, `v${i}`)));
    const revs = kvs.map((kv) => kv.modRevision).sort((a, b) => a - b);
    assert.deepEqual(revs, Array.from({ length: 50 }, (_, i) => i + 1));
    const u = await s.update('/k/3', 'x');
    const d = await s.delete('/k/7');
    assert.equal(u.modRevision, 51);
    assert.equal(d.modRevision, 52);
    assert.equal(await s.currentRevision(), 52);
  });

  it('of racing writes with the same expectation exactly one wins', async (s) => {
    await s.create('/race', '0');
    const results = await Promise.allSettled([
      s.update('/race', 'a', 1),
      s.update('/race', 'b', 1),
      s.create('/race', 'c'),
      s.delete('/race', 1),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(results[0]?.status, 'fulfilled');
    assert.equal((await s.get('/race'))?.value, 'a');
  });

  it('list returns keys under a prefix in key order, paged with after, limit and more', async (s) => {
    for (const k of ['/p/c', '/p/a', '/pb', '/p/b', '/q/a', '/p/d']) await s.create(k, k.toUpperCase());
    const all = await s.list('/p/');
    assert.deepEqual(all.kvs.map((kv) => kv.key), ['/p/a', '/p/b', '/p/c', '/p/d']);
    assert.equal(all.revision, 6);
    assert.equal(all.more, false);
    assert.equal(all.kvs[0]?.value, '/P/A');
    const page1 = await s.list('/p/', { limit: 3 });
    assert.deepEqual(page1.kvs.map((kv) => kv.key), ['/p/a', '/p/b', '/p/c']);
    assert.equal(page1.more, true);
    const page2 = await s.list('/p/', { limit: 3, after: '/p/c' });
    assert.deepEqual(page2.kvs.map((kv) => kv.key), ['/p/d']);
    assert.equal(page2.more, false);
    const exact = await s.list('/p/', { limit: 4 });
    assert.equal(exact.more, false);
    assert.deepEqual((await s.list('')).kvs.length, 6);
  });

  it('count counts live keys under a prefix', async (s) => {
    await s.create('/c/a', '1');
    await s.create('/c/b', '1');
    await s.create('/cx', '1');
    await s.delete('/c/a');
    assert.equal(await s.count('/c/'), 1);
    assert.equal(await s.count('/c'), 2);
    assert.equal(await s.count(''), 2);
  });

  it('list at an old revision shows the keys and values as they were then', async (s) => {
    await s.create('/o/a', 'a1'); // 1
    await s.create('/o/b', 'b1'); // 2
    await s.update('/o/a', 'a2'); // 3
    await s.delete('/o/b'); // 4
    await s.create('/o/c', 'c1'); // 5
    const at2 = await s.list('/o/', { revision: 2 });
    assert.equal(at2.revision, 2);
    assert.deepEqual(at2.kvs, [
      { key: '/o/a', value: 'a1', createRevision: 1, modRevision: 1 },
      { key: '/o/b', value: 'b1', createRevision: 2, modRevision: 2 },
    ]);
    const at4 = await s.list('/o/', { revision: 4 });
    assert.deepEqual(at4.kvs.map((kv) => `${kv.key}=${kv.value}`), ['/o/a=a2']);
    const paged = await s.list('/o/', { revision: 2, limit: 1 });
    assert.deepEqual(paged.kvs.map((kv) => kv.key), ['/o/a']);
    assert.equal(paged.more, true);
    const rest = await s.list('/o/', { revision: 2, after: '/o/a' });
    assert.deepEqual(rest.kvs.map((kv) => kv.key), ['/o/b']);
  });

  it('a watch from a past revision replays history, then streams live writes', async (s) => {
    await s.create('/w/a', 'a1'); // 1
    await s.update('/w/a', 'a2'); // 2
    await s.create('/w/b', 'b1'); // 3
    const w = await collect(s, '/w/', 1);
    await w.until((c) => c.events.length === 2);
    await s.update('/w/b', 'b2'); // 4
    await s.delete('/w/a'); // 5
    await w.until((c) => c.events.length === 4);
    assert.deepEqual(w.events.map(brief), ['PUT /w/a=a2@2', 'PUT /w/b=b1@3', 'PUT /w/b=b2@4', 'DELETE /w/a=a2@5']);
    assert.deepEqual(w.events[0]?.prevKv, { key: '/w/a', value: 'a1', createRevision: 1, modRevision: 1 });
    assert.equal(w.events[1]?.prevKv, undefined);
    assert.deepEqual(w.events[2]?.prevKv, { key: '/w/b', value: 'b1', createRevision: 3, modRevision: 3 });
    w.handle.close();
  });

  it('a watch opened while writes are in flight sees every revision exactly once', async (s) => {
    for (let i = 0; i < 20; i++) await s.create(`/g/${i}`, '0');
    const writes = Array.from({ length: 20 }, (_, i) => s.update(`/g/${i}`, '1'));
    const w = await collect(s, '/g/', 10);
    writes.push(...Array.from({ length: 20 }, (_, i) => s.update(`/g/${i}`, '2')));
    await Promise.all(writes);
    await w.until((c) => c.events.length >= 50);
    await new Promise((r) => setTimeout(r, 5));
    const revs = w.events.map((e) => e.kv.modRevision);
    assert.deepEqual(revs, Array.from({ length: 50 }, (_, i) => i + 11));
    w.handle.close();
  });

  it('a watch on a prefix sees only keys under that prefix', async (s) => {
    const w = await collect(s, '/ns1/', 0);
    await s.create('/ns1/a', '1');
    await s.create('/ns10/a', '1');
    await s.create('/ns2/a', '1');
    await s.create('/ns1/b', '1');
    await w.until((c) => c.events.length === 2);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(w.events.map((e) => e.kv.key), ['/ns1/a', '/ns1/b']);
    w.handle.close();
  });

  it("a delete event carries the key's last value and the delete's revision", async (s) => {
    await s.create('/d/a', 'first'); // 1
    await s.update('/d/a', 'last'); // 2
    const w = await collect(s, '/d/', 2);
    await s.delete('/d/a'); // 3
    await w.until((c) => c.events.length === 1);
    assert.deepEqual(w.events[0], {
      type: 'DELETE',
      kv: { key: '/d/a', value: 'last', createRevision: 1, modRevision: 3 },
      prevKv: { key: '/d/a', value: 'last', createRevision: 1, modRevision: 2 },
    });
    const replayed = await collect(s, '/d/', 2);
    await replayed.until((c) => c.events.length === 1);
    assert.deepEqual(replayed.events, w.events);
    w.handle.close();
    replayed.handle.close();
  });

  it('events of one commit or replay arrive as batches in revision order, never before earlier ones', async (s) => {
    await s.create('/b/0', 'x');
    const w = await collect(s, '/b/', 0);
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.create(`/b/${i + 1}`, 'x')));
    await w.until((c) => c.events.length === 11);
    assert.deepEqual(w.events.map((e) => e.kv.modRevision), Array.from({ length: 11 }, (_, i) => i + 1));
    assert.ok(w.batches >= 2, 'the replay is delivered before and apart from live events');
    w.handle.close();
  });

  it('a closed watch receives nothing more', async (s) => {
    const w = await collect(s, '/', 0);
    await s.create('/x', '1');
    await w.until((c) => c.events.length === 1);
    w.handle.close();
    w.handle.close();
    await s.create('/y', '1');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(w.events.length, 1);
    assert.equal(w.error, undefined);
  });

  it('a watcher whose callback throws is ended with that error while others go on', async (s) => {
    let failure: Error | undefined;
    let calls = 0;
    await s.watch('/', 0, {
      onEvents: () => {
        calls++;
        throw new Error('consumer bug');
      },
      onError: (err) => (failure = err),
    });
    const healthy = await collect(s, '/', 0);
    await s.create('/a', '1');
    await s.create('/b', '1');
    await healthy.until((c) => c.events.length === 2);
    await waitFor(() => failure !== undefined);
    assert.equal(failure?.message, 'consumer bug');
    assert.equal(calls, 1);
    healthy.handle.close();
  });

  it('compaction refuses reads and watches below it and keeps every live key', async (s) => {
    await s.create('/c/a', 'a1'); // 1
    await s.create('/c/b', 'b1'); // 2
    await s.update('/c/a', 'a2'); // 3
    await s.create('/c/gone', 'g'); // 4
    await s.delete('/c/gone'); // 5
    await s.update('/c/b', 'b2'); // 6
    await s.compact(5);
    assert.equal(await s.compactedRevision(), 5);
    assert.equal(await s.currentRevision(), 6);
    await assert.rejects(
      s.watch('/c/', 4, { onEvents: () => {} }),
      (e) => e instanceof CompactedError && e.requested === 4 && e.compacted === 5,
    );
    await assert.rejects(s.list('/c/', { revision: 3 }), CompactedError);
    assert.deepEqual(
      (await s.list('/c/')).kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`),
      ['/c/a=a2@3', '/c/b=b2@6'],
    );
    const at5 = await s.list('/c/', { revision: 5 });
    assert.deepEqual(at5.kvs.map((kv) => `${kv.key}=${kv.value}`), ['/c/a=a2', '/c/b=b1']);
    // A watch from exactly the compacted revision still replays everything after it, with prevKv.
    const w = await collect(s, '/c/', 5);
    await w.until((c) => c.events.length === 1);
    assert.deepEqual(w.events[0], {
      type: 'PUT',
      kv: { key: '/c/b', value: 'b2', createRevision: 2, modRevision: 6 },
      prevKv: { key: '/c/b', value: 'b1', createRevision: 2, modRevision: 2 },
    });
    w.handle.close();
    await s.compact(3); // below the compacted revision: nothing to do
    assert.equal(await s.compactedRevision(), 5);
    await s.compact(6);
    assert.equal((await s.list('/c/')).kvs.length, 2);
    await s.delete('/c/a'); // 7
    await s.compact(7);
    assert.equal(await s.currentRevision(), 7, 'compacting away the newest row keeps the revision');
    assert.equal((await s.create('/c/new', 'n')).modRevision, 8);
  });

  it('compaction beyond the current revision is refused', async (s) => {
    await s.create('/a', '1');
    await assert.rejects(s.compact(2), RangeError);
  });

  it('close ends watches with an error and makes later calls reject', async (s) => {
    await s.create('/a', '1');
    const w = await collect(s, '/', 0);
    await w.until((c) => c.events.length === 1);
    await s.close();
    await w.until((c) => c.error !== undefined);
    await assert.rejects(s.get('/a'));
    await assert.rejects(s.create('/b', '1'));
    await assert.rejects(s.list('/'));
    await assert.rejects(s.watch('/', 0, { onEvents: () => {} }));
    await s.close();
  });

  it('returned values are copies the caller may change', async (s) => {
    const kv = await s.create('/m', 'v');
    const w = await collect(s, '/', 0);
    await w.until((c) => c.events.length === 1);
    kv.value = 'changed';
    w.events[0]!.kv.value = 'changed too';
    assert.equal((await s.get('/m'))?.value, 'v');
    const again = await collect(s, '/', 0);
    await again.until((c) => c.events.length === 1);
    assert.equal(again.events[0]?.kv.value, 'v');
    w.handle.close();
    again.handle.close();
  });
}
