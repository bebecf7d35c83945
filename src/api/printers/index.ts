// Server-side printing: what `kubectl get` shows. kubectl asks for
// `application/json;as=Table;v=v1;g=meta.k8s.io`; the apiserver answers a meta.k8s.io/v1 Table
// built here from the kind's printer (the registry below, one entry per printed kind), or the
// generic NAME / CREATED AT table Kubernetes uses for kinds without one. Pure: no I/O, and time
// comes from the caller so AGE is testable.
import { errors, field } from '../errors.js';
import type { ResourceType } from '../kinds.js';
import type { KubeObject, ListMeta, ObjectMeta } from '../types.js';
import { daemonSetPrinter, controllerRevisionPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './apps.js';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { configMapPrinter, endpointsPrinter, eventPrinter, namespacePrinter, nodePrinter, secretPrinter, serviceAccountPrinter, servicePrinter } from './core.js';
import { doc } from './descriptions.js';
import { endpointSlicePrinter, horizontalPodAutoscalerPrinter, leasePrinter } from './other.js';
import { podPrinter } from './pod.js';
import { column, NAME_COLUMN, type Cell, type Printer, type TableColumnDefinition, type TableRowCondition } from './printer.js';
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from './storage.js';

export type { Cell, Printer, TableColumnDefinition, TableRowCondition } from './printer.js';
export { humanDuration, shortHumanDuration } from './duration.js';

/** meta.k8s.io/v1 PartialObjectMetadata: what a row carries by default (`includeObject=Metadata`),
 *  enough for kubectl's NAMESPACE column, `--show-labels` and `-L`. */
export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

/** meta.k8s.io/v1 TableRow. `object` is absent for `includeObject=None`. */
export interface TableRow {
  cells: Cell[];
  conditions?: TableRowCondition[];
  object?: PartialObjectMetadata | KubeObject;
}

/** meta.k8s.io/v1 Table, the body of a `get` (or each watch event's object) under as=Table. */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** TableOptions.includeObject: what each row's `object` holds. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface BuildTableOptions {
  /** The instant (epoch ms) ages are measured at. */
  now: number;
  /** Default `Metadata`. */
  includeObject?: IncludeObject;
  /** The list's (or watch event's) resourceVersion, copied to the table's metadata. */
  resourceVersion?: string;
  /** The list continue token, copied to the table's metadata. */
  continue?: string;
  /** Leave out the column definitions. The apiserver sends them only in the first watch event;
   *  kubectl reuses the last ones it saw for tables that have none. */
  noHeaders?: boolean;
}

/** Printers by `group/Kind`, the kinds printers.go (1.32) has handlers for. */
const PRINTERS: ReadonlyMap<string, Printer> = new Map([
  ['/Pod', podPrinter],
  ['/Service', servicePrinter],
  ['/Endpoints', endpointsPrinter],
  ['/Namespace', namespacePrinter],
  ['/ConfigMap', configMapPrinter],
  ['/Secret', secretPrinter],
  ['/ServiceAccount', serviceAccountPrinter],
  ['/Event', eventPrinter],
  ['/Node', nodePrinter],
  ['/PersistentVolume', persistentVolumePrinter],
  ['/PersistentVolumeClaim', persistentVolumeClaimPrinter],
  ['apps/Deployment', deploymentPrinter],
  ['apps/ReplicaSet', replicaSetPrinter],
  ['apps/StatefulSet', statefulSetPrinter],
  ['apps/DaemonSet', daemonSetPrinter],
  ['apps/ControllerRevision', controllerRevisionPrinter],
  ['batch/Job', jobPrinter],
  ['batch/CronJob', cronJobPrinter],
  ['autoscaling/HorizontalPodAutoscaler', horizontalPodAutoscalerPrinter],
  ['coordination.k8s.io/Lease', leasePrinter],
  ['discovery.k8s.io/EndpointSlice', endpointSlicePrinter],
  ['storage.k8s.io/StorageClass', storageClassPrinter],
]);

/** The generic table (rest.NewDefaultTableConvertor): NAME and CREATED AT, an RFC 3339 date
 *  that kubectl prints as is. */
export const defaultPrinter: Printer = {
  columns: [NAME_COLUMN, column('Created At', 'date', doc('ObjectMeta.creationTimestamp'))],
  print(obj) {
    const t = Date.parse(obj.metadata?.creationTimestamp ?? '');
    // Go formats the zero time for an object that has none.
    const created = Number.isNaN(t) ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { cells: [obj.metadata?.name ?? '', created] };
  },
};

/** The printer of a resource type: its own, or the default NAME / CREATED AT one. */
export function printerFor(rt: Pick<ResourceType, 'group' | 'kind'>): Printer {
  return PRINTERS.get(`${rt.group}/${rt.kind}`) ?? defaultPrinter;
}

/** Whether a kind has its own columns (as opposed to the default NAME / CREATED AT). */
export function hasPrinter(rt: Pick<ResourceType, 'group' | 'kind'>): boolean {
  return PRINTERS.has(`${rt.group}/${rt.kind}`);
}

/**
 * Builds the Table for `objects` (a list, a single get, or one watch event's object) of resource
 * type `rt`. One row per object, in the given order; cells follow the kind's printer. Rows'
 * `object` is a PartialObjectMetadata (the default), the object itself (`Object`; the caller's
 * object is referenced, not copied), or absent (`None`). Never throws: printers tolerate any
 * stored object.
 */
export function buildTable(rt: ResourceType, objects: readonly KubeObject[], opts: BuildTableOptions): Table {
  const printer = printerFor(rt);
  const include = opts.includeObject ?? 'Metadata';
  const metadata: ListMeta = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  const rows = objects.map((obj): TableRow => {
    const printed = printer.print(obj, opts.now);
    const row: TableRow = { cells: printed.cells };
    if (printed.conditions) row.conditions = printed.conditions;
    if (include === 'Object') row.object = obj;
    else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}

/**
 * Reads the `includeObject` query parameter (absent or empty → `Metadata`). Anything else is
 * refused as ValidateTableOptions does: a 422 naming the field and the accepted values.
 */
export function parseIncludeObject(raw: string | null | undefined): IncludeObject {
  if (raw === null || raw === undefined || raw === '') return 'Metadata';
  if (raw === 'None' || raw === 'Metadata' || raw === 'Object') return raw;
  throw errors.invalid('TableOptions', 'meta.k8s.io', '', [field.invalid('includeObject', raw, "must be 'Metadata', 'Object', 'None', or empty")]);
}
