// Server-side apply (`PATCH` with `application/apply-patch+yaml`), after k8s.io/apimachinery's
// managedfields and structured-merge-diff's merge.Updater.Apply: the applied configuration is the
// applier's complete intent. Its fields become the applier's Apply entry; they are merged into the
// live object; fields the applier set last time but no longer applies are removed unless someone
// else owns them; and changing a value another manager owns is a conflict (409) unless forced,
// in which case ownership moves to the applier.
import { formatFieldErrorBody, StatusError, field, type FieldError } from '../../api/errors.js';
import type { PatchMeta } from '../../api/patch-meta.js';
import type { KubeObject, StatusCause } from '../../api/types.js';
import { compareObjects, deepEqual, fieldSetOf, removePaths, withoutResetFields, withoutStripped } from '../field-paths.js';
import { canonicalJson, difference, equalFieldSets, intersection, isEmptyFieldSet, listPaths, pathString, union, type FieldSet } from '../field-set.js';
import { decodeOrEmpty, describeManager, managerIdentifier, storeManagedFields, type ManagedSets, type ManagerEntry } from '../managed-fields.js';
import { mergeApplied } from './apply-merge.js';

/** Where kubectl's client-side apply keeps the last applied configuration. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export interface ServerSideApplyInput {
  /** The stored object, or undefined when the apply creates it. Not modified. */
  live: KubeObject | undefined;
  /** The applied configuration as decoded from the request body. Not modified. */
  applied: KubeObject;
  /** The `fieldManager` query parameter. */
  manager: string;
  /** The `force` query parameter: take ownership instead of failing on conflicts. */
  force: boolean;
  /** Merge metadata of the kind (patchMetaFor). */
  meta: PatchMeta;
  /** The apiVersion of the endpoint; the applied configuration must name the same. */
  apiVersion: string;
  /** RFC 3339 time recorded on the applier's entry. */
  now: string;
  /** `status` (or another subresource) when applying through a subresource. */
  subresource?: string;
}

/**
 * Returns the object to store: a fresh object carrying the merged fields and the new
 * `metadata.managedFields`. When `live` is undefined it is the applied configuration with the
 * applier's entry (the caller then defaults and creates it); the caller must not record an
 * Update entry for an apply. `metadata.managedFields` in the applied body is ignored; `status`
 * (on the main resource) is merged as sent but never owned, since the caller resets it.
 * When the apply changes nothing, not even ownership, the result is a copy of `live` itself
 * (managedFields timestamps included, as upstream keeps them), so the caller can recognise a
 * no-op by comparing the whole object, managedFields included.
 *
 * Throws StatusError: 422 (PatchOptions) for a missing or malformed field manager; 400 when the
 * applied apiVersion is not the endpoint's; 409 Conflict, with one `FieldManagerConflict` cause per
 * field, when the apply would change fields other managers own and `force` is false. As upstream,
 * the manager `kubectl` is not stopped by conflicts on fields its own client-side apply set
 * (per the last-applied annotation), and keeps that annotation in step with what it applies.
 */
