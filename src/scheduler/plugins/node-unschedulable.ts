// NodeUnschedulable, as Kubernetes 1.32's pkg/scheduler/framework/plugins/nodeunschedulable: a
// cordoned node (`spec.unschedulable`, what `kubectl cordon` sets) takes no new pods, except those
// that tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint the node lifecycle
// controller puts on such nodes (DaemonSet pods do).
import type { CycleContext, FilterResult, NodeInfo, Plugin } from '../framework.js';
import { tolerationsTolerateTaint } from './taint-toleration.js';

export const NODE_UNSCHEDULABLE = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export const nodeUnschedulable: Plugin = {
  name: NODE_UNSCHEDULABLE,

  filter(ctx: CycleContext, ni: NodeInfo): FilterResult {
    if (!ni.node.spec?.unschedulable) return undefined;
    const tolerates = tolerationsTolerateTaint(ctx.pod.pod.spec?.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
    return tolerates ? undefined : { reasons: [ERR_REASON_UNSCHEDULABLE], unresolvable: true };
  },
};
