// The remaining groups: autoscaling/v2 HorizontalPodAutoscalers, coordination.k8s.io Leases,
// discovery.k8s.io EndpointSlices and storage.k8s.io StorageClasses, keyed by "group/Kind".
import { field, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { tryParseQuantity, QUANTITY_ERROR } from '../../util/quantity.js';
import type { KindValidator } from './kind.js';
import { endpointSliceValidator } from './network.js';
import { child, index, int, obj, objList, str, type Obj } from './shape.js';
import { nameIsDNSSubdomain, pathSegmentNameErrors } from './strings.js';
import { storageClassValidator } from './storage.js';

const METRIC_TYPES = ['Object', 'Pods', 'Resource', 'External', 'ContainerResource'];
const SOURCE_FIELD: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource' };

function validateMetricTarget(t: Obj, path: string, errs: FieldError[]): void {
  const type = str(t.type, child(path, 'type'), errs) ?? '';
  if (!type) errs.push(field.required(child(path, 'type'), 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(type)) errs.push(field.invalid(child(path, 'type'), type, 'must be either Utilization, Value, or AverageValue'));
  for (const f of ['value', 'averageValue']) {
    if (t[f] === undefined || t[f] === null) continue;
    const q = tryParseQuantity(String(t[f]));
    if (!q) errs.push(field.invalid(child(path, f), t[f], QUANTITY_ERROR));
    else if (q.mantissa <= 0n) errs.push(field.invalid(child(path, f), String(t[f]), 'must be positive'));
  }
  const util = int(t.averageUtilization, child(path, 'averageUtilization'), errs);
  if (util !== undefined && util < 1) errs.push(field.invalid(child(path, 'averageUtilization'), util, 'must be greater than 0'));
}

function validateMetric(m: Obj, path: string, errs: FieldError[]): void {
  const type = str(m.type, child(path, 'type'), errs) ?? '';
  if (!type) errs.push(field.required(child(path, 'type'), 'must specify a metric source type'));
  if (!METRIC_TYPES.includes(type)) errs.push(field.notSupported(child(path, 'type'), type, METRIC_TYPES));
  const present = Object.values(SOURCE_FIELD).filter((f) => m[f] !== undefined && m[f] !== null);
  const expected = SOURCE_FIELD[type];
  if (expected && (m[expected] === undefined || m[expected] === null)) errs.push(field.required(child(path, expected), 'must populate information for the given metric source'));
  if (present.length !== 1) for (const f of present.filter((f) => f !== expected)) errs.push(field.forbidden(child(path, f), 'must populate the given metric source only'));
  for (const f of ['resource', 'containerResource']) {
    const src = obj(m[f], child(path, f), errs);
    if (!src || present.length !== 1) continue;
    const p = child(path, f);
    if (!(typeof src.name === 'string' && src.name)) errs.push(field.required(child(p, 'name'), 'must specify a resource name'));
    if (f === 'containerResource' && !(typeof src.container === 'string' && src.container)) errs.push(field.required(child(p, 'container'), 'must specify a container'));
    const target = obj(src.target, child(p, 'target'), errs) ?? {};
    validateMetricTarget(target, child(p, 'target'), errs);
    const hasValue = target.averageValue !== undefined && target.averageValue !== null;
    const hasUtil = target.averageUtilization !== undefined && target.averageUtilization !== null;
    if (!hasValue && !hasUtil) errs.push(field.required(child(child(p, 'target'), 'averageUtilization'), 'must set either a target raw value or a target utilization'));
    if (hasValue && hasUtil) errs.push(field.forbidden(child(child(p, 'target'), 'averageValue'), 'may not set both a target raw value and a target utilization'));
  }
}

function validateScalingRules(v: unknown, path: string, errs: FieldError[]): void {
  const rules = obj(v, path, errs);
  if (!rules) return;
  const window = int(rules.stabilizationWindowSeconds, child(path, 'stabilizationWindowSeconds'), errs);
  if (window !== undefined && window < 0) errs.push(field.invalid(child(path, 'stabilizationWindowSeconds'), window, 'must be greater than or equal to zero'));
  if (window !== undefined && window > 3600) errs.push(field.invalid(child(path, 'stabilizationWindowSeconds'), window, 'must be less than or equal to 3600'));
  const sp = str(rules.selectPolicy, child(path, 'selectPolicy'), errs);
  if (sp !== undefined && !['Max', 'Min', 'Disabled'].includes(sp)) errs.push(field.notSupported(child(path, 'selectPolicy'), sp, ['Max', 'Min', 'Disabled']));
  const policies = objList(rules.policies, child(path, 'policies'), errs);
  if (policies.length === 0) errs.push(field.required(child(path, 'policies'), 'must specify at least one Policy'));
  for (const [p, i] of policies) {
    const pp = index(child(path, 'policies'), i);
    const type = typeof p.type === 'string' ? p.type : '';
    if (!['Pods', 'Percent'].includes(type)) errs.push(field.notSupported(child(pp, 'type'), type, ['Pods', 'Percent']));
    const value = typeof p.value === 'number' ? p.value : 0;
    if (value <= 0) errs.push(field.invalid(child(pp, 'value'), value, 'must be greater than zero'));
    const period = typeof p.periodSeconds === 'number' ? p.periodSeconds : 0;
    if (period <= 0) errs.push(field.invalid(child(pp, 'periodSeconds'), period, 'must be greater than zero'));
    if (period > 1800) errs.push(field.invalid(child(pp, 'periodSeconds'), period, 'must be less than or equal to 1800'));
  }
}

function validateHPA(o: KubeObject, errs: FieldError[]): void {
  const S = 'spec';
  const spec = obj(o.spec, S, errs) ?? {};
  const min = int(spec.minReplicas, child(S, 'minReplicas'), errs);
  const max = int(spec.maxReplicas, child(S, 'maxReplicas'), errs) ?? 0;
  if (min !== undefined && min < 1) errs.push(field.invalid(child(S, 'minReplicas'), min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(field.invalid(child(S, 'maxReplicas'), max, 'must be greater than 0'));
  if (min !== undefined && max < min) errs.push(field.invalid(child(S, 'maxReplicas'), max, 'must be greater than or equal to `minReplicas`'));
  const refPath = child(S, 'scaleTargetRef');
  const ref = obj(spec.scaleTargetRef, refPath, errs) ?? {};
  for (const f of ['kind', 'name']) {
    const v = str(ref[f], child(refPath, f), errs) ?? '';
    if (!v) errs.push(field.required(child(refPath, f)));
    else pathSegmentNameErrors(v).forEach((m) => errs.push(field.invalid(child(refPath, f), v, m)));
  }
  for (const [m, i] of objList(spec.metrics, child(S, 'metrics'), errs)) validateMetric(m, index(child(S, 'metrics'), i), errs);
  const behavior = obj(spec.behavior, child(S, 'behavior'), errs);
  if (behavior) {
    validateScalingRules(behavior.scaleUp, child(child(S, 'behavior'), 'scaleUp'), errs);
    validateScalingRules(behavior.scaleDown, child(child(S, 'behavior'), 'scaleDown'), errs);
  }
}

const hpaValidator: KindValidator = { name: nameIsDNSSubdomain, spec: validateHPA };

const leaseValidator: KindValidator = {
  name: nameIsDNSSubdomain,
  spec(o, errs) {
    const spec = obj(o.spec, 'spec', errs) ?? {};
    const duration = int(spec.leaseDurationSeconds, 'spec.leaseDurationSeconds', errs);
    if (duration !== undefined && duration <= 0) errs.push(field.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
    const transitions = int(spec.leaseTransitions, 'spec.leaseTransitions', errs);
    if (transitions !== undefined && transitions < 0) errs.push(field.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
    str(spec.holderIdentity, 'spec.holderIdentity', errs);
    str(spec.acquireTime, 'spec.acquireTime', errs);
    str(spec.renewTime, 'spec.renewTime', errs);
  },
};

/** Validators of the non-core, non-apps, non-batch groups, keyed by "group/Kind". */
export const OTHER_VALIDATORS: Record<string, KindValidator> = {
  'autoscaling/HorizontalPodAutoscaler': hpaValidator,
  'coordination.k8s.io/Lease': leaseValidator,
  'discovery.k8s.io/EndpointSlice': endpointSliceValidator,
  'storage.k8s.io/StorageClass': storageClassValidator,
};
