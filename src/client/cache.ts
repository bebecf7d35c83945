// The informer's local store (client-go's cache.Indexer): objects by `namespace/name` key, plus
// named secondary indexes kept up to date on every write, so controllers answer "pods of this
// node" or "replicasets of this namespace" without scanning. JavaScript runs one thing at a time,
// so every method is atomic with respect to the others.
//
// Ownership: the cache keeps the very objects it is given and hands the same objects out. Nobody
// may mutate them (clone first, e.g. structuredClone); a mutated cached object would silently
// diverge from the server and corrupt every index built on it.
import type { KubeObject } from '../api/types.js';

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (MetaNamespaceKeyFunc). */
export function objectCacheKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

/** The inverse of objectCacheKey. */
export function splitCacheKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Computes the index values of an object (several values index it several times). Must be pure. */
export type IndexFunc<T> = (obj: T) => string[];

/** The built-in index: an object's namespace ("" for cluster-scoped objects). */
export const NAMESPACE_INDEX = 'namespace';

export interface Indexer<T extends KubeObject = KubeObject> {
  /** Inserts or replaces the object under its key (add and update are the same operation). */
  add(obj: T): void;
  update(obj: T): void;
  /** Removes the object with this object's key (or this key); absent keys are ignored. Returns
   *  the object that was stored, if any. */
  delete(objOrKey: T | string): T | undefined;
  /** Makes the content exactly `list` (a relist), rebuilding the indexes. */
  replace(list: T[]): void;
  get(key: string): T | undefined;
  has(key: string): boolean;
  /** Every object, in no particular order. The array is new; the objects are the cache's. */
  list(): T[];
  listKeys(): string[];
  size(): number;
  /** Declares an index; existing objects are indexed at once. Throws if the name is taken. */
  addIndexer(name: string, fn: IndexFunc<T>): void;
  /** Objects whose index `name` includes `value`. Throws for an unknown index. */
  byIndex(name: string, value: string): T[];
  /** Keys of those objects. */
  indexKeys(name: string, value: string): string[];
}

export function createIndexer<T extends KubeObject = KubeObject>(): Indexer<T> {
  const items = new Map<string, T>();
  const indexFns = new Map<string, IndexFunc<T>>();
  const indices = new Map<string, Map<string, Set<string>>>();

  function unindex(key: string, obj: T): void {
    for (const [name, fn] of indexFns) {
      const idx = indices.get(name) as Map<string, Set<string>>;
      for (const v of fn(obj)) {
        const set = idx.get(v);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) idx.delete(v);
      }
    }
  }

  function indexOne(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const idx = indices.get(name) as Map<string, Set<string>>;
    for (const v of fn(obj)) {
      let set = idx.get(v);
      if (!set) idx.set(v, (set = new Set()));
      set.add(key);
    }
  }

  function put(obj: T): void {
    const key = objectCacheKey(obj);
    const old = items.get(key);
    if (old) unindex(key, old);
    items.set(key, obj);
    for (const [name, fn] of indexFns) indexOne(name, fn, key, obj);
  }

  function keysOf(name: string, value: string): Set<string> | undefined {
    const idx = indices.get(name);
    if (!idx) throw new Error(`index with name ${name} does not exist`);
    return idx.get(value);
  }

  const indexer: Indexer<T> = {
    add: put,
    update: put,
    delete(objOrKey) {
      const key = typeof objOrKey === 'string' ? objOrKey : objectCacheKey(objOrKey);
      const old = items.get(key);
      if (!old) return undefined;
      unindex(key, old);
      items.delete(key);
      return old;
    },
    replace(list) {
      items.clear();
      for (const idx of indices.values()) idx.clear();
      for (const obj of list) put(obj);
    },
    get: (key) => items.get(key),
    has: (key) => items.has(key),
    list: () => [...items.values()],
    listKeys: () => [...items.keys()],
    size: () => items.size,
    addIndexer(name, fn) {
      if (indexFns.has(name)) throw new Error(`indexer conflict: ${name}`);
      indexFns.set(name, fn);
      indices.set(name, new Map());
      for (const [key, obj] of items) indexOne(name, fn, key, obj);
    },
    byIndex(name, value) {
      return [...(keysOf(name, value) ?? [])].map((k) => items.get(k) as T);
    },
    indexKeys(name, value) {
      return [...(keysOf(name, value) ?? [])];
    },
  };
  indexer.addIndexer(NAMESPACE_INDEX, (obj) => [obj.metadata.namespace ?? '']);
  return indexer;
}
