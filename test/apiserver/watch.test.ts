// Watch semantics: replay from a resourceVersion, initial events for "0", selector transitions,
// bookmarks, 410 Expired for compacted history, many watchers from one fan-out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { WatchEvent } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import type { WatchStream } from '../../src/client/transport.js';

const configmaps = resourceFor('', 'v1', 'configmaps');

/** Collects events until `n` have arrived (or fails after a few seconds). */
async function take(w: WatchStream, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const timer = setTimeout(() => w.close(), 5000);
  for await (const ev of w) {
    out.push(ev);
    if (out.length >= n) break;
  }
  clearTimeout(timer);
  return out;
}

describe('watch', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-watch-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', bookmarkIntervalMs: 100 });
    c = srv.client('watch-test');
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a watch from a resourceVersion replays what happened after it, then streams', async () => {
    const start = (await c.list(configmaps, { namespace: 'default' })).metadata.resourceVersion!;
    await c.create(configmaps, { metadata: { name: 'w1', namespace: 'default' }, data: { a: '1' } });
    await c.patch(configmaps, 'w1', 'merge', { data: { a: '2' } }, { namespace: 'default' });
    const w = await c.watch(configmaps, { namespace: 'default', resourceVersion: start });
    setTimeout(() => void c.delete(configmaps, 'w1', { namespace: 'default' }), 20);
    const evs = await take(w, 3);
    w.close();
    assert.deepEqual(evs.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
    assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, 'resourceVersions increase');
  });

  test('a watch from "0" starts with the current objects as ADDED', async () => {
    await c.create(configmaps, { metadata: { name: 'existing', namespace: 'default' } });
    const w = await c.watch(configmaps, { namespace: 'default', resourceVersion: '0' });
    const evs = await take(w, 1);
    w.close();
    assert.equal(evs[0]!.type, 'ADDED');
    assert.equal(evs[0]!.object.metadata.name, 'existing');
  });

  test('an object that stops matching the selector is DELETED for the watcher, and ADDED when it matches again', async () => {
    await c.create(configmaps, { metadata: { name: 'sel', namespace: 'default', labels: { team: 'a' } } });
    const rv = (await c.list(configmaps, { namespace: 'default' })).metadata.resourceVersion!;
    const w = await c.watch(configmaps, { namespace: 'default', resourceVersion: rv, labelSelector: 'team=a' });
    await c.patch(configmaps, 'sel', 'merge', { metadata: { labels: { team: 'b' } } }, { namespace: 'default' });
    await c.patch(configmaps, 'sel', 'merge', { metadata: { annotations: { ignored: 'yes' } } }, { namespace: 'default' });
    await c.patch(configmaps, 'sel', 'merge', { metadata: { labels: { team: 'a' } } }, { namespace: 'default' });
    const evs = await take(w, 2);
    w.close();
    assert.deepEqual(evs.map((e) => e.type), ['DELETED', 'ADDED']);
  });

  test('a name-filtered watch sees only that object', async () => {
    const rv = (await c.list(configmaps, { namespace: 'default' })).metadata.resourceVersion!;
    const w = await c.watch(configmaps, { namespace: 'default', resourceVersion: rv, fieldSelector: 'metadata.name=target' });
    await c.create(configmaps, { metadata: { name: 'other', namespace: 'default' } });
    await c.create(configmaps, { metadata: { name: 'target', namespace: 'default' } });
    const evs = await take(w, 1);
    w.close();
    assert.equal(evs[0]!.object.metadata.name, 'target');
  });

  test('bookmarks carry the current resourceVersion when asked for', async () => {
    const rv = (await c.list(configmaps, { namespace: 'default' })).metadata.resourceVersion!;
    const w = await c.watch(configmaps, { namespace: 'default', resourceVersion: rv, allowWatchBookmarks: true });
    const evs = await take(w, 1);
    w.close();
    assert.equal(evs[0]!.type, 'BOOKMARK');
    assert.ok(Number(evs[0]!.object.metadata.resourceVersion) >= Number(rv));
  });

  test('a watch from a compacted resourceVersion answers 410 Expired', async () => {
    const old = (await c.list(configmaps, { namespace: 'default' })).metadata.resourceVersion!;
    for (let i = 0; i < 3; i++) await c.create(configmaps, { metadata: { name: `c${i}`, namespace: 'default' } });
    const rev = await srv.registry.store.currentRevision();
    await srv.registry.store.compact(rev);
    // older than the cache's window too: the store has to answer, and it no longer has that history
    try {
      const w = await c.watch(configmaps, { namespace: 'default', resourceVersion: '1' });
      w.close();
      assert.fail('expected 410');
    } catch (e) {
      assert.ok(isStatusError(e, 'Expired'), String(e));
      assert.equal(e.code, 410);
    }
    assert.ok(Number(old) > 1);
  });

  test('a hundred watchers each get every event', async () => {
    const rv = (await c.list(configmaps, { namespace: 'default' })).metadata.resourceVersion!;
    const watchers = await Promise.all(Array.from({ length: 100 }, () => c.watch(configmaps, { namespace: 'default', resourceVersion: rv })));
    const results = Promise.all(watchers.map((w) => take(w, 2)));
    await c.create(configmaps, { metadata: { name: 'fan1', namespace: 'default' } });
    await c.create(configmaps, { metadata: { name: 'fan2', namespace: 'default' } });
    const all = await results;
    for (const w of watchers) w.close();
    for (const evs of all) assert.deepEqual(evs.map((e) => e.object.metadata.name), ['fan1', 'fan2']);
  });
});
