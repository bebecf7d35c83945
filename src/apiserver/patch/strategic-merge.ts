// Strategic merge patch (`application/strategic-merge-patch+json`), applied the way
// k8s.io/apimachinery's strategicpatch.StrategicMergeMapPatch does on the server (mergeMap with
// MergeParallelList and IgnoreUnmatchedNulls): maps merge and `null` deletes; lists merge
// element-wise by their merge key when the field's strategy is `merge`, primitive `merge` lists
// are unions, other lists are replaced; and the directives kubectl sends: `$patch`,
// `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
//
// The element order of a merged list follows upstream exactly (mergeSlice/normalizeElementOrder):
// `$setElementOrder` wins, then the order of the patch, then the order of the live list; an
// element that is only in the patch is placed by merging, not appended.
//
// Where upstream keeps directives or nulls inside a value it takes verbatim (a field absent from
// the live object, a `replace` strategy, a list replaced by `$patch: replace`), Kubernetes then
// drops them when decoding into its typed structs. We store JSON as-is, so we drop them here.
import { errors, StatusError } from '../../api/errors.js';
import { EMPTY_PATCH_META, type PatchMeta } from '../../api/patch-meta.js';
import { goJsonKind, unprocessablePatch } from './json-patch.js';

type JsonMap = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList';

// mergepatch's sentinel errors: all answered 400 by the API server (interpretStrategicMergePatchError).
const BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const BAD_SET_ORDER = 'invalid patch format of setElementOrder list';

/**
 * Applies the strategic merge patch `patch` (the decoded request body) to `original`, navigating
 * `meta` alongside (`field(name)` for object fields, `item()` for list elements and map values)
 * to learn each field's strategy and merge key. Returns the patched object; never mutates its
 * arguments, and the result shares no structure with them. A `null` patch changes nothing.
 *
 * Throws StatusError:
 * - 400 BadRequest when the patch is not a JSON object, uses an unknown `$patch` value (named in
 *   the message), has a malformed `$retainKeys`/`$setElementOrder`/`$deleteFromPrimitiveList`,
 *   a `$setElementOrder` whose order contradicts the patch list, a list element without its
 *   merge key, or lists whose elements are of different kinds (upstream answers some of these
 *   500 with the same message);
 * - 422 Invalid for lists of lists, as kube-apiserver does.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, meta: PatchMeta): unknown {
  if (patch === undefined) throw errors.badRequest('unexpected end of JSON input');
  if (patch === null) return structuredClone(original);
  if (!isMap(patch)) throw errors.badRequest(`json: cannot unmarshal ${goJsonKind(patch)} into Go value of type map[string]interface {}`);
  const base = isMap(original) ? structuredClone(original) : {};
  return mergeMap(base, structuredClone(patch), meta);
}

// ---- maps ----

function mergeMap(original: JsonMap, patch: JsonMap, meta: PatchMeta): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return settled(patch) as JsonMap;
    }
    if (directive === 'delete') return {};
    // `merge` is the default behaviour spelled out; upstream refuses it on maps, we accept it.
    if (directive !== 'merge') throw badPatchType(directive, patch);
    delete patch[DIRECTIVE];
  }
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, meta);

  for (const [patchKey, patchV] of Object.entries(patch)) {
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_PRIMITIVE)) {
      key = extractKey(patchKey, DELETE_PRIMITIVE, BAD_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete original[key];
      continue;
    }
    const cur = Object.hasOwn(original, key) ? original[key] : undefined;
    if (cur === undefined || goType(cur) !== goType(patchV)) {
      if (!isDeleteList) setOrDrop(original, key, patchV);
      continue;
    }
    const fm = fieldMeta(meta, key);
    const strategy = patchStrategy(fm);
    if (isMap(cur) && strategy !== 'replace') put(original, key, mergeMap(cur, patchV as JsonMap, fm));
    else if (Array.isArray(cur)) put(original, key, mergeListField(cur, patchV as unknown[], fm, strategy, key, isDeleteList));
    else setOrDrop(original, key, patchV); // scalars, and maps of a `replace` field
  }
  return original;
}

/** `$retainKeys`: keys of the live map absent from the list are cleared before merging. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw errors.badRequest(BAD_RETAIN_KEYS);
  const keep = new Set<unknown>(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    // A patch may only set fields it also says to retain.
    if (!keep.has(k)) throw errors.badRequest(BAD_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/**
 * `$setElementOrder/<list>` (upstream mergePatchIntoOriginal): merges the named list with its
 * patch list, orders the result, and removes both from the patch so the main loop skips them.
 */
