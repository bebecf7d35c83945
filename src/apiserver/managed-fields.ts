// metadata.managedFields: which field manager owns which fields (k8s.io/apimachinery's
// managedfields package over structured-merge-diff). Every write records ownership here:
// `recordUpdate` for create, update and non-apply patches; server-side apply (patch/apply.ts)
// decodes the same entries, merges, and encodes them back.
import type { PatchMeta } from '../api/patch-meta.js';
import type { KubeObject, ManagedFieldsEntry } from '../api/types.js';
import { compareObjects, withoutResetFields, withoutStripped } from './field-paths.js';
import { difference, fromFieldsV1, isEmptyFieldSet, toFieldsV1, union, type FieldSet } from './field-set.js';

export { fieldSetOf, compareObjects, type Comparison } from './field-paths.js';
export { toFieldsV1, fromFieldsV1, union, difference, intersection, emptyFieldSet, isEmptyFieldSet, listPaths, pathString, type FieldSet } from './field-set.js';

/** One manager's ownership, decoded. */
export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

/** Decoded managedFields keyed by manager identifier (see managerIdentifier). Insertion order carries no meaning. */
export type ManagedSets = Map<string, ManagerEntry>;

/**
 * The key that makes two entries "the same manager" (upstream's BuildManagerIdentifier): manager,
 * operation and subresource, plus the apiVersion for Update (an applier keeps one entry across
 * versions). It is JSON in Go's field order, so sorting identifiers sorts like upstream.
 */
