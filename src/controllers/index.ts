// The registry of controllers run by the control plane, as plain data: each controller lives in
// its own file and exports a ControllerDef, listed here; the control plane starts every entry
// with startController (controller.ts). Node IPAM predates the runner and keeps its own start
// function (node-ipam.ts), so it is not listed.
import type { ControllerDef } from './controller.js';
import { deploymentController } from './deployment.js';
import { createEndpointsController } from './endpoints.js';
import { createEndpointSliceController } from './endpointslice.js';
import { createEndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { garbageCollector } from './garbage-collector.js';
import { namespaceController } from './namespace.js';
import { createReplicaSetController } from './replicaset.js';

/** Every controller the control plane runs, in start order. */
export const CONTROLLERS: ControllerDef[] = [
  garbageCollector,
  namespaceController,
  deploymentController,
  createReplicaSetController(),
  createEndpointsController(),
  createEndpointSliceController(),
  createEndpointSliceMirroringController(),
];
