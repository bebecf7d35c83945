// Defaults every kind gets on create, as kubectl shows them back (`kubectl get -o yaml`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults, imageTag, podQOSClass, prepareJobForCreate, prepareKindForCreate } from '../../src/api/defaults/index.js';
import { findResourceByKind } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const UID = '3a0c9e55-77f1-4c0b-9d8e-2b6f4a1c0d9e';

function defaulted(obj: Any): Any {
  const rt = findResourceByKind(obj.apiVersion, obj.kind);
  assert.ok(rt, `${obj.apiVersion} ${obj.kind} is served`);
  const o = structuredClone(obj) as KubeObject;
  prepareKindForCreate(rt, o, UID);
  applyDefaults(rt, o);
  return o;
}

/** Reads `a.b[0].c` out of a JSON object. */
function at(o: unknown, path: string): unknown {
  return path
    .split(/\.|(?=\[)/)
    .filter(Boolean)
    .reduce<unknown>((v, part) => {
      if (v === undefined || v === null) return undefined;
      const m = /^\[(\d+)\]$/.exec(part);
      return m ? (v as unknown[])[Number(m[1])] : (v as Any)[part];
    }, o);
}

const pod = (spec: Any = {}): Any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...spec } });
const withContainer = (c: Any): Any => pod({ containers: [{ name: 'c', image: 'nginx:1.27', ...c }] });
const tpl = (spec: Any = {}) => ({ metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } });
const service = (spec: Any): Any => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }], ...spec } });
const apps = (kind: string, spec: Any = {}): Any => ({ apiVersion: 'apps/v1', kind, metadata: { name: 'w', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'a' } }, template: tpl(), ...spec } });
const job = (spec: Any = {}): Any => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { template: tpl({ restartPolicy: 'Never' }), ...spec } });
const cronJob: Any = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'default' }, spec: { schedule: '@hourly', jobTemplate: { spec: { template: tpl({ restartPolicy: 'OnFailure' }) } } } };
const hpa = (spec: Any = {}): Any => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'default' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'w' }, maxReplicas: 5, ...spec } });
const probe = { httpGet: { port: 8080 } };

type Case = [sentence: string, obj: Any, path: string, want: unknown];

