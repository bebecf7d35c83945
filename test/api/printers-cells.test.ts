// The cells of every kind but pods, as Kubernetes 1.32's printers.go computes them: each case is
// one object and the cells it must print, by column name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESOURCES, type ResourceType } from '../../src/api/kinds.js';
import { buildTable, type Cell } from '../../src/api/printers/index.js';
import type { KubeObject } from '../../src/api/types.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

function ago(ms: number): string {
  return new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function rtOf(plural: string): ResourceType {
  const rt = RESOURCES.find((r) => r.plural === plural);
  assert.ok(rt, `no resource ${plural}`);
  return rt;
}

/** One object's row, by column name; the object is named `x` and 5 minutes old unless told. */
function cells(plural: string, obj: Record<string, unknown> & { metadata?: KubeObject['metadata'] }): Record<string, Cell> {
  const full: KubeObject = { ...obj, metadata: { name: 'x', creationTimestamp: ago(5 * M), ...obj.metadata } };
  const table = buildTable(rtOf(plural), [full], { now: NOW });
  const row = table.rows[0];
  assert.ok(row);
  return Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name, row.cells[i] as Cell]));
}

interface Case {
  name: string;
  plural: string;
  obj: Record<string, unknown> & { metadata?: KubeObject['metadata'] };
  want: Record<string, Cell>;
}

function run(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.name, () => {
        const got = cells(c.plural, c.obj);
        assert.deepEqual(Object.fromEntries(Object.keys(c.want).map((k) => [k, got[k]])), c.want);
      });
    }
  });
}

const template = { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }] } };

run('services', [
  {
    name: 'a NodePort service shows port:nodePort/protocol and no external IP',
    plural: 'services',
    obj: { spec: { type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], selector: { app: 'web', tier: 'fe' } } },
    want: { Type: 'NodePort', 'Cluster-IP': '10.96.0.10', 'External-IP': '<none>', 'Port(s)': '80:30080/TCP', Selector: 'app=web,tier=fe' },
  },
  {
    name: 'a ClusterIP service lists each port/protocol',
    plural: 'services',
    obj: { spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.11'], ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } },
    want: { 'External-IP': '<none>', 'Port(s)': '80/TCP,53/UDP', Selector: '<none>' },
  },
  {
    name: 'a LoadBalancer service waiting for its balancer shows <pending>',
    plural: 'services',
    obj: { spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.12'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] } },
    want: { 'External-IP': '<pending>', 'Port(s)': '443:31443/TCP' },
  },
  {
    name: 'a LoadBalancer service shows ingress IPs or hostnames then external IPs',
    plural: 'services',
    obj: { spec: { type: 'LoadBalancer', externalIPs: ['1.2.3.4'] }, status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }, { hostname: 'lb.example.com' }] } } },
    want: { 'External-IP': '5.6.7.8,lb.example.com,1.2.3.4', 'Port(s)': '<none>' },
  },
  {
    name: 'a headless service shows None and an ExternalName service its DNS name',
    plural: 'services',
    obj: { spec: { type: 'ExternalName', externalName: 'db.example.com', clusterIPs: ['None'] } },
    want: { 'Cluster-IP': 'None', 'External-IP': 'db.example.com' },
  },
]);

run('workloads', [
  {
    name: 'a deployment shows READY as ready/desired and its wide columns',
    plural: 'deployments',
    obj: { spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } },
    want: { Ready: '2/3', 'Up-to-date': 3, Available: 2, Age: '5m', Containers: 'web,log', Images: 'nginx:1.27,busybox', Selector: 'app=web' },
  },
  {
    name: 'a new deployment without status reads 0/1',
    plural: 'deployments',
    obj: { spec: { replicas: 1, selector: {}, template } },
    want: { Ready: '0/1', 'Up-to-date': 0, Available: 0, Selector: '' },
  },
  {
    name: 'a replica set shows desired, current and ready as integers and a sorted selector',
    plural: 'replicasets',
    obj: {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'canary', operator: 'DoesNotExist' }] }, template },
      status: { replicas: 3, readyReplicas: 1 },
    },
    want: { Desired: 3, Current: 3, Ready: 1, Selector: 'app=web,!canary,env in (dev,prod)' },
  },
  {
    name: 'a stateful set shows ready/desired',
    plural: 'statefulsets',
    obj: { spec: { replicas: 2, template }, status: { readyReplicas: 1 } },
    want: { Ready: '1/2', Containers: 'web,log' },
  },
  {
    name: 'a daemon set shows its counts and node selector',
    plural: 'daemonsets',
    obj: {
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 },
    },
    want: { Desired: 2, Current: 2, Ready: 1, 'Up-to-date': 2, Available: 1, 'Node Selector': 'kubernetes.io/os=linux', Selector: 'app=agent' },
  },
  {
    name: 'a controller revision names its controller as kind.group/name',
    plural: 'controllerrevisions',
    obj: { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u', controller: true }] }, revision: 4 },
    want: { Controller: 'daemonset.apps/agent', Revision: 4 },
  },
  {
    name: 'a controller revision without a controller shows <none>',
    plural: 'controllerrevisions',
    obj: { revision: 1 },
    want: { Controller: '<none>' },
  },
]);

