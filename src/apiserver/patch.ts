// PATCH: decode the patch by its content type, apply it to the current object (or to the
// Scale view for /scale), then write the result through Registry.update. Like kube-apiserver,
// a patch that does not pin a resourceVersion is retried on a conflict against the newest object.
import { errors, field, isStatusError } from '../api/errors.js';
import { apiVersionOfResource, type ResourceType } from '../api/kinds.js';
import { patchMetaFor } from '../api/schema.js';
import type { KubeObject } from '../api/types.js';
import { serverSideApply } from './patch/apply.js';
import { applyJsonPatch } from './patch/json-patch.js';
import { applyMergePatch } from './patch/merge-patch.js';
import { applyStrategicMergePatch } from './patch/strategic-merge.js';
import type { Registry, RequestContext } from './registry.js';
import { fromScale, toScale } from './subresources.js';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;
export type PatchContentType = (typeof PATCH_TYPES)[number];

export function isPatchType(ct: string): ct is PatchContentType {
  return (PATCH_TYPES as readonly string[]).includes(ct);
}

export interface PatchRequest {
  contentType: string;
  patch: unknown;
  subresource?: string;
  force?: boolean;
  /** Whether the client named a field manager (apply requires one). */
  fieldManagerGiven: boolean;
}

function applyPatch(rt: ResourceType, type: PatchContentType, base: KubeObject, patch: unknown, kind = rt.kind, apiVersion = apiVersionOfResource(rt)): KubeObject {
  switch (type) {
    case 'application/json-patch+json':
      return applyJsonPatch(base, patch) as KubeObject;
    case 'application/merge-patch+json':
      return applyMergePatch(base, patch) as KubeObject;
    case 'application/strategic-merge-patch+json':
      return applyStrategicMergePatch(base, patch, patchMetaFor(apiVersion, kind)) as KubeObject;
    default:
      throw errors.unsupportedMediaType(type, [...PATCH_TYPES]);
  }
}

export async function patchObject(reg: Registry, rt: ResourceType, namespace: string | undefined, name: string, req: PatchRequest, ctx: RequestContext): Promise<{ obj: KubeObject; created: boolean }> {
  if (!isPatchType(req.contentType)) throw errors.unsupportedMediaType(req.contentType, [...PATCH_TYPES]);
  if (req.contentType === 'application/apply-patch+yaml') return applyObject(reg, rt, namespace, name, req, ctx);
  for (let attempt = 0; ; attempt++) {
    const cur = await reg.read(rt, namespace, name);
    if (!cur) throw errors.notFound(rt.plural, rt.group, name);
    try {
      if (req.subresource === 'scale') {
        const patched = applyPatch(rt, req.contentType, toScale(rt, cur.obj), req.patch, 'Scale', 'autoscaling/v1');
        const next = fromScale(rt, cur.obj, patched);
        return await reg.update(rt, namespace, name, next, ctx, { expected: cur, subresource: 'scale' });
      }
      const patched = applyPatch(rt, req.contentType, cur.obj, req.patch);
      if (patched.metadata?.resourceVersion === undefined) patched.metadata = { ...patched.metadata, resourceVersion: String(cur.rev) };
      return await reg.update(rt, namespace, name, patched, ctx, { expected: cur, ...(req.subresource ? { subresource: req.subresource } : {}) });
    } catch (e) {
      if (isStatusError(e, 'Conflict') && attempt < 5 && !pinsResourceVersion(req.patch)) continue;
      throw e;
    }
  }
}

function pinsResourceVersion(patch: unknown): boolean {
  if (Array.isArray(patch)) return patch.some((op) => typeof op === 'object' && op !== null && String((op as { path?: string }).path).startsWith('/metadata/resourceVersion'));
  const m = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return m?.resourceVersion !== undefined && m.resourceVersion !== null;
}

/** Server-side apply: creates when absent, merges by field ownership when present. */
async function applyObject(reg: Registry, rt: ResourceType, namespace: string | undefined, name: string, req: PatchRequest, ctx: RequestContext): Promise<{ obj: KubeObject; created: boolean }> {
  if (!req.fieldManagerGiven) {
    throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [field.required('fieldManager', 'is required for apply patch')]);
  }
  const applied = reg.admitBody(rt, namespace, req.patch, ctx);
  if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
  }
  applied.metadata.name = name;
  const apiVersion = apiVersionOfResource(rt);
  const meta = patchMetaFor(apiVersion, rt.kind);
  for (let attempt = 0; ; attempt++) {
    const cur = await reg.read(rt, namespace, name);
    const result = serverSideApply({ live: cur?.obj, applied, manager: ctx.fieldManager, force: req.force === true, meta, apiVersion, now: reg.now(), ...(req.subresource ? { subresource: req.subresource } : {}) });
    try {
      if (!cur) {
        delete result.metadata.resourceVersion;
        return { obj: await reg.create(rt, namespace, result, { ...ctx, fieldManager: ctx.fieldManager }, { skipDecodingCheck: true, keepManagedFields: true }), created: true };
      }
      if (result.metadata.resourceVersion === undefined) result.metadata.resourceVersion = String(cur.rev);
      return await reg.update(rt, namespace, name, result, ctx, { expected: cur, skipDecodingCheck: true, keepManagedFields: true, ...(req.subresource ? { subresource: req.subresource } : {}) });
    } catch (e) {
      if ((isStatusError(e, 'Conflict') || isStatusError(e, 'AlreadyExists')) && attempt < 5 && applied.metadata.resourceVersion === undefined) continue;
      throw e;
    }
  }
}