const cases: Case[] = [
  ['a pod restarts Always', pod(), 'spec.restartPolicy', 'Always'],
  ['a pod uses ClusterFirst DNS', pod(), 'spec.dnsPolicy', 'ClusterFirst'],
  ['a pod has 30 seconds to terminate', pod(), 'spec.terminationGracePeriodSeconds', 30],
  ['a pod is scheduled by the default scheduler', pod(), 'spec.schedulerName', 'default-scheduler'],
  ['a pod has an empty security context', pod(), 'spec.securityContext', {}],
  ['a pod enables service links', pod(), 'spec.enableServiceLinks', true],
  ['a pod runs as the default service account', pod(), 'spec.serviceAccountName', 'default'],
  ['the deprecated serviceAccount mirrors serviceAccountName', pod({ serviceAccountName: 'builder' }), 'spec.serviceAccount', 'builder'],
  ['a pod without a priority class has priority 0', pod(), 'spec.priority', 0],
  ['a pod may preempt lower priorities', pod(), 'spec.preemptionPolicy', 'PreemptLowerPriority'],
  ['a container writes its termination message to /dev/termination-log', pod(), 'spec.containers[0].terminationMessagePath', '/dev/termination-log'],
  ['a container reads its termination message from the file', pod(), 'spec.containers[0].terminationMessagePolicy', 'File'],
  ['a container always shows its resources, if empty', pod(), 'spec.containers[0].resources', {}],
  ['an image with a version tag is pulled IfNotPresent', pod(), 'spec.containers[0].imagePullPolicy', 'IfNotPresent'],
  ['an image without a tag is pulled Always', withContainer({ image: 'nginx' }), 'spec.containers[0].imagePullPolicy', 'Always'],
  ['an image tagged latest is pulled Always', withContainer({ image: 'nginx:latest' }), 'spec.containers[0].imagePullPolicy', 'Always'],
  ['an image pinned by digest is pulled IfNotPresent', withContainer({ image: `nginx@sha256:${'a'.repeat(64)}` }), 'spec.containers[0].imagePullPolicy', 'IfNotPresent'],
  ['a registry port is not taken for a tag', withContainer({ image: 'localhost:5000/app' }), 'spec.containers[0].imagePullPolicy', 'Always'],
  ['an explicit pull policy is kept', withContainer({ image: 'nginx', imagePullPolicy: 'Never' }), 'spec.containers[0].imagePullPolicy', 'Never'],
  ['a container port speaks TCP', withContainer({ ports: [{ containerPort: 80 }] }), 'spec.containers[0].ports[0].protocol', 'TCP'],
  ['a downward API env var reads the v1 API', withContainer({ env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }), 'spec.containers[0].env[0].valueFrom.fieldRef.apiVersion', 'v1'],
  ['a probe times out after 1 second', withContainer({ livenessProbe: probe }), 'spec.containers[0].livenessProbe.timeoutSeconds', 1],
  ['a probe runs every 10 seconds', withContainer({ livenessProbe: probe }), 'spec.containers[0].livenessProbe.periodSeconds', 10],
  ['a probe succeeds after 1 success', withContainer({ readinessProbe: probe }), 'spec.containers[0].readinessProbe.successThreshold', 1],
  ['a probe fails after 3 failures', withContainer({ startupProbe: probe }), 'spec.containers[0].startupProbe.failureThreshold', 3],
  ['an HTTP probe uses plain HTTP', withContainer({ livenessProbe: probe }), 'spec.containers[0].livenessProbe.httpGet.scheme', 'HTTP'],
  ['an HTTP probe requests /', withContainer({ livenessProbe: probe }), 'spec.containers[0].livenessProbe.httpGet.path', '/'],
  ['a volume without a source is an emptyDir', pod({ volumes: [{ name: 'v' }] }), 'spec.volumes[0].emptyDir', {}],
  ['a configMap volume projects files with mode 0644', pod({ volumes: [{ name: 'v', configMap: { name: 'c' } }] }), 'spec.volumes[0].configMap.defaultMode', 420],
  ['a secret volume projects files with mode 0644', pod({ volumes: [{ name: 'v', secret: { secretName: 's' } }] }), 'spec.volumes[0].secret.defaultMode', 420],
  ['a hostPath volume has an empty type', pod({ volumes: [{ name: 'v', hostPath: { path: '/data' } }] }), 'spec.volumes[0].hostPath.type', ''],
  ['a projected token lives an hour', pod({ volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }] }), 'spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds', 3600],
  ['a pod with limits requests its limits', withContainer({ resources: { limits: { cpu: '1', memory: '1Gi' } } }), 'spec.containers[0].resources.requests', { cpu: '1', memory: '1Gi' }],
  ['quantities are stored in canonical form', withContainer({ resources: { requests: { cpu: 0.5, memory: '2048Mi' } } }), 'spec.containers[0].resources.requests', { cpu: '500m', memory: '2Gi' }],
  ['quantities below a milli are rounded up', withContainer({ resources: { requests: { cpu: '0.1m' } } }), 'spec.containers[0].resources.requests.cpu', '1m'],
  ['a host-network pod exposes its ports on the host', pod({ hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 53 }] }] }), 'spec.containers[0].ports[0].hostPort', 53],

  ['a service is a ClusterIP service', service({}), 'spec.type', 'ClusterIP'],
  ['a service has no session affinity', service({}), 'spec.sessionAffinity', 'None'],
  ['a service port speaks TCP', service({}), 'spec.ports[0].protocol', 'TCP'],
  ['a service port targets the same port', service({}), 'spec.ports[0].targetPort', 80],
  ['a service is single-stack', service({}), 'spec.ipFamilyPolicy', 'SingleStack'],
  ['a service is IPv4', service({}), 'spec.ipFamilies', ['IPv4']],
  ['a service routes cluster traffic to every endpoint', service({}), 'spec.internalTrafficPolicy', 'Cluster'],
  ['a ClusterIP service has no external traffic policy', service({}), 'spec.externalTrafficPolicy', undefined],
  ['a NodePort service routes external traffic cluster-wide', service({ type: 'NodePort' }), 'spec.externalTrafficPolicy', 'Cluster'],
  ['a cluster IP is not allocated by defaulting', service({}), 'spec.clusterIP', undefined],
  ['a node port is not allocated by defaulting', service({ type: 'NodePort' }), 'spec.ports[0].nodePort', undefined],
  ['a load balancer allocates node ports', service({ type: 'LoadBalancer' }), 'spec.allocateLoadBalancerNodePorts', true],
  ['a headless service lists None in clusterIPs', service({ clusterIP: 'None' }), 'spec.clusterIPs', ['None']],
  ['a headless service without a selector requires dual stack', service({ clusterIP: 'None', selector: undefined }), 'spec.ipFamilyPolicy', 'RequireDualStack'],
  ['an ExternalName service gets no IP families', service({ type: 'ExternalName', externalName: 'example.com' }), 'spec.ipFamilies', undefined],
  ['client-IP affinity lasts three hours', service({ sessionAffinity: 'ClientIP' }), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 10800],

  ['a deployment runs one replica', apps('Deployment'), 'spec.replicas', 1],
  ['a deployment rolls 25% at a time', apps('Deployment'), 'spec.strategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }],
  ['a deployment keeps 10 revisions', apps('Deployment'), 'spec.revisionHistoryLimit', 10],
  ['a deployment has 600 seconds to progress', apps('Deployment'), 'spec.progressDeadlineSeconds', 600],
  ['a deployment template gets pod spec defaults', apps('Deployment'), 'spec.template.spec.containers[0].imagePullPolicy', 'Always'],
  ['a template does not get pod-only defaults', apps('Deployment'), 'spec.template.spec.serviceAccountName', undefined],
  ['a recreate deployment gets no rolling update', apps('Deployment', { strategy: { type: 'Recreate' } }), 'spec.strategy', { type: 'Recreate' }],
  ['a replicaset runs one replica', apps('ReplicaSet'), 'spec.replicas', 1],
  ['a statefulset starts pods in order', apps('StatefulSet'), 'spec.podManagementPolicy', 'OrderedReady'],
  ['a statefulset rolls from partition 0', apps('StatefulSet'), 'spec.updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }],
  ['a statefulset retains its claims', apps('StatefulSet'), 'spec.persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }],
  ['a statefulset runs one replica', apps('StatefulSet'), 'spec.replicas', 1],
  ['a statefulset keeps 10 revisions', apps('StatefulSet'), 'spec.revisionHistoryLimit', 10],
  ['a claim template mounts a filesystem', apps('StatefulSet', { volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: {} }] }), 'spec.volumeClaimTemplates[0].spec.volumeMode', 'Filesystem'],
  ['a claim template starts Pending', apps('StatefulSet', { volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: {} }] }), 'spec.volumeClaimTemplates[0].status.phase', 'Pending'],
  ['a daemonset replaces one pod at a time without surge', apps('DaemonSet'), 'spec.updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }],
  ['a daemonset keeps 10 revisions', apps('DaemonSet'), 'spec.revisionHistoryLimit', 10],

  ['a job without completions or parallelism completes once', job(), 'spec.completions', 1],
  ['a job runs one pod at a time', job(), 'spec.parallelism', 1],
  ['a job with parallelism only has no completions', job({ parallelism: 3 }), 'spec.completions', undefined],
  ['a job retries six times', job(), 'spec.backoffLimit', 6],
  ['a job with a per-index limit has no overall limit', job({ completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1 }), 'spec.backoffLimit', 2147483647],
  ['a job is not indexed', job(), 'spec.completionMode', 'NonIndexed'],
  ['a job is not suspended', job(), 'spec.suspend', false],
  ['a job does not select pods manually', job(), 'spec.manualSelector', undefined],
  ['a job replaces pods once terminating or failed', job(), 'spec.podReplacementPolicy', 'TerminatingOrFailed'],
  ['a job selects its pods by its uid', job(), 'spec.selector', { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } }],
  [
    'a job labels its pods with its name and uid',
    job(),
    'spec.template.metadata.labels',
    { app: 'a', 'job-name': 'j', 'batch.kubernetes.io/job-name': 'j', 'controller-uid': UID, 'batch.kubernetes.io/controller-uid': UID },
  ],
  ['a job without labels takes its pod template labels', job(), 'metadata.labels.job-name', 'j'],
  ['a cronjob allows concurrent runs', cronJob, 'spec.concurrencyPolicy', 'Allow'],
  ['a cronjob is not suspended', cronJob, 'spec.suspend', false],
  ['a cronjob keeps 3 successful jobs', cronJob, 'spec.successfulJobsHistoryLimit', 3],
  ['a cronjob keeps 1 failed job', cronJob, 'spec.failedJobsHistoryLimit', 1],
  ['a cronjob template gets pod spec defaults', cronJob, 'spec.jobTemplate.spec.template.spec.schedulerName', 'default-scheduler'],
  ['a cronjob job template is not given job defaults', cronJob, 'spec.jobTemplate.spec.backoffLimit', undefined],

  ['a namespace is Active', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }, 'status.phase', 'Active'],
  ['a namespace is labelled with its name', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }, 'metadata.labels', { 'kubernetes.io/metadata.name': 'team' }],
  ['a new namespace carries the kubernetes finalizer', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }, 'spec.finalizers', ['kubernetes']],
  ['a secret is Opaque', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'd' } }, 'type', 'Opaque'],
  ['stringData is folded into base64 data', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'd' }, stringData: { user: 'admin' } }, 'data', { user: 'YWRtaW4=' }],
  ['a persistent volume is retained when released', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' } } }, 'spec.persistentVolumeReclaimPolicy', 'Retain'],
  ['a persistent volume is a filesystem', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: {} }, 'spec.volumeMode', 'Filesystem'],
  ['a persistent volume starts Pending', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: {} }, 'status.phase', 'Pending'],
  ['a claim is a filesystem', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'd' }, spec: {} }, 'spec.volumeMode', 'Filesystem'],
  ['a claim starts Pending', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'd' }, spec: {} }, 'status.phase', 'Pending'],
  ['a node can allocate its capacity', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { capacity: { cpu: '4', memory: '8Gi' } } }, 'status.allocatable', { cpu: '4', memory: '8Gi' }],
  ['an endpoints port speaks TCP', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e', namespace: 'd' }, subsets: [{ ports: [{ port: 80 }] }] }, 'subsets[0].ports[0].protocol', 'TCP'],
  ['an endpoint slice port is unnamed TCP', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e', namespace: 'd' }, addressType: 'IPv4', ports: [{ port: 80 }] }, 'ports[0]', { port: 80, name: '', protocol: 'TCP' }],
  ['an autoscaler keeps at least one replica', hpa(), 'spec.minReplicas', 1],
  ['an autoscaler targets 80% CPU by default', hpa(), 'spec.metrics', [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]],
  ['an autoscaler without behavior gets none', hpa(), 'spec.behavior', undefined],
  ['an autoscaler behavior scales up by 4 pods or 100% every 15s', hpa({ behavior: {} }), 'spec.behavior.scaleUp', { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] }],
  ['an autoscaler behavior leaves the scale-down window to the controller', hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } }), 'spec.behavior.scaleDown', { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }],
  ['a storage class deletes released volumes', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'sc' }, provisioner: 'p' }, 'reclaimPolicy', 'Delete'],
  ['a storage class binds immediately', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'sc' }, provisioner: 'p' }, 'volumeBindingMode', 'Immediate'],
];

