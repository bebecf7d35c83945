// Bodies are built the way client-go builds them: protobufjs encodes from the same vendored
// .proto files, and every non-pointer field gogo-protobuf always writes (empty strings, zero
// ints, empty Time) is written here too, so the decoder meets what kubectl really sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeKubernetesProtobuf, kubernetesProtoRoot } from '../../src/api/protobuf.js';
import { isStatusError } from '../../src/api/errors.js';

const MAGIC = Buffer.from('k8s\0', 'latin1');

function body(typeName: string, apiVersion: string, kind: string, obj: Record<string, unknown>): Buffer {
  const root = kubernetesProtoRoot();
  const type = root.lookupType(typeName);
  const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const raw = type.encode(type.fromObject(obj)).finish();
  const env = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([MAGIC, env]);
}

/** ObjectMeta as gogo writes it for a fresh object: every string, generation 0, empty creationTimestamp. */
function meta(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, generateName: '', namespace: '', selfLink: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {}, ...extra };
}

/** A container the way `kubectl create deployment`/`run` fills it (non-pointer fields all present). */
function container(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'web', image: 'nginx:1.25', workingDir: '', resources: {}, terminationMessagePath: '', terminationMessagePolicy: '',
    imagePullPolicy: '', stdin: false, stdinOnce: false, tty: false, ...extra,
  };
}

const SECONDS = 1_700_000_000; // 2023-11-14T22:13:20Z

