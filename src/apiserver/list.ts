// LIST: consistent reads from the watch cache, paging with `limit`/`continue` at a fixed
// revision (later pages read the store as of the first page's revision, as etcd-backed
// Kubernetes does), and exact-revision reads.
import { errors } from '../api/errors.js';
import type { ResourceType } from '../api/kinds.js';
import { CompactedError } from '../store/store.js';
import { compileFilter } from './filter.js';
import type { Registry } from './registry.js';
import type { CachedObject } from './watch-cache.js';
import { decode } from './watch-cache.js';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListOutcome {
  items: CachedObject[];
  rev: number;
  continue?: string;
  remainingItemCount?: number;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: lastKey + '\u0000' } satisfies ContinueToken)).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

const TOO_OLD_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

function parseRv(s: string, what = 'resourceVersion'): number {
  if (!/^\d+$/.test(s)) throw errors.badRequest(`invalid ${what}: ${s}`);
  return Number(s);
}

/** Reads the collection as of `rev` from the store (for continuations and exact reads). */
async function listAt(reg: Registry, rt: ResourceType, namespace: string | undefined, rev: number, after?: string): Promise<CachedObject[]> {
  try {
    const res = await reg.store.list(reg.prefix(rt, namespace), { revision: rev, ...(after ? { after } : {}) });
    return res.kvs.map((kv) => decode(rt, kv));
  } catch (e) {
    if (e instanceof CompactedError) throw errors.expired(TOO_OLD_CONTINUE);
    throw e;
  }
}

export async function listObjects(reg: Registry, rt: ResourceType, namespace: string | undefined, q: ListQuery): Promise<ListOutcome> {
  const filter = compileFilter(rt, q.labelSelector, q.fieldSelector);
  const limit = q.limit && q.limit > 0 ? q.limit : 0;
  let source: CachedObject[];
  let rev: number;
  if (q.continue) {
    const t = decodeContinue(q.continue);
    rev = t.rv;
    await reg.cache.sync();
    source = reg.cache.revision === rev ? reg.cache.list(rt, namespace).filter((o) => o.key >= t.start) : await listAt(reg, rt, namespace, rev, t.start);
  } else if (q.resourceVersion && q.resourceVersion !== '0' && q.resourceVersionMatch === 'Exact') {
    rev = parseRv(q.resourceVersion);
    await reg.cache.sync();
    if (rev > reg.cache.revision) throw errors.timeout(`Too large resource version: ${rev}, current: ${reg.cache.revision}`);
    source = rev === reg.cache.revision ? reg.cache.list(rt, namespace) : await listAt(reg, rt, namespace, rev);
  } else {
    if (q.resourceVersion && q.resourceVersion !== '0') {
      // NotOlderThan (the default for a set resourceVersion): the cache must have reached it
      const want = parseRv(q.resourceVersion);
      await reg.cache.sync();
      if (want > reg.cache.revision) throw errors.timeout(`Too large resource version: ${want}, current: ${reg.cache.revision}`);
    } else if (q.resourceVersion !== '0') {
      await reg.cache.sync();
    }
    rev = reg.cache.revision;
    source = reg.cache.list(rt, namespace);
  }
  const items: CachedObject[] = [];
  let i = 0;
  for (; i < source.length; i++) {
    const o = source[i]!;
    if (!filter.match(o.obj)) continue;
    if (limit && items.length === limit) break;
    items.push(o);
  }
  const out: ListOutcome = { items, rev };
  if (limit && i < source.length) {
    out.continue = encodeContinue(rev, items[items.length - 1]!.key);
    if (filter.everything) out.remainingItemCount = source.length - i;
  }
  return out;
}
