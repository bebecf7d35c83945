// batch/v1 defaults (pkg/apis/batch/v1/defaults.go, Kubernetes 1.32 feature gates) and the
// selector the Job strategy generates on create.
import type { KubeObject } from '../types.js';
import { defaultPodTemplate, eachObj, ensureObj, fill, objAt } from './pod-spec.js';

export const LABEL_CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
export const LABEL_JOB_NAME = 'batch.kubernetes.io/job-name';
export const LEGACY_LABEL_CONTROLLER_UID = 'controller-uid';
export const LEGACY_LABEL_JOB_NAME = 'job-name';

export function defaultJob(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  const unset = (k: string) => spec[k] === undefined || spec[k] === null;
  if (unset('completions') && unset('parallelism')) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  fill(spec, 'parallelism', 1);
  if (unset('backoffLimit')) spec.backoffLimit = unset('backoffLimitPerIndex') ? 6 : 2147483647;
  // A job without labels takes its pod template's (this is how the generated selector labels
  // reach the Job's own metadata once prepareJobForCreate has run).
  const labels = objAt(objAt(spec.template, 'metadata'), 'labels');
  if (labels && Object.keys(o.metadata.labels ?? {}).length === 0) o.metadata.labels = { ...(labels as Record<string, string>) };
  fill(spec, 'completionMode', 'NonIndexed');
  fill(spec, 'suspend', false);
  const pfp = objAt(spec, 'podFailurePolicy');
  eachObj(pfp?.rules, (rule) => eachObj(rule.onPodConditions, (c) => {
    if (!c.status) c.status = 'True';
  }));
  // JobPodReplacementPolicy is on by default in 1.32.
  fill(spec, 'podReplacementPolicy', pfp ? 'Failed' : 'TerminatingOrFailed');
  defaultPodTemplate(spec.template);
}

export function defaultCronJob(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  fill(spec, 'suspend', false);
  fill(spec, 'successfulJobsHistoryLimit', 3);
  fill(spec, 'failedJobsHistoryLimit', 1);
  // Only the pod template of the job template is defaulted, not the job spec itself.
  defaultPodTemplate(objAt(objAt(spec, 'jobTemplate'), 'spec')?.template);
}

/**
 * The Job strategy's PrepareForCreate selector generation: unless `spec.manualSelector` is
 * true, labels the pod template with the job's name and uid (under both the
 * batch.kubernetes.io/ keys and the legacy ones) and selects on
 * batch.kubernetes.io/controller-uid. Labels the user already set are kept (validation then
 * reports a mismatch). Call after uid and name are known, before applyDefaults and validation.
 */
export function prepareJobForCreate(job: KubeObject, uid: string): void {
  const spec = ensureObj(job, 'spec');
  if (!spec || spec.manualSelector === true) return;
  const template = ensureObj(spec, 'template');
  const meta = template && ensureObj(template, 'metadata');
  const labels = meta && ensureObj(meta, 'labels');
  if (!labels) return;
  const name = job.metadata.name ?? '';
  for (const k of [LEGACY_LABEL_JOB_NAME, LABEL_JOB_NAME]) fill(labels, k, name);
  for (const k of [LEGACY_LABEL_CONTROLLER_UID, LABEL_CONTROLLER_UID]) fill(labels, k, uid);
  const selector = ensureObj(spec, 'selector');
  const matchLabels = selector && ensureObj(selector, 'matchLabels');
  if (matchLabels) fill(matchLabels, LABEL_CONTROLLER_UID, uid);
}
