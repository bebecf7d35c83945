// apps/v1: Deployments, ReplicaSets, StatefulSets, DaemonSets and ControllerRevisions
// (pkg/apis/apps/validation). The selector must match the template's labels and, in apps/v1,
// never changes after creation.
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { goIntOrString, goLabelSelector, goStrategy, goStringMap } from './go-repr.js';
import type { KindValidator } from './kind.js';
import { selectorMatches, selectorOf, validateAnnotations, validateLabels, validateLabelSelector } from './meta.js';
import { validatePodSpecificAnnotations, validatePodTemplateSpec } from './pod-spec.js';
import { child, int, intOrString, invalidRepr, jsonEqual, nonNegative, notSupportedRepr, obj, objList, str, strMap, type Obj } from './shape.js';
import { isValidPercent, nameIsDNSLabel, nameIsDNSSubdomain } from './strings.js';

const S = 'spec';

function templateLabels(spec: Obj): Record<string, string> | undefined {
  const meta = ((spec.template as Obj | undefined)?.metadata ?? undefined) as Obj | undefined;
  return meta?.labels as Record<string, string> | undefined;
}

/** Selector presence/shape; returns the converted selector for the template check. */
function validateWorkloadSelector(spec: Obj, kind: string, errs: FieldError[], requireSelector = true): ReturnType<typeof selectorOf> {
  const selPath = child(S, 'selector');
  if (spec.selector === undefined || spec.selector === null) {
    if (requireSelector) errs.push(field.required(selPath));
  } else {
    validateLabelSelector(spec.selector, selPath, errs);
    const sel = spec.selector as Obj;
    const n = Object.keys((sel.matchLabels ?? {}) as Obj).length + (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0);
    if (n === 0) errs.push(invalidRepr(selPath, goLabelSelector(sel), `empty selector is invalid for ${kind}`));
  }
  return selectorOf(spec.selector);
}

function templateMismatch(spec: Obj, errs: FieldError[]): void {
  const labels = templateLabels(spec);
  errs.push(invalidRepr(child(child(child(S, 'template'), 'metadata'), 'labels'), goStringMap(labels), '`selector` does not match template `labels`'));
}

