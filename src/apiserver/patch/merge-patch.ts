// RFC 7386 JSON Merge Patch (`application/merge-patch+json`), as kube-apiserver applies it with
// evanphx/json-patch's MergePatch: `null` deletes a key, objects merge recursively, anything else
// replaces. Two details of that implementation are kept because they decide what gets stored:
// a value added where nothing (or null) was has its nested null members pruned, also inside
// objects in arrays; and a non-object replacing an object is taken as sent.
import { errors } from '../../api/errors.js';
import { goJsonKind } from './json-patch.js';

type JsonObject = Record<string, unknown>;

/**
 * Applies the merge patch `patch` (the decoded request body) to `doc` and returns the result.
 * Never mutates `doc` or `patch`; the result shares no structure with either.
 *
 * Throws StatusError 400 BadRequest, worded as kube-apiserver words it, when the body is not a
 * JSON object: `null` ("Invalid JSON Patch") or an array, string, number or boolean ("error
 * decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}").
 * A `doc` that is not an object is treated as `{}`.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === undefined) throw errors.badRequest('error decoding patch: unexpected end of JSON input');
  if (patch === null) throw errors.badRequest('Invalid JSON Patch');
  if (!isObject(patch)) throw errors.badRequest(`error decoding patch: json: cannot unmarshal ${goJsonKind(patch)} into Go value of type map[string]interface {}`);
  const p = structuredClone(patch);
  if (!isObject(doc)) return pruneNulls(p);
  const target = structuredClone(doc);
  mergeInto(target, p);
  return target;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own-property write that stays a data property even for the key `__proto__`. */
function put(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function mergeInto(doc: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = Object.hasOwn(doc, k) ? doc[k] : null;
    if (cur === null) put(doc, k, pruneNulls(v));
    else put(doc, k, mergeValue(cur, v));
  }
}

function mergeValue(cur: unknown, patch: unknown): unknown {
  if (!isObject(cur)) return pruneNulls(patch);
  if (!isObject(patch)) return patch;
  mergeInto(cur, patch);
  return cur;
}

/** Drops null members of objects, recursively, through arrays too; null array elements stay. */
function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (const e of v) if (e !== null) pruneNulls(e);
  } else if (isObject(v)) {
    for (const [k, e] of Object.entries(v)) {
      if (e === null) delete v[k];
      else pruneNulls(e);
    }
  }
  return v;
}
