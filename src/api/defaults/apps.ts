// apps/v1 defaults (pkg/apis/apps/v1/defaults.go, Kubernetes 1.32 feature gates): replicas,
// update strategies, history limits, and the pod template's spec defaults.
import type { KubeObject } from '../types.js';
import { defaultPersistentVolumeClaim } from './core.js';
import { defaultPodTemplate, eachObj, ensureObj, fill } from './pod-spec.js';

export function defaultDeployment(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  fill(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  if (strategy) {
    if (!strategy.type) strategy.type = 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = ensureObj(strategy, 'rollingUpdate');
      if (ru) {
        fill(ru, 'maxUnavailable', '25%');
        fill(ru, 'maxSurge', '25%');
      }
    }
  }
  fill(spec, 'revisionHistoryLimit', 10);
  fill(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec.template);
}

export function defaultReplicaSet(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  fill(spec, 'replicas', 1);
  defaultPodTemplate(spec.template);
}

export function defaultStatefulSet(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const us = ensureObj(spec, 'updateStrategy');
  if (us) {
    if (!us.type) {
      us.type = 'RollingUpdate';
      fill(us, 'rollingUpdate', {});
    }
    const ru = us.type === 'RollingUpdate' ? us.rollingUpdate : undefined;
    // MaxUnavailableStatefulSet is alpha in 1.32: no maxUnavailable default.
    if (ru && typeof ru === 'object' && !Array.isArray(ru)) fill(ru as Record<string, unknown>, 'partition', 0);
  }
  // StatefulSetAutoDeletePVC is on by default in 1.32.
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention) {
    if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
    if (!retention.whenScaled) retention.whenScaled = 'Retain';
  }
  fill(spec, 'replicas', 1);
  fill(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec.template);
  eachObj(spec.volumeClaimTemplates, defaultPersistentVolumeClaim);
}

export function defaultDaemonSet(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  const us = ensureObj(spec, 'updateStrategy');
  if (us) {
    if (!us.type) us.type = 'RollingUpdate';
    if (us.type === 'RollingUpdate') {
      const ru = ensureObj(us, 'rollingUpdate');
      if (ru) {
        fill(ru, 'maxUnavailable', 1);
        fill(ru, 'maxSurge', 0);
      }
    }
  }
  fill(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec.template);
}
