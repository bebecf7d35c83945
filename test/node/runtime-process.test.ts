// The runtime conformance suite on the `process` runtime: real processes in real namespaces and
// cgroups on this machine (Linux, root).
import { createProcessRuntime } from '../../src/node/runtime/process.js';
import { runtimeConformance } from './runtime-conformance.js';

runtimeConformance('process', (opts) => createProcessRuntime(opts));
