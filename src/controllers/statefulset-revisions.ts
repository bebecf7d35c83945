// ControllerRevisions of a StatefulSet (upstream pkg/controller/history and the revision helpers
// of pkg/controller/statefulset, 1.32), as pure functions. A revision snapshots the pod template as
// the strategic-merge patch `{"spec":{"template":{…,"$patch":"replace"}}}`; it is named
// `<set>-<hash>` where the hash is FNV-1 32 of that data (plus collisionCount) rendered by
// SafeEncodeString, and labelled controller.kubernetes.io/hash. Two revisions are equal when
// their data is. The controller (statefulset.ts) does the writes.
import type { KubeObject } from '../api/types.js';
import { canonical, safeEncodeString } from './deployment-math.js';
import { controllerRef } from './pod-control.js';

/** history.ControllerRevisionHashLabel. */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision: number;
}

/** A StatefulSet as far as revisions care. */
export interface RevisionOwner extends KubeObject {
  spec: { template?: { metadata?: { labels?: Record<string, string> } } & Record<string, unknown>; revisionHistoryLimit?: number };
}

/** FNV-1 (not 1a), 32 bits, as Go's hash/fnv New32. */
export function fnv1_32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h >>> 0;
}

/** Keys sorted at every level, as Go's json.Marshal writes a map (empty values kept). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** getPatch: the revision data of a set, its template to be replaced wholesale. */
export function revisionData(set: RevisionOwner): unknown {
  return sortKeys({ spec: { template: { ...(structuredClone(set.spec.template ?? {}) as object), $patch: 'replace' } } });
}

/** controller.ComputeHash of a revision: FNV-1 of the data's JSON, then collisionCount's decimal digits. */
export function revisionHash(data: unknown, collisionCount?: number): string {
  let h = fnv1_32(Buffer.from(JSON.stringify(canonical(data) ?? {}), 'utf8'));
  if (collisionCount !== undefined) h = fnv1_32(Buffer.from(String(collisionCount), 'utf8'), h);
  return safeEncodeString(String(h));
}

/** ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 characters. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** newRevision: the ControllerRevision of the set's current template, numbered `revision`,
 *  carrying the template's labels, the set's annotations and the set as controller. */
export function newRevision(set: RevisionOwner, revision: number, collisionCount: number): ControllerRevision {
  const data = revisionData(set);
  const hash = revisionHash(data, collisionCount);
  const labels = { ...(set.spec.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash };
  const metadata: KubeObject['metadata'] = { name: revisionName(set.metadata.name ?? '', hash), namespace: set.metadata.namespace, labels, ownerReferences: [controllerRef(set)] };
  if (set.metadata.annotations && Object.keys(set.metadata.annotations).length) metadata.annotations = { ...set.metadata.annotations };
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata, data, revision };
}

/** history.EqualRevision: same data. */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return false;
  return JSON.stringify(canonical(a.data)) === JSON.stringify(canonical(b.data));
}

/** Sorted by revision number, then creation, then name (history.SortControllerRevisions). */
export function sortRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort((a, b) => a.revision - b.revision || String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
}

/** nextRevision: one more than the highest revision number (1 for none). */
export function nextRevisionNumber(sorted: ControllerRevision[]): number {
  return sorted.length ? (sorted[sorted.length - 1]?.revision ?? 0) + 1 : 1;
}

/** The template a revision restores (ApplyRevision onto the set). */
export function templateOf(rev: ControllerRevision): Record<string, unknown> {
  const t = { ...((rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {}) };
  delete t.$patch;
  return t;
}

/** What getStatefulSetRevisions decides before writing: reuse the latest revision, renumber an
 *  older equal one (a rollback), or create `candidate`. */
export type RevisionDecision = { use: ControllerRevision } | { renumber: ControllerRevision; revision: number } | { create: ControllerRevision };

export function decideUpdateRevision(set: RevisionOwner, sorted: ControllerRevision[], collisionCount: number): RevisionDecision {
  const candidate = newRevision(set, nextRevisionNumber(sorted), collisionCount);
  const equal = sorted.filter((r) => equalRevision(r, candidate));
  const last = sorted[sorted.length - 1];
  const lastEqual = equal[equal.length - 1];
  if (lastEqual && last === lastEqual) return { use: last };
  if (lastEqual) return { renumber: lastEqual, revision: candidate.revision };
  return { create: candidate };
}

/**
 * truncateHistory: the revisions to delete — the oldest of those neither current, nor the update
 * revision, nor the revision of a live pod, beyond revisionHistoryLimit (default 10).
 */
export function revisionsToPrune(sorted: ControllerRevision[], liveRevisionNames: Set<string>, limit = 10): ControllerRevision[] {
  const history = sorted.filter((r) => !liveRevisionNames.has(r.metadata.name ?? ''));
  const excess = history.length - limit;
  return excess > 0 ? history.slice(0, excess) : [];
}
