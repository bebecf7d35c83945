// The registry of controllers run by the control plane, as plain data: each controller lives in
// its own file and exports a ControllerDef, listed here; the control plane starts every entry
// with startController (controller.ts). Node IPAM predates the runner and keeps its own start
// function (node-ipam.ts); the service-lb controller and the local-path provisioner take options
// from the command line and are started by the control plane (cli/control-plane.ts).
import type { ControllerDef } from './controller.js';
import { createCronJobController } from './cronjob.js';
import { createDaemonSetController } from './daemonset.js';
import { deploymentController } from './deployment.js';
import { createEndpointsController } from './endpoints.js';
import { createEndpointSliceController } from './endpointslice.js';
import { createEndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { garbageCollector } from './garbage-collector.js';
import { createJobController } from './job.js';
import { jobTtlController } from './job-ttl.js';
import { namespaceController } from './namespace.js';
import { createPVBinderController } from './pv-binder.js';
import { createReplicaSetController } from './replicaset.js';
import { createStatefulSetController } from './statefulset.js';

/** Every controller the control plane runs, in start order. */
export const CONTROLLERS: ControllerDef[] = [
  garbageCollector,
  namespaceController,
  deploymentController,
  createReplicaSetController(),
  createEndpointsController(),
  createEndpointSliceController(),
  createEndpointSliceMirroringController(),
  createJobController(),
  jobTtlController,
  createCronJobController(),
  createDaemonSetController(),
  createStatefulSetController(),
  createPVBinderController(),
];
