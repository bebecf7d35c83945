// The shape of a per-kind validator, shared by the group files and the dispatcher.
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { NameValidator } from './strings.js';

/**
 * How one kind is validated. The dispatcher runs metadata validation (ValidateObjectMeta on
 * create, ValidateObjectMetaUpdate on update) and then these hooks, in upstream's order.
 */
export interface KindValidator {
  /** The kind's name rule (DNS subdomain for most kinds). */
  name: NameValidator;
  /** Everything but metadata, on create and on update (validated against the new object). */
  spec(o: KubeObject, errs: FieldError[]): void;
  /** Checks upstream makes only on create, before spec validation. */
  createBeforeSpec?(o: KubeObject, errs: FieldError[]): void;
  /** Checks upstream makes only on create (after spec). */
  createOnly?(o: KubeObject, errs: FieldError[]): void;
  /** Immutability and transition rules (after spec), given the stored object. */
  update?(o: KubeObject, old: KubeObject, errs: FieldError[]): void;
  /** When set, update validation replaces spec validation entirely. */
  updateReplacesSpec?: boolean;
  /** When set, the update rules run before spec validation, matching upstream's error order. */
  updateFirst?: boolean;
}
