// Strict decoding (fieldValidation=Strict|Warn|Ignore), as kube-apiserver's decoder does it:
// values of the wrong type are always refused (the object cannot be decoded at all); unknown
// and duplicate fields are refused under Strict, reported as warnings under Warn, and dropped
// from the object under Warn and Ignore.
import { errors } from '../api/errors.js';
import type { ResourceType } from '../api/kinds.js';
import { apiVersionOfResource } from '../api/kinds.js';
import { checkFields, pruneUnknownFields } from '../api/schema.js';
import type { KubeObject } from '../api/types.js';

export interface DecodingContext {
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  warnings: string[];
  /** Duplicate-field findings from the raw request body (set by the HTTP layer). */
  duplicateFields?: string[];
}

const isStrictOnly = (m: string) => m.startsWith('unknown field') || m.startsWith('duplicate field');

/** Throws 400 BadRequest as upstream words it; pushes warnings under Warn. */
export function checkDecoding(rt: ResourceType, obj: KubeObject, ctx: DecodingContext): void {
  const found = checkFields(obj, apiVersionOfResource(rt), rt.kind);
  const typeErrors = found.filter((m) => !isStrictOnly(m));
  const prefix = `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: `;
  if (typeErrors.length) throw errors.badRequest(prefix + typeErrors[0]);
  const strict = [...(ctx.duplicateFields ?? []), ...found.filter(isStrictOnly)];
  if (!strict.length) return;
  if (ctx.fieldValidation === 'Strict') throw errors.badRequest(`${prefix}strict decoding error: ${strict.join(', ')}`);
  if (ctx.fieldValidation === 'Warn') ctx.warnings.push(...strict);
  // what kube-apiserver's decoder does to unknown fields it does not refuse: drops them
  pruneUnknownFields(obj, apiVersionOfResource(rt), rt.kind);
}
