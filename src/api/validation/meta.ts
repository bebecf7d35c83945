// Object metadata, labels, annotations and label selectors: apimachinery's ValidateObjectMeta,
// ValidateObjectMetaUpdate and metav1 validation, plus core's finalizer-name rule.
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { goTime } from './go-repr.js';
import { child, index, jsonEqual, list, nonNegative, obj, objList, str, strList, strMap, tooLong, utf8Length, type Obj } from './shape.js';
import { isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './strings.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export function validateLabelName(name: string, path: string): FieldError[] {
  return isQualifiedName(name).map((m) => field.invalid(path, name, m));
}

/** ValidateLabels: errors point at the map itself (`metadata.labels`), with the bad key or value. */
export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, path));
    for (const m of isValidLabelValue(v)) errs.push(field.invalid(path, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // Annotation keys are qualified names, case-insensitively.
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(field.invalid(path, k, m));
    size += utf8Length(k) + utf8Length(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** metav1 ValidateLabelSelector (strict about values, as workload selectors are). */
export function validateLabelSelector(selector: unknown, path: string, errs: FieldError[]): void {
  const sel = obj(selector, path, errs);
  if (!sel) return;
  errs.push(...validateLabels(strMap(sel.matchLabels, child(path, 'matchLabels'), errs), child(path, 'matchLabels')));
  for (const [expr, i] of objList(sel.matchExpressions, child(path, 'matchExpressions'), errs)) {
    const p = index(child(path, 'matchExpressions'), i);
    const op = str(expr.operator, child(p, 'operator'), errs) ?? '';
    const values = strList(expr.values, child(p, 'values'), errs);
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(field.required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) errs.push(field.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errs.push(field.invalid(child(p, 'operator'), op, 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(str(expr.key, child(p, 'key'), errs) ?? '', child(p, 'key')));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(field.invalid(index(child(p, 'values'), j), v, m));
    });
  }
}

/**
 * How a LabelSelector behaves once converted (metav1.LabelSelectorAsSelector): `nothing` for an
 * absent selector (matches no labels, and is not "empty"), `everything` for `{}`, `invalid`
 * when conversion would fail, else a matcher.
 */
export type SelectorKind = { kind: 'nothing' } | { kind: 'everything' } | { kind: 'invalid' } | { kind: 'match'; matches: (labels: Record<string, string>) => boolean };

export function selectorOf(selector: unknown): SelectorKind {
  if (selector === undefined || selector === null) return { kind: 'nothing' };
  const scratch: FieldError[] = [];
  validateLabelSelector(selector, 'selector', scratch);
  if (scratch.length > 0) return { kind: 'invalid' };
  const sel = selector as Obj;
  const ml = (sel.matchLabels ?? {}) as Record<string, string>;
  const exprs = (Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) as Obj[];
  if (Object.keys(ml).length === 0 && exprs.length === 0) return { kind: 'everything' };
  return {
    kind: 'match',
    matches: (labels) => labelsMatch(ml, exprs, labels),
  };
}

function labelsMatch(ml: Record<string, string>, exprs: Obj[], labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of exprs) {
    const k = String(e.key);
    const values = (Array.isArray(e.values) ? e.values : []).map(String);
    const has = Object.prototype.hasOwnProperty.call(labels, k);
    const val = labels[k];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(val ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(val ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** True when a selector's requirements hold for the labels (absent selector: false). */
export function selectorMatches(sel: SelectorKind, labels: Record<string, string>): boolean {
  if (sel.kind === 'everything') return true;
  if (sel.kind === 'match') return sel.matches(labels);
  return false;
}

function validateFinalizers(finalizers: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers) for (const m of isQualifiedName(f)) errs.push(field.invalid(path, f, m));
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errs.push(field.invalid(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  finalizers.forEach((f, i) => {
    // core adds: a finalizer without a domain must be one Kubernetes knows.
    if (!f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(field.invalid(index(path, i), f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

function validateOwnerReferences(v: unknown, path: string, errs: FieldError[]): void {
  let controllers = 0;
  for (const [ref] of objList(v, path, errs)) {
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    if (!version) errs.push(field.invalid(child(path, 'apiVersion'), apiVersion, 'version must not be empty'));
    for (const f of ['kind', 'name', 'uid']) {
      const val = typeof ref[f] === 'string' ? (ref[f] as string) : '';
      if (!val) errs.push(field.invalid(child(path, f), val, 'must not be empty'));
    }
    if (ref.controller === true) controllers++;
  }
  if (controllers > 1) errs.push(field.invalid(path, list(v, path, []).length, 'Only one reference can have Controller set to true'));
}

/**
 * ValidateObjectMeta on create: `nameFn` is the kind's name rule, `namespaced` whether the kind
 * requires a namespace (cluster-scoped kinds must not carry one). Name generation is expected to
 * have happened already, as in kube-apiserver's BeforeCreate.
 */
export function validateObjectMeta(o: KubeObject, namespaced: boolean, nameFn: NameValidator, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const meta = obj(o.metadata, path, errs) ?? {};
  const generateName = str(meta.generateName, child(path, 'generateName'), errs) ?? '';
  const name = str(meta.name, child(path, 'name'), errs) ?? '';
  if (generateName) for (const m of nameFn(generateName, true)) errs.push(field.invalid(child(path, 'generateName'), generateName, m));
  if (!name) errs.push(field.required(child(path, 'name'), 'name or generateName is required'));
  else for (const m of nameFn(name, false)) errs.push(field.invalid(child(path, 'name'), name, m));
  const ns = str(meta.namespace, child(path, 'namespace'), errs) ?? '';
  if (namespaced) {
    if (!ns) errs.push(field.required(child(path, 'namespace')));
    else for (const m of nameIsDNSLabel(ns, false)) errs.push(field.invalid(child(path, 'namespace'), ns, m));
  } else if (ns) {
    errs.push(field.forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (typeof meta.generation === 'number') errs.push(...nonNegative(meta.generation, child(path, 'generation')));
  errs.push(...validateLabels(strMap(meta.labels, child(path, 'labels'), errs), child(path, 'labels')));
  errs.push(...validateAnnotations(strMap(meta.annotations, child(path, 'annotations'), errs), child(path, 'annotations')));
  validateOwnerReferences(meta.ownerReferences, child(path, 'ownerReferences'), errs);
  errs.push(...validateFinalizers(strList(meta.finalizers, child(path, 'finalizers'), errs), child(path, 'finalizers')));
  return errs;
}

/**
 * ValidateObjectMetaUpdate: identity fields are immutable. The resourceVersion precondition is
 * left to the registry, which fills it for unconditional updates before upstream validates.
 */
export function validateObjectMetaUpdate(o: KubeObject, old: KubeObject, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const m = (o.metadata ?? {}) as Obj;
  const om = (old.metadata ?? {}) as Obj;
  if (om.deletionTimestamp) {
    const before = new Set(strList(om.finalizers, '', []));
    const added = strList(m.finalizers, '', []).filter((f) => !before.has(f));
    if (added.length > 0) {
      errs.push(field.forbidden(child(path, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`));
    }
  }
  if (typeof m.generation === 'number' && typeof om.generation === 'number' && m.generation < om.generation) {
    errs.push(field.invalid(child(path, 'generation'), m.generation, 'must not be decremented'));
  }
  for (const f of ['name', 'namespace', 'uid']) {
    if ((m[f] ?? '') !== (om[f] ?? '')) errs.push(field.invalid(child(path, f), m[f] ?? '', 'field is immutable'));
  }
  for (const f of ['creationTimestamp', 'deletionTimestamp']) {
    if (!jsonEqual(m[f] ?? null, om[f] ?? null)) {
      errs.push({ type: 'FieldValueInvalid', field: child(path, f), detail: `${goTime(m[f])}: field is immutable` });
    }
  }
  if (!jsonEqual(m.deletionGracePeriodSeconds ?? null, om.deletionGracePeriodSeconds ?? null)) {
    errs.push(field.invalid(child(path, 'deletionGracePeriodSeconds'), m.deletionGracePeriodSeconds ?? null, 'field is immutable'));
  }
  errs.push(...validateLabels(strMap(m.labels, child(path, 'labels'), errs), child(path, 'labels')));
  errs.push(...validateAnnotations(strMap(m.annotations, child(path, 'annotations'), errs), child(path, 'annotations')));
  validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences'), errs);
  errs.push(...validateFinalizers(strList(m.finalizers, child(path, 'finalizers'), errs), child(path, 'finalizers')));
  return errs;
}
