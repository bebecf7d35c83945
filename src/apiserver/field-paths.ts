// Walks plain JSON objects alongside their PatchMeta to answer the questions server-side apply
// asks of a value (structured-merge-diff's typed package): which paths does it set
// (`fieldSetOf`), which paths did a write add, change or remove (`compareObjects`), and what is
// left when some paths are taken out (`removePaths`). Lists are atomic, sets (by value) or maps
// (by key) as `listShape` reads the metadata; objects are granular unless declared atomic.
import type { PatchMeta } from '../api/patch-meta.js';
import { isObject } from '../api/types.js';
import {
  emptyFieldSet,
  fieldElement,
  fieldSetOfPaths,
  difference,
  insertPath,
  isEmptyFieldSet,
  keyElement,
  valueElement,
  type FieldSet,
  type PathElement,
} from './field-set.js';

export type ListShape = { kind: 'atomic' } | { kind: 'set' } | { kind: 'map'; keys: string[] };

const ATOMIC: ListShape = { kind: 'atomic' };
const SET: ListShape = { kind: 'set' };

/**
 * How a list merges for server-side apply: `x-kubernetes-list-type` when declared (map lists keyed
 * by `listMapKeys`, else by the merge key), otherwise the strategic-merge declaration
 * (`merge` + mergeKey is a map, `merge` alone a set), otherwise atomic.
 */
export function listShape(meta: PatchMeta): ListShape {
  const info = meta.info();
  const keys = info.listMapKeys?.length ? info.listMapKeys : info.mergeKey ? [info.mergeKey] : undefined;
  switch (info.listType) {
    case 'atomic':
      return ATOMIC;
    case 'set':
      return SET;
    case 'map':
      return keys ? { kind: 'map', keys } : ATOMIC;
  }
  if (info.strategy.includes('merge')) return keys ? { kind: 'map', keys } : SET;
  return ATOMIC;
}

// Key fields Kubernetes' schema defaults, which structured-merge-diff fills in when an item omits
// them (so an applied port without `protocol` is the same item as the stored, defaulted one).
const KEY_FIELD_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

/**
 * The path element of each item of a list: `k:{…}` for map lists, `v:…` for sets. Undefined when
 * the list is atomic, or when an item has none of the key fields or two items share an element:
 * such a list is then treated as atomic (replaced whole) rather than guessed at.
 */
export function itemElements(list: readonly unknown[], shape: ListShape): PathElement[] | undefined {
  if (shape.kind === 'atomic') return undefined;
  const out: PathElement[] = [];
  const seen = new Set<PathElement>();
  for (const item of list) {
    let pe: PathElement;
    if (shape.kind === 'set') pe = valueElement(item);
    else {
      if (!isObject(item)) return undefined;
      const key: Record<string, unknown> = {};
      for (const k of shape.keys) {
        const v = item[k] ?? KEY_FIELD_DEFAULTS[k];
        if (v !== undefined && v !== null) key[k] = v;
      }
      if (Object.keys(key).length === 0) return undefined;
      pe = keyElement(key);
    }
    if (seen.has(pe)) return undefined;
    seen.add(pe);
    out.push(pe);
  }
  return out;
}

/** Structural JSON equality; object key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

// `metadata.managedFields` is bookkeeping about the object, never part of what anyone owns.
function skipField(path: readonly PathElement[], name: string): boolean {
  return name === 'managedFields' && path.length === 1 && path[0] === 'f:metadata';
}

function isAtomicMap(meta: PatchMeta): boolean {
  return meta.info().mapType === 'atomic';
}

function nonEmptyObject(v: Record<string, unknown>): boolean {
  return Object.values(v).some((x) => x !== undefined);
}

/**
 * The set of paths `obj` sets (structured-merge-diff's ToFieldSet): every scalar, null, empty
 * object and atomic value, every list item (with the fields inside map-list items). Granular
 * objects that have fields are not members themselves, and an empty granular list sets nothing.
 * `metadata.managedFields` is skipped.
 */