/** ValidatePodTemplateSpecForReplicaSet: selector match, pod template, restartPolicy Always. */
function validateTemplateForReplicaSet(spec: Obj, sel: ReturnType<typeof selectorOf>, kind: string, errs: FieldError[]): void {
  const tPath = child(S, 'template');
  if (sel.kind !== 'everything' && !selectorMatches(sel, templateLabels(spec) ?? {})) templateMismatch(spec, errs);
  validatePodTemplateSpec(spec.template, tPath, errs);
  const tspec = ((spec.template as Obj | undefined)?.spec ?? {}) as Obj;
  if (tspec.restartPolicy !== 'Always') errs.push(field.notSupported(child(child(tPath, 'spec'), 'restartPolicy'), tspec.restartPolicy ?? '', ['Always']));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(field.forbidden(child(child(tPath, 'spec'), 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
}

function validateSelectorAndTemplate(spec: Obj, selectorKind: string, ownerKind: string, errs: FieldError[]): void {
  const sel = validateWorkloadSelector(spec, selectorKind, errs);
  if (sel.kind === 'invalid') errs.push(invalidRepr(child(S, 'selector'), goLabelSelector(spec.selector), 'invalid label selector'));
  else validateTemplateForReplicaSet(spec, sel, ownerKind, errs);
}

function percentValue(v: number | string | undefined): number {
  if (typeof v === 'string') return isValidPercent(v).length === 0 ? Number(v.slice(0, -1)) : 0;
  return v ?? 0;
}

function validatePositiveIntOrPercent(v: number | string | undefined, path: string, errs: FieldError[]): void {
  if (typeof v === 'string') isValidPercent(v).forEach((m) => errs.push(invalidRepr(path, goIntOrString(v), m)));
  else errs.push(...nonNegative(v, path));
}

function notMoreThan100Percent(v: number | string | undefined, path: string, errs: FieldError[]): void {
  if (typeof v === 'string' && isValidPercent(v).length === 0 && Number(v.slice(0, -1)) > 100) errs.push(invalidRepr(path, goIntOrString(v), 'must not be greater than 100%'));
}

function validateDeploymentSpec(o: KubeObject, errs: FieldError[]): void {
  const spec = obj(o.spec, S, errs) ?? {};
  errs.push(...nonNegative(int(spec.replicas, child(S, 'replicas'), errs), child(S, 'replicas')));
  validateSelectorAndTemplate(spec, 'deployment', 'ReplicaSet', errs);
  const sPath = child(S, 'strategy');
  const strategy = obj(spec.strategy, sPath, errs) ?? {};
  const type = str(strategy.type, child(sPath, 'type'), errs) ?? '';
  if (type === 'Recreate') {
    if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) errs.push(field.forbidden(child(sPath, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type === 'RollingUpdate') {
    const ruPath = child(sPath, 'rollingUpdate');
    const ru = obj(strategy.rollingUpdate, ruPath, errs);
    if (!ru) errs.push(field.required(ruPath, 'this should be defaulted and never be nil'));
    else {
      const mu = intOrString(ru.maxUnavailable, child(ruPath, 'maxUnavailable'), errs);
      const ms = intOrString(ru.maxSurge, child(ruPath, 'maxSurge'), errs);
      validatePositiveIntOrPercent(mu, child(ruPath, 'maxUnavailable'), errs);
      validatePositiveIntOrPercent(ms, child(ruPath, 'maxSurge'), errs);
      if (percentValue(mu) === 0 && percentValue(ms) === 0) errs.push(invalidRepr(child(ruPath, 'maxUnavailable'), goIntOrString(mu ?? 0), 'may not be 0 when `maxSurge` is 0'));
      notMoreThan100Percent(mu, child(ruPath, 'maxUnavailable'), errs);
    }
  } else {
    errs.push(notSupportedRepr(sPath, goStrategy('apps.DeploymentStrategy', 'apps.RollingUpdateDeployment', strategy), ['Recreate', 'RollingUpdate']));
  }
  const minReady = int(spec.minReadySeconds, child(S, 'minReadySeconds'), errs) ?? 0;
  errs.push(...nonNegative(minReady, child(S, 'minReadySeconds')));
  errs.push(...nonNegative(int(spec.revisionHistoryLimit, child(S, 'revisionHistoryLimit'), errs), child(S, 'revisionHistoryLimit')));
  const pds = int(spec.progressDeadlineSeconds, child(S, 'progressDeadlineSeconds'), errs);
  if (pds !== undefined) {
    errs.push(...nonNegative(pds, child(S, 'progressDeadlineSeconds')));
    if (pds <= minReady) errs.push(field.invalid(child(S, 'progressDeadlineSeconds'), pds, 'must be greater than minReadySeconds'));
  }
}

/** apps/v1 forbids changing a workload's selector (extensions/v1beta1 once allowed it). */
function selectorImmutable(o: KubeObject, old: KubeObject, errs: FieldError[]): void {
  const sel = (o.spec as Obj | undefined)?.selector;
  if (!jsonEqual(sel ?? null, (old.spec as Obj | undefined)?.selector ?? null)) errs.push(invalidRepr(child(S, 'selector'), goLabelSelector(sel), 'field is immutable'));
}

export const deploymentValidator: KindValidator = { name: nameIsDNSSubdomain, spec: validateDeploymentSpec, update: selectorImmutable };

export const replicaSetValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec(o, errs) {
    const spec = obj(o.spec, S, errs) ?? {};
    errs.push(...nonNegative(int(spec.replicas, child(S, 'replicas'), errs), child(S, 'replicas')));
    errs.push(...nonNegative(int(spec.minReadySeconds, child(S, 'minReadySeconds'), errs), child(S, 'minReadySeconds')));
    // Upstream's ReplicaSet message says "deployment" too.
    validateSelectorAndTemplate(spec, 'deployment', 'ReplicaSet', errs);
  },
  update: selectorImmutable,
};

function validateStatefulSetSpec(o: KubeObject, errs: FieldError[]): void {
  const spec = obj(o.spec, S, errs) ?? {};
  const pmp = str(spec.podManagementPolicy, child(S, 'podManagementPolicy'), errs) ?? '';
  if (!pmp) errs.push(field.required(child(S, 'podManagementPolicy')));
  else if (!['OrderedReady', 'Parallel'].includes(pmp)) errs.push(field.invalid(child(S, 'podManagementPolicy'), pmp, "must be 'OrderedReady' or 'Parallel'"));
  const usPath = child(S, 'updateStrategy');
  const us = obj(spec.updateStrategy, usPath, errs) ?? {};
  const type = str(us.type, child(usPath, 'type'), errs) ?? '';
  if (!type) errs.push(field.required(usPath));
  else if (type === 'OnDelete') {
    if (us.rollingUpdate !== undefined && us.rollingUpdate !== null) errs.push(invalidRepr(child(usPath, 'rollingUpdate'), '&apps.RollingUpdateStatefulSetStrategy{}', "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (type === 'RollingUpdate') {
    const ru = obj(us.rollingUpdate, child(usPath, 'rollingUpdate'), errs);
    if (ru) {
      const ruPath = child(usPath, 'rollingUpdate');
      errs.push(...nonNegative(int(ru.partition, child(ruPath, 'partition'), errs), child(ruPath, 'partition')));
      const mu = intOrString(ru.maxUnavailable, child(ruPath, 'maxUnavailable'), errs);
      if (mu !== undefined) {
        validatePositiveIntOrPercent(mu, child(ruPath, 'maxUnavailable'), errs);
        if (percentValue(mu) === 0) errs.push(invalidRepr(child(ruPath, 'maxUnavailable'), goIntOrString(mu), 'cannot be 0'));
        notMoreThan100Percent(mu, child(ruPath, 'maxUnavailable'), errs);
      }
    }
  } else {
    errs.push(invalidRepr(usPath, goStrategy('apps.StatefulSetUpdateStrategy', 'apps.RollingUpdateStatefulSetStrategy', us), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = obj(spec.persistentVolumeClaimRetentionPolicy, child(S, 'persistentVolumeClaimRetentionPolicy'), errs);
  if (retention) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      const v = typeof retention[f] === 'string' ? (retention[f] as string) : '';
      if (!['Retain', 'Delete'].includes(v)) errs.push(field.notSupported(child(child(S, 'persistentVolumeClaimRetentionPolicy'), f), v, ['Retain', 'Delete']));
    }
  }
  errs.push(...nonNegative(int(spec.replicas, child(S, 'replicas'), errs), child(S, 'replicas')));
  errs.push(...nonNegative(int(spec.minReadySeconds, child(S, 'minReadySeconds'), errs), child(S, 'minReadySeconds')));
  const ordinals = obj(spec.ordinals, child(S, 'ordinals'), errs);
  if (ordinals) errs.push(...nonNegative(int(ordinals.start, 'spec.ordinals.start', errs), 'spec.ordinals.start'));
  const sel = validateWorkloadSelector(spec, 'statefulset', errs);
  const tPath = child(S, 'template');
  if (sel.kind === 'invalid') errs.push(invalidRepr(child(S, 'selector'), goLabelSelector(spec.selector), ''));
  else {
    // Upstream does not validate a StatefulSet's pod spec (mounts may name claim templates),
    // only the template's labels and annotations.
    if (sel.kind !== 'everything' && !selectorMatches(sel, templateLabels(spec) ?? {})) templateMismatch(spec, errs);
    const meta = ((spec.template as Obj | undefined)?.metadata ?? {}) as Obj;
    errs.push(...validateLabels(strMap(meta.labels, child(child(tPath, 'metadata'), 'labels'), errs), child(tPath, 'labels')));
    const annotations = strMap(meta.annotations, child(child(tPath, 'metadata'), 'annotations'), errs);
    errs.push(...validateAnnotations(annotations, child(tPath, 'annotations')));
    validatePodSpecificAnnotations(annotations, child(tPath, 'annotations'), errs);
  }
  const tspec = ((spec.template as Obj | undefined)?.spec ?? {}) as Obj;
  if (tspec.restartPolicy !== 'Always') errs.push(field.notSupported(child(child(tPath, 'spec'), 'restartPolicy'), tspec.restartPolicy ?? '', ['Always']));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(field.forbidden(child(child(tPath, 'spec'), 'activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  // volumeClaimTemplates are not validated upstream either; the controller's PVC create is.
  objList(spec.volumeClaimTemplates, child(S, 'volumeClaimTemplates'), errs);
}

export const statefulSetValidator: KindValidator = {
  name: nameIsDNSLabel,
  spec: validateStatefulSetSpec,
  update(o, old, errs) {
    const spec = structuredClone((o.spec ?? {}) as Obj);
    const before = (old.spec ?? {}) as Obj;
    for (const f of ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']) {
      if (before[f] === undefined) delete spec[f];
      else spec[f] = before[f];
    }
    if (!jsonEqual(spec, before)) {
      errs.push(field.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
    }
  },
};

function validateDaemonSetSpec(o: KubeObject, errs: FieldError[]): void {
  const spec = obj(o.spec, S, errs) ?? {};
  validateLabelSelector(spec.selector, child(S, 'selector'), errs);
  const sel = selectorOf(spec.selector);
  if (sel.kind !== 'invalid' && !selectorMatches(sel, templateLabels(spec) ?? {})) templateMismatch(spec, errs);
  const s = spec.selector as Obj | undefined;
  if (s && typeof s === 'object' && Object.keys((s.matchLabels ?? {}) as Obj).length + (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0) === 0) {
    errs.push(invalidRepr(child(S, 'selector'), goLabelSelector(s), 'empty selector is invalid for daemonset'));
  }
  const tPath = child(S, 'template');
  validatePodTemplateSpec(spec.template, tPath, errs);
  const tspec = ((spec.template as Obj | undefined)?.spec ?? {}) as Obj;
  if (tspec.restartPolicy !== 'Always') errs.push(field.notSupported(child(child(tPath, 'spec'), 'restartPolicy'), tspec.restartPolicy ?? '', ['Always']));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(field.forbidden(child(child(tPath, 'spec'), 'activeDeadlineSeconds'), 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  errs.push(...nonNegative(int(spec.minReadySeconds, child(S, 'minReadySeconds'), errs), child(S, 'minReadySeconds')));
  const usPath = child(S, 'updateStrategy');
  const us = obj(spec.updateStrategy, usPath, errs) ?? {};
  if (us.type === 'RollingUpdate') {
    const ruPath = child(usPath, 'rollingUpdate');
    const ru = obj(us.rollingUpdate, ruPath, errs);
    if (!ru) errs.push(field.required(ruPath));
    else {
      const mu = intOrString(ru.maxUnavailable, child(ruPath, 'maxUnavailable'), errs);
      const ms = intOrString(ru.maxSurge, child(ruPath, 'maxSurge'), errs);
      validatePositiveIntOrPercent(mu, child(ruPath, 'maxUnavailable'), errs);
      validatePositiveIntOrPercent(ms, child(ruPath, 'maxSurge'), errs);
      notMoreThan100Percent(mu, child(ruPath, 'maxUnavailable'), errs);
      notMoreThan100Percent(ms, child(ruPath, 'maxSurge'), errs);
      const hasU = percentValue(mu) !== 0;
      const hasS = percentValue(ms) !== 0;
      if (hasU && hasS) errs.push(invalidRepr(child(ruPath, 'maxSurge'), goIntOrString(ms ?? 0), 'may not be set when maxUnavailable is non-zero'));
      else if (!hasU && !hasS) errs.push(field.required(child(ruPath, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
    }
  } else if (us.type !== 'OnDelete') {
    errs.push(notSupportedRepr(usPath, goStrategy('apps.DaemonSetUpdateStrategy', 'apps.RollingUpdateDaemonSet', us), ['RollingUpdate', 'OnDelete']));
  }
  errs.push(...nonNegative(int(spec.revisionHistoryLimit, child(S, 'revisionHistoryLimit'), errs), child(S, 'revisionHistoryLimit')));
}

export const daemonSetValidator: KindValidator = { name: nameIsDNSSubdomain, spec: validateDaemonSetSpec, update: selectorImmutable };

export const controllerRevisionValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec(o, errs) {
    if (o.data === undefined || o.data === null) errs.push(field.required('data', 'data is mandatory'));
    errs.push(...nonNegative(int(o.revision, 'revision', errs), 'revision'));
  },
  update(o, old, errs) {
    if (!jsonEqual(o.data, old.data)) errs.push(field.invalid('data', '', 'field is immutable'));
  },
};

/** Validators of apps/v1, by kind. */
export const APPS_VALIDATORS: Record<string, KindValidator> = {
  Deployment: deploymentValidator,
  ReplicaSet: replicaSetValidator,
  StatefulSet: statefulSetValidator,
  DaemonSet: daemonSetValidator,
  ControllerRevision: controllerRevisionValidator,
};

