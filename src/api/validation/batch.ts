// batch/v1: Jobs and CronJobs (pkg/apis/batch/validation).
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { cronScheduleError } from './cron-schedule.js';
import { goLabelSelector, goStringMap } from './go-repr.js';
import type { KindValidator } from './kind.js';
import { selectorMatches, selectorOf, validateLabelName, validateLabelSelector } from './meta.js';
import { validatePodTemplateSpec } from './pod-spec.js';
import { bool, child, index, int, invalidRepr, jsonEqual, list, nonNegative, obj, objList, str, type Obj } from './shape.js';
import { isDNS1123Label, maxLenError, nameIsDNSSubdomain } from './strings.js';

export const LABEL_CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
export const LABEL_JOB_NAME = 'batch.kubernetes.io/job-name';
export const LEGACY_LABEL_CONTROLLER_UID = 'controller-uid';
export const LEGACY_LABEL_JOB_NAME = 'job-name';

const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const goQuoteList = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
const goInt32s = (v: unknown) => (Array.isArray(v) ? `[]int32{${v.join(', ')}}` : '[]int32(nil)');

/** Parses "0,2-3" style index lists; returns the count or upstream's error text. */
function indexesError(text: string, completions: number): { total: number } | { error: string } {
  if (!text) return { total: 0 };
  let last: number | undefined;
  let total = 0;
  for (const interval of text.split(',')) {
    const parts = interval.split('-');
    if (parts.length > 2) return { error: `the fragment ${JSON.stringify(interval)} violates the requirement that an index interval can have at most two parts separated by '-'` };
    const nums: number[] = [];
    for (const p of parts) {
      if (!/^[+-]?\d+$/.test(p)) return { error: `cannot convert string to integer for index: ${JSON.stringify(p)}` };
      if (Number(p) >= completions) return { error: `too large index: ${JSON.stringify(p)}` };
      nums.push(Number(p));
    }
    const x = nums[0] ?? 0;
    const y = nums[1] ?? x;
    if (nums.length === 2 && x >= y) return { error: `non-increasing order, previous: ${x}, current: ${y}` };
    if (last !== undefined && last >= x) return { error: `non-increasing order, previous: ${last}, current: ${x}` };
    total += y - x + 1;
    last = y;
  }
  return { total };
}

