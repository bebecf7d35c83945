// The official JavaScript client (@kubernetes/client-node 1.x, the line that supports Node 20)
// works against Skiff: typed list and create, a raw watch, and its informer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { adminKubeconfig } from '../../src/apiserver/pki.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';

function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((res, rej) => {
    const tick = () => (cond() ? res() : Date.now() > deadline ? rej(new Error('timed out')) : setTimeout(tick, 20));
    tick();
  });
}

describe('@kubernetes/client-node against Skiff', () => {
  let srv: ApiServer;
  let dir: string;
  let kc: k8s.KubeConfig;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-cn-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    kc = new k8s.KubeConfig();
    kc.loadFromString(adminKubeconfig(srv.url, srv.pki.caPem, srv.pki.adminToken));
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('lists namespaces and creates a config map', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const nss = await core.listNamespace();
    assert.ok(nss.items.some((n) => n.metadata?.name === 'kube-system'));
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-client-node' }, data: { a: 'b' } } });
    assert.equal(cm.metadata?.name, 'from-client-node');
    assert.ok(cm.metadata?.uid);
  });

  test('a raw watch delivers events', async () => {
    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: '0' }, (type: string, obj: k8s.V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`), () => undefined);
    try {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched-by-client-node' } } });
      await until(() => seen.includes('ADDED watched-by-client-node'));
    } finally {
      req.abort();
    }
  });

  test('an informer lists, then follows adds, updates and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const events: string[] = [];
    informer.on('add', (o: k8s.V1ConfigMap) => events.push(`add ${o.metadata?.name}`));
    informer.on('update', (o: k8s.V1ConfigMap) => events.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o: k8s.V1ConfigMap) => events.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await until(() => events.includes('add from-client-node'));
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'informed' } } });
      await until(() => events.includes('add informed'));
      await core.patchNamespacedConfigMap({ namespace: 'default', name: 'informed', body: { data: { x: 'y' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await until(() => events.includes('update informed'));
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'informed' });
      await until(() => events.includes('delete informed'));
      const cache = informer as unknown as k8s.ObjectCache<k8s.V1ConfigMap>;
      assert.ok(cache.list().every((o) => o.metadata?.name !== "informed"));
    } finally {
      await informer.stop();
    }
  });
});