export function fieldSetOf(obj: unknown, meta: PatchMeta): FieldSet {
  const out = emptyFieldSet();
  if (isObject(obj)) walkFields(obj, meta, [], out);
  return out;
}

function walkFields(obj: Record<string, unknown>, meta: PatchMeta, path: PathElement[], out: FieldSet): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || skipField(path, k)) continue;
    walkValue(v, meta.field(k), [...path, fieldElement(k)], out);
  }
}

function walkValue(v: unknown, meta: PatchMeta, path: PathElement[], out: FieldSet): void {
  if (Array.isArray(v)) {
    const shape = listShape(meta);
    const els = itemElements(v, shape);
    if (!els) return insertPath(out, path);
    v.forEach((item, i) => {
      const p = [...path, els[i]!];
      insertPath(out, p);
      if (shape.kind === 'map' && isObject(item)) walkFields(item, meta.item(), p, out);
    });
    return;
  }
  if (isObject(v) && !isAtomicMap(meta) && nonEmptyObject(v)) return walkFields(v, meta, path, out);
  insertPath(out, path);
}

export interface Comparison {
  /** Paths present only in the new object (and new containers themselves, see addedTree). */
  added: FieldSet;
  /** Leaf paths present in both with different values. */
  modified: FieldSet;
  /** Paths present only in the old object. */
  removed: FieldSet;
}

// Go's typed objects always carry their non-pointer struct fields (and `containers`, which is not
// omitempty), so Kubernetes never reports those as added nodes; maps, pointer structs and other
// lists do show up, as the `.` in `f:labels: {.: {}, …}`. Without Go types we name the common ones.
const ALWAYS_PRESENT = new Set(['metadata', 'spec', 'status', 'template', 'strategy', 'updateStrategy', 'resources', 'jobTemplate', 'containers']);

/**
 * What changed from `oldObj` to `newObj` (structured-merge-diff's Compare), leaf by leaf and item
 * by item. An absent `oldObj` is an empty object (a create). `metadata.managedFields` is skipped.
 */
export function compareObjects(oldObj: unknown, newObj: unknown, meta: PatchMeta): Comparison {
  const c: Comparison = { added: emptyFieldSet(), modified: emptyFieldSet(), removed: emptyFieldSet() };
  compareFields(isObject(oldObj) ? oldObj : {}, isObject(newObj) ? newObj : {}, meta, [], c);
  return c;
}

function compareFields(l: Record<string, unknown>, r: Record<string, unknown>, meta: PatchMeta, path: PathElement[], c: Comparison): void {
  const keys = new Set([...Object.keys(l), ...Object.keys(r)]);
  for (const k of keys) {
    if (skipField(path, k)) continue;
    compareValue(l[k], r[k], meta.field(k), [...path, fieldElement(k)], k, c);
  }
}

type NodeKind = 'object' | 'list' | 'leaf';

function nodeKind(v: unknown, meta: PatchMeta): NodeKind {
  if (Array.isArray(v)) return listShape(meta).kind === 'atomic' ? 'leaf' : 'list';
  if (isObject(v)) return isAtomicMap(meta) ? 'leaf' : 'object';
  return 'leaf';
}

function compareValue(l: unknown, r: unknown, meta: PatchMeta, path: PathElement[], name: string | undefined, c: Comparison): void {
  if (l === undefined && r === undefined) return;
  if (l === undefined) return addTree(r, meta, path, name, c.added);
  if (r === undefined) return addTree(l, meta, path, name, c.removed);
  const lk = nodeKind(l, meta);
  const rk = nodeKind(r, meta);
  if (lk === 'object' && rk === 'object') {
    const lo = l as Record<string, unknown>;
    const ro = r as Record<string, unknown>;
    // Two empty objects are one equal leaf; otherwise compare field by field.
    if (nonEmptyObject(lo) || nonEmptyObject(ro)) compareFields(lo, ro, meta, path, c);
    return;
  }
  if (lk === 'list' && rk === 'list') {
    const shape = listShape(meta);
    const la = l as unknown[];
    const ra = r as unknown[];
    const le = itemElements(la, shape);
    const re = itemElements(ra, shape);
    if (le && re) {
      const lm = new Map(le.map((pe, i) => [pe, la[i]]));
      const rm = new Map(re.map((pe, i) => [pe, ra[i]]));
      for (const pe of new Set([...le, ...re])) compareValue(lm.get(pe), rm.get(pe), meta.item(), [...path, pe], undefined, c);
      return;
    }
  }
  if (deepEqual(l, r)) return;
  insertPath(c.modified, path);
  // A container replaced by something of another shape: what was inside is gone, what is inside now is new.
  if (lk !== 'leaf') addTree(l, meta, path, name, c.removed, false);
  if (rk !== 'leaf') addTree(r, meta, path, name, c.added, false);
}