run('jobs and cron jobs', [
  {
    name: 'a running job shows Running, 0/1 and how long it has run',
    plural: 'jobs',
    obj: { spec: { completions: 1, parallelism: 1, template }, status: { startTime: ago(90 * S), active: 1 } },
    want: { Status: 'Running', Completions: '0/1', Duration: '90s' },
  },
  {
    name: 'a complete job shows Complete and start-to-completion duration',
    plural: 'jobs',
    obj: { spec: { completions: 5 }, status: { succeeded: 5, startTime: ago(H), completionTime: ago(H - 3 * M - 2 * S), conditions: [{ type: 'Complete', status: 'True' }] } },
    want: { Status: 'Complete', Completions: '5/5', Duration: '3m2s' },
  },
  {
    name: 'a work-queue job shows 1 of its parallelism',
    plural: 'jobs',
    obj: { spec: { parallelism: 3 }, status: {} },
    want: { Completions: '0/1 of 3', Duration: '' },
  },
  {
    name: 'a failed job shows Failed',
    plural: 'jobs',
    obj: { spec: { completions: 1 }, status: { failed: 7, conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True' }] } },
    want: { Status: 'Failed' },
  },
  {
    name: 'a job about to fail shows FailureTarget',
    plural: 'jobs',
    obj: { spec: { completions: 1 }, status: { conditions: [{ type: 'FailureTarget', status: 'True' }] } },
    want: { Status: 'FailureTarget' },
  },
  {
    name: 'a suspended job shows Suspended, and a deleted one Terminating first',
    plural: 'jobs',
    obj: { metadata: { deletionTimestamp: ago(S) }, spec: { completions: 1 }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } },
    want: { Status: 'Terminating' },
  },
  {
    name: 'a cron job shows schedule, no timezone, False, active count and last schedule',
    plural: 'cronjobs',
    obj: { spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } }, status: { active: [{ name: 'j1' }], lastScheduleTime: ago(2 * M) } },
    want: { Schedule: '*/5 * * * *', Timezone: '<none>', Suspend: 'False', Active: 1, 'Last Schedule': '2m', Containers: 'web,log', Selector: '<none>' },
  },
  {
    name: 'a cron job never scheduled shows <none>',
    plural: 'cronjobs',
    obj: { spec: { schedule: '@daily', timeZone: 'Europe/Paris', suspend: true } },
    want: { Timezone: 'Europe/Paris', Suspend: 'True', Active: 0, 'Last Schedule': '<none>' },
  },
]);

run('nodes, namespaces and events', [
  {
    name: 'a ready control-plane node shows Ready, its role, version and addresses',
    plural: 'nodes',
    obj: {
      metadata: { labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'n1' } },
      status: {
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
        addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '192.168.1.10' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'skiff://0.1.0' },
      },
    },
    want: { Status: 'Ready', Roles: 'control-plane', Version: 'v1.32.0', 'Internal-IP': '192.168.1.10', 'External-IP': '<none>', 'OS-Image': 'Debian GNU/Linux 12' },
  },
  {
    name: 'a cordoned node that stopped reporting shows NotReady,SchedulingDisabled',
    plural: 'nodes',
    obj: { spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } },
    want: { Status: 'NotReady,SchedulingDisabled', Roles: '<none>', 'Kernel-Version': '<unknown>' },
  },
  {
    name: 'a node without conditions shows Unknown',
    plural: 'nodes',
    obj: {},
    want: { Status: 'Unknown' },
  },
  {
    name: 'a namespace shows its phase',
    plural: 'namespaces',
    obj: { status: { phase: 'Terminating' } },
    want: { Status: 'Terminating' },
  },
  {
    name: 'an event shows last seen, type, reason, kind/name and message',
    plural: 'events',
    obj: {
      metadata: { name: 'web.17a' },
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      type: 'Warning',
      message: 'Back-off restarting failed container\n',
      source: { component: 'kubelet', host: 'n1' },
      firstTimestamp: ago(H),
      lastTimestamp: ago(30 * S),
      count: 12,
    },
    want: { 'Last Seen': '30s', Type: 'Warning', Reason: 'BackOff', Object: 'pod/web', Subobject: 'spec.containers{app}', Source: 'kubelet, n1', Message: 'Back-off restarting failed container', 'First Seen': '60m', Count: 12, Name: 'web.17a' },
  },
  {
    name: 'a new-style event reads its times from eventTime and series',
    plural: 'events',
    obj: { involvedObject: { kind: 'Node' }, reportingComponent: 'scheduler', eventTime: '2025-12-31T23:50:00.000000Z', series: { count: 3, lastObservedTime: '2025-12-31T23:59:00.000000Z' } },
    want: { 'Last Seen': '60s', Object: 'node', Source: 'scheduler', 'First Seen': '10m', Count: 3 },
  },
]);

