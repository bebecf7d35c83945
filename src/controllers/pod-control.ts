// What a workload controller writes to pods (upstream's RealPodControl and the adopt/release
// patches of PodControllerRefManager): create a pod from the owner's template, delete one, take an
// orphan, let go of one that stopped matching. Each records the events kube-controller-manager
// records, with its exact messages.
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import type { Client } from '../client/client.js';
import type { EventRecorder } from '../client/events.js';

export const PODS = resourceFor('', 'v1', 'pods');

/** metav1.NewControllerRef: the owner reference a controller puts on what it creates or adopts. */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** GetPodFromTemplate: the template's labels, annotations, finalizers and spec, named
 *  `<owner-name>-<random>` by the server (generateName), controlled by `owner`. */
export function podFromTemplate(template: PodTemplateSpec, owner: KubeObject): KubeObject {
  const tm = template.metadata ?? {};
  const metadata: KubeObject['metadata'] = {
    generateName: `${owner.metadata.name}-`,
    namespace: owner.metadata.namespace,
    ownerReferences: [controllerRef(owner)],
  };
  if (tm.labels) metadata.labels = { ...tm.labels };
  if (tm.annotations) metadata.annotations = { ...tm.annotations };
  if (tm.finalizers) metadata.finalizers = [...tm.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template.spec ?? {}) };
}

/** A pod creation the server refused because the namespace is terminating (nothing to do). */
export function isNamespaceTerminating(e: unknown): boolean {
  return isStatusError(e) && (e.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/**
 * CreatePods: creates a pod from `template` for `owner`. Records SuccessfulCreate "Created pod:
 * <name>" or FailedCreate "Error creating: <message>" (Warning), and returns the created pod;
 * rethrows the server's error. A template without labels is refused before any write, as upstream.
 */
export async function createPod(client: Client, events: EventRecorder, template: PodTemplateSpec, owner: KubeObject): Promise<KubeObject> {
  if (Object.keys(template.metadata?.labels ?? {}).length === 0) throw new Error('unable to create pods, no labels');
  try {
    const pod = await client.create(PODS, podFromTemplate(template, owner));
    events.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    return pod;
  } catch (e) {
    if (!isNamespaceTerminating(e)) events.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * DeletePod: deletes the pod `name` of `owner`'s namespace. Records SuccessfulDelete "Deleted pod:
 * <name>" or FailedDelete "Error deleting: <message>"; a pod already gone (404) records nothing.
 * Rethrows failures, the 404 included (callers decide whether it matters).
 */
export async function deletePod(client: Client, events: EventRecorder, name: string, owner: KubeObject, uid?: string): Promise<void> {
  try {
    await client.delete(PODS, name, { namespace: owner.metadata.namespace, ...(uid ? { preconditions: { uid } } : {}) });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) events.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
    throw e;
  }
  events.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
}

/**
 * AdoptPod: adds `owner`'s controller reference to the orphan `pod`, provided it is still the same
 * pod (uid test) and still has no controller (a JSON patch test of the references the cache saw,
 * so two owners can never both adopt). A pod gone meanwhile (404) is ignored; other errors (the
 * test failing: someone changed it) are thrown for a retry from a fresher cache.
 */
export async function adoptPod(client: Client, pod: KubeObject, owner: KubeObject): Promise<void> {
  const refs = pod.metadata.ownerReferences;
  const ops: unknown[] = [{ op: 'test', path: '/metadata/uid', value: pod.metadata.uid }];
  if (refs && refs.length) {
    ops.push({ op: 'test', path: '/metadata/ownerReferences', value: refs });
    ops.push({ op: 'add', path: '/metadata/ownerReferences/-', value: controllerRef(owner) });
  } else {
    ops.push({ op: 'add', path: '/metadata/ownerReferences', value: [controllerRef(owner)] });
  }
  try {
    await client.patch(PODS, pod.metadata.name ?? '', 'json', ops, { namespace: pod.metadata.namespace });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
}

/**
 * ReleasePod: removes `owner`'s reference from `pod` (a uid-guarded JSON patch). As upstream, a
 * pod gone (404) or changed under us (the patch's test fails: 422) is ignored: either way it is
 * no longer ours to release.
 */
export async function releasePod(client: Client, pod: KubeObject, owner: KubeObject): Promise<void> {
  const refs = pod.metadata.ownerReferences ?? [];
  const i = refs.findIndex((r) => r.uid === owner.metadata.uid);
  if (i < 0) return;
  const ops: unknown[] = [
    { op: 'test', path: '/metadata/uid', value: pod.metadata.uid },
    { op: 'test', path: '/metadata/ownerReferences', value: refs },
    refs.length === 1 ? { op: 'remove', path: '/metadata/ownerReferences' } : { op: 'remove', path: `/metadata/ownerReferences/${i}` },
  ];
  try {
    await client.patch(PODS, pod.metadata.name ?? '', 'json', ops, { namespace: pod.metadata.namespace });
  } catch (e) {
    if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Invalid') && !(isStatusError(e) && e.code === 422)) throw e;
  }
}
