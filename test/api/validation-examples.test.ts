// Every example manifest of the Kubernetes documentation (copied under /work/shared/k8s-examples)
// whose kind Skiff serves goes through the create path: prepared, defaulted and validated as
// kube-apiserver would. The few that a real 1.32 cluster refuses are listed with the exact
// errors it gives; all others must be valid.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { applyDefaults, prepareKindForCreate } from '../../src/api/defaults/index.js';
import { formatFieldError } from '../../src/api/errors.js';
import { findResourceByKind } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { validateObject } from '../../src/api/validation/index.js';

const ROOT = '/work/shared/k8s-examples';
const UID = '5b8f0c1a-9d2e-4f3a-8b7c-6d5e4f3a2b1c';

/** Documents upstream rejects, by "file#document": the errors a 1.32 API server reports. */
const REJECTED: Record<string, string[]> = {
  // No metadata.name, and a Job's pod template defaults to restartPolicy Always.
  'controllers/job-success-policy-example.yaml#0': [
    'metadata.name: Required value: name or generateName is required',
    'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    'metadata.name: Invalid value: "": will not able to create pod with invalid DNS label: -9',
  ],
  // requiredDuringScheduling... is written as a list of weighted terms; the API wants a NodeSelector.
  'pods/pod-with-node-affinity.yaml#0': [
    'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: Invalid value: "array": spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution in body must be of type object: "array"',
  ],
  // The Gt toleration operator arrives after 1.32.
  'pods/pod-with-numeric-toleration.yaml#0': ['spec.tolerations[0].operator: Unsupported value: "Gt": supported values: "Equal", "Exists"'],
  // The probe field is spelled `gRPC:`; once that unknown field is dropped the probe has no handler.
  'pods/probe/grpc-liveness.yaml#0': ['spec.containers[0].livenessProbe: Required value: must specify a handler type'],
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(p) ? [p] : [];
    })
    .sort();
}

interface Doc {
  id: string;
  obj: KubeObject;
}

function servedDocuments(): Doc[] {
  const out: Doc[] = [];
  for (const file of yamlFiles(ROOT)) {
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, i) => {
      assert.equal(doc.errors.length, 0, `${file} document ${i} parses`);
      const obj = doc.toJS() as KubeObject | null;
      if (obj && findResourceByKind(String(obj.apiVersion), String(obj.kind))) out.push({ id: `${relative(ROOT, file)}#${i}`, obj });
    });
  }
  return out;
}

/** The create path of the API server, minus storage: namespace from the request, uid, prepare, defaults, validation. */
function createErrors(obj: KubeObject): string[] {
  const rt = findResourceByKind(String(obj.apiVersion), String(obj.kind));
  assert.ok(rt);
  const o = structuredClone(obj);
  o.metadata ??= {};
  if (rt.namespaced) o.metadata.namespace ??= 'default';
  o.metadata.uid = UID;
  prepareKindForCreate(rt, o, UID);
  applyDefaults(rt, o);
  return validateObject(rt, o).map(formatFieldError);
}

describe('the Kubernetes documentation examples', () => {
  const docs = servedDocuments();

  it('include documents of every workload kind Skiff serves', () => {
    const kinds = new Set(docs.map((d) => d.obj.kind));
    for (const k of ['Pod', 'Deployment', 'Service', 'Job', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ConfigMap', 'Secret', 'PersistentVolume', 'PersistentVolumeClaim', 'HorizontalPodAutoscaler', 'StorageClass']) {
      assert.ok(kinds.has(k), `an example of ${k}`);
    }
  });

  it('list every rejected document that still exists', () => {
    const ids = new Set(docs.map((d) => d.id));
    for (const id of Object.keys(REJECTED)) assert.ok(ids.has(id), `${id} is among the examples`);
  });

  for (const { id, obj } of docs) {
    const want = REJECTED[id] ?? [];
    it(`${id} (${String(obj.kind)}) ${want.length ? 'is rejected as upstream rejects it' : 'is valid once defaulted'}`, () => {
      assert.deepEqual(createErrors(obj), want);
    });
  }

  it('stay valid when defaulted twice, as on a create followed by an unchanged update', () => {
    for (const { id, obj } of docs) {
      if (REJECTED[id]) continue;
      const rt = findResourceByKind(String(obj.apiVersion), String(obj.kind));
      assert.ok(rt);
      const o = structuredClone(obj);
      if (rt.namespaced) o.metadata.namespace ??= 'default';
      Object.assign(o.metadata, { uid: UID, resourceVersion: '1' });
      prepareKindForCreate(rt, o, UID);
      applyDefaults(rt, o);
      const again = structuredClone(o);
      applyDefaults(rt, again, o);
      assert.deepEqual(again, o, `${id}: defaults are idempotent`);
      assert.deepEqual(validateObject(rt, again, o).map(formatFieldError), [], `${id}: an unchanged update is valid`);
    }
  });
});
