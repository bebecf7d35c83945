// Sets of field paths, the currency of server-side apply (sigs.k8s.io/structured-merge-diff's
// fieldpath package). A path is a list of path elements written the way FieldsV1 writes them:
//   `f:<name>`  a field of an object          `k:{"name":"nginx"}`  an item of an associative list
//   `v:<json>`  an item of a set-like list     `i:<n>`                an item by index (atomic lists only)
// Keeping elements in their serialized form makes sets plain string maps and FieldsV1 a direct
// rendering; `k:` and `v:` are canonical JSON (object keys sorted) so equal keys compare equal.

/** One path element in FieldsV1 notation (`f:spec`, `k:{"name":"a"}`, `v:"x"`, `i:0`). */
export type PathElement = string;
export type FieldPath = PathElement[];

/**
 * A set of paths, as a tree: `members` are the elements that end a path at this level,
 * `children` the elements that continue one. An element may be both (FieldsV1's `.`).
 * Invariant kept by every function here: no child set is empty. Treat sets as immutable values;
 * the operations return new sets and never modify their arguments.
 */
export interface FieldSet {
  members: Set<PathElement>;
  children: Map<PathElement, FieldSet>;
}

export function emptyFieldSet(): FieldSet {
  return { members: new Set(), children: new Map() };
}

export function isEmptyFieldSet(s: FieldSet): boolean {
  return s.members.size === 0 && s.children.size === 0;
}

/** Adds `path` to `s` in place (for building a set); an empty path is ignored. */
export function insertPath(s: FieldSet, path: readonly PathElement[]): void {
  if (path.length === 0) return;
  let node = s;
  for (let i = 0; i < path.length - 1; i++) {
    const pe = path[i]!;
    let next = node.children.get(pe);
    if (!next) {
      next = emptyFieldSet();
      node.children.set(pe, next);
    }
    node = next;
  }
  node.members.add(path[path.length - 1]!);
}

export function fieldSetOfPaths(paths: readonly (readonly PathElement[])[]): FieldSet {
  const s = emptyFieldSet();
  for (const p of paths) insertPath(s, p);
  return s;
}

export function hasPath(s: FieldSet, path: readonly PathElement[]): boolean {
  let node: FieldSet | undefined = s;
  for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(path[i]!);
  return node !== undefined && path.length > 0 && node.members.has(path[path.length - 1]!);
}

/** The subset of paths below `pe` (without the `pe` prefix), or an empty set. */
export function childSet(s: FieldSet, pe: PathElement): FieldSet {
  return s.children.get(pe) ?? emptyFieldSet();
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members, ...b.members]), children: new Map() };
  for (const [pe, c] of a.children) {
    const d = b.children.get(pe);
    out.children.set(pe, d ? union(c, d) : c);
  }
  for (const [pe, d] of b.children) if (!a.children.has(pe)) out.children.set(pe, d);
  return out;
}

/** Paths in `a` that are not in `b` (exact paths: removing `x` keeps `x.y`). */
export function difference(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members].filter((pe) => !b.members.has(pe))), children: new Map() };
  for (const [pe, c] of a.children) {
    const d = b.children.get(pe);
    const rest = d ? difference(c, d) : c;
    if (!isEmptyFieldSet(rest)) out.children.set(pe, rest);
  }
  return out;
}

export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members].filter((pe) => b.members.has(pe))), children: new Map() };
  for (const [pe, c] of a.children) {
    const d = b.children.get(pe);
    if (!d) continue;
    const both = intersection(c, d);
    if (!isEmptyFieldSet(both)) out.children.set(pe, both);
  }
  return out;
}

export function equalFieldSets(a: FieldSet, b: FieldSet): boolean {
  if (a.members.size !== b.members.size || a.children.size !== b.children.size) return false;
  for (const pe of a.members) if (!b.members.has(pe)) return false;
  for (const [pe, c] of a.children) {
    const d = b.children.get(pe);
    if (!d || !equalFieldSets(c, d)) return false;
  }
  return true;
}

/** Every path of the set in structured-merge-diff's iteration order: members (sorted), then children (sorted). */
export function listPaths(s: FieldSet, prefix: PathElement[] = []): FieldPath[] {
  const out: FieldPath[] = [...s.members].sort(comparePathElements).map((pe) => [...prefix, pe]);
  for (const pe of [...s.children.keys()].sort(comparePathElements)) out.push(...listPaths(s.children.get(pe)!, [...prefix, pe]));
  return out;
}

// ---- element construction and ordering ----

