// Validation of updates: what may change once an object exists, with upstream's messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults, prepareKindForCreate } from '../../src/api/defaults/index.js';
import { formatFieldError } from '../../src/api/errors.js';
import { findResourceByKind } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { validateObject } from '../../src/api/validation/index.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const UID = '7d2b1c4e-0000-4000-8000-000000000001';

/** The stored form of `obj`: prepared and defaulted as on create, with server-set metadata. */
function stored(obj: Any): Any {
  const rt = findResourceByKind(obj.apiVersion, obj.kind);
  assert.ok(rt);
  const o = structuredClone(obj) as KubeObject;
  Object.assign(o.metadata, { uid: UID, resourceVersion: '5', creationTimestamp: '2025-01-01T00:00:00Z' });
  prepareKindForCreate(rt, o, UID);
  applyDefaults(rt, o);
  assert.deepEqual(validateObject(rt, o), [], 'the stored object is valid');
  return o;
}

/** Applies `change` to a copy of the stored object and validates it as an update. */
function updateErrors(obj: Any, change: (o: Any) => void): string[] {
  const rt = findResourceByKind(obj.apiVersion, obj.kind);
  assert.ok(rt);
  const old = stored(obj);
  const next = structuredClone(old);
  change(next);
  applyDefaults(rt, next as KubeObject, old as KubeObject);
  return validateObject(rt, next as KubeObject, old as KubeObject).map(formatFieldError);
}

const container = () => ({ name: 'app', image: 'nginx:1.27' });
const pod: Any = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [container()], tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] } };
const deployment: Any = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container()] } } },
};
const statefulSet: Any = { ...deployment, kind: 'StatefulSet', spec: { ...deployment.spec, serviceName: 'web' } };
const service: Any = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80 }] } };
const nodePortService: Any = { ...service, spec: { ...service.spec, type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } };
const job: Any = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default' }, spec: { template: { spec: { containers: [container()], restartPolicy: 'Never' } } } };
const immutableConfigMap: Any = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, immutable: true, data: { a: '1' } };
const immutableSecret: Any = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, immutable: true, data: { a: 'MQ==' } };
const claim: Any = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };

const POD_SPEC_FORBIDDEN =
  'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

describe('updates', () => {
  const cases: [string, Any, (o: Any) => void, string[]][] = [
    ['a pod image may change', pod, (o) => (o.spec.containers[0].image = 'nginx:1.28'), []],
    ['a pod may gain a toleration', pod, (o) => o.spec.tolerations.push({ key: 'other', operator: 'Exists' }), []],
    ['a toleration may change its tolerationSeconds', pod, (o) => (o.spec.tolerations[0].tolerationSeconds = 30), []],
    ['a pod may not lose a toleration', pod, (o) => (o.spec.tolerations = []), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']],
    ['containers may not be added to a pod', pod, (o) => o.spec.containers.push({ name: 'sidecar', image: 'busybox' }), ['spec.containers: Forbidden: pod updates may not add or remove containers']],
    ['a pod is bound through its binding subresource, not by an update', pod, (o) => (o.spec.nodeName = 'node-2'), [`${POD_SPEC_FORBIDDEN}\n-\tspec.nodeName: null\n+\tspec.nodeName: "node-2"`]],
    ['a labels change is fine', deployment, (o) => (o.metadata.labels = { tier: 'front' }), []],
    ['a name may not change', deployment, (o) => (o.metadata.name = 'web2'), ['metadata.name: Invalid value: "web2": field is immutable']],
    ['a deployment template may change', deployment, (o) => (o.spec.template.spec.containers[0].image = 'nginx:1.28'), []],
    [
      'a deployment selector may not change',
      deployment,
      (o) => {
        o.spec.selector.matchLabels.app = 'web2';
        o.spec.template.metadata.labels.app = 'web2';
      },
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'],
    ],
    ['a statefulset may scale', statefulSet, (o) => (o.spec.replicas = 3), []],
    [
      'a statefulset may not change its service name',
      statefulSet,
      (o) => (o.spec.serviceName = 'other'),
      ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
    ],
    ['a service clusterIP may not change', service, (o) => (o.spec.clusterIP = '10.96.0.11'), ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']],
    [
      'a service update that omits the allocated addresses keeps them',
      nodePortService,
      (o) => {
        delete o.spec.clusterIP;
        delete o.spec.clusterIPs;
        delete o.spec.ports[0].nodePort;
      },
      [],
    ],
    ['a job may be suspended', job, (o) => (o.spec.suspend = true), []],
    [
      'a job selector may not change',
      job,
      (o) => (o.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'] = 'other'),
      [
        `spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"${UID}", "batch.kubernetes.io/job-name":"pi", "controller-uid":"${UID}", "job-name":"pi"}: \`selector\` does not match template \`labels\``,
        `spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"batch.kubernetes.io/controller-uid":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable`,
      ],
    ],
    ['an immutable configmap cannot change its data', immutableConfigMap, (o) => (o.data.a = '2'), ['data: Forbidden: field is immutable when `immutable` is set']],
    ['an immutable secret cannot become mutable', immutableSecret, (o) => (o.immutable = false), ['immutable: Forbidden: field is immutable when `immutable` is set']],
    [
      'a secret may not change its type',
      immutableSecret,
      (o) => (o.type = 'kubernetes.io/basic-auth'),
      ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable', 'data[username]: Required value', 'data[password]: Required value'],
    ],
    ['a claim may not shrink', claim, (o) => (o.spec.resources.requests.storage = '500Mi'), [`spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n-\tspec.resources.requests.storage: "1Gi"\n+\tspec.resources.requests.storage: "500Mi"`, 'spec.resources.requests.storage: Forbidden: field can not be less than previous value']],
  ];
  for (const [sentence, obj, change, want] of cases) it(sentence, () => assert.deepEqual(updateErrors(obj, change), want));

  it('changing a pod field that is not updatable names the updatable ones and shows the change', () => {
    const errs = updateErrors(pod, (o) => (o.spec.restartPolicy = 'Never'));
    assert.equal(errs.length, 1);
    const [first, ...diff] = (errs[0] ?? '').split('\n');
    assert.equal(first, POD_SPEC_FORBIDDEN);
    assert.deepEqual(diff, ['-\tspec.restartPolicy: "Always"', '+\tspec.restartPolicy: "Never"']);
  });

  it('a job template may not change', () => {
    const errs = updateErrors(job, (o) => (o.spec.template.spec.containers[0].image = 'perl'));
    assert.equal(errs.length, 1);
    assert.match(errs[0] ?? '', /^spec\.template: Invalid value: core\.PodTemplateSpec\{.*\}: field is immutable$/);
  });
});
