// Tables of the remaining served kinds: horizontal pod autoscalers (autoscaling/v2), leases
// (coordination.k8s.io/v1) and endpoint slices (discovery.k8s.io/v1), as printers.go (1.32).
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { doc } from './descriptions.js';
import { AGE_COLUMN, NAME_COLUMN, ageOf, column, nameOf, view, type Printer } from './printer.js';

/** Quantity.String() of an optional quantity (Go prints a nil *Quantity as `<nil>`). */
function q(v: string | number | undefined | null): string {
  return v === undefined || v === null ? '<nil>' : String(v);
}

/** One TARGETS entry: `current/target`, `(avg)` for average-value object and external metrics,
 *  `cpu: 50%/80%` for resource metrics; `<unknown>` until the autoscaler reports. */
function formatMetric(spec: MetricSpec, status: MetricStatus | undefined): string {
  const unknown = '<unknown>';
  switch (spec.type) {
    case 'External': {
      const target = spec.external?.target;
      if (target?.averageValue !== undefined) {
        const cur = status?.external?.current?.averageValue;
        return `${cur !== undefined ? q(cur) : unknown}/${q(target.averageValue)} (avg)`;
      }
      return `${status?.external ? q(status.external.current?.value) : unknown}/${q(target?.value)}`;
    }
    case 'Pods':
      return `${status?.pods ? q(status.pods.current?.averageValue) : unknown}/${q(spec.pods?.target?.averageValue)}`;
    case 'Object': {
      const target = spec.object?.target;
      if (target?.averageValue !== undefined) {
        const cur = status?.object?.current?.averageValue;
        return `${cur !== undefined ? q(cur) : unknown}/${q(target.averageValue)} (avg)`;
      }
      return `${status?.object ? q(status.object.current?.value) : unknown}/${q(target?.value)}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const st = spec.type === 'Resource' ? status?.resource : status?.containerResource;
      const name = src?.name ?? '';
      if (src?.target?.averageValue !== undefined) return `${name}: ${st ? q(st.current?.averageValue) : unknown}/${q(src.target.averageValue)}`;
      const util = st?.current?.averageUtilization;
      const current = util !== undefined ? `${util}%` : unknown;
      const target = src?.target?.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${name}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

/** formatHPAMetrics: the first two metrics, comma-separated, then ` + N more...`; `<none>`. */
export function formatHPAMetrics(specs: readonly MetricSpec[] | undefined, statuses: readonly MetricStatus[] | undefined): string {
  if (!specs || specs.length === 0) return '<none>';
  const max = 2;
  const list = specs.map((spec, i) => formatMetric(spec, statuses?.[i]));
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const horizontalPodAutoscalerPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Reference', 'string', doc('HorizontalPodAutoscalerSpec.scaleTargetRef')),
    column('Targets', 'string', doc('HorizontalPodAutoscalerSpec.metrics')),
    column('MinPods', 'string', doc('HorizontalPodAutoscalerSpec.minReplicas')),
    column('MaxPods', 'string', doc('HorizontalPodAutoscalerSpec.maxReplicas')),
    column('Replicas', 'string', doc('HorizontalPodAutoscalerStatus.currentReplicas')),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const hpa = view<HorizontalPodAutoscaler>(obj);
    const ref = hpa.spec?.scaleTargetRef;
    const minPods = hpa.spec?.minReplicas !== undefined ? String(hpa.spec.minReplicas) : '<unset>';
    return {
      cells: [
        nameOf(obj),
        `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
        formatHPAMetrics(hpa.spec?.metrics, hpa.status?.currentMetrics),
        minPods,
        hpa.spec?.maxReplicas ?? 0,
        hpa.status?.currentReplicas ?? 0,
        ageOf(obj, now),
      ],
    };
  },
};

export const leasePrinter: Printer = {
  columns: [NAME_COLUMN, column('Holder', 'string', doc('LeaseSpec.holderIdentity')), AGE_COLUMN],
  print: (obj, now) => ({ cells: [nameOf(obj), view<Lease>(obj).spec?.holderIdentity ?? '', ageOf(obj, now)] }),
};

/** listWithMoreString: up to three items, then ` + N more...`; `<unset>` when empty. */
function listWithMore(items: string[], max = 3): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length === 0 ? '<unset>' : items.join(',');
}

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', doc('EndpointSlice.addressType')),
    column('Ports', 'string', doc('EndpointSlice.ports')),
    column('Endpoints', 'string', doc('EndpointSlice.endpoints')),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const slice = view<EndpointSlice>(obj);
    // A port with neither number nor name means "all ports".
    const ports = (slice.ports ?? []).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name !== undefined && p.name !== null ? p.name : '*'));
    const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return { cells: [nameOf(obj), slice.addressType ?? '', listWithMore(ports), listWithMore(addresses), ageOf(obj, now)] };
  },
};