/** JSON with object keys sorted, the canonical form of `k:` and `v:` elements. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export const fieldElement = (name: string): PathElement => `f:${name}`;
export const keyElement = (key: Record<string, unknown>): PathElement => `k:${canonicalJson(key)}`;
export const valueElement = (v: unknown): PathElement => `v:${canonicalJson(v)}`;
export const indexElement = (i: number): PathElement => `i:${i}`;

const KIND_RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareStrings(canonicalJson(a), canonicalJson(b));
}

/** structured-merge-diff's element order: fields by name, then keys, then values, then indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const ka = KIND_RANK[a.slice(0, 1)] ?? 4;
  const kb = KIND_RANK[b.slice(0, 1)] ?? 4;
  if (ka !== kb) return ka - kb;
  const ra = a.slice(2);
  const rb = b.slice(2);
  switch (a[0]) {
    case 'k': {
      // Keys compare lexically, field by field (names are sorted inside each key).
      const ea = Object.entries(JSON.parse(ra) as Record<string, unknown>);
      const eb = Object.entries(JSON.parse(rb) as Record<string, unknown>);
      for (let i = 0; ; i++) {
        if (i >= ea.length || i >= eb.length) return ea.length - eb.length;
        const c = compareStrings(ea[i]![0], eb[i]![0]) || compareValues(ea[i]![1], eb[i]![1]);
        if (c !== 0) return c;
      }
    }
    case 'v':
      return compareValues(JSON.parse(ra), JSON.parse(rb));
    case 'i':
      return Number(ra) - Number(rb);
    default:
      return compareStrings(ra, rb);
  }
}

// ---- FieldsV1 ----

/** Renders a set as FieldsV1 JSON: `{"f:spec":{"f:replicas":{}},"f:x":{".":{},…}}`, in upstream's order. */
export function toFieldsV1(s: FieldSet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all = [...new Set([...s.members, ...s.children.keys()])].sort(comparePathElements);
  for (const pe of all) {
    const child = s.children.get(pe);
    if (!child) {
      out[pe] = {};
      continue;
    }
    out[pe] = s.members.has(pe) ? { '.': {}, ...toFieldsV1(child) } : toFieldsV1(child);
  }
  return out;
}

/**
 * Parses FieldsV1 JSON into a set. Throws an Error naming the offending key when the JSON is not
 * FieldsV1 (unknown element prefix, bad key JSON, non-object values): callers decide whether
 * bad managedFields are fatal.
 */
export function fromFieldsV1(json: unknown): FieldSet {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('FieldsV1 must be a JSON object');
  const out = emptyFieldSet();
  for (const [raw, v] of Object.entries(json as Record<string, unknown>)) {
    if (raw === '.') continue;
    const pe = canonicalElement(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`FieldsV1 value of ${JSON.stringify(raw)} must be an object`);
    const inner = v as Record<string, unknown>;
    const keys = Object.keys(inner);
    if (keys.length === 0 || '.' in inner) out.members.add(pe);
    if (keys.some((k) => k !== '.')) {
      const child = fromFieldsV1(inner);
      if (!isEmptyFieldSet(child)) out.children.set(pe, child);
    }
  }
  return out;
}

function canonicalElement(raw: string): PathElement {
  const kind = raw.slice(0, 2);
  const rest = raw.slice(2);
  switch (kind) {
    case 'f:':
      return raw;
    case 'i:':
      if (!/^(0|[1-9][0-9]*)$/.test(rest)) throw new Error(`invalid index path element ${JSON.stringify(raw)}`);
      return raw;
    case 'k:':
    case 'v:': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rest);
      } catch {
        throw new Error(`invalid path element ${JSON.stringify(raw)}: the value is not JSON`);
      }
      if (kind === 'k:' && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) throw new Error(`invalid key path element ${JSON.stringify(raw)}`);
      return `${kind}${canonicalJson(parsed)}`;
    }
    default:
      throw new Error(`unknown path element type in ${JSON.stringify(raw)}`);
  }
}

// ---- human-readable paths (fieldpath.Path.String) ----

/** Go's value.ToString: strings quoted, other scalars bare, composites as JSON. */
function valueToString(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return canonicalJson(v);
  return String(v);
}

/** `.spec.template.spec.containers[name="nginx"].image`, `.metadata.finalizers[="x"]`, as conflicts print them. */
export function pathString(path: readonly PathElement[]): string {
  return path
    .map((pe) => {
      const rest = pe.slice(2);
      switch (pe.slice(0, 2)) {
        case 'f:':
          return `.${rest}`;
        case 'k:':
          return `[${Object.entries(JSON.parse(rest) as Record<string, unknown>)
            .map(([k, v]) => `${k}=${valueToString(v)}`)
            .join(',')}]`;
        case 'v:':
          return `[=${valueToString(JSON.parse(rest))}]`;
        case 'i:':
          return `[${rest}]`;
        default:
          return '{{invalid path element}}';
      }
    })
    .join('');
}
