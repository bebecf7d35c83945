// Validation of every served kind, as kube-apiserver 1.32 runs it after defaulting: field
// paths and messages are upstream's, so `errors.invalid(kind, group, name, validateObject(...))`
// reads like a real cluster's "The Deployment "web" is invalid: ..." message.
import type { FieldError } from '../errors.js';
import type { ResourceType } from '../kinds.js';
import type { KubeObject } from '../types.js';
import { APPS_VALIDATORS } from './apps.js';
import { BATCH_VALIDATORS } from './batch.js';
import { CORE_VALIDATORS } from './core.js';
import type { KindValidator } from './kind.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { OTHER_VALIDATORS } from './other.js';

export type { KindValidator } from './kind.js';
export { cronScheduleError } from './cron-schedule.js';
export * as formats from './strings.js';

function validatorFor(rt: ResourceType): KindValidator | undefined {
  if (rt.group === '') return CORE_VALIDATORS[rt.kind];
  if (rt.group === 'apps') return APPS_VALIDATORS[rt.kind];
  if (rt.group === 'batch') return BATCH_VALIDATORS[rt.kind];
  return OTHER_VALIDATORS[`${rt.group}/${rt.kind}`];
}

/**
 * Validates an object of type `rt` that has already been defaulted (applyDefaults) and, on
 * create, prepared (prepareForCreate: generated name, uid, namespace, Job selector). With `old`
 * (the stored object) it is an update: metadata identity, immutable fields and allowed
 * transitions are checked too. Returns the field errors in upstream's order; an empty list
 * means valid. Never throws on malformed input: JSON of the wrong type is a field error.
 * Kinds without rules of their own get metadata validation only.
 */
export function validateObject(rt: ResourceType, obj: KubeObject, old?: KubeObject): FieldError[] {
  const v = validatorFor(rt);
  const errs: FieldError[] = [];
  if (!old) {
    errs.push(...validateObjectMeta(obj, rt.namespaced, v?.name ?? (() => [])));
    v?.createBeforeSpec?.(obj, errs);
    v?.spec(obj, errs);
    v?.createOnly?.(obj, errs);
    return errs;
  }
  errs.push(...validateObjectMetaUpdate(obj, old));
  if (v?.updateFirst) v.update?.(obj, old, errs);
  if (!v?.updateReplacesSpec) v?.spec(obj, errs);
  if (!v?.updateFirst) v?.update?.(obj, old, errs);
  return errs;
}