export function managerIdentifier(e: { manager: string; operation: 'Apply' | 'Update'; apiVersion?: string; subresource?: string }): string {
  const id: Record<string, string> = { manager: e.manager, operation: e.operation };
  if (e.operation === 'Update' && e.apiVersion) id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

/** How conflicts name a manager: `"kubectl"`, `"kubectl-scale" with subresource "scale" using apps/v1`. */
export function describeManager(e: Pick<ManagerEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

/**
 * Decodes managedFields. Throws an Error (with upstream's wording where it has one) for an entry
 * whose operation is not Apply/Update, whose apiVersion is empty, whose fieldsType is not
 * FieldsV1 or whose fieldsV1 does not parse. A later entry with the same identifier wins.
 */
export function decodeManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): ManagedSets {
  const out: ManagedSets = new Map();
  (entries ?? []).forEach((e, i) => {
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || (e.fieldsType as string) === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const entry: ManagerEntry = { manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion, set: fromFieldsV1(e.fieldsV1 ?? {}) };
    if (e.subresource) entry.subresource = e.subresource;
    if (e.time) entry.time = e.time;
    out.set(managerIdentifier(entry), entry);
  });
  return out;
}

function seconds(time: string | undefined): number {
  const t = time ? Date.parse(time) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/**
 * Encodes decoded sets as managedFields, dropping empty sets, in upstream's order: Apply before
 * Update, then by time, manager, apiVersion, subresource. Undefined when nothing is owned
 * (Kubernetes then omits the field).
 */
export function encodeManagedFields(sets: ManagedSets): ManagedFieldsEntry[] | undefined {
  const entries = [...sets.values()].filter((e) => !isEmptyFieldSet(e.set));
  if (entries.length === 0) return undefined;
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  entries.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  );
  return entries.map((e) => {
    const out: ManagedFieldsEntry = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = toFieldsV1(e.set);
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

/** Writes encoded sets into `obj.metadata.managedFields`, removing the field when nothing is owned. */
export function storeManagedFields(obj: KubeObject, sets: ManagedSets): void {
  const encoded = encodeManagedFields(sets);
  if (encoded) obj.metadata.managedFields = encoded;
  else delete obj.metadata.managedFields;
}

/** Decodes, treating undecodable managedFields as none (they are then rebuilt from this write on). */
export function decodeOrEmpty(entries: readonly ManagedFieldsEntry[] | undefined): ManagedSets {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

// `managedFields: []` or `[{}]` in a write means "reset ownership" (upstream's isResetManagedFields).
function isReset(mf: readonly ManagedFieldsEntry[] | undefined): boolean {
  if (!Array.isArray(mf)) return false;
  if (mf.length === 0) return true;
  return mf.length === 1 && Object.values(mf[0] ?? {}).every((v) => v === undefined);
}

// Which ownership a non-apply write starts from (upstream's decodeLiveOrNew): the managedFields the
// client sent, if valid and non-empty (so tools can rewrite ownership, as kubectl does when it
// migrates client-side apply to server-side apply); else the stored ones. Subresource writes
// always start from the stored ones.
function baseOwnership(oldObj: KubeObject | undefined, newObj: KubeObject, subresource: string | undefined): ManagedSets {
  const stored = () => decodeOrEmpty(oldObj?.metadata.managedFields);
  if (subresource) return stored();
  const sent = newObj.metadata.managedFields;
  if (isReset(sent)) return new Map();
  const decoded = decodeOrEmpty(sent);
  return decoded.size > 0 ? decoded : stored();
}

/** The most Update entries kept; older ones are folded into `ancient-changes` (upstream's cap). */
export const MAX_UPDATE_MANAGERS = 10;

export interface RecordUpdateOptions {
  /** The field manager; empty means "unknown", as upstream. */
  manager: string;
  /** The apiVersion the client wrote in (recorded on the entry). */
  apiVersion: string;
  /** RFC 3339 time recorded on the entry when this write changed something. */
  now: string;
  /** `status`, `scale`, … when the write went through a subresource. */
  subresource?: string;
  meta: PatchMeta;
}

/**
 * Sets `newObj.metadata.managedFields` for a non-apply write (create: `oldObj` undefined; update;
 * any non-apply patch). Call it on the final object about to be stored (after defaulting).
 * The fields this write added or changed become owned by `manager` with operation Update (merged
 * into its existing entry for the same apiVersion and subresource, whose time becomes `now`);
 * other managers lose the fields whose value changed or that were removed, and keep the rest.
 * A write that changes nothing (ignoring bookkeeping) leaves every entry and time as it was.
 * Entries left empty are dropped. Never throws: unreadable stored ownership is treated as none.
 * Mutates `newObj` only.
 */
export function recordUpdate(oldObj: KubeObject | undefined, newObj: KubeObject, opts: RecordUpdateOptions): void {
  const managed = baseOwnership(oldObj, newObj, opts.subresource);
  const cmp = compareObjects(oldObj, newObj, opts.meta);
  const changed = withoutResetFields(union(cmp.modified, cmp.added), opts.subresource);
  const removed = withoutResetFields(cmp.removed, opts.subresource);

  // Everyone, this manager's earlier entry included, gives up what this write changed or removed;
  // this write then takes what it changed (upstream runs the update as "current-operation").
  for (const [id, e] of managed) {
    const rest = difference(difference(e.set, changed), removed);
    if (isEmptyFieldSet(rest)) managed.delete(id);
    else e.set = rest;
  }
  const own = withoutStripped(changed);
  if (!isEmptyFieldSet(own)) {
    const entry: ManagerEntry = { manager: opts.manager || 'unknown', operation: 'Update', apiVersion: opts.apiVersion, time: opts.now, set: own };
    if (opts.subresource) entry.subresource = opts.subresource;
    const id = managerIdentifier(entry);
    const prev = managed.get(id);
    if (prev) entry.set = union(own, prev.set);
    managed.set(id, entry);
  }
  capUpdateManagers(managed, MAX_UPDATE_MANAGERS);
  storeManagedFields(newObj, managed);
}

/**
 * Folds the oldest Update entries into one `ancient-changes` entry per apiVersion until at most
 * `max` Update entries remain (upstream's capManagersManager). Mutates `managed`.
 */
export function capUpdateManagers(managed: ManagedSets, max: number): void {
  const updaters = [...managed.entries()].filter(([, e]) => e.operation === 'Update').map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => seconds(managed.get(a)!.time) - seconds(managed.get(b)!.time) || (a < b ? -1 : a > b ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let count = updaters.length;
  for (let i = 0; i < updaters.length && count > max; i++) {
    const id = updaters[i]!;
    const e = managed.get(id);
    if (!e) continue;
    const bucketId = managerIdentifier({ manager: 'ancient-changes', operation: 'Update', apiVersion: e.apiVersion });
    const first = firstOfVersion.get(e.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(e.apiVersion, id);
      continue;
    }
    if (!managed.has(bucketId)) {
      const f = managed.get(first)!;
      managed.delete(first);
      managed.set(bucketId, { manager: 'ancient-changes', operation: 'Update', apiVersion: f.apiVersion, set: f.set, ...(f.time ? { time: f.time } : {}) });
    }
    const bucket = managed.get(bucketId)!;
    managed.set(bucketId, { ...bucket, set: union(e.set, bucket.set), ...(e.time ? { time: e.time } : {}) });
    if (id !== bucketId) managed.delete(id);
    count--;
  }
}