const cases: { name: string; type: string; apiVersion: string; kind: string; obj: Record<string, unknown>; want: Record<string, unknown> }[] = [
  {
    name: 'a ConfigMap keeps data as strings, turns binaryData into base64 and drops the empty ObjectMeta strings',
    type: 'k8s.io.api.core.v1.ConfigMap', apiVersion: 'v1', kind: 'ConfigMap',
    obj: { metadata: meta('owner'), data: { a: 'b', 'key.txt': 'hello\n' }, binaryData: { 'blob.bin': Buffer.from([0, 1, 2, 255]) } },
    want: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'owner', creationTimestamp: null }, data: { a: 'b', 'key.txt': 'hello\n' }, binaryData: { 'blob.bin': 'AAEC/w==' } },
  },
  {
    name: 'a Secret keeps its type and an explicit immutable false (a pointer), data as base64',
    type: 'k8s.io.api.core.v1.Secret', apiVersion: 'v1', kind: 'Secret',
    obj: { metadata: meta('s', { namespace: 'team', labels: { app: 'x' } }), data: { k: Buffer.from('v') }, type: 'Opaque', immutable: false },
    want: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's', namespace: 'team', labels: { app: 'x' }, creationTimestamp: null }, data: { k: 'dg==' }, type: 'Opaque', immutable: false },
  },
  {
    name: 'a Namespace keeps its empty spec and status as objects, as Go prints non-pointer structs',
    type: 'k8s.io.api.core.v1.Namespace', apiVersion: 'v1', kind: 'Namespace',
    obj: { metadata: meta('x'), spec: {}, status: { phase: '' } },
    want: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'x', creationTimestamp: null }, spec: {}, status: {} },
  },
  {
    name: 'a Deployment keeps replicas, quantities, env, ports and an IntOrString probe port',
    type: 'k8s.io.api.apps.v1.Deployment', apiVersion: 'apps/v1', kind: 'Deployment',
    obj: {
      metadata: meta('web', { labels: { app: 'web' } }),
      spec: {
        replicas: 3, minReadySeconds: 0, paused: false,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: meta('', { labels: { app: 'web' } }),
          spec: {
            restartPolicy: '', dnsPolicy: '', serviceAccountName: '', serviceAccount: '', nodeName: '', hostNetwork: false, hostPID: false, hostIPC: false,
            hostname: '', subdomain: '', schedulerName: '', priorityClassName: '',
            containers: [container({
              ports: [{ name: '', hostPort: 0, containerPort: 80, protocol: 'TCP', hostIP: '' }],
              env: [{ name: 'MODE', value: 'prod' }, { name: 'POD', value: '', valueFrom: { fieldRef: { apiVersion: '', fieldPath: 'metadata.name' } } },
                { name: 'PASS', value: '', valueFrom: { secretKeyRef: { localObjectReference: { name: 'creds' }, key: 'password' } } }],
              resources: { limits: { cpu: { string: '500m' }, memory: { string: '128Mi' } }, requests: { cpu: { string: '250m' } } },
              readinessProbe: { handler: { httpGet: { path: '/healthz', port: { type: 0, intVal: 8080, strVal: '' }, host: '', scheme: 'HTTP' } }, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 0, failureThreshold: 0 },
              livenessProbe: { handler: { tcpSocket: { port: { type: 1, intVal: 0, strVal: 'http' }, host: '' } }, initialDelaySeconds: 5, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 0, failureThreshold: 0 },
            })],
          },
        },
        strategy: { type: '' },
      },
      status: { observedGeneration: 0, replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 0 },
    },
    want: {
      kind: 'Deployment', apiVersion: 'apps/v1',
      metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: null },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' }, creationTimestamp: null },
          spec: {
            containers: [{
              name: 'web', image: 'nginx:1.25', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } },
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [{ name: 'MODE', value: 'prod' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port: 'http' }, initialDelaySeconds: 5 },
            }],
          },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    name: 'a Deployment scaled to zero keeps replicas 0, because replicas is a pointer',
    type: 'k8s.io.api.apps.v1.Deployment', apiVersion: 'apps/v1', kind: 'Deployment',
    obj: { metadata: meta('z'), spec: { replicas: 0, selector: { matchLabels: { a: 'b' } }, template: { metadata: meta(''), spec: { containers: [container({})] } } } },
    want: { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'z', creationTimestamp: null }, spec: { replicas: 0, selector: { matchLabels: { a: 'b' } }, template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'web', image: 'nginx:1.25', resources: {} }] } } } },
  },
  {
    name: 'a Service keeps a string targetPort and an int targetPort apart',
    type: 'k8s.io.api.core.v1.Service', apiVersion: 'v1', kind: 'Service',
    obj: {
      metadata: meta('np'),
      spec: {
        ports: [
          { name: '80-8080', protocol: 'TCP', port: 80, targetPort: { type: 0, intVal: 8080, strVal: '' }, nodePort: 0 },
          { name: 'web', protocol: 'TCP', port: 443, targetPort: { type: 1, intVal: 0, strVal: 'https' }, nodePort: 30443 },
        ],
        selector: { app: 'np' }, clusterIP: '', type: 'NodePort', sessionAffinity: '', loadBalancerIP: '', externalName: '', externalTrafficPolicy: '', healthCheckNodePort: 0, publishNotReadyAddresses: false,
      },
      status: { loadBalancer: {} },
    },
    want: {
      kind: 'Service', apiVersion: 'v1', metadata: { name: 'np', creationTimestamp: null },
      spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'web', protocol: 'TCP', port: 443, targetPort: 'https', nodePort: 30443 }], selector: { app: 'np' }, type: 'NodePort' },
      status: { loadBalancer: {} },
    },
  },
  {
    name: 'a CronJob keeps its schedule, command and a creationTimestamp as RFC 3339 seconds',
    type: 'k8s.io.api.batch.v1.CronJob', apiVersion: 'batch/v1', kind: 'CronJob',
    obj: {
      metadata: meta('cj', { creationTimestamp: { seconds: SECONDS, nanos: 123_000_000 } }),
      spec: {
        schedule: '*/1 * * * *', concurrencyPolicy: '',
        jobTemplate: { metadata: meta('cj'), spec: { template: { metadata: meta(''), spec: { restartPolicy: 'OnFailure', containers: [container({ name: 'cj', image: 'busybox', command: ['date'] })] } } } },
      },
      status: {},
    },
    want: {
      kind: 'CronJob', apiVersion: 'batch/v1', metadata: { name: 'cj', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: { metadata: { name: 'cj', creationTimestamp: null }, spec: { template: { metadata: { creationTimestamp: null }, spec: { restartPolicy: 'OnFailure', containers: [{ name: 'cj', image: 'busybox', command: ['date'], resources: {} }] } } } },
      },
      status: {},
    },
  },
  {
    name: 'a Job from a CronJob keeps its owner reference with controller true and the instantiate annotation',
    type: 'k8s.io.api.batch.v1.Job', apiVersion: 'batch/v1', kind: 'Job',
    obj: {
      metadata: meta('j2', {
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'u-1', controller: true }],
      }),
      spec: { template: { metadata: meta(''), spec: { containers: [container({ name: 'j', image: 'busybox', args: ['echo', 'hi'] })], restartPolicy: 'Never' } } },
      status: { active: 0, succeeded: 0, failed: 0 },
    },
    want: {
      kind: 'Job', apiVersion: 'batch/v1',
      metadata: { name: 'j2', annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'u-1', controller: true }], creationTimestamp: null },
      spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'j', image: 'busybox', args: ['echo', 'hi'], resources: {} }], restartPolicy: 'Never' } } },
      status: {},
    },
  },
  {
    name: 'a Lease prints MicroTime with microseconds',
    type: 'k8s.io.api.coordination.v1.Lease', apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    obj: { metadata: meta('l'), spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: { seconds: SECONDS, nanos: 123_456_789 } } },
    want: { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', metadata: { name: 'l', creationTimestamp: null }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: '2023-11-14T22:13:20.123456Z' } },
  },
  {
    name: 'DeleteOptions sent under a group version decode as meta/v1 DeleteOptions, keeping gracePeriodSeconds 0',
    type: 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', apiVersion: 'v1', kind: 'DeleteOptions',
    obj: { gracePeriodSeconds: 0, propagationPolicy: 'Background', dryRun: ['All'], preconditions: { uid: 'abc' } },
    want: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, propagationPolicy: 'Background', dryRun: ['All'], preconditions: { uid: 'abc' } },
  },
  {
    name: 'an autoscaling/v1 Scale keeps spec.replicas',
    type: 'k8s.io.api.autoscaling.v1.Scale', apiVersion: 'autoscaling/v1', kind: 'Scale',
    obj: { metadata: meta('web', { namespace: 'default', resourceVersion: '42' }), spec: { replicas: 5 }, status: { replicas: 0, selector: '' } },
    want: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'default', resourceVersion: '42', creationTimestamp: null }, spec: { replicas: 5 }, status: { replicas: 0 } },
  },
  {
    name: 'a policy/v1 Eviction carries its DeleteOptions',
    type: 'k8s.io.api.policy.v1.Eviction', apiVersion: 'policy/v1', kind: 'Eviction',
    obj: { metadata: meta('p', { namespace: 'default' }), deleteOptions: { gracePeriodSeconds: 10 } },
    want: { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'p', namespace: 'default', creationTimestamp: null }, deleteOptions: { gracePeriodSeconds: 10 } },
  },
  {
    name: 'a Pod with volumes lifts the inline volume source and the configMap local reference',
    type: 'k8s.io.api.core.v1.Pod', apiVersion: 'v1', kind: 'Pod',
    obj: {
      metadata: meta('p'),
      spec: {
        volumes: [{ name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'owner' }, defaultMode: 420 } } }, { name: 'tmp', volumeSource: { emptyDir: { medium: '', sizeLimit: { string: '1Gi' } } } }],
        containers: [container({ name: 'p', image: 'busybox', args: ['sleep', '10'], volumeMounts: [{ name: 'cfg', readOnly: true, mountPath: '/cfg', subPath: '' }] })],
        restartPolicy: 'Always', dnsPolicy: 'ClusterFirst',
      },
      status: {},
    },
    want: {
      kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', creationTimestamp: null },
      spec: {
        volumes: [{ name: 'cfg', configMap: { name: 'owner', defaultMode: 420 } }, { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
        containers: [{ name: 'p', image: 'busybox', args: ['sleep', '10'], resources: {}, volumeMounts: [{ name: 'cfg', readOnly: true, mountPath: '/cfg' }] }],
        restartPolicy: 'Always', dnsPolicy: 'ClusterFirst',
      },
      status: {},
    },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const decoded = decodeKubernetesProtobuf(body(c.type, c.apiVersion, c.kind, c.obj));
    assert.equal(decoded.apiVersion, c.apiVersion);
    assert.equal(decoded.kind, c.kind);
    assert.deepEqual(decoded.object, c.want);
  });
}

