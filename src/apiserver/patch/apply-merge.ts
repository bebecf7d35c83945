// The merge half of server-side apply (structured-merge-diff's TypedValue.Merge): the applied
// configuration laid over the live object. Nothing is removed here (pruning what an applier
// stopped applying is apply.ts's job); ownership plays no part.
import type { PatchMeta } from '../../api/patch-meta.js';
import { isObject } from '../../api/types.js';
import { itemElements, listShape } from '../field-paths.js';
import type { PathElement } from '../field-set.js';

/**
 * Returns a new value: `config` merged into `live`. Objects merge field by field (unless declared
 * atomic); map lists merge items by key and set lists by value, in structured-merge-diff's order
 * (live-only items keep their place, the rest follow the config's order); anything else is
 * replaced by the config's value. A `null` in the config unsets the field (the applier still owns
 * it). Undefined when the result is unset. Neither argument is modified.
 */
export function mergeApplied(live: unknown, config: unknown, meta: PatchMeta): unknown {
  if (config === undefined) return clone(live);
  if (config === null) return undefined;
  if (isObject(live) && isObject(config) && meta.info().mapType !== 'atomic') return mergeObjects(live, config, meta);
  if (Array.isArray(live) && Array.isArray(config)) {
    const shape = listShape(meta);
    const le = itemElements(live, shape);
    const ce = itemElements(config, shape);
    if (le && ce) return mergeLists(live, le, config, ce, meta.item());
  }
  return withoutNulls(config);
}

function mergeObjects(live: Record<string, unknown>, config: Record<string, unknown>, meta: PatchMeta): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(live)) {
    if (v === undefined) continue;
    const merged = k in config ? mergeApplied(v, config[k], meta.field(k)) : clone(v);
    if (merged !== undefined) out[k] = merged;
  }
  for (const [k, v] of Object.entries(config)) {
    if (k in live || v === undefined || v === null) continue;
    out[k] = withoutNulls(v);
  }
  return out;
}

// Upstream's list walk: shared items are emitted in the config's order; live-only items stay
// where they were relative to them; config-only items come where the config puts them.
function mergeLists(live: unknown[], le: PathElement[], config: unknown[], ce: PathElement[], itemMeta: PatchMeta): unknown[] {
  const liveBy = new Map(le.map((pe, i) => [pe, live[i]]));
  const configBy = new Map(ce.map((pe, i) => [pe, config[i]]));
  const queue = ce.filter((pe) => liveBy.has(pe));
  let nextShared = queue.shift();
  const done = new Set<PathElement>();
  const out: unknown[] = [];
  const emit = (pe: PathElement) => {
    done.add(pe);
    const merged = mergeApplied(liveBy.get(pe), configBy.get(pe), itemMeta);
    if (merged !== undefined) out.push(merged);
  };
  let l = 0;
  let c = 0;
  while (l < le.length || c < ce.length) {
    if (l < le.length && c < ce.length) {
      const pe = le[l]!;
      if (pe === ce[c]) {
        emit(pe);
        l++;
        c++;
        nextShared = queue.shift();
        continue;
      }
      // A shared item whose turn has not come in the config's order: it is emitted from the config side.
      if (configBy.has(pe) && nextShared !== undefined && nextShared !== pe) {
        l++;
        continue;
      }
    }
    if (l < le.length) {
      const pe = le[l]!;
      if (!configBy.has(pe)) {
        out.push(clone(liveBy.get(pe)));
        l++;
        continue;
      }
      if (done.has(pe)) {
        l++;
        continue;
      }
    }
    if (c < ce.length) {
      const pe = ce[c]!;
      emit(pe);
      c++;
      if (nextShared === pe) nextShared = queue.shift();
    }
  }
  return out;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/** A copy without null-valued fields: an applied `null` means "not set". */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
    return out;
  }
  return v;
}