function validatePodFailurePolicy(spec: Obj, path: string, errs: FieldError[]): void {
  const pfp = obj(spec.podFailurePolicy, path, errs) ?? {};
  const rulesPath = child(path, 'rules');
  const rules = objList(pfp.rules, rulesPath, errs);
  if (rules.length > 20) errs.push(field.tooMany(rulesPath, rules.length, 20));
  const tspec = ((spec.template as Obj | undefined)?.spec ?? {}) as Obj;
  const names = new Set([...list(tspec.containers, '', []), ...list(tspec.initContainers, '', [])].map((c) => (c as Obj)?.name));
  for (const [rule, i] of rules) {
    const rp = index(rulesPath, i);
    const action = str(rule.action, child(rp, 'action'), errs) ?? '';
    if (!action) errs.push(field.required(child(rp, 'action'), `valid values: ${goQuoteList(ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null) errs.push(field.invalid(child(rp, 'action'), action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!ACTIONS.includes(action)) errs.push(field.notSupported(child(rp, 'action'), action, ACTIONS));
    const oec = obj(rule.onExitCodes, child(rp, 'onExitCodes'), errs);
    if (oec) {
      const p = child(rp, 'onExitCodes');
      const op = str(oec.operator, child(p, 'operator'), errs) ?? '';
      if (!op) errs.push(field.required(child(p, 'operator'), `valid values: ${goQuoteList(['In', 'NotIn'])}`));
      else if (!['In', 'NotIn'].includes(op)) errs.push(field.notSupported(child(p, 'operator'), op, ['In', 'NotIn']));
      const cn = str(oec.containerName, child(p, 'containerName'), errs);
      if (cn !== undefined && !names.has(cn)) errs.push(field.invalid(child(p, 'containerName'), cn, 'must be one of the container or initContainer names in the pod template'));
      const values = list(oec.values, child(p, 'values'), errs).filter((v): v is number => typeof v === 'number');
      if (values.length === 0) errs.push(invalidRepr(child(p, 'values'), goInt32s(oec.values), 'at least one value is required'));
      else if (values.length > 255) errs.push(field.tooMany(child(p, 'values'), values.length, 255));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (op === 'In' && v === 0) errs.push(field.invalid(index(child(p, 'values'), j), 0, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(field.duplicate(index(child(p, 'values'), j), v));
        seen.add(v);
        if (j > 0 && (values[j - 1] ?? 0) > v) ordered = false;
      });
      if (!ordered) errs.push(invalidRepr(child(p, 'values'), goInt32s(values), 'must be ordered'));
    }
    const conds = objList(rule.onPodConditions, child(rp, 'onPodConditions'), errs);
    if (conds.length > 20) errs.push(field.tooMany(child(rp, 'onPodConditions'), conds.length, 20));
    for (const [c, j] of conds) {
      const cp = index(child(rp, 'onPodConditions'), j);
      errs.push(...validateLabelName(typeof c.type === 'string' ? c.type : '', child(cp, 'type')));
      const status = typeof c.status === 'string' ? c.status : '';
      if (!status) errs.push(field.required(child(cp, 'status'), `valid values: ${goQuoteList(['False', 'True', 'Unknown'])}`));
      else if (!['False', 'True', 'Unknown'].includes(status)) errs.push(field.notSupported(child(cp, 'status'), status, ['False', 'True', 'Unknown']));
    }
    if (oec && conds.length > 0) errs.push({ type: 'FieldValueInvalid', field: rp, detail: 'specifying both OnExitCodes and OnPodConditions is not supported' });
    if (!oec && conds.length === 0) errs.push({ type: 'FieldValueInvalid', field: rp, detail: 'specifying one of OnExitCodes and OnPodConditions is required' });
  }
}

function validateSuccessPolicy(spec: Obj, path: string, errs: FieldError[]): void {
  const sp = obj(spec.successPolicy, path, errs) ?? {};
  const rulesPath = child(path, 'rules');
  const rules = objList(sp.rules, rulesPath, errs);
  if (rules.length === 0) errs.push(field.required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > 20) errs.push(field.tooMany(rulesPath, rules.length, 20));
  const completions = typeof spec.completions === 'number' ? spec.completions : 0;
  for (const [rule, i] of rules) {
    const rp = index(rulesPath, i);
    const indexes = str(rule.succeededIndexes, child(rp, 'succeededIndexes'), errs);
    const count = int(rule.succeededCount, child(rp, 'succeededCount'), errs);
    if (indexes === undefined && count === undefined) errs.push(field.required(rp, 'at least one of succeededCount or succeededIndexes must be specified'));
    let total = 0;
    if (indexes !== undefined) {
      const r = indexesError(indexes, completions);
      if ('error' in r) errs.push(field.invalid(child(rp, 'succeededIndexes'), indexes, `error parsing succeededIndexes: ${r.error}`));
      else total = r.total;
    }
    if (count !== undefined) {
      errs.push(...nonNegative(count, child(rp, 'succeededCount')));
      if (count > completions) errs.push(field.invalid(child(rp, 'succeededCount'), count, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (indexes !== undefined && count > total) errs.push(field.invalid(child(rp, 'succeededCount'), count, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  }
}

/** validateJobSpec: everything about a job spec except its selector (shared with CronJob templates). */
function validateJobSpecBody(spec: Obj, path: string, errs: FieldError[]): void {
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    errs.push(...nonNegative(int(spec[f], child(path, f), errs), child(path, f)));
  }
  const has = (f: string) => spec[f] !== undefined && spec[f] !== null;
  if (has('maxFailedIndexes') && !has('backoffLimitPerIndex')) errs.push(field.required(child(path, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  const mode = str(spec.completionMode, child(path, 'completionMode'), errs);
  if (mode !== undefined && !['NonIndexed', 'Indexed'].includes(mode)) errs.push(field.notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (!has('completions')) errs.push(field.required(child(path, 'completions'), 'when completion mode is Indexed'));
    const par = typeof spec.parallelism === 'number' ? spec.parallelism : 0;
    if (par > 100000) errs.push(field.invalid(child(path, 'parallelism'), par, 'must be less than or equal to 100000 when completion mode is Indexed'));
    if (typeof spec.completions === 'number' && typeof spec.maxFailedIndexes === 'number' && spec.maxFailedIndexes > spec.completions) {
      errs.push(field.invalid(child(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'must be less than or equal to completions'));
    }
  } else {
    if (has('backoffLimitPerIndex')) errs.push(field.invalid(child(path, 'backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (has('maxFailedIndexes')) errs.push(field.invalid(child(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (has('podFailurePolicy')) validatePodFailurePolicy(spec, child(path, 'podFailurePolicy'), errs);
  if (has('successPolicy')) {
    if (mode !== 'Indexed') errs.push(invalidRepr(child(path, 'successPolicy'), 'batch.SuccessPolicy{...}', 'requires indexed completion mode'));
    else validateSuccessPolicy(spec, child(path, 'successPolicy'), errs);
  }
  const prp = str(spec.podReplacementPolicy, child(path, 'podReplacementPolicy'), errs);
  if (prp !== undefined) {
    if (has('podFailurePolicy') && prp !== 'Failed') errs.push(field.notSupported(child(path, 'podReplacementPolicy'), prp, ['Failed']));
    else if (!['Failed', 'TerminatingOrFailed'].includes(prp)) errs.push(field.notSupported(child(path, 'podReplacementPolicy'), prp, ['Failed', 'TerminatingOrFailed']));
  }
  validatePodTemplateSpec(spec.template, child(path, 'template'), errs);
  const rpPath = child(child(child(path, 'template'), 'spec'), 'restartPolicy');
  const rp = (((spec.template as Obj | undefined)?.spec as Obj | undefined)?.restartPolicy ?? '') as string;
  // restartPolicy defaults to Always, which a Job cannot use.
  if (rp === 'Always' || rp === '') errs.push(field.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(field.notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (has('podFailurePolicy') && rp !== 'Never') errs.push(field.invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
}

function validateJobSpec(o: KubeObject, errs: FieldError[]): void {
  const spec = obj(o.spec, 'spec', errs) ?? {};
  validateJobSpecBody(spec, 'spec', errs);
  if (spec.selector === undefined || spec.selector === null) errs.push(field.required('spec.selector'));
  else validateLabelSelector(spec.selector, 'spec.selector', errs);
  const sel = selectorOf(spec.selector);
  const labels = (((spec.template as Obj | undefined)?.metadata as Obj | undefined)?.labels ?? undefined) as Record<string, string> | undefined;
  if (sel.kind !== 'invalid' && !selectorMatches(sel, labels ?? {})) {
    errs.push(invalidRepr('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
  }
}

/** validateGeneratedSelector: without manualSelector, the labels prepareJobForCreate sets must be there. */
function validateGeneratedSelector(o: KubeObject, errs: FieldError[]): void {
  const spec = (o.spec ?? {}) as Obj;
  if (spec.manualSelector === true || spec.selector === undefined || spec.selector === null) return;
  const uid = o.metadata?.uid ?? '';
  const name = o.metadata?.name ?? '';
  if (!uid) errs.push(field.required('metadata.uid'));
  const labels = (((spec.template as Obj | undefined)?.metadata as Obj | undefined)?.labels ?? {}) as Record<string, string>;
  const expected: [string, string][] = [
    [LEGACY_LABEL_CONTROLLER_UID, uid],
    [LEGACY_LABEL_JOB_NAME, name],
    [LABEL_CONTROLLER_UID, uid],
    [LABEL_JOB_NAME, name],
  ];
  for (const [k, v] of expected) {
    const p = `spec.template.metadata.labels[${k}]`;
    if (!(k in labels)) errs.push(field.required(p, `must be '${v}'`));
    else if (labels[k] !== v) errs.push(invalidRepr(p, goStringMap(labels), `must be '${v}'`));
  }
  const sel = selectorOf(spec.selector);
  if (sel.kind !== 'invalid' && !selectorMatches(sel, Object.fromEntries(expected))) {
    errs.push(invalidRepr('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  }
}

function validateJobUpdate(o: KubeObject, old: KubeObject, errs: FieldError[]): void {
  const spec = (o.spec ?? {}) as Obj;
  const before = (old.spec ?? {}) as Obj;
  if (!jsonEqual(spec.completions ?? null, before.completions ?? null)) {
    // Elastic Indexed Jobs may scale completions together with parallelism.
    if (spec.completionMode !== 'Indexed') errs.push(field.invalid('spec.completions', spec.completions ?? null, 'field is immutable'));
    else if (typeof spec.completions === 'number' && spec.completions !== spec.parallelism) {
      errs.push(field.invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  }
  if (!jsonEqual(spec.selector ?? null, before.selector ?? null)) errs.push(invalidRepr('spec.selector', goLabelSelector(spec.selector), 'field is immutable'));
  let tpl = spec.template;
  let oldTpl = before.template;
  const suspended = before.suspend === true && !((old.status as Obj | undefined)?.startTime);
  if (suspended) {
    // A suspended job that never started may have its scheduling directives changed.
    const strip = (t: unknown) => {
      const c = structuredClone((t ?? {}) as Obj);
      const s = (c.spec ?? {}) as Obj;
      for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) delete s[f];
      if (s.affinity) delete (s.affinity as Obj).nodeAffinity;
      if (c.metadata) (delete (c.metadata as Obj).labels, delete (c.metadata as Obj).annotations);
      return c;
    };
    tpl = strip(tpl);
    oldTpl = strip(oldTpl);
  }
  if (!jsonEqual(tpl ?? null, oldTpl ?? null)) errs.push(invalidRepr('spec.template', 'core.PodTemplateSpec{...}', 'field is immutable'));
  for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    if (!jsonEqual(spec[f] ?? null, before[f] ?? null)) errs.push(field.invalid(`spec.${f}`, typeof spec[f] === 'object' ? '' : (spec[f] ?? null), 'field is immutable'));
  }
}

export const jobValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: validateJobSpec,
  createBeforeSpec: validateGeneratedSelector,
  createOnly(o, errs) {
    const spec = (o.spec ?? {}) as Obj;
    if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number' && spec.completions > 0) {
      const host = `${o.metadata?.name ?? ''}-${spec.completions - 1}`;
      if (isDNS1123Label(host).length > 0) errs.push(field.invalid('metadata.name', o.metadata?.name ?? '', `will not able to create pod with invalid DNS label: ${host}`));
    }
  },
  update: validateJobUpdate,
};

function validateTimeZone(tz: string, errs: FieldError[]): void {
  const p = 'spec.timeZone';
  if (tz === '') return void errs.push(field.invalid(p, tz, 'timeZone must be nil or non-empty string'));
  if (tz.split('/').some((part) => part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part))) {
    return void errs.push(field.invalid(p, tz, `unknown time zone ${tz}`));
  }
  if (tz.toLowerCase() === 'local') return void errs.push(field.invalid(p, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    errs.push(field.invalid(p, tz, `unknown time zone ${tz}`));
  }
}

function validateCronJobSpec(o: KubeObject, errs: FieldError[], oldSchedule?: string): void {
  const spec = obj(o.spec, 'spec', errs) ?? {};
  const schedule = str(spec.schedule, 'spec.schedule', errs) ?? '';
  if (!schedule) errs.push(field.required('spec.schedule'));
  else {
    const err = cronScheduleError(schedule);
    if (err) errs.push(field.invalid('spec.schedule', schedule, err));
    const allowTZ = (oldSchedule ?? '').includes('TZ');
    if (allowTZ && schedule.includes('TZ') && spec.timeZone !== undefined) errs.push(field.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ && schedule.includes('TZ')) errs.push(field.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  errs.push(...nonNegative(int(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds', errs), 'spec.startingDeadlineSeconds'));
  const tz = str(spec.timeZone, 'spec.timeZone', errs);
  if (tz !== undefined) validateTimeZone(tz, errs);
  const cp = str(spec.concurrencyPolicy, 'spec.concurrencyPolicy', errs) ?? '';
  if (!cp) errs.push(field.required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(field.notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const jt = obj(spec.jobTemplate, 'spec.jobTemplate', errs) ?? {};
  const jspec = obj(jt.spec, 'spec.jobTemplate.spec', errs) ?? {};
  validateJobSpecBody(jspec, 'spec.jobTemplate.spec', errs);
  if (jspec.selector !== undefined && jspec.selector !== null) errs.push(invalidRepr('spec.jobTemplate.spec.selector', goLabelSelector(jspec.selector), '`selector` will be auto-generated'));
  if (bool(jspec.manualSelector, 'spec.jobTemplate.spec.manualSelector', errs) === true) errs.push(field.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...nonNegative(int(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit', errs), 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(int(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit', errs), 'spec.failedJobsHistoryLimit'));
}

export const cronJobValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec: (o, errs) => validateCronJobSpec(o, errs),
  createOnly(o, errs) {
    // The controller appends an 11-character suffix to job names, which are at most 63.
    const name = o.metadata?.name ?? '';
    if (name.length > 52) errs.push(field.invalid('metadata.name', name, maxLenError(52)));
  },
  updateReplacesSpec: true,
  update(o, old, errs) {
    validateCronJobSpec(o, errs, String((old.spec as Obj | undefined)?.schedule ?? ''));
  },
};

/** Validators of batch/v1, by kind. */
export const BATCH_VALIDATORS: Record<string, KindValidator> = { Job: jobValidator, CronJob: cronJobValidator };
