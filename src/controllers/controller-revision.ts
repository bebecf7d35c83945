// ControllerRevisions, shared by the DaemonSet and StatefulSet controllers (upstream's
// pkg/controller/history and the DaemonSet controller's snapshot/dedup/cleanup). A
// ControllerRevision is an immutable snapshot of a workload's template (`data`, a patch that
// `kubectl rollout undo` applies back) numbered by `revision`, owned by its workload through a
// controller reference and labelled with the workload's template labels. Generic over the owner:
//   - hashes: templateHash (controller.ComputeHash, what the DaemonSet names revisions and labels
//     pods with) and revisionDataHash (history.HashControllerRevision, what StatefulSets use);
//   - newControllerRevision builds one, createRevision creates it and resolves a name collision
//     (an equal revision of the same owner is returned; anything else throws RevisionCollision so
//     the caller bumps status.collisionCount and retries);
//   - claimRevisions adopts matching orphans and releases revisions that stopped matching;
//   - ownedRevisions / sortByRevision / maxRevision / equalRevisionData read a revision cache;
//   - setRevisionNumber and deleteRevision write.
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { matches, type Selector } from '../api/selectors.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { NAMESPACE_INDEX, type Indexer } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { canonical, computeHash, safeEncodeString, type PodTemplate } from './deployment-math.js';
import { controllerRef } from './pod-control.js';

export const CONTROLLER_REVISIONS = resourceFor('apps', 'v1', 'controllerrevisions');
/** apps.ControllerRevisionHashLabelKey. */
export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision: number;
}

/** controller.ComputeHash of a pod template (see deployment-math's computeHash for how the bytes
 *  differ from Go's spew dump while staying stable). */
export function templateHash(template: unknown, collisionCount?: number): string {
  return computeHash(template as PodTemplate | undefined, collisionCount);
}

/** FNV-1 (not 1a), 32 bits. */
function fnv1_32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= b;
  }
  return h >>> 0;
}

/** history.HashControllerRevision: FNV-1 32 of the data's JSON (canonical: sorted keys), then of
 *  the decimal collision count when given, rendered by SafeEncodeString. */
export function revisionDataHash(data: unknown, collisionCount?: number): string {
  let h = fnv1_32(Buffer.from(JSON.stringify(canonical(data) ?? {}), 'utf8'));
  if (collisionCount !== undefined) h = fnv1_32(Buffer.from(String(collisionCount), 'utf8'), h);
  return safeEncodeString(String(h));
}

/** Whether two revisions hold the same data (upstream compares the raw bytes; we compare the
 *  canonical JSON, so key order and empty fields do not matter). */
export function equalRevisionData(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a) ?? {}) === JSON.stringify(canonical(b) ?? {});
}

/**
 * history.NewControllerRevision: a revision named `name` in the owner's namespace, labelled with
 * `labels` (the template's, plus the hash label), annotated with `annotations`, controlled by
 * `owner` (which must carry apiVersion and kind).
 */
export function newControllerRevision(owner: KubeObject, name: string, labels: Record<string, string>, data: unknown, revision: number, annotations?: Record<string, string>): ControllerRevision {
  const metadata: KubeObject['metadata'] = { name, namespace: owner.metadata.namespace, labels: { ...labels }, ownerReferences: [controllerRef(owner)] };
  if (annotations && Object.keys(annotations).length) metadata.annotations = { ...annotations };
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata, data, revision };
}

/** Thrown by createRevision when the name is taken by a different revision (or another owner's). */
export class RevisionCollision extends Error {
  constructor(readonly existing: ControllerRevision) {
    super(`controllerrevision ${existing.metadata.namespace}/${existing.metadata.name} already exists with different data`);
  }
}

/** Creates `rev`; when its name is taken, returns the existing one if it has the same owner and
 *  data, else throws RevisionCollision. */
export async function createRevision(client: Client, rev: ControllerRevision): Promise<ControllerRevision> {
  try {
    return (await client.create(CONTROLLER_REVISIONS, rev)) as ControllerRevision;
  } catch (e) {
    if (!isStatusError(e, 'AlreadyExists')) throw e;
    const existing = (await client.get(CONTROLLER_REVISIONS, rev.metadata.name ?? '', { namespace: rev.metadata.namespace })) as ControllerRevision;
    const ownerUid = rev.metadata.ownerReferences?.[0]?.uid;
    const owned = (existing.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === ownerUid);
    if (owned && equalRevisionData(existing.data, rev.data)) return existing;
    throw new RevisionCollision(existing);
  }
}

