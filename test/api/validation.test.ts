// Validation of new objects: the common mistakes, each with the exact field path and message
// kube-apiserver 1.32 answers (what `kubectl apply` prints after "is invalid:").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults, prepareKindForCreate } from '../../src/api/defaults/index.js';
import { formatFieldError } from '../../src/api/errors.js';
import { findResourceByKind } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { validateObject } from '../../src/api/validation/index.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const UID = '0f3c6f0e-1d7a-4c1e-9a8e-3f1b2c4d5e6f';

/** Runs an object through the create path (prepare, default, validate) and formats the errors. */
function createErrors(obj: Any): string[] {
  const rt = findResourceByKind(obj.apiVersion, obj.kind);
  assert.ok(rt, `${obj.apiVersion} ${obj.kind} is served`);
  const o = structuredClone(obj) as KubeObject;
  o.metadata.uid ??= UID;
  prepareKindForCreate(rt, o, UID);
  applyDefaults(rt, o);
  return validateObject(rt, o).map(formatFieldError);
}

const container = () => ({ name: 'app', image: 'nginx:1.27' });
const pod = (): Any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [container()] } });
const template = (): Any => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [container()] } });
const workload = (kind: string): Any => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template() },
});
const service = (): Any => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
const job = (): Any => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default' }, spec: { template: { spec: { containers: [container()], restartPolicy: 'Never' } } } });
const cronJob = (): Any => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'hello', namespace: 'default' },
  spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { containers: [container()], restartPolicy: 'OnFailure' } } } } },
});
const namespace = (): Any => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
const configMap = (): Any => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.conf': 'x=1' } });
const secret = (): Any => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { password: 'cGFzcw==' } });
const pvc = (): Any => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

const RFC1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const RFC1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const MISMATCH = '`selector` does not match template `labels`';

type Case = [sentence: string, build: () => Any, errors: string[]];

function run(cases: Case[]): void {
  for (const [sentence, build, want] of cases) it(sentence, () => assert.deepEqual(createErrors(build()), want));
}

