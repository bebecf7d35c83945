// The pod table: NAME READY STATUS RESTARTS AGE | IP NODE NOMINATED NODE READINESS GATES.
// STATUS is the one cell people read most and the one with the most rules (printPod in
// printers.go): init containers first (`Init:0/2`, `Init:CrashLoopBackOff`, `Init:ExitCode:1`),
// then app containers from last to first so the first container's reason wins
// (`ContainerCreating`, `CrashLoopBackOff`, `Completed`, `Error`), then deletion (`Terminating`).
// Restartable init containers (sidecars) count toward READY and RESTARTS like app containers.
import type { Container, ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../types.js';
import { doc } from './descriptions.js';
import { humanDuration, parseTime } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, ageOf, column, nameOf, view, type Printer, type PrintedRow, type TableRowCondition } from './printer.js';

const POD_COLUMNS = [
  NAME_COLUMN,
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE_COLUMN,
  column('IP', 'string', doc('PodStatus.podIP'), { priority: 1 }),
  column('Node', 'string', doc('PodSpec.nodeName'), { priority: 1 }),
  column('Nominated Node', 'string', doc('PodStatus.nominatedNodeName'), { priority: 1 }),
  column('Readiness Gates', 'string', doc('PodSpec.readinessGates'), { priority: 1 }),
];

const SUCCEEDED_CONDITIONS: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const FAILED_CONDITIONS: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

/** The reason the node lifecycle controller gives pods on an unreachable node. */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

/** A sidecar: an init container with `restartPolicy: Always` keeps running beside the app. */
function isRestartable(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function hasConditionTrue(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** The later of a running maximum and a container's last termination (0 = Go's zero time). */
function laterRestart(current: number, cs: ContainerStatus): number {
  const t = parseTime(cs.lastState?.terminated?.finishedAt);
  return t !== undefined && t > current ? t : current;
}

/** The STATUS reason of a terminated container that gave none. */
function exitReason(prefix: string, signal: number | undefined, exitCode: number | undefined): string {
  return signal ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${exitCode ?? 0}`;
}

/** printPod: one row for a pod, at `now`. */
export function printPod(obj: KubeObject, now: number): PrintedRow {
  const pod = view<Pod>(obj);
  const spec = pod.spec;
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = spec?.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;

  const phase = status.phase ?? '';
  let reason: string = status.reason ? status.reason : phase;
  // A pod held back by scheduling gates says so rather than "Pending".
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const row: PrintedRow = { cells: [] };
  if (phase === 'Succeeded') row.conditions = SUCCEEDED_CONDITIONS;
  else if (phase === 'Failed') row.conditions = FAILED_CONDITIONS;

  const initContainers = new Map<string, Container>();
  for (const c of spec?.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartable(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as ContainerStatus;
    const restartable = isRestartable(initContainers.get(cs.name));
    restarts += cs.restartCount ?? 0;
    lastRestart = laterRestart(lastRestart, cs);
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = laterRestart(lastRestartableInitRestart, cs);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      // Initialization failed.
      reason = terminated.reason ? `Init:${terminated.reason}` : exitReason('Init:', terminated.signal, terminated.exitCode);
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec?.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || hasConditionTrue(status.conditions, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as ContainerStatus;
      restarts += cs.restartCount ?? 0;
      lastRestart = laterRestart(lastRestart, cs);
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = exitReason('', terminated.signal, terminated.exitCode);
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // One container finished but another still runs: the pod is not "Completed".
    if (reason === 'Completed' && hasRunning) reason = hasConditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = Boolean(obj.metadata?.deletionTimestamp);
  if (deleting && status.reason === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Failed' && phase !== 'Succeeded') reason = 'Terminating';

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== 0) restartsCell = `${restarts} (${humanDuration(now - lastRestart)} ago)`;

  // The internal PodStatus always has podIPs (conversion fills it from podIP), so fall back.
  const podIP = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const nodeName = spec?.nodeName || '<none>';
  const nominatedNodeName = status.nominatedNodeName || '<none>';
  row.cells.push(nameOf(obj), `${readyContainers}/${totalContainers}`, reason, restartsCell, ageOf(obj, now), podIP, nodeName, nominatedNodeName, readinessGates(pod));
  return row;
}

/** READINESS GATES: how many of the pod's readiness gates have a True condition, `<none>`. */
function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  let trueConditions = 0;
  for (const gate of gates) {
    const cond = (pod.status?.conditions ?? []).find((c) => c.type === gate.conditionType);
    if (cond?.status === 'True') trueConditions++;
  }
  return `${trueConditions}/${gates.length}`;
}

export const podPrinter: Printer = { columns: POD_COLUMNS, print: printPod };
