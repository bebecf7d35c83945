// REST semantics over the store (kube-apiserver's generic registry): create, get, list, update,
// delete, with everything Kubernetes does around a write — names, uids, timestamps,
// defaulting, validation, generation, optimistic concurrency, status subresources, finalizers,
// graceful deletion, ClusterIP/NodePort allocation, field ownership — in one place, whatever
// the transport. Patches (patch.ts) and subresources (subresources.ts) build on update().
import { randomUUID } from 'node:crypto';
import { applyDefaults, prepareKindForCreate } from '../api/defaults/index.js';
import { errors, field, isStatusError, type FieldError } from '../api/errors.js';
import { RESOURCES, apiVersionOfResource, keyPrefix, objectKey, resourceFor, type ResourceType } from '../api/kinds.js';
import { patchMetaFor } from '../api/schema.js';
import type { KubeObject } from '../api/types.js';
import { validateObject } from '../api/validation/index.js';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, type Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { rfc3339 } from '../util/clock.js';
import type { ServiceAllocators } from './allocators.js';
import { checkDecoding, type DecodingContext } from './decoding.js';
import { canonicalJson } from './field-set.js';
import { recordUpdate } from './managed-fields.js';
import { allowsCreateOnUpdate, allowsUnconditionalUpdate, prepareForCreate, prepareForStatusUpdate, prepareForUpdate } from './strategy.js';
import type { CachedObject, WatchCache } from './watch-cache.js';
import { decode } from './watch-cache.js';

/** Per-request facts every write needs. */
export interface RequestContext extends DecodingContext {
  /** The field manager to record (the `fieldManager` parameter, else from the user agent). */
  fieldManager: string;
  dryRun: boolean;
  /** The request body is the registry's to change (decoded from the wire, or made for this
   *  request); otherwise it belongs to an in-process caller and is copied first. */
  bodyOwned?: boolean;
  /** The caller is a component of this process: its objects are built by typed code, so the
   *  strict decoding walk (unknown fields, wrong types) that guards user input is skipped. */
  trusted?: boolean;
}

export interface WriteOptions {
  /** The body was already decoded strictly (server-side apply checks the applied configuration). */
  skipDecodingCheck?: boolean;
  /** managedFields were computed by the caller (server-side apply): don't record an Update. */
  keepManagedFields?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  obj: KubeObject;
  /** True when the object is gone from the store; false when it is only marked for deletion. */
  gone: boolean;
}

export interface RegistryHooks {
  /** Called after a Namespace is marked Terminating (the cleanup of its contents starts). */
  namespaceTerminating?(name: string): void;
}

const NAMESPACES = resourceFor('', 'v1', 'namespaces');
const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export function generateSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)];
  return s;
}

/** What goes into the store: the object without its resourceVersion (that is the store's revision). */
export function encode(obj: KubeObject): string {
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = obj.metadata;
  const { apiVersion, kind, metadata: _m, ...rest } = obj;
  // apiVersion, kind, metadata first: the watch cache splices the resourceVersion in after them
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

/** Whether writing `next` over `old` would change nothing but the resourceVersion. A change of
 *  field ownership alone (server-side apply of equal values) is a change; a body that leaves
 *  managedFields out keeps the stored ones, so it is not. */
function unchanged(next: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject, mf: unknown) => {
    const { resourceVersion: _rv, managedFields: _mf, ...meta } = o.metadata;
    return canonicalJson({ ...o, metadata: { ...meta, managedFields: mf } });
  };
  return strip(next, next.metadata.managedFields ?? old.metadata.managedFields) === strip(old, old.metadata.managedFields);
}

/** The store's expected failures of a write to an existing object, as the API answers them. */
function asStatusError(rt: ResourceType, name: string, e: unknown): unknown {
  if (e instanceof RevisionMismatchError) return errors.staleConflict(rt.plural, rt.group, name);
  if (e instanceof KeyNotFoundError) return errors.notFound(rt.plural, rt.group, name);
  return e;
}

export class Registry {
  constructor(
    readonly store: Store,
    readonly cache: WatchCache,
    readonly clock: Clock,
    readonly allocators: ServiceAllocators,
    readonly hooks: RegistryHooks = {},
  ) {}