run('configuration and identity', [
  {
    name: 'a config map counts data and binary data keys',
    plural: 'configmaps',
    obj: { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } },
    want: { Data: 3 },
  },
  {
    name: 'a secret shows its type and key count',
    plural: 'secrets',
    obj: { type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } },
    want: { Type: 'kubernetes.io/tls', Data: 2 },
  },
  {
    name: 'a service account counts its secrets',
    plural: 'serviceaccounts',
    obj: {},
    want: { Secrets: 0 },
  },
  {
    name: 'a lease shows its holder',
    plural: 'leases',
    obj: { spec: { holderIdentity: 'n1' } },
    want: { Holder: 'n1' },
  },
  {
    name: 'an autoscaler shows reference, targets, bounds and replicas',
    plural: 'horizontalpodautoscalers',
    obj: {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
        ],
      },
      status: { currentReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45 } } }] },
    },
    want: { Reference: 'Deployment/web', Targets: 'cpu: 45%/80%, memory: <unknown>/500Mi + 1 more...', MinPods: '2', MaxPods: 10, Replicas: 3 },
  },
]);

run('networking and storage', [
  {
    name: 'endpoints list three ip:port pairs then how many more',
    plural: 'endpoints',
    obj: { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }] },
    want: { Endpoints: '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...' },
  },
  {
    name: 'endpoints without subsets show <none>',
    plural: 'endpoints',
    obj: {},
    want: { Endpoints: '<none>' },
  },
  {
    name: 'an endpoint slice shows address type, ports and addresses',
    plural: 'endpointslices',
    obj: { addressType: 'IPv4', ports: [{ port: 8080, name: 'http' }, { name: 'metrics' }], endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }] },
    want: { AddressType: 'IPv4', Ports: '8080,metrics', Endpoints: '10.0.0.1,10.0.0.2' },
  },
  {
    name: 'an empty endpoint slice shows <unset>',
    plural: 'endpointslices',
    obj: { addressType: 'IPv4' },
    want: { Ports: '<unset>', Endpoints: '<unset>' },
  },
  {
    name: 'the default storage class is marked and defaults are printed',
    plural: 'storageclasses',
    obj: { metadata: { name: 'local', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'skiff.dev/local' },
    want: { Name: 'local (default)', Provisioner: 'skiff.dev/local', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: false },
  },
  {
    name: 'a bound volume shows capacity, modes, policy and its claim',
    plural: 'persistentvolumes',
    obj: {
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'local' },
      status: { phase: 'Bound' },
    },
    want: { Capacity: '1Gi', 'Access Modes': 'RWO,RWX', 'Reclaim Policy': 'Retain', Status: 'Bound', Claim: 'default/data', StorageClass: 'local', VolumeAttributesClass: '<unset>', Reason: '', VolumeMode: '<unset>' },
  },
  {
    name: 'a pending claim shows no volume, capacity or modes',
    plural: 'persistentvolumeclaims',
    obj: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local', volumeMode: 'Filesystem' }, status: { phase: 'Pending' } },
    want: { Status: 'Pending', Volume: '', Capacity: '', 'Access Modes': '', StorageClass: 'local', VolumeMode: 'Filesystem' },
  },
  {
    name: 'a bound claim being deleted shows Terminating and the volume capacity',
    plural: 'persistentvolumeclaims',
    obj: { metadata: { deletionTimestamp: ago(S) }, spec: { volumeName: 'pv-1' }, status: { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] } },
    want: { Status: 'Terminating', Volume: 'pv-1', Capacity: '2Gi', 'Access Modes': 'RWO' },
  },
]);
