// The controller runner against the real API server, with a toy level-triggered controller: every
// ConfigMap labelled mirror=yes gets a Secret of the same name holding the same data. Each test
// starts its own controller (own informers) and stops it; names are distinct per test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { splitCacheKey } from '../../src/client/cache.js';
import type { Client } from '../../src/client/client.js';
import { done, requeueAfter, startController, type ControllerContext, type ControllerDef, type Result } from '../../src/controllers/controller.js';
import { eventually } from '../support/eventually.js';

const configmaps = resourceFor('', 'v1', 'configmaps');
const secrets = resourceFor('', 'v1', 'secrets');
const ns = 'default';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cm = (name: string, data: Record<string, string>, mirror = true): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, ...(mirror ? { labels: { mirror: 'yes' } } : {}) },
  data,
});

const b64 = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

/** The toy reconcile: reads the ConfigMap from the cache (never from the event) and makes the
 *  Secret match it. */
async function mirror(key: string, ctx: ControllerContext): Promise<Result> {
  const source = ctx.informer(configmaps).cache.get(key);
  if (!source || source.metadata.labels?.mirror !== 'yes') return done();
  const { namespace, name } = splitCacheKey(key);
  const want = b64((source.data ?? {}) as Record<string, string>);
  try {
    const s = await ctx.client.get(secrets, name, { namespace });
    if (JSON.stringify(s.data ?? {}) === JSON.stringify(want)) return done();
    await ctx.client.update(secrets, { ...s, data: want });
  } catch (e) {
    if (!isStatusError(e) || e.code !== 404) throw e;
    await ctx.client.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: want });
  }
  return done();
}

const mirrorController = (reconcile: ControllerDef['reconcile'] = mirror): ControllerDef => ({ name: 'mirror', watches: [{ rt: configmaps }], reconcile });

