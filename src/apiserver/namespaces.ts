// Namespaces the cluster starts with, and what happens when one is deleted: kube-controller-
// manager's namespace controller empties a Terminating namespace and then removes it. Skiff runs
// that loop beside the API server until a controller manager exists to host it.
import { isStatusError } from '../api/errors.js';
import { RESOURCES, resourceFor } from '../api/kinds.js';
import { logger } from '../util/log.js';
import type { Registry, RequestContext } from './registry.js';

const log = logger('namespaces');
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

/**
 * Empties a Terminating namespace and removes it. Safe to call repeatedly; a pass that finds
 * objects still present (held by finalizers, or graceful pods) retries after a pause.
 */
export class NamespaceFinalizer {
  private readonly running = new Set<string>();
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();

  constructor(private readonly reg: Registry) {}

  /** Resumes the cleanup of namespaces left Terminating by a previous run. */
  resume(): void {
    for (const ns of this.reg.cache.list(NAMESPACES)) if (ns.obj.metadata.deletionTimestamp) this.finalize(ns.obj.metadata.name!);
  }

  finalize(name: string): void {
    if (this.running.has(name) || this.stopped) return;
    this.running.add(name);
    void this.pass(name).finally(() => this.running.delete(name));
  }

  private async pass(name: string): Promise<void> {
    const ctx = systemContext('namespace-controller');
    let remaining = 0;
    try {
      for (const rt of RESOURCES) {
        if (!rt.namespaced) continue;
        for (const o of this.reg.cache.list(rt, name)) {
          remaining++;
          if (o.obj.metadata.deletionTimestamp && rt.kind !== 'Pod') continue;
          try {
            await this.reg.delete(rt, name, o.obj.metadata.name!, { gracePeriodSeconds: 0, propagationPolicy: 'Background' }, ctx);
          } catch (e) {
            if (!isStatusError(e, 'NotFound')) throw e;
          }
        }
      }
      if (remaining === 0) {
        await this.removeNamespace(name);
        return;
      }
    } catch (e) {
      log.warn('namespace cleanup pass failed', { namespace: name, err: (e as Error).message });
    }
    this.later(name, remaining === 0 ? 0 : 500);
  }

  private async removeNamespace(name: string): Promise<void> {
    const cur = await this.reg.read(NAMESPACES, undefined, name);
    if (!cur) return;
    // every namespaced object is gone: the "kubernetes" finalizer is done, the namespace goes
    await this.reg.store.delete(cur.key, cur.rev).catch(() => this.later(name, 100));
  }

  private later(name: string, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.finalize(name);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }
}
