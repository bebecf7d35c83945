// An event recorder (client-go's tools/record): components report what happened to an object as
// `v1` Events. Repeats of the same event (same object, type, reason, message, source) are folded
// into one Event whose `count` and `lastTimestamp` move, as Kubernetes' event correlator does, so
// `kubectl describe` shows "(x5 over 2m)" rather than a wall of copies.
//
// Recording never blocks or fails the caller: writes are queued and sent in the background; a
// failed write is logged and dropped (events are best-effort, as upstream).
import { randomBytes } from 'node:crypto';
import { isStatusError } from '../api/errors.js';
import { apiVersionOfResource, resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import { realClock, rfc3339, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import type { Client } from './client.js';

const log = logger('events');
const EVENTS = resourceFor('', 'v1', 'events');

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records `reason`/`message` about `obj` (which must carry apiVersion, kind and metadata). */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every queued write has been attempted (tests, shutdown). */
  flush(): Promise<void>;
  stop(): void;
}

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent`, e.g. `default-scheduler`. */
  component: string;
  /** `source.host` / `reportingInstance`. */
  host?: string;
  clock?: Clock;
  /** How many distinct events to remember for folding repeats (LRU-ish). Default 4096. */
  cacheSize?: number;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export function createEventRecorder(client: Client, opts: EventRecorderOptions): EventRecorder {
  const clock = opts.clock ?? realClock;
  const seen = new Map<string, Seen>();
  const limit = opts.cacheSize ?? 4096;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  let seq = 0;

  async function write(key: string, ev: KubeObject, s: Seen): Promise<void> {
    try {
      if (s.count > 1) {
        try {
          await client.patch(EVENTS, s.name, 'merge', { count: s.count, lastTimestamp: ev.lastTimestamp, message: ev.message }, { namespace: s.namespace });
          return;
        } catch (e) {
          if (!isStatusError(e, 'NotFound')) throw e;
          // the event was deleted meanwhile: record it afresh
        }
      }
      for (let attempt = 0; ; attempt++) {
        try {
          await client.create(EVENTS, ev, { namespace: s.namespace });
          return;
        } catch (e) {
          // another recorder (another component) took the name in the same instant: pick another
          if (!isStatusError(e, 'AlreadyExists') || attempt >= 3) throw e;
          s.name = `${s.name.slice(0, s.name.lastIndexOf('.'))}.${(BigInt(clock.now()) * 1_000_000n + BigInt(randomBytes(4).readUInt32BE(0) % 1_000_000)).toString(16)}`;
          const live = seen.get(key);
          if (live) live.name = s.name;
          (ev.metadata as { name: string }).name = s.name;
        }
      }
    } catch (e) {
      seen.delete(key);
      log.warn('could not record event', { reason: String(ev.reason), err: (e as Error).message });
    }
  }

  return {
    event(obj, type, reason, message) {
      if (stopped) return;
      const m = obj.metadata;
      const namespace = m.namespace || 'default';
      const now = rfc3339(clock.now());
      const key = [obj.kind, namespace, m.name, m.uid, type, reason, message, opts.component, opts.host ?? ''].join('\u0000');
      let s = seen.get(key);
      if (s) {
        s.count++;
        seen.delete(key);
        seen.set(key, s); // most recently used last
      } else {
        // client-go names events <object>.<hex UnixNano>. Nanoseconds exceed a double's integer
        // precision, so BigInt; the sub-millisecond part is random plus a counter, so events about
        // one object within one millisecond get distinct names.
        const subMs = (randomBytes(4).readUInt32BE(0) + seq++) % 1_000_000;
        s = { name: `${m.name}.${(BigInt(clock.now()) * 1_000_000n + BigInt(subMs)).toString(16)}`, namespace, count: 1, firstTimestamp: now };
        seen.set(key, s);
        if (seen.size > limit) seen.delete(seen.keys().next().value!);
      }
      const ev: KubeObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: s.name, namespace },
        involvedObject: {
          kind: obj.kind,
          namespace: m.namespace,
          name: m.name,
          uid: m.uid,
          apiVersion: obj.apiVersion ?? apiVersionOfResource(EVENTS),
          resourceVersion: m.resourceVersion,
        },
        reason,
        message,
        source: { component: opts.component, ...(opts.host ? { host: opts.host } : {}) },
        firstTimestamp: s.firstTimestamp,
        lastTimestamp: now,
        count: s.count,
        type,
        eventTime: null,
        reportingComponent: opts.component,
        reportingInstance: opts.host ?? '',
      };
      const snapshot = { ...s };
      chain = chain.then(() => write(key, ev, snapshot));
    },
    flush: () => chain,
    stop() {
      stopped = true;
    },
  };
}