function mergeOrderedLists(original: JsonMap, patch: JsonMap, meta: PatchMeta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType('list', order);
    const name = extractKey(key, SET_ORDER, BAD_SET_ORDER);
    // A null stands for an absent list here (a null patch list is then a plain delete).
    const origList = Object.hasOwn(original, name) && original[name] !== null ? original[name] : undefined;
    const patchList = Object.hasOwn(patch, name) && patch[name] !== null ? patch[name] : undefined;
    if (origList !== undefined && !Array.isArray(origList)) throw badArgType('list', origList);
    if (patchList !== undefined && !Array.isArray(patchList)) throw badArgType('list', patchList);
    const fm = fieldMeta(meta, name);
    const mergeKey = fm.info().mergeKey ?? '';
    validateOrder(patchList ?? [], order, mergeKey);

    let merged: unknown[];
    const serverOrder = origList ? [...origList] : [];
    if (origList && patchList) merged = mergeListField(origList, patchList, fm, patchStrategy(fm), name, false, serverOrder);
    else if (origList) merged = origList;
    else if (patchList) merged = settled(patchList) as unknown[];
    else continue;

    const [inOrder, serverOnly] = partition(merged, order, mergeKey);
    const kind = elementKind(serverOrder, patchList ?? []);
    put(original, name, kind === undefined ? merged : normalizeOrder(inOrder, serverOnly, order, serverOrder, mergeKey, kind));
    delete patch[name];
  }
}

/** The non-deleting items of the patch list must appear in `$setElementOrder` in the same order. */
function validateOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? splitDeletes(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    if (isMap(items[p]) && Object.hasOwn(items[p] as JsonMap, DIRECTIVE)) {
      p++;
      continue;
    }
    const same = mergeKey ? mergeKeyValue(items[p], mergeKey) === mergeKeyValue(order[s], mergeKey) : items[p] === order[s];
    if (same) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw errors.badRequest(`the order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ORDER} list:\n${goFmt(order)}`);
  }
}

// ---- lists ----

function mergeListField(original: unknown[], patch: unknown[], fm: PatchMeta, strategy: string, name: string, isDeleteList: boolean, backing?: unknown[]): unknown[] {
  // A deletion list is honoured whatever the field's strategy.
  if (strategy !== 'merge' && !isDeleteList) return settled(patch) as unknown[];
  return mergeList(original, patch, fm.item(), fm.info().mergeKey ?? '', name, isDeleteList, backing);
}

/**
 * Upstream mergeSlice. For lists of maps it edits the live list in place as Go does, through
 * `backing` (a copy of the live list, its length the slice's capacity): deletions shift elements
 * left and new elements fill the freed slots. `$setElementOrder` then orders server-only elements
 * by that edited array, which is what upstream's results depend on.
 */
