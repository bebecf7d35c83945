// The namespace controller: its condition planning as a sentence table, then the controller
// against the real API server (in-process clients).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { mergeConditions, namespaceController, planNamespaceConditions, type NamespaceCondition } from '../../src/controllers/namespace.js';
import { eventually } from '../support/eventually.js';

const configmaps = resourceFor('', 'v1', 'configmaps');
const secrets = resourceFor('', 'v1', 'secrets');
const pods = resourceFor('', 'v1', 'pods');
const namespaces = resourceFor('', 'v1', 'namespaces');

const byType = (cs: NamespaceCondition[], type: string) => cs.find((c) => c.type === type);

describe('planNamespaceConditions', () => {
  test('content held by finalizers is named with its count, as upstream words it', () => {
    const cs = planNamespaceConditions({ remaining: new Map([['configmaps.', 2], ['pods.', 1]]), finalizers: new Map([['example.com/hold', 3]]), failures: [] });
    assert.deepEqual(byType(cs, 'NamespaceContentRemaining'), {
      type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 2 resource instances, pods. has 1 resource instances',
    });
    assert.deepEqual(byType(cs, 'NamespaceFinalizersRemaining'), {
      type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances',
    });
    assert.equal(byType(cs, 'NamespaceDeletionContentFailure')?.status, 'False');
  });
  test('a failed deletion is reported as NamespaceDeletionContentFailure', () => {
    const cs = planNamespaceConditions({ remaining: new Map([['secrets.', 1]]), finalizers: new Map(), failures: ['secrets.: boom'] });
    assert.deepEqual(byType(cs, 'NamespaceDeletionContentFailure'), {
      type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: 'Failed to delete all resource types, 1 remaining: secrets.: boom',
    });
    assert.equal(byType(cs, 'NamespaceFinalizersRemaining')?.reason, 'ContentHasNoFinalizers');
  });
});

describe('mergeConditions', () => {
  const c = (status: 'True' | 'False', message: string, t?: string): NamespaceCondition => ({ type: 'A', status, reason: 'R', message, ...(t ? { lastTransitionTime: t } : {}) });
  const cases: { name: string; current: NamespaceCondition[]; next: NamespaceCondition[]; want: NamespaceCondition[] | undefined }[] = [
    { name: 'identical conditions need no write', current: [c('True', 'm', 't0')], next: [c('True', 'm')], want: undefined },
    { name: 'a new message keeps the transition time of an unchanged status', current: [c('True', 'm', 't0')], next: [c('True', 'n')], want: [c('True', 'n', 't0')] },
    { name: 'a changed status takes the current time', current: [c('True', 'm', 't0')], next: [c('False', 'm')], want: [c('False', 'm', 'now')] },
    { name: 'a condition of another type is kept', current: [{ ...c('True', 'x', 't0'), type: 'B' }], next: [c('True', 'm')], want: [{ ...c('True', 'x', 't0'), type: 'B' }, c('True', 'm', 'now')] },
  ];
  for (const k of cases) test(k.name, () => assert.deepEqual(mergeConditions(k.current, k.next, 'now'), k.want));
});


describe('namespace controller against the API server', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let nc: RunningController;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-ns-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('namespace-test');
    nc = startController(namespaceController, srv.client('namespace-controller'));
  });
  after(async () => {
    await nc?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function get(rt: typeof configmaps, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return await c.get(rt, name, namespace ? { namespace } : {});
    } catch (e) {
      if (isStatusError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  test("a namespace's contents go before it does", async () => {
    await c.create(namespaces, { metadata: { name: 'scrap' } });
    await c.create(configmaps, { metadata: { name: 'held', namespace: 'scrap', finalizers: ['example.com/hold'] } });
    await c.create(secrets, { metadata: { name: 's', namespace: 'scrap' } });
    await c.create(pods, { metadata: { name: 'p', namespace: 'scrap' }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    await c.delete(namespaces, 'scrap');
    await eventually('the free content is deleted', async () => !(await get(secrets, 's', 'scrap')) && !(await get(pods, 'p', 'scrap')));
    await eventually('the namespace says what holds it', async () => {
      const ns = await get(namespaces, 'scrap');
      assert.ok(ns, 'the namespace stays while content remains');
      assert.equal((ns.status as { phase?: string }).phase, 'Terminating');
      const conds = ((ns.status as { conditions?: NamespaceCondition[] }).conditions ?? []);
      return byType(conds, 'NamespaceFinalizersRemaining')?.message === 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances';
    });
    const held = await get(configmaps, 'held', 'scrap');
    assert.ok(held?.metadata.deletionTimestamp, 'the held object is being deleted');
    await c.patch(configmaps, 'held', 'merge', { metadata: { finalizers: null } }, { namespace: 'scrap' });
    await eventually('the namespace goes once it is empty', async () => !(await get(namespaces, 'scrap')));
    assert.equal(await get(configmaps, 'held', 'scrap'), undefined);
  });

  test('a second DELETE of a Terminating namespace that still has content does not remove it', async () => {
    await nc.stop();
    await c.create(namespaces, { metadata: { name: 'keep' } });
    await c.create(configmaps, { metadata: { name: 'inside', namespace: 'keep' } });
    await c.delete(namespaces, 'keep');
    await c.delete(namespaces, 'keep');
    assert.ok(await get(namespaces, 'keep'));
    assert.ok(await get(configmaps, 'inside', 'keep'));
    nc = startController(namespaceController, srv.client('namespace-controller'));
    await eventually('the controller, started again, finishes the job', async () => !(await get(namespaces, 'keep')));
  });
});