describe('applyDefaults', () => {
  for (const [sentence, obj, path, want] of cases) it(sentence, () => assert.deepEqual(at(defaulted(obj), path), want));

  it('is idempotent: defaulting a defaulted object changes nothing', () => {
    for (const [sentence, obj] of cases) {
      const once = defaulted(obj);
      const twice = structuredClone(once);
      const rt = findResourceByKind(obj.apiVersion, obj.kind);
      assert.ok(rt);
      applyDefaults(rt, twice as KubeObject);
      assert.deepEqual(twice, once, sentence);
    }
  });

  it('does not re-add the namespace finalizer on update, so a namespace can be finalized', () => {
    const rt = findResourceByKind('v1', 'Namespace');
    assert.ok(rt);
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' }, spec: { finalizers: [] } } as KubeObject;
    applyDefaults(rt, ns);
    assert.deepEqual(at(ns, 'spec.finalizers'), []);
  });

  it('keeps a service its allocated clusterIP and node ports when an update omits them', () => {
    const rt = findResourceByKind('v1', 'Service');
    assert.ok(rt);
    const old = defaulted(service({ type: 'NodePort', clusterIP: '10.96.0.7', ports: [{ port: 80, nodePort: 30007 }] })) as KubeObject;
    const next = defaulted(service({ type: 'NodePort' })) as KubeObject;
    applyDefaults(rt, next, old);
    assert.deepEqual([at(next, 'spec.clusterIP'), at(next, 'spec.clusterIPs'), at(next, 'spec.ports[0].nodePort')], ['10.96.0.7', ['10.96.0.7'], 30007]);
  });

  it('leaves a manual job selector to the user', () => {
    const j = job({ manualSelector: true, selector: { matchLabels: { app: 'a' } } }) as KubeObject;
    prepareJobForCreate(j, UID);
    assert.deepEqual(at(j, 'spec.selector'), { matchLabels: { app: 'a' } });
    assert.deepEqual(at(j, 'spec.template.metadata.labels'), { app: 'a' });
  });
});