function mergeList(original: unknown[], patch: unknown[], elemMeta: PatchMeta, mergeKey: string, name: string, isDeleteList: boolean, backing = [...original]): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch) as string;
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.includes(v));
    const merged = [...new Set([...original, ...patch])];
    const [inPatch, serverOnly] = partition(merged, patch, mergeKey);
    return normalizeOrder(inPatch, serverOnly, patch, original, mergeKey, kind);
  }
  if (!mergeKey) throw errors.badRequest(`cannot merge lists without merge key for ${name}`);
  let arr = backing;
  let len = original.length;
  const items: JsonMap[] = [];
  let replace = false;
  for (const v of patch as JsonMap[]) {
    if (!Object.hasOwn(v, DIRECTIVE)) items.push(v);
    else if (v[DIRECTIVE] === 'delete') {
      const value = mergeKeyValue(v, mergeKey);
      for (let at = findByKey(arr.slice(0, len), mergeKey, value); at >= 0; at = findByKey(arr.slice(0, len), mergeKey, value)) {
        arr.copyWithin(at, at + 1, len);
        len--;
      }
    } else if (v[DIRECTIVE] === 'replace') replace = true;
    else if (v[DIRECTIVE] === 'merge') throw errors.badRequest('merging lists cannot yet be specified in the patch');
    else throw badPatchType(v[DIRECTIVE], v);
  }
  if (replace) {
    // `$patch: replace`: the other patch elements are the whole list.
    arr = settled(items) as unknown[];
    len = arr.length;
    items.length = 0;
  }
  const base = arr.slice(0, len);
  for (const item of items) {
    const at = findByKey(arr.slice(0, len), mergeKey, mergeKeyValue(item, mergeKey));
    if (at >= 0) arr[at] = mergeMap(arr[at] as JsonMap, item, elemMeta);
    else {
      // Plain elements carry no $patch, so settling never drops them. Past capacity, Go reallocates.
      if (len >= arr.length) arr = arr.slice(0, len);
      arr[len++] = settled(item);
    }
  }
  const [inPatch, serverOnly] = partition(arr.slice(0, len), items, mergeKey);
  return normalizeOrder(inPatch, serverOnly, items, base, mergeKey, kind);
}

function findByKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (!isMap(e)) throw errors.badRequest(`value for key ${i} is not a map`);
    if (Object.hasOwn(e, mergeKey) && e[mergeKey] === value) return i;
  }
  return -1;
}

/** Splits `list` into the elements present in `by` (by merge key, or by value) and the others. */
function partition(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const absent: unknown[] = [];
  const set = new Set(by);
  for (const v of list) {
    const found = mergeKey ? findByKey(by, mergeKey, mergeKeyValue(v, mergeKey)) >= 0 : set.has(v);
    (found ? present : absent).push(v);
  }
  return [present, absent];
}

// ---- ordering (upstream normalizeElementOrder / normalizeSliceOrder / mergeSortedSlice) ----

function normalizeOrder(inPatch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: string): unknown[] {
  const patchItems = sortByOrder(inPatch, patchOrder, mergeKey, kind);
  const server = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  // Interleave: a server-only element goes before a patch element only when both are in the
  // live list and it came first there.
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < server.length && j < patchItems.length) {
    const li = indexIn(serverOrder, server[i], mergeKey, kind);
    const ri = indexIn(serverOrder, patchItems[j], mergeKey, kind);
    if (li >= 0 && ri >= 0 && li < ri) out.push(server[i++]);
    else out.push(patchItems[j++]);
  }
  return out.concat(server.slice(i), patchItems.slice(j));
}

function sortByOrder(list: unknown[], order: unknown[], mergeKey: string, kind: string): unknown[] {
  let items = list;
  let deletes: unknown[] = [];
  if (kind === 'map') {
    for (const v of [...list, ...order]) mergeKeyValue(v, mergeKey);
    [items, deletes] = splitDeletes(list);
  }
  const idx = new Map(items.map((v) => [v, indexIn(order, v, mergeKey, kind)]));
  const rank = (v: unknown): number => idx.get(v) ?? -1;
  const sorted = [...items];
  if (items.every((v) => rank(v) >= 0)) sorted.sort((a, b) => rank(a) - rank(b));
  else {
    // Go's sort.SliceStable with upstream's `less` (true when either is missing), as insertion sort.
    const less = (a: unknown, b: unknown): boolean => (rank(a) >= 0 && rank(b) >= 0 ? rank(a) < rank(b) : true);
    for (let i = 1; i < sorted.length; i++) for (let j = i; j > 0 && less(sorted[j], sorted[j - 1]); j--) [sorted[j], sorted[j - 1]] = [sorted[j - 1], sorted[j]];
  }
  return sorted.concat(deletes);
}

function indexIn(list: unknown[], value: unknown, mergeKey: string, kind: string): number {
  const key = (v: unknown): unknown => (kind === 'map' ? (isMap(v) ? v[mergeKey] : undefined) : v);
  const want = key(value);
  return list.findIndex((v) => key(v) === want);
}