describe('object metadata', () => {
  run([
    ['a valid pod has no errors', pod, []],
    ['a name is required unless generateName is set', () => ({ ...pod(), metadata: { namespace: 'default' } }), ['metadata.name: Required value: name or generateName is required']],
    ['an uppercase pod name is not a DNS-1123 subdomain', () => ({ ...pod(), metadata: { name: 'Web', namespace: 'default' } }), [`metadata.name: Invalid value: "Web": ${RFC1123_SUBDOMAIN}`]],
    [
      'a service name must be a DNS-1035 label',
      () => ({ ...service(), metadata: { name: '1web', namespace: 'default' } }),
      [
        `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ],
    ['a namespace name may not contain dots', () => ({ ...namespace(), metadata: { name: 'team.a' } }), ['metadata.name: Invalid value: "team.a": must not contain dots']],
    ['a namespaced object needs a namespace', () => ({ ...pod(), metadata: { name: 'web' } }), ['metadata.namespace: Required value']],
    ['a label value with a space is rejected', () => ({ ...pod(), metadata: { name: 'web', namespace: 'default', labels: { app: 'my app' } } }), [`metadata.labels: Invalid value: "my app": ${LABEL_VALUE}`]],
    ['a label key that starts with a dash is rejected', () => ({ ...pod(), metadata: { name: 'web', namespace: 'default', labels: { '-app': 'x' } } }), [`metadata.labels: Invalid value: "-app": ${NAME_PART}`]],
    [
      'a label value over 63 characters is too long',
      () => ({ ...pod(), metadata: { name: 'web', namespace: 'default', labels: { app: 'a'.repeat(64) } } }),
      [`metadata.labels: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`],
    ],
    ['an annotation key with an empty prefix is rejected', () => ({ ...pod(), metadata: { name: 'web', namespace: 'default', annotations: { '/note': 'x' } } }), ['metadata.annotations: Invalid value: "/note": prefix part must be non-empty']],
    ['annotations over 256 KiB are too long', () => ({ ...pod(), metadata: { name: 'web', namespace: 'default', annotations: { note: 'x'.repeat(262144) } } }), ['metadata.annotations: Too long: may not be more than 262144 bytes']],
    ['an unqualified unknown finalizer is rejected', () => ({ ...pod(), metadata: { name: 'web', namespace: 'default', finalizers: ['cleanup'] } }), ['metadata.finalizers[0]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified']],
  ]);
});

describe('pods', () => {
  const withSpec = (patch: Any) => () => ({ ...pod(), spec: { ...pod().spec, ...patch } });
  const withContainer = (patch: Any) => withSpec({ containers: [{ ...container(), ...patch }] });
  run([
    ['a pod needs at least one container', withSpec({ containers: [] }), ['spec.containers: Required value']],
    ['a container needs a name', withContainer({ name: undefined }), ['spec.containers[0].name: Required value']],
    ['container names are DNS-1123 labels', withContainer({ name: 'Web_1' }), [`spec.containers[0].name: Invalid value: "Web_1": ${RFC1123_LABEL}`]],
    ['container names are unique across containers and init containers', withSpec({ initContainers: [container()] }), ['spec.initContainers[0].name: Duplicate value: "app"']],
    ['an image is required', withContainer({ image: undefined }), ['spec.containers[0].image: Required value']],
    ['an image may not carry surrounding spaces in a pod', withContainer({ image: ' nginx' }), ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace']],
    ['a container port must be between 1 and 65535', withContainer({ ports: [{ containerPort: 70000 }] }), ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['a port protocol must be TCP, UDP or SCTP', withContainer({ ports: [{ containerPort: 80, protocol: 'HTTP' }] }), ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
    ['an env var name may not contain an equals sign', withContainer({ env: [{ name: 'A=B', value: '1' }] }), ['spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than \'=\'']],
    ['a volume mount must name a volume of the pod', withContainer({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }), ['spec.containers[0].volumeMounts[0].name: Not found: "data"']],
    ['volume names are unique', withSpec({ volumes: [{ name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }] }), ['spec.volumes[1].name: Duplicate value: "data"']],
    ['a volume with two sources is rejected', withSpec({ volumes: [{ name: 'data', emptyDir: {}, configMap: { name: 'cfg' } }] }), ['spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type']],
    ['restartPolicy must be Always, OnFailure or Never', withSpec({ restartPolicy: 'Sometimes' }), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['a request above its limit is rejected', withContainer({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }), ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']],
    [
      'an unparsable quantity is rejected (and again in the requests it defaults)',
      withContainer({ resources: { limits: { memory: 'lots' } } }),
      [
        "spec.containers[0].resources.limits[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ],
    ],
    ['a probe needs a handler', withContainer({ livenessProbe: { initialDelaySeconds: 5 } }), ['spec.containers[0].livenessProbe: Required value: must specify a handler type']],
    ['a liveness probe must need one success', withContainer({ livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }), ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']],
    ['a toleration operator must be Equal or Exists', withSpec({ tolerations: [{ key: 'k', operator: 'Gt', value: '1' }] }), ['spec.tolerations[0].operator: Unsupported value: "Gt": supported values: "Equal", "Exists"']],
    ['dnsPolicy None needs a dnsConfig', withSpec({ dnsPolicy: 'None' }), ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']],
    [
      'a field of the wrong JSON type is reported like a schema error',
      withSpec({ containers: 'nginx' }),
      ['spec.containers: Invalid value: "string": spec.containers in body must be of type array: "string"', 'spec.containers: Required value'],
    ],
  ]);
});

describe('services', () => {
  const withSpec = (patch: Any) => () => ({ ...service(), spec: { ...service().spec, ...patch } });
  run([
    ['a valid service has no errors', service, []],
    ['a service needs ports unless headless or ExternalName', withSpec({ ports: [] }), ['spec.ports: Required value']],
    ['a headless service may have no ports', withSpec({ ports: [], clusterIP: 'None' }), []],
    ['multi-port services need port names', withSpec({ ports: [{ name: 'http', port: 80 }, { port: 443 }] }), ['spec.ports[1].name: Required value']],
    ['port names must be unique', withSpec({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 443 }] }), ['spec.ports[1].name: Duplicate value: "http"']],
    [
      'a service port must be in range (and so the targetPort it defaults)',
      withSpec({ ports: [{ port: 0 }] }),
      ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive'],
    ],
    ['a named targetPort must be a valid port name', withSpec({ ports: [{ port: 80, targetPort: 'web_port' }] }), ['spec.ports[0].targetPort: Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
    ['an unknown service type is rejected', withSpec({ type: 'Public' }), ['spec.type: Unsupported value: "Public": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['an ExternalName service needs externalName', withSpec({ type: 'ExternalName', ports: [] }), ['spec.externalName: Required value']],
    ['nodePort is forbidden on a ClusterIP service', withSpec({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['selector values are label values', withSpec({ selector: { app: 'my app' } }), [`spec.selector: Invalid value: "my app": ${LABEL_VALUE}`]],
  ]);
});

describe('workloads', () => {
  const deploy = (patch: Any) => () => ({ ...workload('Deployment'), spec: { ...workload('Deployment').spec, ...patch } });
  run([
    ['a valid deployment has no errors', () => workload('Deployment'), []],
    ['a deployment needs a selector', deploy({ selector: undefined }), ['spec.selector: Required value', `spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${MISMATCH}`]],
    ['the selector must match the template labels', deploy({ selector: { matchLabels: { app: 'x' } } }), [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${MISMATCH}`]],
    [
      'an empty selector is invalid',
      deploy({ selector: {} }),
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment'],
    ],
    ['replicas may not be negative', deploy({ replicas: -1 }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    [
      'maxSurge and maxUnavailable may not both be zero',
      deploy({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0'],
    ],
    [
      'an unknown strategy type is rejected',
      deploy({ strategy: { type: 'BlueGreen' } }),
      ['spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"'],
    ],
    ['the progress deadline must exceed minReadySeconds', deploy({ minReadySeconds: 600 }), ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds']],
    ['a deployment template must restart Always', deploy({ template: { ...template(), spec: { ...template().spec, restartPolicy: 'Never' } } }), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['template container errors carry the template path', deploy({ template: { ...template(), spec: { containers: [{ name: 'app' }] } } }), ['spec.template.spec.containers[0].image: Required value']],
    ['template labels are reported at spec.template.labels as upstream does', deploy({ template: { ...template(), metadata: { labels: { app: 'web', '-x': 'y' } } } }), [`spec.template.labels: Invalid value: "-x": ${NAME_PART}`]],
    ['a wrongly typed replica count is a type error', deploy({ replicas: '3' }), ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']],
    ['a valid replicaset has no errors', () => workload('ReplicaSet'), []],
    ['a statefulset name must be a DNS label', () => ({ ...workload('StatefulSet'), metadata: { name: 'db.primary', namespace: 'default' } }), ['metadata.name: Invalid value: "db.primary": must not contain dots']],
    [
      'statefulset pods may mount claim templates that are not volumes',
      () => {
        const s = workload('StatefulSet');
        s.spec.template.spec.containers[0].volumeMounts = [{ name: 'www', mountPath: '/www' }];
        s.spec.volumeClaimTemplates = [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
        return s;
      },
      [],
    ],
    [
      'a daemonset may not surge and be unavailable at once',
      () => ({ ...workload('DaemonSet'), spec: { ...workload('DaemonSet').spec, updateStrategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } } }),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero'],
    ],
  ]);
});

describe('jobs and cronjobs', () => {
  const withJobSpec = (patch: Any) => () => ({ ...job(), spec: { ...job().spec, ...patch } });
  const withSchedule = (schedule: string, extra: Any = {}) => () => ({ ...cronJob(), spec: { ...cronJob().spec, schedule, ...extra } });
  run([
    ['a valid job has no errors', job, []],
    ['a job template may not restart Always', withJobSpec({ template: { spec: { containers: [container()] } } }), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['completions may not be negative', withJobSpec({ completions: -1 }), ['spec.completions: Invalid value: -1: must be greater than or equal to 0']],
    ['backoffLimit may not be negative', withJobSpec({ backoffLimit: -1 }), ['spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']],
    [
      'a manual selector must match the template',
      withJobSpec({ manualSelector: true, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'y' } }, spec: { containers: [container()], restartPolicy: 'Never' } } }),
      [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"y"}: ${MISMATCH}`],
    ],
    [
      'a selector without manualSelector is not the generated one',
      withJobSpec({ selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container()], restartPolicy: 'Never' } } }),
      [`spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "batch.kubernetes.io/controller-uid":"${UID}"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: \`selector\` not auto-generated`],
    ],
    ['a valid cronjob has no errors', cronJob, []],
    ['a schedule is required', withSchedule(''), ['spec.schedule: Required value']],
    ['a schedule with four fields is rejected', withSchedule('* * * *'), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']],
    ['a minute above 59 is rejected', withSchedule('60 * * * *'), ['spec.schedule: Invalid value: "60 * * * *": end of range (60) above maximum (59): 60']],
    ['a word that is not a number is rejected', withSchedule('every * * * *'), ['spec.schedule: Invalid value: "every * * * *": failed to parse int from every: strconv.Atoi: parsing "every": invalid syntax']],
    ['month and weekday names are accepted', withSchedule('0 9 * jan-mar mon-fri'), []],
    ['descriptors such as @hourly are accepted', withSchedule('@hourly'), []],
    ['an unknown descriptor is rejected', withSchedule('@fortnightly'), ['spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly']],
    ['a TZ prefix is refused in favour of timeZone', withSchedule('TZ=UTC 0 * * * *'), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['an unknown time zone is rejected', withSchedule('0 * * * *', { timeZone: 'Mars/Olympus' }), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']],
    ['a cronjob name longer than 52 characters is rejected', () => ({ ...cronJob(), metadata: { name: 'c'.repeat(53), namespace: 'default' } }), [`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`]],
  ]);
});

describe('configuration and storage', () => {
  run([
    [
      'a configmap key with a slash is rejected',
      () => ({ ...configMap(), data: { 'a/b': 'x' } }),
      ["data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"],
    ],
    ['configmap data over 1 MiB is too long, reported against the whole object', () => ({ ...configMap(), data: { big: 'x'.repeat(1024 * 1024 + 1) } }), ['[]: Too long: may not be more than 1048576 bytes']],
    ['a secret value that is not base64 is rejected', () => ({ ...secret(), data: { password: 'not base64!' } }), ['data[password]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3']],
    ['a TLS secret needs a certificate and a key', () => ({ ...secret(), type: 'kubernetes.io/tls', data: {} }), ['data[tls.crt]: Required value', 'data[tls.key]: Required value']],
    ['a claim needs an access mode and a storage request', () => ({ ...pvc(), spec: {} }), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']],
    [
      'an unknown access mode is rejected',
      () => ({ ...pvc(), spec: { ...pvc().spec, accessModes: ['ReadWriteSometimes'] } }),
      ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'],
    ],
    ['a persistent volume needs a source', () => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } }), ['spec: Required value: must specify a volume type']],
    ['a storage class needs a provisioner', () => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' } }), ['provisioner: Required value']],
  ]);
});

describe('cluster and coordination kinds', () => {
  run([
    ['an endpoint slice needs an address type', () => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default' }, endpoints: [] }), ['addressType: Required value']],
    ['an unknown address type is rejected', () => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default' }, addressType: 'IPv5' }), ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']],
    ['a lease must last a positive time', () => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'default' }, spec: { leaseDurationSeconds: 0 } }), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']],
    [
      'an autoscaler maximum below its minimum is rejected',
      () => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 1 } }),
      ['spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`'],
    ],
    ['a node taint needs an effect, reported under metadata as upstream does', () => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { taints: [{ key: 'dedicated', value: 'gpu' }] } }), ['metadata.taints[0].effect: Required value']],
    [
      'an endpoint address may not be a loopback address',
      () => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] }),
      ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ],
    [
      'an endpoint address must be an IP address',
      () => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: 'web-1' }] }] }),
      ['subsets[0].addresses[0].ip: Invalid value: "web-1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', 'subsets[0].addresses[0].ip: Invalid value: "web-1": must be a valid IP address'],
    ],
    ['an event may have any name', () => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.17a2b3c4d5e6f7a8', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' } }), []],
  ]);
});
