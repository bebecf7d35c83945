// The in-process transport: components running inside the API server's process (controllers,
// scheduler, node agent under `skiff up`) call the request handler directly, with no sockets and
// no JSON encoding, yet through exactly the same API semantics as kubectl.
import { StatusError, errors } from '../api/errors.js';
import type { KubeObject, WatchEvent, WatchEventType } from '../api/types.js';
import type { ApiRequest, ApiResponse, Transport, WatchStream } from '../client/transport.js';
import type { Call, Reply } from './handler.js';
import type { CachedObject } from './watch-cache.js';

function toCall(req: ApiRequest, userAgent: string): Call {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) query.append(k, x);
  }
  return {
    method: req.method,
    path: req.path,
    query,
    ...(req.body !== undefined ? { body: req.body } : {}),
    ...(req.contentType ? { contentType: req.contentType } : {}),
    userAgent,
    inProcess: true,
  };
}

/** A private copy for the caller: cached objects are shared and must never be handed out. */
function copy(o: KubeObject | CachedObject): KubeObject {
  return typeof (o as CachedObject).json === 'string' ? (JSON.parse((o as CachedObject).json) as KubeObject) : structuredClone(o as KubeObject);
}

// Watch events go to informers, whose handlers must not change what they receive; every
// in-process watcher of an event gets the same decoded copy, frozen so that a handler breaking
// the rule fails loudly instead of corrupting its neighbours.
const sharedCopies = new WeakMap<object, KubeObject>();
function sharedCopy(o: KubeObject | CachedObject): KubeObject {
  let c = sharedCopies.get(o);
  if (!c) {
    c = deepFreeze(copy(o));
    sharedCopies.set(o, c);
  }
  return c;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function answer(reply: Reply): ApiResponse {
  switch (reply.type) {
    case 'object':
      return { status: reply.status, body: copy(reply.obj) };
    case 'status':
    case 'plain':
      return { status: reply.status, body: structuredClone(reply.body) };
    case 'list': {
      const { rt, outcome } = reply;
      return {
        status: 200,
        body: {
          kind: rt.listKind,
          apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version,
          metadata: {
            resourceVersion: String(outcome.rev),
            ...(outcome.continue ? { continue: outcome.continue } : {}),
            ...(outcome.remainingItemCount !== undefined ? { remainingItemCount: outcome.remainingItemCount } : {}),
          },
          items: outcome.items.map((i) => copy(i)),
        },
      };
    }
    case 'watch':
      throw new Error('watch reply on a plain request');
  }
}

export function createInProcessTransport(handle: (call: Call) => Promise<Reply | undefined>, userAgent = 'skiff-in-process'): Transport {
  return {
    async request(req) {
      try {
        const reply = await handle(toCall(req, userAgent));
        if (!reply) return { status: 404, body: errors.notFound('', '', req.path).status };
        return answer(reply);
      } catch (e) {
        if (e instanceof StatusError) return { status: e.code, body: e.status };
        throw e;
      }
    },
    async watch(req) {
      const reply = await handle(toCall(req, userAgent));
      if (!reply || reply.type !== 'watch') throw errors.badRequest(`not a watch: ${req.path}`);
      const queue: WatchEvent[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      let stop: (() => void) | undefined;
      const stream: WatchStream = {
        close() {
          if (ended) return;
          ended = true;
          stop?.();
          wake?.();
        },
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const ev = queue.shift();
            if (ev) {
              yield ev;
              continue;
            }
            if (ended) return;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        },
      };
      stop = await reply.start({
        event(type: WatchEventType, o) {
          if (ended) return;
          queue.push({ type, object: sharedCopy(o) });
          wake?.();
        },
        end() {
          ended = true;
          wake?.();
        },
      });
      if (ended) stop();
      return stream;
    },
  };
}
