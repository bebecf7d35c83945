// kubectl's client-side → server-side apply migration hands the applier an Apply entry that owns
// whole lists (`f:ports: {".": {}}`). Re-applying the same configuration must keep the list
// items it still applies, as upstream's prune adds them back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patchMetaFor } from '../../../src/api/schema.js';
import type { KubeObject } from '../../../src/api/types.js';
import { serverSideApply } from '../../../src/apiserver/patch/apply.js';

test('re-applying after the client-side-apply migration keeps the applied list items', () => {
  const live: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u',
      resourceVersion: '13',
      managedFields: [
        {
          manager: 'kubectl',
          operation: 'Apply',
          apiVersion: 'v1',
          time: '2026-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:clusterIP': {}, 'f:ports': { '.': {}, 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} } }, 'f:selector': {}, 'f:type': {} } },
        },
      ],
    },
    spec: { clusterIP: '10.43.1.1', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], selector: { app: 'web' }, type: 'ClusterIP' },
  };
  const applied: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80, targetPort: 80 }], selector: { app: 'web' } } };
  const out = serverSideApply({ live, applied, manager: 'kubectl', force: false, meta: patchMetaFor('v1', 'Service'), apiVersion: 'v1', now: '2026-01-01T00:00:01Z' });
  const spec = out.spec as { ports: unknown[]; selector: unknown; clusterIP?: string };
  assert.deepEqual(spec.ports, [{ port: 80, targetPort: 80 }], 'the port stays; protocol goes (defaulting restores it)');
  assert.deepEqual(spec.selector, { app: 'web' });
});
