// Tables of the apps/v1 kinds: deployments, replica sets, stateful sets, daemon sets and
// controller revisions, as printers.go (Kubernetes 1.32) prints them.
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { parseApiVersion } from '../types.js';
import { doc } from './descriptions.js';
import {
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  NAME_COLUMN,
  ageOf,
  column,
  formatLabelSelector,
  formatLabels,
  labelSelectorString,
  layoutContainerCells,
  nameOf,
  view,
  type Printer,
} from './printer.js';

/** spec.replicas; Kubernetes defaults a missing one to 1 before anything reads it. */
function desiredReplicas(spec: { replicas?: number } | undefined): number {
  return spec?.replicas ?? 1;
}

export const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', doc('DeploymentStatus.updatedReplicas')),
    column('Available', 'string', doc('DeploymentStatus.availableReplicas')),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', doc('DeploymentSpec.selector'), { priority: 1 }),
  ],
  print(obj, now) {
    const d = view<Deployment>(obj);
    const status = d.status ?? {};
    const [names, images] = layoutContainerCells(d.spec?.template?.spec?.containers);
    // printDeployment prints the selector without the `<none>` substitution.
    const selector = labelSelectorString(d.spec?.selector) ?? '<invalid>';
    return {
      cells: [nameOf(obj), `${status.readyReplicas ?? 0}/${desiredReplicas(d.spec)}`, status.updatedReplicas ?? 0, status.availableReplicas ?? 0, ageOf(obj, now), names, images, selector],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', doc('ReplicaSetSpec.replicas')),
    column('Current', 'integer', doc('ReplicaSetStatus.replicas')),
    column('Ready', 'integer', doc('ReplicaSetStatus.readyReplicas')),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', doc('ReplicaSetSpec.selector'), { priority: 1 }),
  ],
  print(obj, now) {
    const rs = view<ReplicaSet>(obj);
    const [names, images] = layoutContainerCells(rs.spec?.template?.spec?.containers);
    return {
      cells: [nameOf(obj), desiredReplicas(rs.spec), rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, ageOf(obj, now), names, images, formatLabelSelector(rs.spec?.selector)],
    };
  },
};

export const statefulSetPrinter: Printer = {
  columns: [NAME_COLUMN, column('Ready', 'string', 'Number of the pod with ready state'), AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN],
  print(obj, now) {
    const sts = view<StatefulSet>(obj);
    const [names, images] = layoutContainerCells(sts.spec?.template?.spec?.containers);
    return { cells: [nameOf(obj), `${sts.status?.readyReplicas ?? 0}/${desiredReplicas(sts.spec)}`, ageOf(obj, now), names, images] };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', doc('DaemonSetStatus.desiredNumberScheduled')),
    column('Current', 'integer', doc('DaemonSetStatus.currentNumberScheduled')),
    column('Ready', 'integer', doc('DaemonSetStatus.numberReady')),
    column('Up-to-date', 'integer', doc('DaemonSetStatus.updatedNumberScheduled')),
    column('Available', 'integer', doc('DaemonSetStatus.numberAvailable')),
    column('Node Selector', 'string', doc('PodSpec.nodeSelector')),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', doc('DaemonSetSpec.selector'), { priority: 1 }),
  ],
  print(obj, now) {
    const ds = view<DaemonSet>(obj);
    const s = ds.status;
    const podSpec = ds.spec?.template?.spec;
    const [names, images] = layoutContainerCells(podSpec?.containers);
    return {
      cells: [
        nameOf(obj),
        s?.desiredNumberScheduled ?? 0,
        s?.currentNumberScheduled ?? 0,
        s?.numberReady ?? 0,
        s?.updatedNumberScheduled ?? 0,
        s?.numberAvailable ?? 0,
        formatLabels(podSpec?.nodeSelector),
        ageOf(obj, now),
        names,
        images,
        formatLabelSelector(ds.spec?.selector),
      ],
    };
  },
};

/** The CONTROLLER cell: `<kind>.<group>/<name>` lower-cased (`daemonset.apps/web`), from the
 *  controller owner reference; `<none>` without one. */
export function controllerOf(obj: ControllerRevision): string {
  const ref = (obj.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const { group } = parseApiVersion(ref.apiVersion);
  if (!ref.kind && !group) return ref.name;
  const groupKind = group ? `${ref.kind}.${group}` : ref.kind;
  return `${groupKind.toLowerCase()}/${ref.name}`;
}

export const controllerRevisionPrinter: Printer = {
  columns: [NAME_COLUMN, column('Controller', 'string', 'Controller of the object'), column('Revision', 'string', doc('ControllerRevision.revision')), AGE_COLUMN],
  print(obj, now) {
    const cr = view<ControllerRevision>(obj);
    return { cells: [nameOf(obj), controllerOf(cr), cr.revision ?? 0, ageOf(obj, now)] };
  },
};