export function serverSideApply(input: ServerSideApplyInput): KubeObject {
  const { live, manager, meta, apiVersion, subresource } = input;
  checkManager(manager);
  const appliedVersion = typeof input.applied.apiVersion === 'string' ? input.applied.apiVersion : '';
  if (appliedVersion !== apiVersion) {
    throw status(400, 'BadRequest', `Incorrect version specified in apply patch. Specified patch version: ${appliedVersion}, expected: ${apiVersion}`);
  }

  const config = withoutManagedFields(input.applied);
  const liveObj = live ? withoutManagedFields(live) : undefined;
  const managed = decodeOrEmpty(live?.metadata?.managedFields);
  const applier: ManagerEntry = { manager, operation: 'Apply', apiVersion, time: input.now, set: withoutResetFields(withoutStripped(fieldSetOf(config, meta)), subresource) };
  if (subresource) applier.subresource = subresource;
  const id = managerIdentifier(applier);
  const lastSet = managed.get(id)?.set;

  const run = (force: boolean) => applyOnce({ liveObj, config, managed, applier, id, lastSet, meta, subresource, force });
  let outcome = run(input.force);
  if ('conflicts' in outcome && manager === 'kubectl') {
    // Upgrading from client-side apply: fields kubectl itself applied (and that still hold the
    // applied value) are not conflicts, only other managers' edits are.
    const allowed = allowedByLastApplied(live, liveObj, meta, apiVersion);
    if (allowed) {
      const remaining = outcome.conflicts.map((c) => ({ ...c, set: difference(c.set, allowed) })).filter((c) => !isEmptyFieldSet(c.set));
      outcome = remaining.length === 0 ? run(true) : { conflicts: remaining };
    }
  }
  if ('conflicts' in outcome) throw conflictError(outcome.conflicts);

  const out = outcome.merged;
  const annotations = out.metadata.annotations;
  if (manager === 'kubectl' && annotations && typeof annotations[LAST_APPLIED_ANNOTATION] === 'string' && annotations[LAST_APPLIED_ANNOTATION] !== '') {
    annotations[LAST_APPLIED_ANNOTATION] = lastAppliedOf(config);
  }
  // A no-op apply (upstream then keeps the old timestamps too) returns the stored object as it is.
  if (live && deepEqual(out, liveObj) && sameOwnership(outcome.sets, managed)) return structuredClone(live);
  storeManagedFields(out, outcome.sets);
  return out;
}

interface Conflict {
  id: string;
  entry: ManagerEntry;
  set: FieldSet;
}

interface ApplyStep {
  liveObj: KubeObject | undefined;
  config: KubeObject;
  managed: ManagedSets;
  applier: ManagerEntry;
  id: string;
  lastSet: FieldSet | undefined;
  meta: PatchMeta;
  subresource: string | undefined;
  force: boolean;
}

// One pass of merge.Updater.Apply: merge, prune, then settle ownership against the live object.
function applyOnce(s: ApplyStep): { merged: KubeObject; sets: ManagedSets } | { conflicts: Conflict[] } {
  const sets: ManagedSets = new Map([...s.managed].map(([k, e]) => [k, { ...e }]));
  sets.set(s.id, s.applier);

  let merged = (mergeApplied(s.liveObj, s.config, s.meta) ?? {}) as KubeObject;
  if (s.lastSet) {
    // Prune: what the applier set last time, no longer applies, and nobody (itself included) owns now.
    let owned = s.applier.set;
    for (const e of sets.values()) owned = union(owned, e.set);
    merged = removePaths(merged, keepingAncestorsOf(difference(withoutResetFields(s.lastSet, s.subresource), owned), owned), s.meta) as KubeObject;
  }
  if (typeof merged.metadata !== 'object' || merged.metadata === null) merged.metadata = {};

  const cmp = compareObjects(s.liveObj, merged, s.meta);
  const changed = withoutResetFields(union(cmp.modified, cmp.added), s.subresource);
  const removed = withoutResetFields(cmp.removed, s.subresource);
  const conflicts: Conflict[] = [];
  for (const [id, e] of sets) {
    if (id === s.id) continue;
    const c = intersection(e.set, changed);
    if (!isEmptyFieldSet(c)) conflicts.push({ id, entry: e, set: c });
  }
  if (conflicts.length > 0 && !s.force) return { conflicts };

  for (const [id, e] of sets) {
    if (id === s.id) continue;
    const rest = difference(difference(e.set, changed), removed);
    if (isEmptyFieldSet(rest)) sets.delete(id);
    else e.set = rest;
  }
  return { merged, sets };
}

