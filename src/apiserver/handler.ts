// The API's request dispatcher, shared by the HTTPS server and the in-process transport: it maps
// (method, path, query, body) to a registry operation and describes the answer. Encoding the
// answer (JSON, Table, streaming) is the transport's business.
import { errors, successStatus } from '../api/errors.js';
import type { ResourceType } from '../api/kinds.js';
import type { KubeObject, Status } from '../api/types.js';
import { isObject } from '../api/types.js';
import { listObjects, type ListOutcome } from './list.js';
import { patchObject } from './patch.js';
import type { DeleteOptions, Registry, RequestContext } from './registry.js';
import { parseApiPath, q, type ResourcePath } from './request.js';
import { bindPod, toScale, updateScale } from './subresources.js';
import type { CachedObject } from './watch-cache.js';
import { startWatch, type WatchQuery, type WatchSink } from './watch.js';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
  userAgent?: string;
  /** Duplicate fields found in the raw body (strict decoding). */
  duplicateFields?: string[];
  /** The body was decoded for this request alone (HTTP), so the registry may change it in place. */
  bodyOwned?: boolean;
  /** From a component in this process (typed code, not user input): strict decoding is skipped. */
  inProcess?: boolean;
}

export type Reply =
  | { type: 'object'; status: number; rt: ResourceType; obj: KubeObject | CachedObject; warnings?: string[] }
  | { type: 'status'; status: number; body: Status; warnings?: string[] }
  | { type: 'plain'; status: number; body: unknown }
  | { type: 'list'; status: 200; rt: ResourceType; outcome: ListOutcome }
  | { type: 'watch'; rt: ResourceType; start(sink: WatchSink): Promise<() => void> };

export interface HandlerOptions {
  bookmarkIntervalMs: number;
}

function bool(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}

/** Default field manager: the user agent's program name, as kube-apiserver derives it. */
function managerFrom(call: Call): { manager: string; given: boolean } {
  const m = q(call.query, 'fieldManager');
  if (m) return { manager: m, given: true };
  const ua = call.userAgent ?? 'unknown';
  return { manager: ua.split('/')[0] || 'unknown', given: false };
}

function context(call: Call): RequestContext {
  const fv = q(call.query, 'fieldValidation') ?? 'Warn';
  if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') {
    throw errors.badRequest(`fieldValidation must be one of "Strict", "Warn", "Ignore": got ${JSON.stringify(fv)}`);
  }
  const dry = call.query.getAll('dryRun');
  for (const d of dry) if (d !== 'All') throw errors.badRequest(`Invalid dryRun value: ${JSON.stringify(d)}: supported values: "All"`);
  return {
    fieldManager: managerFrom(call).manager,
    dryRun: dry.length > 0,
    fieldValidation: fv,
    warnings: [],
    bodyOwned: call.bodyOwned === true,
    trusted: call.inProcess === true,
    ...(call.duplicateFields?.length ? { duplicateFields: call.duplicateFields } : {}),
  };
}

function deleteOptions(call: Call): DeleteOptions {
  const b = isObject(call.body) ? call.body : {};
  const opts: DeleteOptions = {};
  const policy = (b.propagationPolicy as string | undefined) ?? q(call.query, 'propagationPolicy');
  if (policy !== undefined) {
    if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
      throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', value: policy, supported: ['Foreground', 'Background', 'Orphan'] }]);
    }
    opts.propagationPolicy = policy;
  } else if (b.orphanDependents === true || q(call.query, 'orphanDependents') === 'true') {
    opts.propagationPolicy = 'Orphan';
  }
  const grace = (b.gracePeriodSeconds as number | undefined) ?? int(q(call.query, 'gracePeriodSeconds'), 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  if (isObject(b.preconditions)) opts.preconditions = b.preconditions as DeleteOptions['preconditions'] & object;
  if (Array.isArray(b.dryRun) && b.dryRun.includes('All')) opts.dryRun = true;
  return opts;
}

function checkVerb(rt: ResourceType, verb: string, sub?: string): void {
  const allowed = sub ? rt.subresources[sub] : rt.verbs;
  if (!allowed) throw errors.notFoundResource();
  if (!allowed.includes(verb as never)) throw errors.methodNotAllowed();
}

