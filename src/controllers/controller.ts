// The controller runner (kubernetes/sample-controller, controller-runtime): the reconcile-loop
// mechanics written once, so each controller is only a declaration of what it watches and a
// level-triggered reconcile(key). Informers turn every add/update/delete into keys, a rate-limited
// work queue collapses bursts and guarantees one key is never processed twice at once, and N
// workers call reconcile. The requeue policy lives here and nowhere else: done → forget the key's
// failures; requeueAfter(ms) → forget and come back later; a throw → per-key exponential backoff.
import type { ResourceType } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import { objectCacheKey } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { createInformer, type Informer } from '../client/informer.js';
import { createWorkQueue, type WorkQueue } from '../client/workqueue.js';
import { realClock, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';

const log = logger('controller');

/** What a reconcile asks of the runner: nothing more (`done`), or another visit after a delay
 *  even if nothing changes (e.g. minReadySeconds elapsing, a progress deadline). */
export type Result = { done: true } | { requeueAfterMs: number };

/** The key needs nothing more until something it watches changes. */
export function done(): Result {
  return { done: true };
}

/** Reconcile the key again after `ms` milliseconds (at once when ms <= 0), without counting a failure. */
export function requeueAfter(ms: number): Result {
  return { requeueAfterMs: ms };
}

/** One watched resource. `keyOf` maps an object of it to the key(s) to reconcile (default: its
 *  own `namespace/name`), e.g. a Pod to its owning ReplicaSet's key; undefined or [] means none.
 *  It receives the informer's cached object and must not mutate it. */
export interface Watch {
  rt: ResourceType;
  keyOf?(obj: KubeObject): string | string[] | undefined;
}

/** What a reconcile may use besides its key: the client to write with, the informers' caches to
 *  read from (never the API), and the clock. */
export interface ControllerContext {
  client: Client;
  /** The informer of a watched resource; throws for a resource the controller does not watch. */
  informer<T extends KubeObject = KubeObject>(rt: ResourceType): Informer<T>;
  clock: Clock;
  /** This controller's event recorder (source `component`, else its name), made on first use:
   *  one per running controller, so repeated events fold into counts; flushed on stop(). */
  readonly events: EventRecorder;
}

/**
 * A controller as plain data. `reconcile` is level-triggered: it reads the current state from the
 * caches, never from the event that caused it, and must be safe to call any number of times for a
 * key, including for objects that no longer exist. It is never called twice at once for one key;
 * different keys run in parallel (up to the number of workers). A thrown error is logged and the
 * key retried with per-key exponential backoff (5 ms doubling, as client-go's default limiter).
 */
export interface ControllerDef {
  name: string;
  /** The events' source component (e.g. `service-lb-controller`); default: name. */
  component?: string;
  watches: Watch[];
  reconcile(key: string, ctx: ControllerContext): Promise<Result>;
}

/** Informers shared between controllers, by resource (see informerMapKey). Informers a controller
 *  puts in a shared map belong to the map's owner, who stops them (stopInformers). */
export type InformerMap = Map<string, Informer>;

/** The key of a resource type in an InformerMap. */
export function informerMapKey(rt: ResourceType): string {
  return `${rt.group}/${rt.version}/${rt.plural}`;
}

/** Stops every informer of a shared map (when all controllers using it have stopped). */
export function stopInformers(map: InformerMap): void {
  for (const inf of map.values()) inf.stop();
}

export interface ControllerOptions {
  /** Concurrent reconciles of distinct keys (default 2). */
  workers?: number;
  clock?: Clock;
  /** Reuse informers from (and add new ones to) this map instead of owning private ones. */
  informers?: InformerMap;
}

export interface RunningController {
  /** The informer of a watched resource (throws for others). */
  informer<T extends KubeObject = KubeObject>(rt: ResourceType): Informer<T>;
  /** Shuts the queue down (queued and delayed keys are dropped), stops the informers this
   *  controller owns, and resolves once running reconciles have returned. Nothing is reconciled
   *  afterwards and no timer is left behind. Idempotent. */
  stop(): Promise<void>;
  /** For tests: resolves once workers have started (all informers synced) and no key is queued or
   *  being reconciled; keys waiting on a requeueAfter or backoff delay do not count. Also resolves
   *  after stop(). An event still on its way from the server is not seen, so assert state with a
   *  wait, and use idle() for "nothing is running now". */
  idle(): Promise<void>;
}

/**
 * Starts a controller: its informers (created, or reused from opts.informers), event handlers that
 * enqueue keys, and — once every informer has synced, so reconcile never sees a half-filled cache —
 * opts.workers workers. Returns at once.
 */
export function startController(def: ControllerDef, client: Client, opts: ControllerOptions = {}): RunningController {
  const clock = opts.clock ?? realClock;
  const workers = Math.max(1, opts.workers ?? 2);
  const queue: WorkQueue<string> = createWorkQueue<string>({ clock });
  const informers = new Map<string, Informer>();
  const owned: Informer[] = [];
  let stopped = false;
  let busy = 0;
  let started = false;
  let running: Promise<void>[] = [];
  let idleWaiters: (() => void)[] = [];
  let idleCheck: NodeJS.Immediate | undefined;

  const informer = <T extends KubeObject = KubeObject>(rt: ResourceType): Informer<T> => {
    const inf = informers.get(informerMapKey(rt));
    if (!inf) throw new Error(`controller ${def.name} does not watch ${rt.plural}`);
    return inf as unknown as Informer<T>;
  };
  let recorder: EventRecorder | undefined;
  const ctx: ControllerContext = {
    client,
    informer,
    clock,
    get events() {
      return (recorder ??= createEventRecorder(client, { component: def.component ?? def.name, clock }));
    },
  };

  const enqueue = (w: Watch, obj: KubeObject): void => {
    let keys: string | string[] | undefined;
    try {
      keys = w.keyOf ? w.keyOf(obj) : objectCacheKey(obj);
    } catch (e) {
      log.error('keyOf failed', { controller: def.name, resource: w.rt.plural, object: objectCacheKey(obj), error: String(e) });
      return;
    }
    if (keys === undefined) return;
    for (const k of typeof keys === 'string' ? [keys] : keys) queue.add(k);
  };

  for (const w of def.watches) {
    const mk = informerMapKey(w.rt);
    let inf = informers.get(mk) ?? opts.informers?.get(mk);
    if (!inf) {
      inf = createInformer(client, w.rt, { clock });
      if (opts.informers) opts.informers.set(mk, inf);
      else owned.push(inf);
    }
    informers.set(mk, inf);
    // A controller never branches on the event type: every change, of either version of the
    // object (an owner reference may have moved), is just a key to look at again.
    inf.onAdd((o) => enqueue(w, o));
    inf.onUpdate((a, b) => {
      if (a !== b) enqueue(w, a);
      enqueue(w, b);
    });
    inf.onDelete((o) => enqueue(w, o));
  }

  /** Idle is checked after pending microtasks and I/O callbacks have run, so a key handed from
   *  done() straight to a waiting worker is already counted as busy. */
  function scheduleIdleCheck(): void {
    if (idleCheck || idleWaiters.length === 0) return;
    idleCheck = setImmediate(() => {
      idleCheck = undefined;
      if (stopped || (started && busy === 0 && queue.len() === 0)) {
        const ws = idleWaiters;
        idleWaiters = [];
        for (const w of ws) w();
      }
    });
  }

  async function worker(): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      busy++;
      try {
        const r = await def.reconcile(key, ctx);
        queue.forget(key);
        if ('requeueAfterMs' in r) queue.addAfter(key, r.requeueAfterMs);
      } catch (e) {
        log.warn('reconcile failed, requeuing with backoff', {
          controller: def.name,
          key,
          retries: queue.numRequeues(key),
          error: e instanceof Error ? e.message : String(e),
        });
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
        busy--;
        scheduleIdleCheck();
      }
    }
  }

  for (const inf of new Set(informers.values())) inf.start();
  void Promise.all([...new Set(informers.values())].map((i) => i.waitForSync())).then(
    () => {
      if (stopped) return;
      started = true;
      running = Array.from({ length: workers }, () => worker());
      log.debug('controller started', { controller: def.name, workers });
      scheduleIdleCheck();
    },
    (e: unknown) => {
      // Only a stop() before sync rejects waitForSync; nothing to run then.
      if (!stopped) log.error('controller could not start', { controller: def.name, error: String(e) });
    },
  );

  return {
    informer,
    async stop() {
      if (!stopped) {
        stopped = true;
        queue.shutDown();
        for (const inf of owned) inf.stop();
        scheduleIdleCheck();
      }
      await Promise.all(running);
      if (recorder) {
        await recorder.flush().catch(() => undefined);
        recorder.stop();
      }
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        scheduleIdleCheck();
      });
    },
  };
}
