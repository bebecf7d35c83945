// Namespaces the cluster starts with. Emptying a Terminating namespace is the namespace
// controller's work (controllers/namespace.ts), as in kube-controller-manager.
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { Registry, RequestContext } from './registry.js';

const NAMESPACES = resourceFor('', 'v1', 'namespaces');

export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function systemContext(manager = 'skiff-apiserver'): RequestContext {
  return { fieldManager: manager, dryRun: false, fieldValidation: 'Ignore', warnings: [] };
}

/** Creates the namespaces every cluster has, if missing. */
export async function ensureNamespaces(reg: Registry): Promise<void> {
  for (const name of INITIAL_NAMESPACES) {
    try {
      await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, systemContext());
    } catch (e) {
      if (!isStatusError(e, 'AlreadyExists')) throw e;
    }
  }
}
