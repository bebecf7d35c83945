// RFC 6902 JSON Patch (`application/json-patch+json`), answered as kube-apiserver answers it.
//
// kube-apiserver decodes the body twice (handlers/patch.go, applyJSPatch): first strictly into
// `[]handlers.jsonPatchOp`, where a body of the wrong shape is a 400 BadRequest ("error decoding
// patch: json: cannot unmarshal …"), then with evanphx/json-patch, whose failures while applying
// (missing path, failed `test`, bad index, unknown `op`) all become the same generic 422: the
// operation's own message is dropped and kubectl prints "The request is invalid". We keep that
// wording and attach the underlying error as `cause` for our logs only.
import fjp from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { errors, StatusError } from '../../api/errors.js';

/** kube-apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

const KNOWN_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const STRING_FIELDS = ['op', 'path', 'from'] as const;

/**
 * Applies a JSON patch (`ops`, the decoded request body) to `doc` and returns the patched
 * document. Never mutates `doc` or `ops`; the result shares no structure with either.
 *
 * Throws StatusError:
 * - 400 BadRequest when `ops` is not an array of operation objects, or a field of an operation
 *   has the wrong JSON type (the body could not be decoded);
 * - 413 RequestEntityTooLarge beyond MAX_JSON_PATCH_OPERATIONS operations;
 * - 422 Invalid ("the server rejected our request due to an error in our request") when an
 *   operation cannot be applied: unknown `op`, path or `from` that does not resolve, array index
 *   out of range, failed `test`.
 * A `null` body is an empty patch, as for kube-apiserver.
 */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  const operations = decodeOperations(ops);
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`,
      reason: 'RequestEntityTooLarge',
      code: 413,
    });
  }
  let result: unknown = structuredClone(doc);
  for (const op of operations) {
    if (op === null || !KNOWN_OPS.has(String(op.op))) throw unprocessablePatch(new Error(`Unexpected kind: ${op === null ? 'unknown' : String(op.op ?? 'unknown')}`));
    try {
      // Op by op on our own clone, as evanphx applies them: on a failure the clone is dropped.
      result = fjp.applyOperation(result, normalizeOperation(op) as unknown as Operation, true, true, true).newDocument;
    } catch (e) {
      throw unprocessablePatch(e);
    }
  }
  return result;
}

/**
 * The Status kube-apiserver answers when a well-formed patch cannot be applied to the object:
 * `errors.NewGenericServerResponse(422, "", GroupResource{}, "", msg, 0, false)`, which keeps only
 * the generic message. `cause` is kept on the error object (not in the Status) for diagnostics.
 */
export function unprocessablePatch(cause: unknown): StatusError {
  const err = new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: {},
    code: 422,
  });
  err.cause = cause;
  return err;
}

type RawOperation = Record<string, unknown>;

/** The strict decode into []handlers.jsonPatchOp: shape errors are 400s with Go's wording. */
function decodeOperations(ops: unknown): Array<RawOperation | null> {
  if (ops === undefined) throw errors.badRequest('error decoding patch: unexpected end of JSON input');
  if (ops === null) return [];
  if (!Array.isArray(ops)) throw decodeError(`${goJsonKind(ops)} into Go value of type []handlers.jsonPatchOp`);
  const out: Array<RawOperation | null> = [];
  for (const op of ops) {
    if (op === null) {
      out.push(null);
      continue;
    }
    if (typeof op !== 'object' || Array.isArray(op)) throw decodeError(`${goJsonKind(op)} into Go value of type handlers.jsonPatchOp`);
    const raw = op as RawOperation;
    for (const f of STRING_FIELDS) {
      const v = raw[f];
      if (v !== undefined && v !== null && typeof v !== 'string') throw decodeError(`${goJsonKind(v)} into Go struct field jsonPatchOp.${f} of type string`);
    }
    out.push(raw);
  }
  return out;
}

function decodeError(what: string): StatusError {
  return errors.badRequest(`error decoding patch: json: cannot unmarshal ${what}`);
}

/**
 * evanphx/json-patch v4 treats a missing `value` as JSON null (`add` stores null), where
 * fast-json-patch refuses the operation; align on the API server.
 */
function normalizeOperation(op: RawOperation): RawOperation {
  const copy = structuredClone(op);
  if ((copy.op === 'add' || copy.op === 'replace' || copy.op === 'test') && copy.value === undefined) copy.value = null;
  return copy;
}

/** The word Go's encoding/json uses for a JSON value's kind in UnmarshalTypeError. */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}
