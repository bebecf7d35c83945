// NodeName, as Kubernetes 1.32's pkg/scheduler/framework/plugins/nodename: a pod that names its
// node in `spec.nodeName` fits only there. (A pod created with nodeName is normally never queued —
// the kubelet takes it directly — but a scheduler may still be asked to place it.)
import type { CycleContext, FilterResult, NodeInfo, Plugin } from '../framework.js';

export const NODE_NAME = 'NodeName';
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

export const nodeName: Plugin = {
  name: NODE_NAME,

  preFilter(ctx: CycleContext): 'skip' | undefined {
    return ctx.pod.pod.spec?.nodeName ? undefined : 'skip';
  },

  filter(ctx: CycleContext, ni: NodeInfo): FilterResult {
    const wanted = ctx.pod.pod.spec?.nodeName;
    return !wanted || wanted === ni.name ? undefined : { reasons: [ERR_REASON_NODE_NAME], unresolvable: true };
  },
};