const failures: { name: string; input: () => Buffer; code: number; message: RegExp }[] = [
  { name: 'a body without the k8s magic prefix is a 400 that names the prefix', input: () => Buffer.from('{"kind":"Pod"}'), code: 400, message: /expected prefix \[107 56 115 0\]/ },
  { name: 'an unknown kind in a served group is a 400 naming the kind and version', input: () => body('k8s.io.api.core.v1.ConfigMap', 'v1', 'Gadget', { metadata: meta('g') }), code: 400, message: /no kind "Gadget" is registered for version "v1"/ },
  { name: 'a group whose schemas are not vendored is a 415 that points at JSON', input: () => body('k8s.io.api.core.v1.ConfigMap', 'storage.k8s.io/v1', 'StorageClass', {}), code: 415, message: /application\/json/ },
  { name: 'an envelope without a kind is a 400', input: () => body('k8s.io.api.core.v1.ConfigMap', 'v1', '', {}), code: 400, message: /Kind/ },
  { name: 'a truncated message is a 400, not a crash', input: () => { const b = body('k8s.io.api.core.v1.ConfigMap', 'v1', 'ConfigMap', { metadata: meta('owner'), data: { a: 'b' } }); return b.subarray(0, b.length - 3); }, code: 400, message: /could not be decoded/ },
];