/** The revisions in `cache` controlled by `owner` (by uid), from its namespace. */
export function ownedRevisions(cache: Indexer, owner: KubeObject): ControllerRevision[] {
  return cache
    .byIndex(NAMESPACE_INDEX, owner.metadata.namespace ?? '')
    .filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.controller && o.uid === owner.metadata.uid)) as ControllerRevision[];
}

/**
 * ClaimControllerRevisions (ControllerRevisionControllerRefManager): of the namespace's revisions
 * in `cache`, those `owner` controls and `selector` matches are kept; its revisions that stopped
 * matching are released; matching orphans are adopted once `canAdopt` (upstream's
 * RecheckDeletionTimestamp: the owner re-read from the server, still the same and not being
 * deleted; it throws otherwise) passes. Returns the revisions owned afterwards.
 */
export async function claimRevisions(client: Client, cache: Indexer, owner: KubeObject, selector: Selector, canAdopt: () => Promise<void>): Promise<ControllerRevision[]> {
  const owned: ControllerRevision[] = [];
  const adopt: ControllerRevision[] = [];
  const release: ControllerRevision[] = [];
  const deleting = !!owner.metadata.deletionTimestamp;
  for (const r of cache.byIndex(NAMESPACE_INDEX, owner.metadata.namespace ?? '') as ControllerRevision[]) {
    const ref = (r.metadata.ownerReferences ?? []).find((o) => o.controller);
    const match = matches(selector, r.metadata.labels);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (match) owned.push(r);
      else if (!deleting) release.push(r);
    } else if (match && !deleting && !r.metadata.deletionTimestamp) adopt.push(r);
  }
  for (const r of release) await patchRefs(client, r, (r.metadata.ownerReferences ?? []).filter((o) => o.uid !== owner.metadata.uid));
  if (adopt.length === 0) return owned;
  await canAdopt();
  for (const r of adopt) await patchRefs(client, r, [...(r.metadata.ownerReferences ?? []), controllerRef(owner)]);
  return [...owned, ...adopt.map((r) => ({ ...r, metadata: { ...r.metadata, ownerReferences: [...(r.metadata.ownerReferences ?? []), controllerRef(owner)] } }))];
}

/** Replaces a revision's owner references, guarded by a JSON patch test of its uid and of the
 *  references seen; a revision gone meanwhile is ignored. */
async function patchRefs(client: Client, r: ControllerRevision, refs: OwnerReference[]): Promise<void> {
  const ops: unknown[] = [
    { op: 'test', path: '/metadata/uid', value: r.metadata.uid },
    r.metadata.ownerReferences ? { op: 'test', path: '/metadata/ownerReferences', value: r.metadata.ownerReferences } : undefined,
    refs.length ? { op: 'add', path: '/metadata/ownerReferences', value: refs } : { op: 'remove', path: '/metadata/ownerReferences' },
  ].filter((o) => o !== undefined);
  try {
    await client.patch(CONTROLLER_REVISIONS, r.metadata.name ?? '', 'json', ops, { namespace: r.metadata.namespace });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
}

/** history.SortControllerRevisions: by revision, then creation time, then name (a new array). */
export function sortByRevision(revs: ControllerRevision[]): ControllerRevision[] {
  const t = (r: ControllerRevision) => Date.parse(r.metadata.creationTimestamp ?? '') || 0;
  const n = (r: ControllerRevision) => r.metadata.name ?? '';
  return [...revs].sort((a, b) => a.revision - b.revision || t(a) - t(b) || (n(a) < n(b) ? -1 : n(a) > n(b) ? 1 : 0));
}

/** The highest revision number (0 for none). */
export function maxRevision(revs: ControllerRevision[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
}

/** history.UpdateControllerRevision's use: renumbers a revision (a merge patch of `revision`). */
export async function setRevisionNumber(client: Client, rev: ControllerRevision, revision: number): Promise<ControllerRevision> {
  return (await client.patch(CONTROLLER_REVISIONS, rev.metadata.name ?? '', 'merge', { revision }, { namespace: rev.metadata.namespace })) as ControllerRevision;
}

/** Deletes a revision (by uid precondition); one already gone is fine. */
export async function deleteRevision(client: Client, rev: ControllerRevision): Promise<void> {
  try {
    await client.delete(CONTROLLER_REVISIONS, rev.metadata.name ?? '', { namespace: rev.metadata.namespace, ...(rev.metadata.uid ? { preconditions: { uid: rev.metadata.uid } } : {}) });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
}
