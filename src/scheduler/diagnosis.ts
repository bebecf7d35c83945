// What the scheduler tells users when a pod fits nowhere, and how many nodes it looks at.

export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/** Kubernetes' "0/3 nodes are available: 1 node(s) had …, 2 Insufficient cpu." */
export function failureMessage(numNodes: number, reasons: Map<string, number>, preFilterReason?: string): string {
  if (numNodes === 0) return NO_NODES_MESSAGE;
  let msg = `0/${numNodes} nodes are available:`;
  if (preFilterReason) return `${msg} ${preFilterReason}.`;
  const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort();
  if (parts.length) msg += ` ${parts.join(', ')}.`;
  return msg;
}

/** How many feasible nodes to look for before scoring (upstream's numFeasibleNodesToFind). */
export function feasibleNodesToFind(numNodes: number, percentage: number): number {
  const MIN = 100;
  if (numNodes < MIN) return numNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(5, 50 - Math.floor(numNodes / 125));
  const n = Math.floor((numNodes * Math.min(pct, 100)) / 100);
  return Math.max(MIN, n);
}