describe('controller runner', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  const secretData = async (name: string): Promise<unknown> => {
    try {
      return (await c.get(secrets, name, { namespace: ns })).data;
    } catch (e) {
      if (isStatusError(e) && e.code === 404) return undefined;
      throw e;
    }
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-ctl-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('controller-test');
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('it reconciles existing objects at start', async () => {
    await c.create(configmaps, cm('start-a', { k: 'v' }));
    await c.create(configmaps, cm('start-plain', { k: 'v' }, false));
    const ctl = startController(mirrorController(), c);
    try {
      await eventually('the Secret start-a exists', async () => (await secretData('start-a')) !== undefined);
      await ctl.idle();
      assert.deepEqual(await secretData('start-a'), b64({ k: 'v' }));
      assert.equal(await secretData('start-plain'), undefined, 'an unlabelled ConfigMap is left alone');
    } finally {
      await ctl.stop();
    }
  });

  test('a change is reconciled', async () => {
    await c.create(configmaps, cm('change-a', { k: 'one' }));
    const ctl = startController(mirrorController(), c);
    try {
      await eventually('the Secret is created', async () => (await secretData('change-a')) !== undefined);
      await c.patch(configmaps, 'change-a', 'merge', { data: { k: 'two', more: 'yes' } }, { namespace: ns });
      await eventually('the Secret follows the change', async () => JSON.stringify(await secretData('change-a')) === JSON.stringify(b64({ k: 'two', more: 'yes' })));
      await c.create(configmaps, cm('change-new', { n: '1' }));
      await eventually('a new ConfigMap is mirrored', async () => (await secretData('change-new')) !== undefined);
    } finally {
      await ctl.stop();
    }
  });

  test('a reconcile that throws is retried with backoff and eventually succeeds', async () => {
    await c.create(configmaps, cm('flaky', { k: 'v' }));
    let attempts = 0;
    const ctl = startController(
      mirrorController(async (key, ctx) => {
        if (key !== `${ns}/flaky`) return done();
        attempts++;
        if (attempts <= 4) throw new Error(`transient failure ${attempts}`);
        return mirror(key, ctx);
      }),
      c,
    );
    try {
      await eventually('the Secret is created after the failures', async () => (await secretData('flaky')) !== undefined);
      assert.equal(attempts, 5, 'four failures, then one success, and nothing after it');
      await ctl.idle();
      assert.equal(attempts, 5);
    } finally {
      await ctl.stop();
    }
  });

  test('requeueAfter calls reconcile again later', async () => {
    await c.create(configmaps, cm('again', { k: 'v' }));
    let calls = 0;
    const ctl = startController(
      mirrorController(async (key) => {
        if (key !== `${ns}/again`) return done();
        calls++;
        return calls < 3 ? requeueAfter(10) : done();
      }),
      c,
    );
    try {
      await eventually('reconcile ran three times with no change to the object', () => calls === 3);
      await ctl.idle();
      assert.equal(calls, 3, 'done ends the requeues');
    } finally {
      await ctl.stop();
    }
  });

  test('a key is never reconciled concurrently', async () => {
    const names = ['conc-0', 'conc-1', 'conc-2', 'conc-3'];
    for (const n of names) await c.create(configmaps, cm(n, { i: '0' }));
    const inFlight = new Map<string, number>();
    const calls = new Map<string, number>();
    let maxPerKey = 0;
    let total = 0;
    let maxTotal = 0;
    const ctl = startController(
      mirrorController(async (key) => {
        if (!key.startsWith(`${ns}/conc-`)) return done();
        const n = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, n);
        maxPerKey = Math.max(maxPerKey, n);
        maxTotal = Math.max(maxTotal, ++total);
        await sleep(5);
        inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
        total--;
        const done8 = (calls.get(key) ?? 0) + 1;
        calls.set(key, done8);
        // Ask for more at once while events for the same key keep arriving.
        return done8 < 8 ? requeueAfter(0) : done();
      }),
      c,
      { workers: 4 },
    );
    try {
      for (let i = 1; i <= 10; i++) {
        for (const n of names) await c.patch(configmaps, n, 'merge', { data: { i: String(i) } }, { namespace: ns });
      }
      await eventually('every key was reconciled eight times', () => names.every((n) => (calls.get(`${ns}/${n}`) ?? 0) >= 8));
      await ctl.idle();
      assert.equal(maxPerKey, 1, 'one key never ran twice at once');
      assert.ok(maxTotal > 1, 'distinct keys ran in parallel');
    } finally {
      await ctl.stop();
    }
  });

  test('keyOf maps events of another resource to keys', async () => {
    const seen: string[] = [];
    const ctl = startController(
      {
        name: 'keyof',
        watches: [
          { rt: configmaps, keyOf: () => undefined },
          // A Secret names the ConfigMap it belongs to in an annotation; others map to nothing.
          { rt: secrets, keyOf: (s) => (s.metadata.annotations?.['example.com/config'] ? `${s.metadata.namespace}/${s.metadata.annotations['example.com/config']}` : undefined) },
        ],
        reconcile: async (key) => {
          seen.push(key);
          return done();
        },
      },
      c,
    );
    try {
      await ctl.idle();
      await c.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keyof-plain', namespace: ns } });
      await c.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keyof-owned', namespace: ns, annotations: { 'example.com/config': 'keyof-owner' } } });
      await eventually('the owner key was reconciled', () => seen.includes(`${ns}/keyof-owner`));
      await ctl.idle();
      assert.ok(!seen.includes(`${ns}/keyof-owned`), 'the Secret is not its own key');
      assert.ok(!seen.includes(`${ns}/keyof-plain`), 'a Secret without the annotation maps to no key');
      assert.ok(!seen.some((k) => k.startsWith(`${ns}/start-`)), 'a ConfigMap whose keyOf gives nothing enqueues nothing');
    } finally {
      await ctl.stop();
    }
  });

  test('stop() returns and nothing runs after it', async () => {
    await c.create(configmaps, cm('stop-a', { k: 'v' }));
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let blocked = false;
    let finished = false;
    const ctl = startController(
      mirrorController(async (key) => {
        if (!key.startsWith(`${ns}/stop-`)) return done();
        calls++;
        if (key === `${ns}/stop-slow`) {
          blocked = true;
          await gate;
          finished = true;
        }
        return done();
      }),
      c,
    );
    await eventually('the existing ConfigMap was reconciled', () => calls === 1);
    await c.create(configmaps, cm('stop-slow', { k: 'v' }));
    await eventually('the slow reconcile is running', () => blocked);
    let stopped = false;
    const stopping = ctl.stop().then(() => (stopped = true));
    await sleep(20);
    assert.equal(stopped, false, 'stop waits for the running reconcile');
    release();
    await stopping;
    assert.equal(finished, true, 'the running reconcile finished before stop returned');
    const before = calls;

    // A change after stop reaches other watchers but not the stopped controller.
    let witnessed = false;
    const witness = startController(
      mirrorController(async (key) => {
        if (key === `${ns}/stop-after`) witnessed = true;
        return done();
      }),
      c,
    );
    try {
      await c.create(configmaps, cm('stop-after', { k: 'v' }));
      await c.patch(configmaps, 'stop-a', 'merge', { data: { k: 'w' } }, { namespace: ns });
      await eventually('another controller saw the change', () => witnessed);
      await witness.idle();
      assert.equal(calls, before, 'the stopped controller reconciled nothing');
      await ctl.idle(); // resolves after stop
      await ctl.stop(); // idempotent
    } finally {
      await witness.stop();
    }
  });
});