  key(rt: ResourceType, namespace: string | undefined, name: string): string {
    return objectKey(rt, namespace, name);
  }

  now(): string {
    return rfc3339(this.clock.now());
  }

  /** The current object, read from the store (authoritative; used by writes). */
  async read(rt: ResourceType, namespace: string | undefined, name: string): Promise<CachedObject | undefined> {
    const kv = await this.store.get(this.key(rt, namespace, name));
    return kv ? decode(rt, kv) : undefined;
  }

  /**
   * The DefaultStorageClass admission plugin: a new claim that names no class (and has no beta
   * class annotation) gets the default StorageClass, the newest when several are marked default.
   */
  private defaultStorageClass(obj: KubeObject): void {
    const spec = (obj.spec ?? {}) as { storageClassName?: string };
    if (spec.storageClassName !== undefined || (obj.metadata.annotations ?? {})['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
    const classes = this.cache.list(resourceFor('storage.k8s.io', 'v1', 'storageclasses'), undefined).map((c) => c.obj);
    const defaults = classes.filter((c) => ['true'].includes((c.metadata.annotations ?? {})['storageclass.kubernetes.io/is-default-class'] ?? ''));
    if (defaults.length === 0) return;
    defaults.sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
    obj.spec = { ...spec, storageClassName: defaults[0]!.metadata.name };
  }

  /** A consistent read from the cache: waits until the cache has every acknowledged write. */
  async get(rt: ResourceType, namespace: string | undefined, name: string): Promise<CachedObject> {
    await this.cache.sync();
    const o = this.cache.get(rt, this.key(rt, namespace, name));
    if (!o) throw errors.notFound(rt.plural, rt.group, name);
    return o;
  }

  private async committed(rt: ResourceType, kv: { key: string; value: string; createRevision: number; modRevision: number }): Promise<KubeObject> {
    await this.cache.waitFor(kv.modRevision);
    return this.cache.get(rt, kv.key)?.obj ?? decode(rt, kv).obj;
  }

  // ---- create ----

  async create(rt: ResourceType, namespace: string | undefined, body: unknown, ctx: RequestContext, opts: WriteOptions = {}): Promise<KubeObject> {
    const obj = this.admitBody(rt, namespace, body, ctx, opts.skipDecodingCheck);
    if (obj.metadata.resourceVersion) throw errors.badRequest('resourceVersion should not be set on objects to be created');
    if (!obj.metadata.name && !obj.metadata.generateName) {
      throw errors.invalid(rt.kind, rt.group, '', [field.required('metadata.name', 'name or generateName is required')]);
    }
    await this.admitNamespace(rt, obj);
    const generated = !obj.metadata.name;
    for (let attempt = 0; ; attempt++) {
      // a generated name may have to be tried again: keep `obj` clean for the next attempt
      const candidate = generated ? structuredClone(obj) : obj;
      if (generated) candidate.metadata.name = `${obj.metadata.generateName}${generateSuffix()}`;
      try {
        return await this.createPrepared(rt, candidate, ctx, opts);
      } catch (e) {
        if (generated && isStatusError(e, 'AlreadyExists') && attempt < 8) continue;
        throw e;
      }
    }
  }

  private async createPrepared(rt: ResourceType, obj: KubeObject, ctx: RequestContext, opts: WriteOptions = {}): Promise<KubeObject> {
    const m = obj.metadata;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    m.uid = randomUUID();
    m.creationTimestamp = this.now();
    prepareForCreate(rt, obj);
    prepareKindForCreate(rt, obj, m.uid);
    if (rt.kind === 'PersistentVolumeClaim') this.defaultStorageClass(obj);
    applyDefaults(rt, obj);
    this.validate(rt, obj);
    const key = this.key(rt, m.namespace, m.name!);
    // answer AlreadyExists before allocating anything (the store's create stays the real check)
    await this.cache.sync();
    if (this.cache.get(rt, key)) throw errors.alreadyExists(rt.plural, rt.group, m.name!);
    const undo = rt.kind === 'Service' ? this.allocators.allocate(obj) : () => {};
    try {
      if (!opts.keepManagedFields) recordUpdate(undefined, obj, { manager: ctx.fieldManager, apiVersion: apiVersionOfResource(rt), now: this.now(), meta: patchMetaFor(apiVersionOfResource(rt), rt.kind) });
      if (ctx.dryRun) {
        undo();
        return obj;
      }
      const kv = await this.store.create(key, encode(obj));
      return await this.committed(rt, kv);
    } catch (e) {
      undo();
      if (e instanceof KeyExistsError) throw errors.alreadyExists(rt.plural, rt.group, m.name!);
      throw e;
    }
  }

  /** Checks the body's kind/apiVersion/namespace against the request and decodes it strictly. */
  admitBody(rt: ResourceType, namespace: string | undefined, body: unknown, ctx: RequestContext, skipDecodingCheck = false): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw errors.badRequest(`the object provided is unrecognized (must be of type ${rt.kind})`);
    }
    const obj = (ctx.bodyOwned ? body : structuredClone(body)) as KubeObject;
    const apiVersion = apiVersionOfResource(rt);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== rt.kind) {
      throw errors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${rt.kind})`);
    }
    obj.apiVersion = apiVersion;
    obj.kind = rt.kind;
    if (!skipDecodingCheck && !ctx.trusted) checkDecoding(rt, obj, ctx);
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (rt.namespaced) {
      const ns = obj.metadata.namespace;
      if (ns !== undefined && ns !== '' && namespace !== undefined && ns !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace ?? (ns || 'default');
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private async admitNamespace(rt: ResourceType, obj: KubeObject): Promise<void> {
    if (!rt.namespaced) return;
    const nsName = obj.metadata.namespace!;
    const ns = this.cache.get(NAMESPACES, this.key(NAMESPACES, undefined, nsName));
    if (!ns) throw errors.notFound('namespaces', '', nsName);
    if (ns.obj.metadata.deletionTimestamp) {
      throw errors.forbidden(`${rt.plural}${rt.group ? '.' + rt.group : ''} "${obj.metadata.name ?? obj.metadata.generateName ?? ''}" is forbidden: unable to create new content in namespace ${nsName} because it is being terminated`);
    }
  }

  validate(rt: ResourceType, obj: KubeObject, old?: KubeObject): void {
    const errs: FieldError[] = validateObject(rt, obj, old);
    if (errs.length) throw errors.invalid(rt.kind, rt.group, obj.metadata.name ?? '', errs);
  }

  // ---- update ----

  /**
   * Replaces an object (PUT, and the last step of every patch). `expected` is the object the
   * caller computed `next` from (patches); without it, the current object is read here.
   * Returns the stored object and whether it was created (create-on-update kinds).
   */
  async update(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    ctx: RequestContext,
    opts: WriteOptions & { subresource?: string; expected?: CachedObject } = {},
  ): Promise<{ obj: KubeObject; created: boolean }> {
    let next = this.admitBody(rt, namespace, body, ctx, opts.skipDecodingCheck);
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    next.metadata.name = name;
    const cur = opts.expected ?? (await this.read(rt, next.metadata.namespace, name));
    if (!cur) {
      if (allowsCreateOnUpdate(rt) && !opts.subresource) {
        delete next.metadata.resourceVersion;
        await this.admitNamespace(rt, next);
        return { obj: await this.createPrepared(rt, next, ctx, opts), created: true };
      }
      throw errors.notFound(rt.plural, rt.group, name);
    }
    const old = cur.obj;
    if (opts.subresource === 'status') next = prepareForStatusUpdate(next, old);
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== String(cur.rev)) throw errors.staleConflict(rt.plural, rt.group, name);
    if ((rv === undefined || rv === '') && !allowsUnconditionalUpdate(rt)) {
      throw errors.invalid(rt.kind, rt.group, name, [field.invalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
    }
    if (next.metadata.uid && next.metadata.uid !== old.metadata.uid) {
      throw errors.conflict(rt.plural, rt.group, name, `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    const m = next.metadata;
    const om = old.metadata;
    m.uid = om.uid!;
    m.creationTimestamp = om.creationTimestamp!;
    if (om.deletionTimestamp) m.deletionTimestamp = om.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (om.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    if (om.deletionTimestamp) {
      const added = (m.finalizers ?? []).filter((f) => !(om.finalizers ?? []).includes(f));
      if (added.length) throw errors.invalid(rt.kind, rt.group, name, [field.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`)]);
    }
    if (opts.subresource !== 'status') prepareForUpdate(rt, next, old);
    else if (om.generation !== undefined) m.generation = om.generation;
    applyDefaults(rt, next, old);
    this.validate(rt, next, old);

    // An object being deleted whose last finalizer goes away is deleted now.
    if (m.deletionTimestamp && (m.finalizers ?? []).length === 0 && (om.finalizers ?? []).length > 0 && (m.deletionGracePeriodSeconds ?? 0) === 0) {
      if (ctx.dryRun) return { obj: next, created: false };
      return { obj: await this.remove(rt, cur, next), created: false };
    }
    if (unchanged(next, old)) return { obj: old, created: false };

    const undo = rt.kind === 'Service' && !opts.subresource ? this.allocators.allocate(next, old) : () => {};
    try {
      if (!opts.keepManagedFields) recordUpdate(old, next, {
        manager: ctx.fieldManager,
        apiVersion: apiVersionOfResource(rt),
        now: this.now(),
        meta: patchMetaFor(apiVersionOfResource(rt), rt.kind),
        ...(opts.subresource ? { subresource: opts.subresource } : {}),
      });
      if (ctx.dryRun) {
        undo();
        return { obj: next, created: false };
      }
      const written = await this.writeRaw(rt, cur, next);
      if (rt.kind === 'Service') this.allocators.releaseDropped(old, next);
      return { obj: written, created: false };
    } catch (e) {
      undo();
      throw e;
    }
  }

  /** Writes an already-prepared object (used by internal writers that did their own checks). */
  async writeRaw(rt: ResourceType, cur: CachedObject, next: KubeObject): Promise<KubeObject> {
    try {
      const kv = await this.store.update(cur.key, encode(next), cur.rev);
      return await this.committed(rt, kv);
    } catch (e) {
      throw asStatusError(rt, next.metadata.name ?? '', e);
    }
  }

  // ---- delete ----

  async delete(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read(rt, namespace, name);
      if (!cur) throw errors.notFound(rt.plural, rt.group, name);
      try {
        return await this.deleteOnce(rt, cur, opts, ctx);
      } catch (e) {
        // lost a race with another writer: look again, as kube-apiserver's GuaranteedUpdate does
        if (isStatusError(e, 'Conflict') && !opts.preconditions?.resourceVersion && attempt < 5) continue;
        throw e;
      }
    }
  }

  private async deleteOnce(rt: ResourceType, cur: CachedObject, opts: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    const obj = cur.obj;
    const name = obj.metadata.name!;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw errors.conflict(rt.plural, rt.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== String(cur.rev)) {
      throw errors.conflict(rt.plural, rt.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.rev}`);
    }
    const dry = ctx.dryRun || opts.dryRun === true;

    if (rt.kind === 'Namespace') {
      if (IMMORTAL_NAMESPACES.has(name)) throw errors.forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
      if (obj.metadata.deletionTimestamp) {
        // The namespace controller's last DELETE, once it has emptied the namespace (kube-apiserver
        // waits for spec.finalizers, which that controller clears when nothing is left): it goes.
        if (dry || !this.namespaceIsEmpty(name)) return { obj, gone: false };
        return { obj: await this.remove(rt, cur), gone: true };
      }
      const next = structuredClone(obj);
      next.metadata.deletionTimestamp = this.now();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.status = { ...((next.status as object) ?? {}), phase: 'Terminating' };
      if (dry) return { obj: next, gone: false };
      const written = await this.writeRaw(rt, cur, next);
      this.hooks.namespaceTerminating?.(name);
      return { obj: written, gone: false };
    }

    const grace = this.gracePeriod(rt, obj, opts);
    if (grace > 0) {
      const m = obj.metadata;
      if (m.deletionTimestamp && (m.deletionGracePeriodSeconds ?? 0) <= grace) return { obj, gone: false };
      const next = structuredClone(obj);
      next.metadata.deletionTimestamp = rfc3339(this.clock.now() + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
      const gcFinalizers = finalizersForPropagation(obj.metadata.finalizers, opts.propagationPolicy);
      if (gcFinalizers.length > 0) next.metadata.finalizers = gcFinalizers;
      if (rt.hasGeneration || next.metadata.generation !== undefined) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
      if (dry) return { obj: next, gone: false };
      return { obj: await this.writeRaw(rt, cur, next), gone: false };
    }

    // Orphan and Foreground leave the dependents to the garbage collector through its finalizers
    // (`orphan`, `foregroundDeletion`), as kube-apiserver does; Background takes both away.
    const finalizers = finalizersForPropagation(obj.metadata.finalizers, opts.propagationPolicy);
    if (finalizers.length > 0) {
      const m = obj.metadata;
      const same = finalizers.length === (m.finalizers ?? []).length && finalizers.every((f, i) => f === m.finalizers?.[i]);
      if (m.deletionTimestamp && same && (m.deletionGracePeriodSeconds ?? 0) === 0) return { obj, gone: false };
      const next = structuredClone(obj);
      next.metadata.finalizers = finalizers;
      if (!m.deletionTimestamp) {
        next.metadata.deletionTimestamp = this.now();
        if (next.metadata.generation !== undefined) next.metadata.generation += 1;
      }
      // a graceful deletion that has run its course waits only for its finalizers now
      next.metadata.deletionGracePeriodSeconds = 0;
      if (dry) return { obj: next, gone: false };
      return { obj: await this.writeRaw(rt, cur, next), gone: false };
    }
    if (dry) return { obj, gone: true };
    return { obj: await this.remove(rt, cur), gone: true };
  }

  /** Pods on a node terminate gracefully; everything else goes at once (grace 0). */
  private gracePeriod(rt: ResourceType, obj: KubeObject, opts: DeleteOptions): number {
    if (rt.kind !== 'Pod') return 0;
    const spec = (obj.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }

  /** Removes the object from the store. `last` is what the caller wants reported as the final state. */
  private async remove(rt: ResourceType, cur: CachedObject, last?: KubeObject): Promise<KubeObject> {
    try {
      const kv = await this.store.delete(cur.key, cur.rev);
      if (rt.kind === 'Service') this.allocators.release(cur.obj);
      await this.cache.waitFor(kv.modRevision);
      const out = last ?? decode(rt, kv).obj;
      out.metadata.resourceVersion = String(kv.modRevision);
      return out;
    } catch (e) {
      throw asStatusError(rt, cur.obj.metadata.name ?? '', e);
    }
  }

  /** Whether no namespaced object of any kind is left in the namespace. */
  private namespaceIsEmpty(namespace: string): boolean {
    return RESOURCES.every((rt) => !rt.namespaced || this.cache.list(rt, namespace).length === 0);
  }

  /** Deletes everything matching in a collection; returns the objects acted on. */
  async deleteCollection(rt: ResourceType, namespace: string | undefined, items: CachedObject[], opts: DeleteOptions, ctx: RequestContext): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const it of items) {
      try {
        out.push((await this.delete(rt, it.obj.metadata.namespace ?? namespace, it.obj.metadata.name!, opts, ctx)).obj);
      } catch (e) {
        if (!isStatusError(e, 'NotFound')) throw e;
      }
    }
    return out;
  }

  /** Prefix of a collection in the store (namespace-scoped when given). */
  prefix(rt: ResourceType, namespace?: string): string {
    return keyPrefix(rt, rt.namespaced ? namespace : undefined);
  }
}

/**
 * The finalizers an object deleted with `policy` carries (kube-apiserver's
 * deletionFinalizersForGarbageCollection): Orphan adds `orphan` and drops `foregroundDeletion`,
 * Foreground the reverse, Background drops both, and no policy keeps what the object has.
 */
export function finalizersForPropagation(finalizers: readonly string[] | undefined, policy: DeleteOptions['propagationPolicy']): string[] {
  const fins = [...(finalizers ?? [])];
  if (policy === undefined) return fins;
  const add = policy === 'Orphan' ? 'orphan' : policy === 'Foreground' ? 'foregroundDeletion' : undefined;
  const out = fins.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
  if (add) out.push(add);
  return out;
}