for (const f of failures) {
  test(f.name, () => {
    assert.throws(() => decodeKubernetesProtobuf(f.input()), (e: unknown) => isStatusError(e) && e.code === f.code && f.message.test(e.status.message ?? ''));
  });
}

test('every embedded message named after its own type is either inline in JSON or a known nested field', () => {
  // Guards the INLINE_FIELDS table: go-to-protobuf names an embedded struct's field after its type.
  const inline = new Set(['localObjectReference', 'ephemeralContainerCommon', 'volumeSource', 'persistentVolumeSource']);
  const root = kubernetesProtoRoot();
  const type = root.lookupType('k8s.io.api.core.v1.SecretEnvSource');
  const field = type.fields.localObjectReference;
  assert.ok(field && inline.has(field.name));
  const decoded = decodeKubernetesProtobuf(body('k8s.io.api.core.v1.Pod', 'v1', 'Pod', {
    metadata: meta('p'),
    spec: { containers: [container({ envFrom: [{ prefix: '', secretRef: { localObjectReference: { name: 's' }, optional: true } }] })] },
  }));
  const spec = decoded.object.spec as { containers: { envFrom: unknown[] }[] };
  assert.deepEqual(spec.containers[0]!.envFrom, [{ secretRef: { name: 's', optional: true } }]);
});

test('decoding a typical object after the first parse is cheap enough to run per request', () => {
  const b = body('k8s.io.api.core.v1.ConfigMap', 'v1', 'ConfigMap', { metadata: meta('owner'), data: { a: 'b' } });
  decodeKubernetesProtobuf(b); // warm: parses the schemas once
  const root1 = kubernetesProtoRoot();
  for (let i = 0; i < 1000; i++) decodeKubernetesProtobuf(b);
  assert.equal(kubernetesProtoRoot(), root1, 'the Root is cached, not re-parsed');
  assert.ok(root1 instanceof protobuf.Root);
});