// The fields kubectl's last client-side apply set that still hold the applied value (upstream's
// lastAppliedManager). Undefined when there is no usable annotation.
function allowedByLastApplied(live: KubeObject | undefined, liveObj: KubeObject | undefined, meta: PatchMeta, apiVersion: string): FieldSet | undefined {
  const raw = live?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!raw) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof last !== 'object' || last === null || (last as KubeObject).apiVersion !== apiVersion) return undefined;
  const cmp = compareObjects(last, liveObj, meta);
  return difference(difference(difference(fieldSetOf(last, meta), cmp.modified), cmp.added), cmp.removed);
}

/** The annotation value kubectl's client-side apply would write: the configuration, keys sorted, as Go encodes it. */
function lastAppliedOf(config: KubeObject): string {
  const copy = structuredClone(config);
  if (copy.metadata?.annotations) delete copy.metadata.annotations[LAST_APPLIED_ANNOTATION];
  const json = canonicalJson(copy).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${json}\n`;
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  if (typeof copy.metadata === 'object' && copy.metadata !== null) delete copy.metadata.managedFields;
  return copy;
}

function sameOwnership(a: ManagedSets, b: ManagedSets): boolean {
  const nonEmpty = (m: ManagedSets) => [...m].filter(([, e]) => !isEmptyFieldSet(e.set));
  const ea = nonEmpty(a);
  if (ea.length !== nonEmpty(b).length) return false;
  return ea.every(([id, e]) => {
    const other = b.get(id);
    return other !== undefined && other.apiVersion === e.apiVersion && equalFieldSets(other.set, e.set);
  });
}

/** The 409 upstream's NewConflictError builds, word for word. */
export function conflictError(conflicts: readonly Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const items = sorted.flatMap((c) => listPaths(c.set).map((p) => ({ who: describeManager(c.entry), path: pathString(p) })));
  const causes: StatusCause[] = items.map((i) => ({ reason: 'FieldManagerConflict', message: `conflict with ${i.who}`, field: i.path }));
  let message: string;
  if (items.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${items[0]!.who}: ${items[0]!.path}`;
  } else {
    const lines: string[] = [];
    for (const c of sorted) {
      lines.push(`conflicts with ${describeManager(c.entry)}:`);
      for (const p of listPaths(c.set)) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${items.length} conflicts: ${lines.join('\n')}`;
  }
  return status(409, 'Conflict', message, { causes });
}

// PatchOptions validation for apply (upstream's ValidatePatchOptions / ValidateFieldManager).
function checkManager(manager: string): void {
  const errs: FieldError[] = [];
  if (manager === '') errs.push(field.required('fieldManager', 'is required for apply patch'));
  else if (manager.length > 128) errs.push(field.tooLong('fieldManager', manager, 128));
  else if (/[^\x20-\x7e\u00a0-\uffff]/.test(manager)) errs.push(field.invalid('fieldManager', manager, 'must only contain printable characters'));
  if (errs.length === 0) return;
  const parts = errs.map((e) => `${e.field}: ${formatFieldErrorBody(e)}`);
  throw status(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`, {
    group: 'meta.k8s.io',
    kind: 'PatchOptions',
    causes: errs.map((e) => ({ reason: e.type, message: formatFieldErrorBody(e), field: e.field })),
  });
}

function status(code: number, reason: string, message: string, details?: NonNullable<ConstructorParameters<typeof StatusError>[0]['details']>): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) });
}

/**
 * `toRemove` without the paths that lead to something still owned: a list or struct the applier
 * owned as a whole last time (FieldsV1's `.`, as kubectl's client-side-apply migration writes it)
 * stays while anyone still owns items inside it — upstream's prune adds such items back.
 */
function keepingAncestorsOf(toRemove: FieldSet, owned: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set(), children: new Map() };
  for (const pe of toRemove.members) if (!owned.children.has(pe)) out.members.add(pe);
  for (const [pe, sub] of toRemove.children) {
    const kept = owned.children.has(pe) ? keepingAncestorsOf(sub, owned.children.get(pe)!) : sub;
    if (kept.members.size || kept.children.size) out.children.set(pe, kept);
  }
  return out;
}
