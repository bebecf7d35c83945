// How lists and maps of a kind merge: the metadata strategic merge patch and server-side apply
// need (Kubernetes keeps it in Go struct tags and publishes it in OpenAPI as
// x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key, x-kubernetes-list-type and
// x-kubernetes-list-map-keys). Patch code navigates a PatchMeta alongside the object it patches.
//
// The schema-backed implementation lives in api/schema.ts; `patchMetaFromTree` below builds one
// from a literal tree, for tests and for kinds without a schema.

export interface FieldPatchInfo {
  /** `merge` merges lists by mergeKey (or primitive lists as sets); `replace` replaces wholesale;
   *  `retainKeys` (maps) drops keys absent from the patch. Several as in `merge,retainKeys`. */
  strategy: Array<'merge' | 'replace' | 'retainKeys'>;
  mergeKey?: string;
  /** SSA's view: `atomic` lists are replaced whole, `set` lists are merged by value, `map` lists by listMapKeys. */
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
  /** The map (object) is `atomic` for SSA (replaced whole), else granular. */
  mapType?: 'atomic' | 'granular';
}

export interface PatchMeta {
  /** Metadata of the value at field `name` of this object. Unknown fields give an empty PatchMeta. */
  field(name: string): PatchMeta;
  /** Metadata of the elements of this list, or of the values of this map. */
  item(): PatchMeta;
  /** How this value (a list or map) merges; defaults when nothing is declared: lists atomic/replace, maps granular. */
  info(): FieldPatchInfo;
}

export interface PatchMetaTree {
  info?: Partial<FieldPatchInfo>;
  fields?: Record<string, PatchMetaTree>;
  item?: PatchMetaTree;
}

const DEFAULT_INFO: FieldPatchInfo = { strategy: [] };

export const EMPTY_PATCH_META: PatchMeta = {
  field: () => EMPTY_PATCH_META,
  item: () => EMPTY_PATCH_META,
  info: () => DEFAULT_INFO,
};

export function patchMetaFromTree(tree: PatchMetaTree | undefined): PatchMeta {
  if (!tree) return EMPTY_PATCH_META;
  return {
    field: (name) => patchMetaFromTree(tree.fields?.[name]),
    item: () => patchMetaFromTree(tree.item),
    info: () => ({ ...DEFAULT_INFO, ...tree.info }),
  };
}
