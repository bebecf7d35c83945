// The container runtimes a node agent can run pods with, by name (`skiff agent --runtime NAME`).
// Plain data, like every registry in Skiff: a runtime is a factory of ContainerRuntime.
import { createProcessRuntime, type ProcessRuntimeOptions } from './process.js';
import type { ContainerRuntime } from './runtime.js';

/** What every runtime factory is given. */
export type RuntimeOptions = ProcessRuntimeOptions;

/** Every runtime by name. `RUNTIMES.process` is typed as present; look others up with `in`. */
export const RUNTIMES = {
  process: createProcessRuntime,
} satisfies Record<string, (opts: RuntimeOptions) => ContainerRuntime>;

export type RuntimeName = keyof typeof RUNTIMES;
