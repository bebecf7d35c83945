// client-go's ControllerExpectations (pkg/controller/controller_utils.go), the ReplicaSet
// controller's guard against its own lagging cache: after it creates N pods or deletes M, the
// informer has not seen them yet, so a reconcile that counted pods now would create or delete
// again. Until the cache has seen every write of the last round (or a 5-minute TTL passes, in case
// a watch event was lost), the owner's expectations are unsatisfied and it must not act.
//
// Upstream lowers counters from the informer's add/delete handlers. Our controllers never see
// event types (level-triggered, see controller.ts), so each write is tracked by name instead, as
// upstream's UIDTrackingControllerExpectations does for deletions, and "observed" is read from the
// cache itself: a created pod is observed once it is in the cache, or once the informer has caught
// up to the revision the create returned (it was seen and already went away); a deleted pod once
// it is gone from the cache or carries a deletionTimestamp (upstream counts that as the delete).
import type { Clock } from '../util/clock.js';

/** Upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

/** What expectations read from the informer cache of the controlled objects. */
export interface ExpectationView {
  /** The object of this name (in the owner's namespace) as cached, or undefined. */
  get(name: string): { metadata: { uid?: string; deletionTimestamp?: string } } | undefined;
  /** The resourceVersion the informer has caught up to. */
  seenRevision(): string;
}

interface Pending {
  /** Created objects not yet seen: name → resourceVersion the create returned. */
  adds: Map<string, string>;
  /** Deleted objects not yet seen gone: name → uid (undefined: any object of that name). */
  dels: Map<string, string | undefined>;
  /** When the expectations were set (clock ms), for the TTL. */
  at: number;
}

/** True when the informer has seen revision `rv`. Skiff's resourceVersions are the store's global
 *  revision counter (decimal integers); anything else is treated as not seen (the TTL still ends
 *  the wait). */
export function revisionSeen(seen: string, rv: string): boolean {
  if (!/^\d+$/.test(seen) || !/^\d+$/.test(rv)) return false;
  return BigInt(seen) >= BigInt(rv);
}

/**
 * Per-owner expectations, keyed by the owner's cache key (`namespace/name`). Not shared between
 * processes; a restart starts with none (the cache is then fresh, as upstream). Callers serialize
 * the calls for one key (the runner never reconciles one key twice at once).
 */
export class ControllerExpectations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
  ) {}

  /** Starts a new round for `key` (dropping whatever was left of the previous one). */
  begin(key: string): void {
    this.pending.set(key, { adds: new Map(), dels: new Map(), at: this.clock.now() });
  }

  /** A create of `name` succeeded and returned `resourceVersion`; the cache must see it. */
  expectCreated(key: string, name: string, resourceVersion: string): void {
    this.entry(key).adds.set(name, resourceVersion);
  }

  /** A delete of `name` (the object of `uid`) was sent; the cache must see it go. Call before
   *  deleting, and deletionFailed when the delete did not happen. */
  expectDeleted(key: string, name: string, uid?: string): void {
    this.entry(key).dels.set(name, uid);
  }

  /** The delete of `name` failed: nothing will be observed for it. */
  deletionFailed(key: string, name: string): void {
    this.pending.get(key)?.dels.delete(name);
  }

  /**
   * True when the owner may act: no round pending, every write of the round observed in `view`, or
   * the round older than the TTL. A satisfied round is forgotten. Writes observed are dropped from
   * the round, so a later relist cannot make them pending again.
   */
  satisfied(key: string, view: ExpectationView): boolean {
    const p = this.pending.get(key);
    if (!p) return true;
    for (const [name, rv] of p.adds) {
      if (view.get(name) || revisionSeen(view.seenRevision(), rv)) p.adds.delete(name);
    }
    for (const [name, uid] of p.dels) {
      const o = view.get(name);
      if (!o || o.metadata.deletionTimestamp || (uid !== undefined && o.metadata.uid !== uid)) p.dels.delete(name);
    }
    if ((p.adds.size === 0 && p.dels.size === 0) || this.clock.now() - p.at > this.ttlMs) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }

  /** How many writes of the round are still unseen (for logs and tests). */
  outstanding(key: string): { adds: number; dels: number } {
    const p = this.pending.get(key);
    return { adds: p?.adds.size ?? 0, dels: p?.dels.size ?? 0 };
  }

  /** Forgets `key` (its owner is gone). */
  delete(key: string): void {
    this.pending.delete(key);
  }

  private entry(key: string): Pending {
    let p = this.pending.get(key);
    if (!p) {
      p = { adds: new Map(), dels: new Map(), at: this.clock.now() };
      this.pending.set(key, p);
    }
    return p;
  }
}