describe('image tags', () => {
  const tags: [string, string, string][] = [
    ['a bare name means latest', 'busybox', 'latest'],
    ['a tag is read after the last colon', 'registry.k8s.io/pause:3.9', '3.9'],
    ['a registry port is not a tag', 'localhost:5000/app', 'latest'],
    ['a digest alone has no tag', `app@sha256:${'0'.repeat(64)}`, ''],
    ['a reference that does not parse has no tag', '<your-private-image>', ''],
  ];
  for (const [sentence, image, want] of tags) it(sentence, () => assert.equal(imageTag(image), want));
});

describe('podQOSClass', () => {
  const qos = (resources: Any[]) => podQOSClass(defaulted(pod({ containers: resources.map((r, i) => ({ name: `c${i}`, image: 'x', resources: r })) })) as KubeObject);
  it('a pod without requests or limits is BestEffort', () => assert.equal(qos([{}]), 'BestEffort'));
  it('a pod whose limits equal its requests for cpu and memory is Guaranteed', () => assert.equal(qos([{ limits: { cpu: '500m', memory: '128Mi' } }]), 'Guaranteed'));
  it('equal quantities written differently still make a pod Guaranteed', () => assert.equal(qos([{ limits: { cpu: '0.5', memory: '128Mi' }, requests: { cpu: '500m', memory: '134217728' } }]), 'Guaranteed'));
  it('a pod with a request below its limit is Burstable', () => assert.equal(qos([{ requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '1Gi' } }]), 'Burstable'));
  it('one container without limits makes the pod Burstable', () => assert.equal(qos([{ limits: { cpu: '1', memory: '1Gi' } }, { requests: { cpu: '1' } }]), 'Burstable'));
});
