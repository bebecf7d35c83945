// The store: a revisioned key/value log, shaped like kine's backend (k3s-io/kine) and etcd v3.
//
// Every successful write (create, update, delete) gets the next value of one global, strictly
// increasing revision counter. The revision at which a key was last written is its
// `modRevision`; that number is the object's resourceVersion. Deletes are writes too: they get a
// revision and appear as DELETE events. Values are opaque strings (the apiserver stores JSON).
//
// Ownership: objects returned are fresh copies owned by the caller; the store never mutates or
// keeps them. Errors: the store throws only the StoreError subclasses below for expected
// outcomes; anything else is a bug or an I/O failure and is surfaced to the caller as is.
// Nothing is retried inside the store.

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the create that started this key's current life. */
  createRevision: number;
  /** Revision of the last write to this key (for a DELETE event: the delete's revision). */
  modRevision: number;
}

export interface StoreEvent {
  type: 'PUT' | 'DELETE';
  /** For PUT, the new value; for DELETE, the last value, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** The value before this write (absent for a create). */
  prevKv?: KeyValue;
}

export interface ListOptions {
  /** Read as of this revision (0 or absent: the latest). Older than the compacted revision → CompactedError. */
  revision?: number;
  /** Only keys strictly greater than this key (for paging). */
  after?: string;
  /** At most this many items (0 or absent: no limit). */
  limit?: number;
}

export interface ListResult {
  kvs: KeyValue[];
  /** The revision the list was read at (for the latest: the store's current revision). */
  revision: number;
  /** True when `limit` cut the list short. */
  more: boolean;
}

export interface WatchHandle {
  /** Stops delivery. Idempotent. */
  close(): void;
}

export interface WatchCallbacks {
  /** Events in revision order, each batch from one commit or replay, never interleaved. */
  onEvents(events: StoreEvent[]): void;
  /** The watch ended on the store's side (store closed, or an error). Not called after close(). */
  onError?(err: Error): void;
}

export interface Store {
  /** The latest revision (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** Revisions at or below this were compacted away; history is kept above it. */
  compactedRevision(): Promise<number>;

  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of live keys starting with `prefix`. */
  count(prefix: string): Promise<number>;

  /** Throws KeyExistsError if the key is live. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Throws KeyNotFoundError if absent; RevisionMismatchError (carrying the current value) if
   *  `expectedModRevision` is given and differs from the key's modRevision. */
  update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Returns the deleted value with modRevision = the delete's revision. Same errors as update. */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /**
   * Delivers every event on keys starting with `prefix` with revision > `afterRevision`, first the
   * history still kept (replay), then live events, with no gap and no duplicate. Throws
   * CompactedError if `afterRevision` < compactedRevision().
   */
  watch(prefix: string, afterRevision: number, cb: WatchCallbacks): Promise<WatchHandle>;

  /** Drops history at or below `revision` (never a key's latest live value). */
  compact(revision: number): Promise<void>;

  close(): Promise<void>;
}

export class StoreError extends Error {}

export class KeyExistsError extends StoreError {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}

export class KeyNotFoundError extends StoreError {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

export class RevisionMismatchError extends StoreError {
  constructor(readonly key: string, readonly current: KeyValue) {
    super(`revision mismatch on ${key}: current is ${current.modRevision}`);
  }
}

export class CompactedError extends StoreError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`required revision ${requested} has been compacted (compacted revision ${compacted})`);
  }
}
