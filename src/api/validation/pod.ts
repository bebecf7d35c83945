// Pods: ValidatePodCreate and ValidatePodUpdate. A running pod's spec is immutable except for
// container images, activeDeadlineSeconds, added tolerations and removed scheduling gates.
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { KindValidator } from './kind.js';
import { validatePodSpec, validatePodSpecificAnnotations, validateTolerations } from './pod-spec.js';
import { child, index, jsonEqual, list, obj, objList, strMap, type Obj } from './shape.js';
import { inclusiveRangeError, nameIsDNSSubdomain } from './strings.js';

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function specOf(o: KubeObject, errs: FieldError[]): Obj {
  return obj(o.spec, 'spec', errs) ?? {};
}

/** validatePodMetadataAndSpec without ObjectMeta (the dispatcher adds it). */
function podSpecAndAnnotations(o: KubeObject, errs: FieldError[]): void {
  validatePodSpecificAnnotations(strMap(o.metadata?.annotations, 'metadata.annotations', []), 'metadata.annotations', errs);
  const spec = specOf(o, errs);
  validatePodSpec(spec, 'spec', { resourceIsPod: true }, errs);
  for (const kind of ['containers', 'initContainers']) {
    for (const [c, i] of objList(spec[kind], child('spec', kind), [])) {
      if (typeof c.image === 'string' && c.image !== c.image.trim()) {
        errs.push(field.invalid(child(index(child('spec', kind), i), 'image'), c.image, 'must not have leading or trailing whitespace'));
      }
    }
  }
}

/** A short account of what differs, standing in for upstream's cmp.Diff of the Go structs. */
export function describeDiff(before: unknown, after: unknown, path = 'spec'): string[] {
  if (jsonEqual(before, after)) return [];
  const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => describeDiff(before[k], after[k], `${path}.${k}`));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => describeDiff(b, after[i], `${path}[${i}]`));
  }
  return [`-\t${path}: ${JSON.stringify(before ?? null)}`, `+\t${path}: ${JSON.stringify(after ?? null)}`];
}

function validatePodUpdate(o: KubeObject, old: KubeObject, errs: FieldError[]): void {
  const spec = specOf(o, []);
  const oldSpec = specOf(old, []);
  for (const kind of ['containers', 'initContainers']) {
    const now = list(spec[kind], '', []) as Obj[];
    const before = list(oldSpec[kind], '', []) as Obj[];
    if (now.length !== before.length) {
      errs.push(field.forbidden(child('spec', kind), 'pod updates may not add or remove containers'));
      return;
    }
    now.forEach((c, i) => {
      const image = typeof c?.image === 'string' ? c.image : '';
      if (!image) errs.push(field.required(child(index(child('spec', kind), i), 'image')));
    });
  }
  const ads = spec.activeDeadlineSeconds;
  const oldAds = oldSpec.activeDeadlineSeconds;
  if (typeof ads === 'number') {
    if (ads < 0 || ads > 2147483647) {
      errs.push(field.invalid('spec.activeDeadlineSeconds', ads, inclusiveRangeError(0, 2147483647)));
      return;
    }
    if (typeof oldAds === 'number' && oldAds < ads) {
      errs.push(field.invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value'));
      return;
    }
  } else if (typeof oldAds === 'number') {
    errs.push(field.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  // Tolerations: every old one must still be there (tolerationSeconds may change).
  const newTols = list(spec.tolerations, '', []) as Obj[];
  for (const t of list(oldSpec.tolerations, '', []) as Obj[]) {
    const found = newTols.some((n) => jsonEqual({ ...t, tolerationSeconds: n?.tolerationSeconds }, n));
    if (!found) {
      errs.push(field.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  validateTolerations(spec.tolerations, 'spec.tolerations', []);
  const oldGates = new Set((list(oldSpec.schedulingGates, '', []) as Obj[]).map((g) => g?.name));
  (list(spec.schedulingGates, '', []) as Obj[]).forEach((g, i) => {
    if (!oldGates.has(g?.name)) errs.push(field.forbidden(child(index('spec.schedulingGates', i), 'name'), `only deletion is allowed, but found new scheduling gate '${String(g?.name)}'`));
  });
  if (jsonEqual(spec, oldSpec)) return;

  const munged: Obj = structuredClone(spec);
  for (const kind of ['containers', 'initContainers']) {
    const cs = munged[kind];
    if (Array.isArray(cs)) cs.forEach((c: Obj, i) => (c.image = ((oldSpec[kind] as Obj[])[i] ?? {}).image));
  }
  setOrDelete(munged, 'activeDeadlineSeconds', oldSpec.activeDeadlineSeconds);
  setOrDelete(munged, 'schedulingGates', oldSpec.schedulingGates);
  setOrDelete(munged, 'tolerations', oldSpec.tolerations);
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (oldGates.size > 0) {
    // Gated pods may gain node selectors and node affinity before they are scheduled.
    const oldSel = (oldSpec.nodeSelector ?? {}) as Record<string, unknown>;
    const newSel = (munged.nodeSelector ?? {}) as Record<string, unknown>;
    if (Object.entries(oldSel).every(([k, v]) => newSel[k] === v)) setOrDelete(munged, 'nodeSelector', oldSpec.nodeSelector);
    else errs.push(field.invalid('spec.nodeSelector', munged.nodeSelector, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
  }
  if (!jsonEqual(munged, oldSpec)) {
    const diff = describeDiff(oldSpec, munged).join('\n');
    errs.push(field.forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${diff}`));
  }
}

function setOrDelete(o: Obj, k: string, v: unknown): void {
  if (v === undefined) delete o[k];
  else o[k] = structuredClone(v);
}

export const podValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: podSpecAndAnnotations,
  createOnly(o, errs) {
    const spec = specOf(o, []);
    if (list(spec.ephemeralContainers, '', []).length > 0) errs.push(field.forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    if (spec.nodeName && list(spec.schedulingGates, '', []).length > 0) {
      errs.push(field.forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
    }
  },
  update: validatePodUpdate,
};
