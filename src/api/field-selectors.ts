// Field selectors, as k8s.io/apimachinery/pkg/fields parses them and kube-apiserver evaluates them.
// Only `=`, `==` and `!=` exist, terms are ANDed, and a field label is usable only if the kind
// declares it (kinds.ts `fieldLabels`, plus metadata.name/metadata.namespace). The value a label has
// on an object is what upstream's `ToSelectableFields` computes, which is not always the JSON at
// that path (pods' status.podIP comes from podIPs[0], a missing number is "0", …).
import { errors } from './errors.js';
import type { ResourceType } from './kinds.js';
import { isObject, type KubeObject } from './types.js';

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** The unescaped value. */
  readonly value: string;
}

/** A parsed field selector: the AND of its terms, in upstream's (sorted-term) order. Immutable. */
export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

export const EVERY_FIELD: FieldSelector = Object.freeze({ requirements: Object.freeze([]) as readonly FieldRequirement[] });

/** Splits on commas not escaped by a backslash; escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let slash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (slash) slash = false;
    else if (c === '\\') slash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The first operator occurrence splits the term; `!=` and `==` win over `=` at the same place. */
function splitTerm(term: string): { lhs: string; op: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** fields.UnescapeValue: `\\`, `\,` and `\=` are the only escapes; a bare `,` or `=` is refused. */
function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let slash = false;
  for (const c of s) {
    if (slash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      slash = false;
    } else if (c === '\\') slash = true;
    else if (c === ',' || c === '=') throw errors.badRequest(`invalid field selector: unescaped character in value: ${c}`);
    else out += c;
  }
  if (slash) throw errors.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** fields.EscapeValue, the inverse of the unescaping above. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Parses `a=b`, `a==b`, `a!=b`, comma-joined (values may escape `\,` `\=` `\\`). Throws a 400
 *  BadRequest StatusError with upstream's message for a term it cannot read. Empty → everything.
 *  Field labels are not checked here: see fieldSelectorMatcher. */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    reqs.push({ field: t.lhs, operator: t.op, value: unescapeValue(t.rhs) });
  }
  return reqs.length ? { requirements: reqs } : EVERY_FIELD;
}

/** The selector as upstream prints it (`==` prints as `=`; values escaped). */
export function fieldSelectorToString(sel: FieldSelector): string {
  return sel.requirements.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`).join(',');
}

/** If the selector requires `field` to equal one value, that value (fields.RequiresExactMatch). */
export function fieldRequiresExactMatch(sel: FieldSelector, field: string): string | undefined {
  return sel.requirements.find((r) => r.field === field && r.operator !== '!=')?.value;
}

/** The single name a selector pins (`metadata.name=web`), so a watch fan-out can route events by
 *  key instead of testing every watcher; undefined when it does not pin one. */
export function pinnedName(sel: FieldSelector | string | undefined): string | undefined {
  if (sel === undefined) return undefined;
  return fieldRequiresExactMatch(typeof sel === 'string' ? parseFieldSelector(sel) : sel, 'metadata.name');
}

// ---- what a field label means on an object ----

/** Kinds whose upstream conversion function accepts only metadata.name besides their own labels
 *  (cluster-scoped kinds with a custom field-label conversion). */
const NO_NAMESPACE_LABEL = new Set(['Node', 'Namespace']);
/** Kept for old clients by upstream: `spec.host` means `spec.nodeName` on pods. */
const ALIASES: Record<string, Record<string, string>> = { Pod: { 'spec.host': 'spec.nodeName' } };

/** The field labels a kind accepts in field selectors, as its upstream conversion function does. */
export function supportedFieldLabels(rt: ResourceType): string[] {
  const meta = NO_NAMESPACE_LABEL.has(rt.kind) && rt.group === '' ? ['metadata.name'] : ['metadata.name', 'metadata.namespace'];
  return [...meta, ...rt.fieldLabels];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '');

function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Labels whose value upstream computes rather than reads, keyed by `group/Kind`. */
const COMPUTED: Record<string, Record<string, (o: KubeObject) => string>> = {
  '/Pod': {
    'spec.hostNetwork': (o) => String(at(o, 'spec.hostNetwork') === true),
    'status.podIP': (o) => {
      const ips = at(o, 'status.podIPs');
      const first = Array.isArray(ips) && isObject(ips[0]) ? ips[0].ip : undefined;
      return str(first ?? at(o, 'status.podIP'));
    },
    // Accepted by the conversion function but never put in the selectable set upstream ("TODO: add
    // podIPs"), so it always reads as empty.
    'status.podIPs': () => '',
  },
  '/Node': { 'spec.unschedulable': (o) => String(at(o, 'spec.unschedulable') === true) },
  '/Event': {
    source: (o) => str(at(o, 'source.component')) || str(at(o, 'reportingComponent')),
  },
  'batch/Job': { 'status.successful': (o) => String(at(o, 'status.succeeded') ?? 0) },
  'apps/ReplicaSet': { 'status.replicas': (o) => String(at(o, 'status.replicas') ?? 0) },
};

/** The value of a supported field label on an object: dotted path, booleans as "true"/"false",
 *  numbers in decimal, a missing value as "", except where upstream computes it (see COMPUTED). */
export function fieldValue(rt: ResourceType, obj: KubeObject, label: string): string {
  const fn = COMPUTED[`${rt.group}/${rt.kind}`]?.[label];
  return fn ? fn(obj) : str(at(obj, label));
}

/** Checks the selector's labels against the kind (throwing 400 BadRequest worded as upstream:
 *  "field label not supported: <label>" for kinds with their own labels, `"<label>" is not a known
 *  field selector: only "metadata.name", "metadata.namespace"` for the others), and returns a
 *  predicate evaluating it on objects of that kind. The predicate does not mutate the object. */
export function fieldSelectorMatcher(rt: ResourceType, sel: FieldSelector | string | undefined): (obj: KubeObject) => boolean {
  const parsed = sel === undefined ? EVERY_FIELD : typeof sel === 'string' ? parseFieldSelector(sel) : sel;
  if (parsed.requirements.length === 0) return () => true;
  const supported = new Set(supportedFieldLabels(rt));
  const aliases = ALIASES[rt.kind] ?? {};
  const reqs = parsed.requirements.map((r) => {
    const field = rt.group === '' && aliases[r.field] ? (aliases[r.field] as string) : r.field;
    if (!supported.has(field)) {
      throw errors.badRequest(
        rt.fieldLabels.length || NO_NAMESPACE_LABEL.has(rt.kind)
          ? `field label not supported: ${r.field}`
          : `"${r.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      );
    }
    return { ...r, field };
  });
  return (obj) => reqs.every((r) => (fieldValue(rt, obj, r.field) === r.value) !== (r.operator === '!='));
}
