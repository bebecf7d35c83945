// Safe reading of untyped JSON for the validators, and the few error constructors the shared
// `field` helpers do not cover. Objects reach validation as plain JSON, not Go structs, so a
// value of the wrong JSON type is reported the way kube-apiserver reports schema type errors
// (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`)
// and then treated as absent, instead of crashing a validator.
import { field, type FieldError } from '../errors.js';
import { isObject } from '../types.js';

export type Obj = Record<string, unknown>;

export const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function typeError(path: string, v: unknown, expected: string): FieldError {
  const actual = jsonType(v);
  return field.typeInvalid(path, actual, `${path} in body must be of type ${expected}: ${JSON.stringify(actual)}`);
}

/** An object field; undefined when absent or null, a type error when not an object. */
export function obj(v: unknown, path: string, errs: FieldError[]): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  errs.push(typeError(path, v, 'object'));
  return undefined;
}

/** A list field; [] when absent or null, a type error when not an array. */
export function list(v: unknown, path: string, errs: FieldError[]): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  errs.push(typeError(path, v, 'array'));
  return [];
}

/** A list of objects: entries that are not objects get a type error and are skipped (their index is kept). */
export function objList(v: unknown, path: string, errs: FieldError[]): [Obj, number][] {
  const out: [Obj, number][] = [];
  list(v, path, errs).forEach((item, i) => {
    const o = obj(item, index(path, i), errs);
    if (o) out.push([o, i]);
    else if (item === null || item === undefined) out.push([{}, i]);
  });
  return out;
}

export function str(v: unknown, path: string, errs: FieldError[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  errs.push(typeError(path, v, 'string'));
  return undefined;
}

export function int(v: unknown, path: string, errs: FieldError[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  errs.push(typeError(path, v, 'integer'));
  return undefined;
}

export function bool(v: unknown, path: string, errs: FieldError[]): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  errs.push(typeError(path, v, 'boolean'));
  return undefined;
}

/** A list of strings (command, args, accessModes, finalizers). */
export function strList(v: unknown, path: string, errs: FieldError[]): string[] {
  const out: string[] = [];
  list(v, path, errs).forEach((item, i) => {
    const s = str(item, index(path, i), errs);
    if (s !== undefined) out.push(s);
  });
  return out;
}

/** A map of strings (labels, selectors, data); undefined when absent. */
export function strMap(v: unknown, path: string, errs: FieldError[]): Record<string, string> | undefined {
  const o = obj(v, path, errs);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (val === null || val === undefined) continue;
    const s = str(val, key(path, k), errs);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** An int-or-string field (targetPort, maxSurge); undefined when absent. */
export function intOrString(v: unknown, path: string, errs: FieldError[]): number | string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return v;
  errs.push(typeError(path, v, 'integer-or-string'));
  return undefined;
}

/**
 * An Invalid error whose bad value upstream prints with Go's %#v (maps, selectors, structs).
 * The shared formatter would JSON-encode a value, so the Go rendering travels in the detail and
 * the value is left out: the message reads exactly as kube-apiserver 1.32 writes it.
 */
export function invalidRepr(path: string, repr: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, detail: `${repr}: ${detail}` };
}

/** NotSupported with a Go-rendered value, for the same reason as invalidRepr. */
export function notSupportedRepr(path: string, repr: string, supported: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field: path, detail: `${repr}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` };
}

/** TooLong as 1.32 writes it: the value is never shown. */
export function tooLong(path: string, max: number): FieldError {
  return { type: 'FieldValueTooLong', field: path, detail: `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` };
}

/** Required with a detail, or without (`Required value`). */
export const required = (path: string, detail?: string): FieldError => field.required(path, detail);

/** ValidateNonnegativeField. */
export function nonNegative(v: number | undefined, path: string): FieldError[] {
  return v !== undefined && v < 0 ? [field.invalid(path, v, 'must be greater than or equal to 0')] : [];
}

/** Deep equality of JSON values, ignoring key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Byte length of a string in UTF-8, which is what upstream size limits count. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