/** Inserts every path of `v` at `path`, including granular containers themselves (unless `withNode` is false for the top one). */
function addTree(v: unknown, meta: PatchMeta, path: PathElement[], name: string | undefined, out: FieldSet, withNode = true): void {
  const kind = nodeKind(v, meta);
  if (kind === 'list') {
    const list = v as unknown[];
    const els = itemElements(list, listShape(meta));
    if (els && els.length > 0) {
      list.forEach((item, i) => addTree(item, meta.item(), [...path, els[i]!], undefined, out));
      if (withNode && !(name !== undefined && ALWAYS_PRESENT.has(name))) insertPath(out, path);
      return;
    }
  } else if (kind === 'object' && nonEmptyObject(v as Record<string, unknown>)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined || skipField(path, k)) continue;
      addTree(x, meta.field(k), [...path, fieldElement(k)], k, out);
    }
    if (withNode && !(name !== undefined && ALWAYS_PRESENT.has(name))) insertPath(out, path);
    return;
  }
  if (withNode) insertPath(out, path);
}

/**
 * A copy of `v` without the paths in `set` (structured-merge-diff's RemoveItems): a member path
 * removes the field or item with everything under it; a child set recurses. Objects and lists
 * emptied by the removal are dropped too, as Kubernetes' omitempty encoding would.
 */
export function removePaths(v: unknown, set: FieldSet, meta: PatchMeta): unknown {
  if (isEmptyFieldSet(set)) return v;
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const pe = fieldElement(k);
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      if (!sub) {
        out[k] = x;
        continue;
      }
      const rest = removePaths(x, sub, meta.field(k));
      if (emptied(x, rest)) continue;
      out[k] = rest;
    }
    return out;
  }
  if (Array.isArray(v)) {
    const els = itemElements(v, listShape(meta));
    if (!els) return v;
    const out: unknown[] = [];
    v.forEach((item, i) => {
      const pe = els[i]!;
      if (set.members.has(pe)) return;
      const sub = set.children.get(pe);
      out.push(sub ? removePaths(item, sub, meta.item()) : item);
    });
    return out;
  }
  return v;
}

function emptied(before: unknown, after: unknown): boolean {
  if (Array.isArray(before) && Array.isArray(after)) return before.length > 0 && after.length === 0;
  if (isObject(before) && isObject(after)) return nonEmptyObject(before) && !nonEmptyObject(after);
  return false;
}

// Fields no manager ever owns (upstream's stripMetaManager): identity and server bookkeeping.
const STRIPPED = fieldSetOfPaths([
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', `f:${f}`]),
]);

/** `set` without the identity and bookkeeping fields no manager owns. */
export function withoutStripped(set: FieldSet): FieldSet {
  return difference(set, STRIPPED);
}

/**
 * `set` without the fields a write through this endpoint does not own (upstream's reset fields):
 * `status` on the main resource; everything but `status` on `/status` (whose writes keep only
 * status, see strategy.ts). Other subresources (scale) reset nothing.
 */
export function withoutResetFields(set: FieldSet, subresource?: string): FieldSet {
  const keep = (pe: PathElement) => (subresource === 'status' ? pe === 'f:status' : subresource ? true : pe !== 'f:status');
  return {
    members: new Set([...set.members].filter(keep)),
    children: new Map([...set.children].filter(([pe]) => keep(pe))),
  };
}
