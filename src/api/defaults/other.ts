// Defaults of the other served groups: autoscaling/v2, discovery.k8s.io/v1, storage.k8s.io/v1.
import type { KubeObject } from '../types.js';
import { canonicalize, eachObj, ensureObj, fill, objAt, type Obj } from './pod-spec.js';

const scaleUpDefaults = (): Obj => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});
// No scale-down stabilization window: the controller's flag supplies it.
const scaleDownDefaults = (): Obj => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

function scalingRules(from: unknown, defaults: Obj): Obj {
  const f = (from && typeof from === 'object' && !Array.isArray(from) ? from : {}) as Obj;
  for (const k of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) if (f[k] !== undefined && f[k] !== null) defaults[k] = f[k];
  return defaults;
}

export function defaultHorizontalPodAutoscaler(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  fill(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  eachObj(spec.metrics, (m) => {
    for (const src of ['resource', 'containerResource', 'pods', 'object', 'external']) {
      const target = objAt(objAt(m, src), 'target');
      if (!target) continue;
      for (const q of ['value', 'averageValue']) if (target[q] !== undefined) target[q] = canonicalize(target[q]);
    }
  });
  const behavior = objAt(spec, 'behavior');
  if (behavior) {
    behavior.scaleUp = scalingRules(behavior.scaleUp, scaleUpDefaults());
    behavior.scaleDown = scalingRules(behavior.scaleDown, scaleDownDefaults());
  }
}

export function defaultEndpointSlice(o: KubeObject): void {
  eachObj(o.ports, (p) => {
    fill(p, 'name', '');
    fill(p, 'protocol', 'TCP');
  });
}

export function defaultStorageClass(o: KubeObject): void {
  fill(o as Obj, 'reclaimPolicy', 'Delete');
  fill(o as Obj, 'volumeBindingMode', 'Immediate');
}
