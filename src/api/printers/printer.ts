// The printer contract and the pieces every kind's printer shares: the NAME and AGE columns, the
// wide CONTAINERS/IMAGES/SELECTOR columns, and the cell formats Kubernetes uses everywhere
// (labels.FormatLabels, metav1.FormatLabelSelector, layoutContainerCells). Mirrors
// pkg/printers/internalversion/printers.go, which the apiserver runs with Wide=true: the server
// always sends every column and kubectl hides priority-1 ones unless `-o wide`.
import type { Container } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../types.js';
import { doc } from './descriptions.js';
import { timestampSince } from './duration.js';

/** A cell as it travels in JSON: strings, integers (Go int64) and booleans. */
export type Cell = string | number | boolean;

/** meta.k8s.io/v1 TableColumnDefinition; every field is always serialized, as in Go. */
export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  type: string;
  /** `name` for the column that holds the object's name, else empty. */
  format: string;
  description: string;
  /** 0 = always shown; 1 = shown by `kubectl get -o wide` only. */
  priority: number;
}

/** meta.k8s.io/v1 TableRowCondition (pods mark finished rows `Completed`). */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** What a printer says about one object: one cell per column, in column order. */
export interface PrintedRow {
  cells: Cell[];
  conditions?: TableRowCondition[];
}

/** One kind's table: its columns and a pure function from an object to its row. `now` is the
 *  epoch-ms instant ages are measured at. A printer never throws on missing fields: it prints
 *  what Kubernetes prints for the zero value. */
export interface Printer {
  columns: readonly TableColumnDefinition[];
  print(obj: KubeObject, now: number): PrintedRow;
}

/** A column definition; `priority: 1` for the `-o wide` ones. */
export function column(name: string, type: string, description: string, opts: { priority?: number; format?: string } = {}): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

export const NAME_COLUMN = column('Name', 'string', doc('ObjectMeta.name'), { format: 'name' });
export const AGE_COLUMN = column('Age', 'string', doc('ObjectMeta.creationTimestamp'));
export const CONTAINERS_COLUMN = column('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
export const IMAGES_COLUMN = column('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });

/** The object's name ("" when unset, as Go's zero string). */
export function nameOf(obj: KubeObject): string {
  return obj.metadata?.name ?? '';
}

/** The AGE cell: creationTimestamp's age at `now`, `<unknown>` without one. */
export function ageOf(obj: KubeObject, now: number): string {
  return timestampSince(obj.metadata?.creationTimestamp, now);
}

/** Views a stored object as its kubernetes-types shape. Stored objects are plain JSON that
 *  passed validation, so the cast only names the fields; every read still guards for absence. */
export function view<T>(obj: KubeObject): T {
  return obj as unknown as T;
}

/** labels.FormatLabels: `k=v` pairs sorted by key, comma-joined; `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort(byCodeUnit);
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${(labels as Record<string, string>)[k]}`).join(',');
}

const SELECTOR_OPERATORS: Record<string, string> = { In: ' in ', NotIn: ' notin ', Exists: '', DoesNotExist: '' };

/**
 * metav1.FormatLabelSelector: the selector's string form (`app=web,tier in (a,b),!canary`),
 * requirements sorted by key, `In`/`NotIn` values sorted; `<none>` for a missing or empty
 * selector; `<error>` for an operator Kubernetes would refuse.
 */
export function formatLabelSelector(sel: LabelSelector | undefined | null): string {
  const s = labelSelectorString(sel);
  return s === undefined ? '<error>' : s === '' ? '<none>' : s;
}

/** The selector string as LabelSelectorAsSelector(sel).String() gives it; "" for nil or empty,
 *  undefined when the selector is invalid. */
export function labelSelectorString(sel: LabelSelector | undefined | null): string | undefined {
  if (!sel) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, text: `${key}=${value}` });
  for (const e of sel.matchExpressions ?? []) {
    const op = SELECTOR_OPERATORS[e.operator];
    if (op === undefined) return undefined;
    if (e.operator === 'Exists') reqs.push({ key: e.key, text: e.key });
    else if (e.operator === 'DoesNotExist') reqs.push({ key: e.key, text: `!${e.key}` });
    else reqs.push({ key: e.key, text: `${e.key}${op}(${[...(e.values ?? [])].sort(byCodeUnit).join(',')})` });
  }
  return reqs
    .sort((a, b) => byCodeUnit(a.key, b.key))
    .map((r) => r.text)
    .join(',');
}

/** layoutContainerCells: container names and images, each comma-joined in spec order. */
export function layoutContainerCells(containers: readonly Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? '').join(','), list.map((c) => c.image ?? '').join(',')];
}

/** Go's string ordering (bytewise; code units agree for the ASCII that names and labels use). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The count of a JSON map or list, 0 when absent (Go's len of a nil map/slice). */
export function countOf(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  return 0;
}
