// The pure half of the PersistentVolume binder (kube-controller-manager's
// pkg/controller/volume/persistentvolume, 1.32): which volume a claim gets (persistentVolumeOrderedIndex.
// findByClaim + FindMatchingVolume: the volumes whose access modes are the smallest superset of the
// claim's, then the smallest capacity that fits, pre-bound volumes first), the storage class of a
// claim or volume, the default class, and checkVolumeSatisfyClaim for a claim naming its volume.
import type { NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { labelSelectorFromObject, matches } from '../api/selectors.js';
import { parseQuantity } from '../util/quantity.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

/** GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName. */
export function claimClass(claim: PersistentVolumeClaim): string {
  const ann = claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  return ann !== undefined ? ann : claim.spec?.storageClassName ?? '';
}

/** GetPersistentVolumeClass. */
export function volumeClass(pv: PersistentVolume): string {
  const ann = pv.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  return ann !== undefined ? ann : pv.spec?.storageClassName ?? '';
}

/** The storage a claim requests, in bytes (0 when it asks for none). */
export function requestedBytes(claim: PersistentVolumeClaim): number {
  const q = claim.spec?.resources?.requests?.['storage'];
  return q === undefined ? 0 : parseQuantity(String(q));
}

/** The storage a volume offers, in bytes. */
export function capacityBytes(pv: PersistentVolume): number {
  const q = pv.spec?.capacity?.['storage'];
  return q === undefined ? 0 : parseQuantity(String(q));
}

/** IsVolumeBoundToClaim: claimRef names the claim, with its uid or none yet. */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || (ref.namespace ?? '') !== (claim.metadata?.namespace ?? '')) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** CheckAccessModes: the volume offers every mode the claim asks for. */
export function checkAccessModes(claim: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const have = new Set(pv.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => have.has(m));
}

/** CheckVolumeModeMismatches (an unset mode is Filesystem). */
export function volumeModeMismatch(claim: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (claim.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** Whether a node (its labels) satisfies the volume's required node affinity (OR of terms, AND of
 *  expressions; In, NotIn, Exists, DoesNotExist, Gt, Lt). A volume without one fits every node. */
export function volumeFitsNode(pv: PersistentVolume, nodeLabels: Record<string, string>): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => termMatches(t, nodeLabels));
}

function termMatches(t: NodeSelectorTerm, labels: Record<string, string>): boolean {
  const exprs = t.matchExpressions ?? [];
  if (exprs.length === 0) return false;
  return exprs.every((e) => {
    const v = labels[e.key];
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In': return v !== undefined && vals.includes(v);
      case 'NotIn': return v === undefined || !vals.includes(v);
      case 'Exists': return v !== undefined;
      case 'DoesNotExist': return v === undefined;
      case 'Gt': return v !== undefined && Number(v) > Number(vals[0]);
      case 'Lt': return v !== undefined && Number(v) < Number(vals[0]);
      default: return false;
    }
  });
}

export interface MatchOptions {
  /** WaitForFirstConsumer before a node is chosen: only volumes pre-bound to the claim may match. */
  delayBinding?: boolean;
  /** Labels of the chosen node: volumes must fit it, and access modes are checked per volume. */
  nodeLabels?: Record<string, string>;
}

/** FindMatchingVolume over one set of volumes: the pre-bound one, else the smallest that fits. */
export function findMatchingVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], opts: MatchOptions = {}): PersistentVolume | undefined {
  const requested = requestedBytes(claim);
  const cls = claimClass(claim);
  const selector = claim.spec?.selector ? labelSelectorFromObject(claim.spec.selector) : undefined;
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    const cap = capacityBytes(pv);
    if (cap < requested) continue;
    if (volumeModeMismatch(claim, pv)) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const fitsNode = opts.nodeLabels === undefined || volumeFitsNode(pv, opts.nodeLabels);
    if (isVolumeBoundToClaim(pv, claim)) {
      // The volume was made (or reserved) for this claim: it is the answer, or there is none.
      return fitsNode ? pv : undefined;
    }
    if (opts.nodeLabels === undefined && opts.delayBinding) continue;
    if (pv.status?.phase !== 'Available') continue;
    if (pv.spec?.claimRef) continue;
    if (selector && !matches(selector, pv.metadata?.labels)) continue;
    if (volumeClass(pv) !== cls) continue;
    if (!fitsNode) continue;
    if (opts.nodeLabels !== undefined && !checkAccessModes(claim, pv)) continue;
    if (!best || capacityBytes(best) > cap) best = pv;
  }
  return best;
}

const MODE_ORDER = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const modesKey = (modes: readonly string[] | undefined): string =>
  [...new Set(modes ?? [])].sort((a, b) => MODE_ORDER.indexOf(a) - MODE_ORDER.indexOf(b)).join(',');

/** findByClaim: volumes are grouped by their access-mode sets; the groups that include every mode
 *  the claim asks for are tried from the fewest modes up, and the first match wins. */
export function findBestMatch(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], opts: MatchOptions = {}): PersistentVolume | undefined {
  const groups = new Map<string, PersistentVolume[]>();
  for (const pv of volumes) {
    const k = modesKey(pv.spec?.accessModes);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(pv);
  }
  const wanted = claim.spec?.accessModes ?? [];
  const candidates = [...groups.keys()]
    .filter((k) => {
      const have = new Set(k ? k.split(',') : []);
      return wanted.every((m) => have.has(m));
    })
    .sort((a, b) => (a ? a.split(',').length : 0) - (b ? b.split(',').length : 0));
  for (const k of candidates) {
    const pv = findMatchingVolume(claim, groups.get(k) ?? [], opts);
    if (pv) return pv;
  }
  return undefined;
}

/** checkVolumeSatisfyClaim, for a claim that names its volume: why it cannot bind, or undefined. */
export function volumeUnfitReason(pv: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (capacityBytes(pv) < requestedBytes(claim)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatch(claim, pv)) return 'incompatible volumeMode';
  if (!checkAccessModes(claim, pv)) return 'incompatible accessMode';
  return undefined;
}

/** GetDefaultClass: among classes annotated default, the newest (then by name, as upstream). */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter((c) => {
    const a = c.metadata?.annotations ?? {};
    return a[ANN_DEFAULT_CLASS] === 'true' || a[ANN_BETA_DEFAULT_CLASS] === 'true';
  });
  defaults.sort((a, b) => {
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? 1 : -1;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  });
  return defaults[0];
}

/** shouldDelayBinding: WaitForFirstConsumer until the scheduler (here: a bound pod) picks a node. */
export function shouldDelayBinding(claim: PersistentVolumeClaim, cls: StorageClass | undefined): boolean {
  if (claim.metadata?.annotations?.[ANN_SELECTED_NODE]) return false;
  return cls?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** The ExternalProvisioning event message of the PV controller. */
export function externalProvisioningMessage(provisioner: string): string {
  return `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;
}
