// One client interface for every component. Built on a Transport, so the same controller code
// runs in-process (skiff up) or across the network (skiff agent). Failures are StatusErrors
// carrying the server's Status (404 NotFound, 409 Conflict, …); nothing is retried here:
// retrying is the caller's policy (informers relist, the work queue backs off).
import { StatusError, errors } from '../api/errors.js';
import type { ResourceType } from '../api/kinds.js';
import type { KubeList, KubeObject, Status } from '../api/types.js';
import type { ApiRequest, Transport, WatchStream } from './transport.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface WriteOptions {
  namespace?: string;
  subresource?: string;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
}

export interface DeleteOptions {
  namespace?: string;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface Client {
  get<T extends KubeObject = KubeObject>(rt: ResourceType, name: string, opts?: { namespace?: string; subresource?: string }): Promise<T>;
  list<T extends KubeObject = KubeObject>(rt: ResourceType, opts?: ListOptions): Promise<KubeList<T>>;
  /** The namespace comes from opts, else from obj.metadata.namespace. */
  create<T extends KubeObject = KubeObject>(rt: ResourceType, obj: KubeObject, opts?: WriteOptions): Promise<T>;
  update<T extends KubeObject = KubeObject>(rt: ResourceType, obj: KubeObject, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(rt: ResourceType, name: string, type: PatchType, patch: unknown, opts?: PatchOptions): Promise<T>;
  /** Resolves with the object (when deletion is graceful or finalizers hold it) or a Success Status. */
  delete(rt: ResourceType, name: string, opts?: DeleteOptions): Promise<KubeObject | Status>;
  watch<T extends KubeObject = KubeObject>(rt: ResourceType, opts?: WatchOptions): Promise<WatchStream<T>>;
  close(): void;
}

/** The API path of a collection or an object, e.g. `/apis/apps/v1/namespaces/ns/deployments/web`. */
export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  if (rt.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${rt.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function listQuery(o: ListOptions | undefined): Record<string, string | undefined> {
  if (!o) return {};
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    limit: o.limit !== undefined ? String(o.limit) : undefined,
    continue: o.continue,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
  };
}

function writeQuery(o: WriteOptions | undefined): Record<string, string | undefined> {
  return {
    dryRun: o?.dryRun ? 'All' : undefined,
    fieldManager: o?.fieldManager,
    fieldValidation: o?.fieldValidation,
  };
}

function toError(status: number, body: unknown): StatusError {
  if (body && typeof body === 'object' && (body as Status).kind === 'Status') return new StatusError(body as Status);
  return errors.internal(`unexpected answer ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
}

export function createClient(transport: Transport): Client {
  async function call<T>(req: ApiRequest): Promise<T> {
    const res = await transport.request(req);
    if (res.status < 200 || res.status >= 300) throw toError(res.status, res.body);
    return res.body as T;
  }
  const nsOf = (rt: ResourceType, obj: KubeObject, opts?: { namespace?: string }) =>
    rt.namespaced ? (opts?.namespace ?? obj.metadata?.namespace ?? 'default') : undefined;

  return {
    get: (rt, name, opts) => call({ method: 'GET', path: resourcePath(rt, opts?.namespace, name, opts?.subresource) }),
    list: (rt, opts) => call({ method: 'GET', path: resourcePath(rt, opts?.namespace), query: listQuery(opts) }),
    create: (rt, obj, opts) =>
      call({ method: 'POST', path: resourcePath(rt, nsOf(rt, obj, opts), opts?.subresource ? obj.metadata.name : undefined, opts?.subresource), query: writeQuery(opts), body: obj, contentType: 'application/json' }),
    update: (rt, obj, opts) =>
      call({ method: 'PUT', path: resourcePath(rt, nsOf(rt, obj, opts), obj.metadata.name, opts?.subresource), query: writeQuery(opts), body: obj, contentType: 'application/json' }),
    patch: (rt, name, type, patch, opts) =>
      call({
        method: 'PATCH',
        path: resourcePath(rt, opts?.namespace, name, opts?.subresource),
        query: { ...writeQuery(opts), force: opts?.force ? 'true' : undefined },
        body: patch,
        contentType: PATCH_CONTENT_TYPES[type],
      }),
    delete: (rt, name, opts) => {
      const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
      if (opts?.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
      if (opts?.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
      if (opts?.preconditions) body.preconditions = opts.preconditions;
      if (opts?.dryRun) body.dryRun = ['All'];
      return call({ method: 'DELETE', path: resourcePath(rt, opts?.namespace, name), body, contentType: 'application/json' });
    },
    watch: async <T extends KubeObject>(rt: ResourceType, opts?: WatchOptions) =>
      (await transport.watch({
        method: 'GET',
        path: resourcePath(rt, opts?.namespace),
        query: {
          ...listQuery(opts),
          watch: 'true',
          allowWatchBookmarks: opts?.allowWatchBookmarks ? 'true' : undefined,
          timeoutSeconds: opts?.timeoutSeconds !== undefined ? String(opts.timeoutSeconds) : undefined,
        },
      })) as WatchStream<T>,
    close: () => transport.close?.(),
  };
}
