// The informer over the HTTPS transport against the real API server: it must see creates, updates
// and deletes made by another client, recover from a watch the server refuses with 410 (history
// compacted while the informer was away) by relisting, and stop cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFor, type ResourceType } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { createClient, type Client, type WatchOptions } from '../../src/client/client.js';
import { createHttpTransport } from '../../src/client/http.js';
import { createInformer } from '../../src/client/informer.js';
import type { WatchStream } from '../../src/client/transport.js';
import { eventually } from '../support/eventually.js';

const configmaps = resourceFor('', 'v1', 'configmaps');
const NS = 'default';
const LABELS = { app: 'informer-test' };

/** Polls `cond` until it holds; fails with `what` if it never does. Asserts state, not time. */

/** A client whose watches can be held at a gate, and whose current watch can be cut: lets the
 *  test keep the informer away from the server while history moves on. */
function gatedClient(inner: Client) {
  let gate: Promise<void> = Promise.resolve();
  let openGate: () => void = () => {};
  let current: WatchStream | undefined;
  const client: Client = {
    ...inner,
    watch: async <T extends KubeObject>(rt: ResourceType, opts?: WatchOptions) => {
      await gate;
      const s = await inner.watch<T>(rt, opts);
      current = s as WatchStream;
      return s;
    },
  };
  return {
    client,
    hold() {
      gate = new Promise((r) => (openGate = r));
    },
    release: () => openGate(),
    cutWatch: () => current?.close(),
  };
}

function cm(name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, labels: LABELS }, data };
}

test('an informer over HTTPS follows another client, relists after a 410 and stops cleanly', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-informer-'));
  let server: ApiServer | undefined = await startApiServer({ dataDir, port: 0, bindAddress: '127.0.0.1', compactIntervalMs: 20 });
  const port = server.port;
  const transport = createHttpTransport({ server: server.url, token: server.pki.adminToken, ca: server.pki.caPem });
  const writer = createClient(createHttpTransport({ server: server.url, token: server.pki.adminToken, ca: server.pki.caPem }));
  const gated = gatedClient(createClient(transport));
  const informer = createInformer(gated.client, configmaps, { namespace: NS, labelSelector: 'app=informer-test', backoffMs: { initial: 50, max: 200 } });
  const seen: string[] = [];
  informer.onAdd((o) => seen.push(`add ${o.metadata.name}`));
  informer.onUpdate((a, b) => seen.push(`update ${b.metadata.name} ${JSON.stringify(a.data)}->${JSON.stringify(b.data)}`));
  informer.onDelete((o) => seen.push(`delete ${o.metadata.name}`));
  const dataOf = (name: string) => (informer.cache.get(`${NS}/${name}`)?.data as Record<string, string> | undefined)?.v;

  try {
    await writer.create(configmaps, cm('before', { v: '1' }));
    await writer.create(configmaps, { metadata: { name: 'unlabelled', namespace: NS }, data: { v: '1' } });
    informer.start();
    await informer.waitForSync();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(informer.cache.listKeys(), [`${NS}/before`], 'the first list honours the label selector');
    assert.deepEqual(seen, ['add before']);

    // Live changes made through another client reach the cache and the handlers.
    await writer.create(configmaps, cm('web', { v: '1' }));
    await eventually('the created object is cached', () => dataOf('web') === '1');
    await writer.patch(configmaps, 'web', 'merge', { data: { v: '2' } }, { namespace: NS });
    await eventually('the update is cached', () => dataOf('web') === '2');
    await writer.delete(configmaps, 'before', { namespace: NS });
    await eventually('the delete is applied', () => !informer.cache.has(`${NS}/before`));
    assert.deepEqual(seen, ['add before', 'add web', 'update web {"v":"1"}->{"v":"2"}', 'delete before']);

    // Keep the informer away while objects change, then restart the server: its watch cache
    // starts after the informer's resourceVersion and compaction drops the history behind it, so
    // the informer's next watch is refused with 410 and it must relist to catch up.
    gated.hold();
    gated.cutWatch();
    await writer.create(configmaps, cm('missed', { v: '1' }));
    await writer.patch(configmaps, 'web', 'merge', { data: { v: '3' } }, { namespace: NS });
    await writer.create(configmaps, cm('short-lived', { v: '1' }));
    await writer.delete(configmaps, 'short-lived', { namespace: NS });
    const staleRv = informer.lastSyncResourceVersion();
    await server.stop();
    server = await startApiServer({ dataDir, port, bindAddress: '127.0.0.1', compactIntervalMs: 20 });
    const probe = server.client('probe');
    await eventually('history before the restart is compacted', async () => {
      try {
        const w = await probe.watch(configmaps, { namespace: NS, resourceVersion: staleRv });
        w.close();
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 410;
      }
    });
    seen.length = 0;
    gated.release();
    await eventually('the relist brought the cache up to date', () => dataOf('web') === '3' && dataOf('missed') === '1');
    assert.deepEqual(informer.cache.listKeys().sort(), [`${NS}/missed`, `${NS}/web`]);
    assert.deepEqual(seen.sort(), ['add missed', 'update web {"v":"2"}->{"v":"3"}'], 'the relist reports only what changed');

    // The watch resumed after the relist.
    await writer.create(configmaps, cm('after', { v: '1' }));
    await eventually('changes after the relist arrive', () => dataOf('after') === '1');

    informer.stop();
    informer.stop();
    const live = server;
    await eventually('the server sees the watch closed', () => live.registry.cache.watcherCount() === 0);
    const count = seen.length;
    await writer.create(configmaps, cm('ignored', { v: '1' }));
    await writer.list(configmaps, { namespace: NS }); // a round trip after the write
    assert.equal(seen.length, count, 'no handler runs after stop');
    await assert.rejects(stoppedInformer(writer).waitForSync(), /stopped before it synced/);
  } finally {
    informer.stop();
    writer.close();
    transport.close?.();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function stoppedInformer(client: Client) {
  const i = createInformer(client, configmaps);
  i.stop();
  return i;
}