function splitDeletes(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const deletes: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw badArgType('map', v);
    (v[DIRECTIVE] === 'delete' ? deletes : keep).push(v);
  }
  return [keep, deletes];
}

// ---- values ----

/**
 * The kind shared by the elements of the lists (upstream sliceElementType), or undefined when
 * they are all empty. Lists of lists are refused with 422, mixed kinds with 400.
 */
function elementKind(...lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = goType(v);
      if (kind === undefined) {
        if (t === 'list') throw unprocessablePatch(new Error('lists of lists are not supported'));
        kind = t;
      } else if (kind !== t) {
        throw errors.badRequest(`list element types are not identical: ${goFmt(lists)}`);
      }
    }
  }
  return kind;
}

function goType(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'map' : typeof v;
}

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeKeyValue(v: unknown, mergeKey: string): unknown {
  if (!isMap(v)) throw badArgType('map', v);
  if (!Object.hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
  return v[mergeKey];
}

/** Metadata of `key` in this map: a field of a struct, else the values of a map-typed field. */
function fieldMeta(meta: PatchMeta, key: string): PatchMeta {
  const f = meta.field(key);
  return f === EMPTY_PATCH_META ? meta.item() : f;
}

/** The strategy besides retainKeys: `merge`, `replace` or '' (upstream extractRetainKeysPatchStrategy). */
function patchStrategy(meta: PatchMeta): string {
  return meta.info().strategy.find((s) => s !== 'retainKeys') ?? '';
}

function extractKey(key: string, prefix: string, malformed: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw errors.badRequest(malformed);
  return key.slice(slash + 1);
}

/** Sets a patch value taken as-is, unless it is itself a directive (then the key goes). */
function setOrDrop(obj: JsonMap, key: string, value: unknown): void {
  const v = settled(value);
  if (v === DROPPED) delete obj[key];
  else put(obj, key, v);
}

const DROPPED = Symbol('dropped');

/**
 * A patch value ready to store: null members discarded (upstream discardNullValuesFromPatch),
 * maps carrying `$patch` dropped (removeDirectives), directive keys removed.
 */
function settled(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(settled).filter((e) => e !== DROPPED);
  if (!isMap(v)) return v;
  if (Object.hasOwn(v, DIRECTIVE)) {
    if (v[DIRECTIVE] !== 'merge') return DROPPED;
    delete v[DIRECTIVE];
  }
  for (const [k, e] of Object.entries(v)) {
    const s = e === null || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE) ? DROPPED : settled(e);
    if (s === DROPPED) delete v[k];
    else put(v, k, s);
  }
  return v;
}

/** Own-property write that stays a data property even for the key `__proto__`. */
function put(obj: JsonMap, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

// ---- errors, worded as k8s.io/apimachinery/pkg/util/mergepatch words them ----

function badPatchType(directive: unknown, m: JsonMap): StatusError {
  const d = typeof directive === 'string' ? directive : `%!s(${goTypeName(directive)}=${goFmt(directive)})`;
  return errors.badRequest(`unknown patch type: ${d} in map: ${goFmt(m)}`);
}

function noMergeKey(m: JsonMap, mergeKey: string): StatusError {
  return errors.badRequest(`map: ${goFmt(m)} does not contain declared merge key: ${mergeKey}`);
}

function badArgType(expected: 'map' | 'list', actual: unknown): StatusError {
  const want = expected === 'map' ? 'map[string]interface {}' : '[]interface {}';
  return errors.badRequest(`expected a ${want}, but received a ${goTypeName(actual)}`);
}

/** reflect.TypeOf's name for a decoded value; integers decode as int64 (PreserveInts). */
function goTypeName(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return ({ map: 'map[string]interface {}', list: '[]interface {}', string: 'string', boolean: 'bool', null: '%!s(<nil>)' } as Record<string, string>)[goType(v)] ?? 'interface {}';
}

/** Go's `%v` of a decoded JSON value, as upstream error messages print it (map keys sorted). */
function goFmt(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFmt).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goFmt(v[k])}`).join(' ')}]`;
  return String(v);
}