export function createHandler(reg: Registry, opts: HandlerOptions) {
  async function resource(call: Call, p: ResourcePath): Promise<Reply> {
    const { rt, name, subresource } = p;
    let namespace = p.namespace;
    if (rt.namespaced && namespace === undefined && (name !== undefined || call.method === 'POST')) {
      if (name !== undefined) throw errors.notFound(rt.plural, rt.group, name);
      namespace = isObject(call.body) && isObject(call.body.metadata) ? (call.body.metadata.namespace as string | undefined) : undefined;
    }
    const method = call.method.toUpperCase();

    if (name === undefined) {
      if (method === 'GET') {
        const watch = bool(q(call.query, 'watch'));
        checkVerb(rt, watch ? 'watch' : 'list');
        if (watch) return watchReply(rt, namespace, call);
        const outcome = await listObjects(reg, rt, namespace, {
          ...opt('labelSelector', q(call.query, 'labelSelector')),
          ...opt('fieldSelector', q(call.query, 'fieldSelector')),
          ...opt('limit', int(q(call.query, 'limit'), 'limit')),
          ...opt('continue', q(call.query, 'continue')),
          ...opt('resourceVersion', q(call.query, 'resourceVersion')),
          ...opt('resourceVersionMatch', q(call.query, 'resourceVersionMatch')),
        });
        return { type: 'list', status: 200, rt, outcome };
      }
      if (method === 'POST') {
        checkVerb(rt, 'create');
        const ctx = context(call);
        const obj = await reg.create(rt, namespace, call.body, ctx);
        return { type: 'object', status: 201, rt, obj, warnings: ctx.warnings };
      }
      if (method === 'DELETE') {
        checkVerb(rt, 'deletecollection');
        const ctx = context(call);
        const listed = await listObjects(reg, rt, namespace, {
          ...opt('labelSelector', q(call.query, 'labelSelector')),
          ...opt('fieldSelector', q(call.query, 'fieldSelector')),
        });
        await reg.deleteCollection(rt, namespace, listed.items, deleteOptions(call), ctx);
        return { type: 'status', status: 200, body: successStatus() };
      }
      throw errors.methodNotAllowed();
    }

    if (subresource === 'binding' && rt.kind === 'Pod') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      const ctx = context(call);
      await bindPod(reg, rt, namespace!, name, call.body, ctx);
      return { type: 'status', status: 201, body: { ...successStatus(), code: 201 } };
    }
    if (subresource !== undefined && subresource !== 'status' && subresource !== 'scale') {
      if (!(subresource in rt.subresources)) throw errors.notFoundResource();
      throw errors.methodNotAllowed(`the ${rt.plural}/${subresource} subresource is not served yet by this version of Skiff`);
    }

    switch (method) {
      case 'GET': {
        checkVerb(rt, 'get', subresource);
        const o = await reg.get(rt, namespace, name);
        if (subresource === 'scale') return { type: 'plain', status: 200, body: toScale(rt, o.obj) };
        return { type: 'object', status: 200, rt, obj: o };
      }
      case 'PUT': {
        checkVerb(rt, 'update', subresource);
        const ctx = context(call);
        if (subresource === 'scale') return { type: 'plain', status: 200, body: await updateScale(reg, rt, namespace, name, call.body, ctx) };
        const r = await reg.update(rt, namespace, name, call.body, ctx, subresource ? { subresource } : {});
        return { type: 'object', status: r.created ? 201 : 200, rt, obj: r.obj, warnings: ctx.warnings };
      }
      case 'PATCH': {
        checkVerb(rt, 'patch', subresource);
        const ctx = context(call);
        const r = await patchObject(
          reg,
          rt,
          namespace,
          name,
          {
            contentType: (call.contentType ?? '').split(';')[0]!.trim(),
            patch: call.body,
            fieldManagerGiven: managerFrom(call).given,
            force: bool(q(call.query, 'force')),
            ...(subresource ? { subresource } : {}),
          },
          ctx,
        );
        if (subresource === 'scale') return { type: 'plain', status: 200, body: toScale(rt, r.obj) };
        return { type: 'object', status: r.created ? 201 : 200, rt, obj: r.obj, warnings: ctx.warnings };
      }
      case 'DELETE': {
        if (subresource) throw errors.methodNotAllowed();
        checkVerb(rt, 'delete');
        const ctx = context(call);
        const r = await reg.delete(rt, namespace, name, deleteOptions(call), ctx);
        if (!r.gone) return { type: 'object', status: 202, rt, obj: r.obj };
        if (rt.kind === 'Pod') return { type: 'object', status: 200, rt, obj: r.obj };
        return { type: 'status', status: 200, body: successStatus({ name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural, uid: r.obj.metadata.uid! }) };
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  function watchReply(rt: ResourceType, namespace: string | undefined, call: Call): Reply {
    const wq: WatchQuery = {
      ...opt('resourceVersion', q(call.query, 'resourceVersion')),
      ...opt('labelSelector', q(call.query, 'labelSelector')),
      ...opt('fieldSelector', q(call.query, 'fieldSelector')),
      allowWatchBookmarks: bool(q(call.query, 'allowWatchBookmarks')),
      sendInitialEvents: bool(q(call.query, 'sendInitialEvents')),
      ...opt('timeoutSeconds', int(q(call.query, 'timeoutSeconds'), 'timeoutSeconds')),
    };
    return { type: 'watch', rt, start: (sink) => startWatch(reg, rt, namespace, wq, sink, { bookmarkIntervalMs: opts.bookmarkIntervalMs }) };
  }

  /** Resource requests only; the transports answer discovery, OpenAPI and health themselves. */
  return async function handle(call: Call): Promise<Reply | undefined> {
    const parsed = parseApiPath(call.path);
    if (parsed.type === 'resource') return resource(call, parsed.path);
    if (parsed.type === 'unknownResource') throw errors.notFoundResource();
    return undefined;
  };
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

