// Subresources with their own shapes: /scale (an autoscaling/v1 Scale view of a workload's
// replicas) and /binding (the scheduler's way to set a pod's node). /status is a mode of
// Registry.update; log, exec and port-forward arrive with the node agent.
import { errors } from '../api/errors.js';
import type { ResourceType } from '../api/kinds.js';
import { labelSelectorFromObject, selectorToString } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { isObject } from '../api/types.js';
import type { Registry, RequestContext } from './registry.js';

function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) cur = isObject(cur) ? cur[p] : undefined;
  return cur;
}

/** The autoscaling/v1 Scale view of a workload. */
export function toScale(rt: ResourceType, obj: KubeObject): KubeObject {
  const spec = rt.scale!;
  const m = obj.metadata;
  const selector = at(obj, 'spec.selector');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name!, namespace: m.namespace!, uid: m.uid!, resourceVersion: m.resourceVersion!, creationTimestamp: m.creationTimestamp! },
    spec: { replicas: (at(obj, spec.specReplicasPath) as number | undefined) ?? 0 },
    status: {
      replicas: (at(obj, spec.statusReplicasPath) as number | undefined) ?? 0,
      ...(isObject(selector) ? { selector: selectorToString(labelSelectorFromObject(selector)) } : {}),
    },
  };
}

/** Applies a Scale's spec.replicas (and its resourceVersion precondition) to the workload. */
export function fromScale(rt: ResourceType, obj: KubeObject, scale: unknown): KubeObject {
  if (!isObject(scale)) throw errors.badRequest('the object provided is unrecognized (must be of type Scale)');
  const replicas = at(scale, 'spec.replicas');
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas))) {
    throw errors.badRequest(`Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
  }
  if (typeof replicas === 'number' && replicas < 0) {
    throw errors.invalid('Scale', 'autoscaling', obj.metadata.name ?? '', [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' }]);
  }
  const next = structuredClone(obj);
  const [top, key] = rt.scale!.specReplicasPath.split('.') as [string, string];
  next[top] = { ...(next[top] as object), [key]: replicas ?? 0 };
  const rv = at(scale, 'metadata.resourceVersion');
  if (typeof rv === 'string' && rv !== '') next.metadata.resourceVersion = rv;
  return next;
}

/** PUT …/scale. */
export async function updateScale(reg: Registry, rt: ResourceType, namespace: string | undefined, name: string, body: unknown, ctx: RequestContext): Promise<KubeObject> {
  const cur = await reg.read(rt, namespace, name);
  if (!cur) throw errors.notFound(rt.plural, rt.group, name);
  const next = fromScale(rt, cur.obj, body);
  const { obj } = await reg.update(rt, namespace, name, next, ctx, { expected: cur, subresource: 'scale' });
  return toScale(rt, obj);
}

/** POST pods/{name}/binding (or POST bindings): assigns the pod to a node, once. */
export async function bindPod(reg: Registry, rt: ResourceType, namespace: string, name: string, body: unknown, ctx: RequestContext): Promise<void> {
  const target = at(body, 'target') as { kind?: string; name?: string } | undefined;
  if (!target?.name) throw errors.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name' }]);
  if (target.kind && target.kind !== 'Node') throw errors.invalid('Binding', '', name, [{ type: 'FieldValueNotSupported', field: 'target.kind', value: target.kind, supported: ['Node'] }]);
  const annotations = (at(body, 'metadata.annotations') ?? {}) as Record<string, string>;
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await reg.read(rt, namespace, name);
    if (!cur) throw errors.notFound(rt.plural, rt.group, name);
    const pod = cur.obj; // read() decodes a fresh copy: ours to change
    const spec = pod.spec as { nodeName?: string };
    if (pod.metadata.deletionTimestamp) throw errors.conflict('pods/binding', '', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (spec.nodeName) throw errors.conflict('pods/binding', '', name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = target.name;
    if (Object.keys(annotations).length) pod.metadata.annotations = { ...pod.metadata.annotations, ...annotations };
    const status = (pod.status ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string | null; lastProbeTime?: null }[] };
    const conds = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: reg.now() });
    status.conditions = conds;
    pod.status = status;
    if (ctx.dryRun) return;
    try {
      await reg.writeRaw(rt, cur, pod);
      return;
    } catch (e) {
      if (!(e instanceof Error && 'status' in e && (e as { code?: number }).code === 409)) throw e;
    }
  }
  throw errors.conflict('pods/binding', '', name, 'too many concurrent writers');
}
