// What `kubectl get` prints, checked against Kubernetes 1.32's printers.go: the columns of every
// served kind, then the cells that carry logic (pod STATUS, READY, RESTARTS, service PORT(S) and
// EXTERNAL-IP, job STATUS, ages), then the Table envelope.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../src/api/errors.js';
import { RESOURCES, resourceFor, type ResourceType } from '../../src/api/kinds.js';
import { buildTable, hasPrinter, humanDuration, parseIncludeObject, shortHumanDuration, type Cell } from '../../src/api/printers/index.js';
import type { KubeObject } from '../../src/api/types.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** The timestamp `ms` before NOW, as the API serializes it. */
function ago(ms: number): string {
  return new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RT = {
  pods: resourceFor('', 'v1', 'pods'),
  services: resourceFor('', 'v1', 'services'),
  deployments: resourceFor('apps', 'v1', 'deployments'),
  jobs: resourceFor('batch', 'v1', 'jobs'),
};

function rtOf(plural: string): ResourceType {
  const rt = RESOURCES.find((r) => r.plural === plural);
  assert.ok(rt, `no resource ${plural}`);
  return rt;
}

/** One object's row, as a map from column name to cell. */
function cells(rt: ResourceType, obj: Omit<KubeObject, 'metadata'> & { metadata?: KubeObject['metadata'] }): Record<string, Cell> {
  const full: KubeObject = { ...obj, metadata: { name: 'x', creationTimestamp: ago(5 * M), ...obj.metadata } };
  const table = buildTable(rt, [full], { now: NOW });
  const row = table.rows[0];
  assert.ok(row);
  assert.equal(row.cells.length, table.columnDefinitions.length, 'one cell per column');
  return Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name, row.cells[i] as Cell]));
}

describe('column definitions', () => {
  // Names as Kubernetes declares them (kubectl upper-cases them); `*` marks -o wide (priority 1).
  const cases: [string, string[]][] = [
    ['pods', ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP*', 'Node*', 'Nominated Node*', 'Readiness Gates*']],
    ['services', ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']],
    ['endpoints', ['Name', 'Endpoints', 'Age']],
    ['configmaps', ['Name', 'Data', 'Age']],
    ['secrets', ['Name', 'Type', 'Data', 'Age']],
    ['events', ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']],
    ['nodes', ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']],
    ['namespaces', ['Name', 'Status', 'Age']],
    ['serviceaccounts', ['Name', 'Secrets', 'Age']],
    ['persistentvolumes', ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode*']],
    ['persistentvolumeclaims', ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode*']],
    ['deployments', ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']],
    ['replicasets', ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']],
    ['statefulsets', ['Name', 'Ready', 'Age', 'Containers*', 'Images*']],
    ['daemonsets', ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']],
    ['controllerrevisions', ['Name', 'Controller', 'Revision', 'Age']],
    ['jobs', ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*']],
    ['cronjobs', ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers*', 'Images*', 'Selector*']],
    ['horizontalpodautoscalers', ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']],
    ['leases', ['Name', 'Holder', 'Age']],
    ['endpointslices', ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']],
    ['storageclasses', ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']],
  ];
  for (const [plural, expected] of cases) {
    it(`${plural} have Kubernetes' columns`, () => {
      const table = buildTable(rtOf(plural), [], { now: NOW });
      assert.deepEqual(
        table.columnDefinitions.map((c) => c.name + (c.priority === 1 ? '*' : '')),
        expected,
      );
    });
  }

  it('every served kind has its own printer and is covered above', () => {
    // CustomResourceDefinitions use the generic NAME / CREATED AT table in Kubernetes too
    const generic = new Set(['customresourcedefinitions']);
    for (const rt of RESOURCES) {
      if (generic.has(rt.plural)) {
        assert.ok(!hasPrinter(rt), `${rt.plural} uses the default table`);
        assert.deepEqual(buildTable(rt, [], { now: NOW }).columnDefinitions.map((c) => c.name), ['Name', 'Created At']);
        continue;
      }
      assert.ok(hasPrinter(rt), `${rt.plural} has a printer`);
      assert.ok(cases.some(([p]) => p === rt.plural), `${rt.plural} is in the column table`);
    }
  });

  it('the name column is marked with format "name" and every column has a description', () => {
    for (const rt of RESOURCES) {
      const cols = buildTable(rt, [], { now: NOW }).columnDefinitions;
      assert.ok(cols.some((c) => c.format === 'name'), rt.plural);
      for (const c of cols) assert.notEqual(c.description, '', `${rt.plural} ${c.name}`);
    }
  });

  it('a kind without a printer gets NAME and CREATED AT, the date as RFC 3339', () => {
    const rt: ResourceType = { ...rtOf('leases'), group: 'example.com', kind: 'Widget', plural: 'widgets' };
    const table = buildTable(rt, [{ metadata: { name: 'w', creationTimestamp: '2025-12-31T10:00:00Z' } }], { now: NOW });
    assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type]), [['Name', 'string'], ['Created At', 'date']]);
    assert.deepEqual(table.rows[0]?.cells, ['w', '2025-12-31T10:00:00Z']);
  });
});

type Status = Record<string, unknown>;
const running = (name: string, extra: Status = {}): Status => ({ name, ready: true, restartCount: 0, state: { running: { startedAt: ago(4 * M) } }, ...extra });
const waiting = (name: string, reason: string, extra: Status = {}): Status => ({ name, ready: false, restartCount: 0, state: { waiting: { reason } }, ...extra });
const terminated = (name: string, t: Status, extra: Status = {}): Status => ({ name, ready: false, restartCount: 0, state: { terminated: t }, ...extra });
const podSpec = (containers: string[], init: { name: string; restartPolicy?: string }[] = []) => ({
  containers: containers.map((name) => ({ name, image: `${name}:1` })),
  ...(init.length ? { initContainers: init.map((c) => ({ image: 'busybox', ...c })) } : {}),
});

describe('pod READY, STATUS and RESTARTS', () => {
  const cases: { name: string; pod: { spec: unknown; status: Status; metadata?: KubeObject['metadata'] }; ready: string; status: string; restarts?: string }[] = [
    { name: 'a pod not yet scheduled is Pending', pod: { spec: podSpec(['app']), status: { phase: 'Pending' } }, ready: '0/1', status: 'Pending' },
    {
      name: 'a pod held by scheduling gates says SchedulingGated',
      pod: { spec: podSpec(['app']), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } },
      ready: '0/1',
      status: 'SchedulingGated',
    },
    {
      name: 'a container being created shows ContainerCreating',
      pod: { spec: podSpec(['app']), status: { phase: 'Pending', containerStatuses: [waiting('app', 'ContainerCreating')] } },
      ready: '0/1',
      status: 'ContainerCreating',
    },
    {
      name: 'all containers ready and running is Running with every container counted',
      pod: { spec: podSpec(['app', 'log']), status: { phase: 'Running', containerStatuses: [running('app'), running('log')] } },
      ready: '2/2',
      status: 'Running',
    },
    {
      name: 'a crash-looping container shows CrashLoopBackOff and when it last restarted',
      pod: {
        spec: podSpec(['app']),
        status: { phase: 'Running', containerStatuses: [waiting('app', 'CrashLoopBackOff', { restartCount: 5, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(3 * M) } } })] },
      },
      ready: '0/1',
      status: 'CrashLoopBackOff',
      restarts: '5 (3m ago)',
    },
    {
      name: 'restarts without a recorded last termination print the bare count',
      pod: { spec: podSpec(['app']), status: { phase: 'Running', containerStatuses: [running('app', { restartCount: 2 })] } },
      ready: '1/1',
      status: 'Running',
      restarts: '2',
    },
    {
      name: 'the first container reason wins over later ones',
      pod: { spec: podSpec(['a', 'b']), status: { phase: 'Pending', containerStatuses: [waiting('a', 'ErrImagePull'), waiting('b', 'ContainerCreating')] } },
      ready: '0/2',
      status: 'ErrImagePull',
    },
    {
      name: 'a pod whose containers exited 0 is Completed',
      pod: { spec: podSpec(['app']), status: { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] } },
      ready: '0/1',
      status: 'Completed',
    },
    {
      name: 'a container that exited without a reason shows its exit code',
      pod: { spec: podSpec(['app']), status: { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 3 })] } },
      ready: '0/1',
      status: 'ExitCode:3',
    },
    {
      name: 'a container killed by a signal without a reason shows the signal',
      pod: { spec: podSpec(['app']), status: { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 137, signal: 9 })] } },
      ready: '0/1',
      status: 'Signal:9',
    },
    {
      name: 'one container Completed while another still runs reads NotReady without the Ready condition',
      pod: { spec: podSpec(['a', 'b']), status: { phase: 'Running', containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')] } },
      ready: '1/2',
      status: 'NotReady',
    },
    {
      name: 'one container Completed while another still runs reads Running with the Ready condition',
      pod: {
        spec: podSpec(['a', 'b']),
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')] },
      },
      ready: '1/2',
      status: 'Running',
    },
    {
      name: 'an evicted pod shows the pod-level reason',
      pod: { spec: podSpec(['app']), status: { phase: 'Failed', reason: 'Evicted' } },
      ready: '0/1',
      status: 'Evicted',
    },
    {
      name: 'a pod waiting on its first init container shows Init:0/1',
      pod: { spec: podSpec(['app'], [{ name: 'init' }]), status: { phase: 'Pending', initContainerStatuses: [waiting('init', 'PodInitializing')], containerStatuses: [waiting('app', 'PodInitializing')] } },
      ready: '0/1',
      status: 'Init:0/1',
    },
    {
      name: 'the second of two init containers running shows Init:1/2',
      pod: {
        spec: podSpec(['app'], [{ name: 'one' }, { name: 'two' }]),
        status: { phase: 'Pending', initContainerStatuses: [terminated('one', { exitCode: 0, reason: 'Completed' }), running('two', { ready: false })] },
      },
      ready: '0/1',
      status: 'Init:1/2',
    },
    {
      name: 'a crash-looping init container shows Init:CrashLoopBackOff and its restarts',
      pod: {
        spec: podSpec(['app'], [{ name: 'init' }]),
        status: { phase: 'Pending', initContainerStatuses: [waiting('init', 'CrashLoopBackOff', { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(40 * S) } } })] },
      },
      ready: '0/1',
      status: 'Init:CrashLoopBackOff',
      restarts: '3 (40s ago)',
    },
    {
      name: 'a failed init container shows Init: and its reason',
      pod: { spec: podSpec(['app'], [{ name: 'init' }]), status: { phase: 'Failed', initContainerStatuses: [terminated('init', { exitCode: 1, reason: 'Error' })] } },
      ready: '0/1',
      status: 'Init:Error',
    },
    {
      name: 'a failed init container without a reason shows Init:ExitCode',
      pod: { spec: podSpec(['app'], [{ name: 'init' }]), status: { phase: 'Pending', initContainerStatuses: [terminated('init', { exitCode: 2 })] } },
      ready: '0/1',
      status: 'Init:ExitCode:2',
    },
    {
      name: 'a started sidecar counts toward READY like an app container',
      pod: {
        spec: podSpec(['app'], [{ name: 'proxy', restartPolicy: 'Always' }]),
        status: { phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }], initContainerStatuses: [running('proxy', { started: true, restartCount: 1 })], containerStatuses: [running('app')] },
      },
      ready: '2/2',
      status: 'Running',
      restarts: '1',
    },
    {
      name: 'a pod being deleted shows Terminating',
      pod: { metadata: { deletionTimestamp: ago(10 * S) }, spec: podSpec(['app']), status: { phase: 'Running', containerStatuses: [running('app')] } },
      ready: '1/1',
      status: 'Terminating',
    },
    {
      name: 'a finished pod being deleted keeps its final status',
      pod: { metadata: { deletionTimestamp: ago(10 * S) }, spec: podSpec(['app']), status: { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] } },
      ready: '0/1',
      status: 'Completed',
    },
    {
      name: 'a pod being deleted on a lost node shows Unknown',
      pod: { metadata: { deletionTimestamp: ago(10 * S) }, spec: podSpec(['app']), status: { phase: 'Running', reason: 'NodeLost' } },
      ready: '0/1',
      status: 'Unknown',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const row = cells(RT.pods, { spec: c.pod.spec, status: c.pod.status, metadata: { name: 'web', ...c.pod.metadata } });
      assert.equal(row['Ready'], c.ready);
      assert.equal(row['Status'], c.status);
      assert.equal(row['Restarts'], c.restarts ?? '0');
    });
  }

  it('the wide columns show IP, node, nominated node and readiness gates, or <none>', () => {
    assert.deepEqual(
      [cells(RT.pods, { spec: podSpec(['app']), status: { phase: 'Pending' } })].map((r) => [r['IP'], r['Node'], r['Nominated Node'], r['Readiness Gates']]),
      [['<none>', '<none>', '<none>', '<none>']],
    );
    const row = cells(RT.pods, {
      spec: { ...podSpec(['app']), nodeName: 'n1', readinessGates: [{ conditionType: 'lb/ready' }, { conditionType: 'other' }] },
      status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }], podIP: '10.0.0.5', nominatedNodeName: 'n2', conditions: [{ type: 'lb/ready', status: 'True' }] },
    });
    assert.deepEqual([row['IP'], row['Node'], row['Nominated Node'], row['Readiness Gates']], ['10.0.0.5', 'n1', 'n2', '1/2']);
  });

  it('finished pods carry the Completed row condition', () => {
    const table = buildTable(RT.pods, [{ metadata: { name: 'p' }, status: { phase: 'Succeeded' } }], { now: NOW });
    assert.deepEqual(table.rows[0]?.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  });
});

describe('the Table envelope', () => {
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, creationTimestamp: ago(H) }, spec: podSpec(['app']) };

  it('is a meta.k8s.io/v1 Table carrying the list resourceVersion and continue token', () => {
    const table = buildTable(RT.pods, [pod], { now: NOW, resourceVersion: '42', continue: 'abc' });
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '42', continue: 'abc' });
  });

  it('serializes every column field, as Go does', () => {
    const col = buildTable(RT.pods, [], { now: NOW }).columnDefinitions[5];
    assert.deepEqual(Object.keys(col ?? {}).sort(), ['description', 'format', 'name', 'priority', 'type']);
    assert.deepEqual([col?.name, col?.type, col?.format, col?.priority], ['IP', 'string', '', 1]);
  });

  it('rows carry PartialObjectMetadata by default, for kubectl NAMESPACE and --show-labels', () => {
    const row = buildTable(RT.pods, [pod], { now: NOW }).rows[0];
    assert.deepEqual(row?.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });
  });

  it('rows carry the whole object with includeObject=Object and nothing with None', () => {
    assert.equal(buildTable(RT.pods, [pod], { now: NOW, includeObject: 'Object' }).rows[0]?.object, pod);
    assert.ok(!('object' in (buildTable(RT.pods, [pod], { now: NOW, includeObject: 'None' }).rows[0] ?? {})));
  });

  it('leaves the column definitions out for watch events after the first', () => {
    const table = buildTable(RT.pods, [pod], { now: NOW, noHeaders: true });
    assert.deepEqual(table.columnDefinitions, []);
    assert.equal(table.rows[0]?.cells.length, 9);
  });

  it('keeps the order of the objects, one row each', () => {
    const names = ['c', 'a', 'b'];
    const table = buildTable(RT.pods, names.map((name) => ({ metadata: { name } })), { now: NOW });
    assert.deepEqual(table.rows.map((r) => r.cells[0]), names);
  });

  const includeCases: [string | undefined, string][] = [
    [undefined, 'Metadata'],
    ['', 'Metadata'],
    ['None', 'None'],
    ['Metadata', 'Metadata'],
    ['Object', 'Object'],
  ];
  for (const [raw, want] of includeCases) {
    it(`includeObject ${JSON.stringify(raw)} means ${want}`, () => assert.equal(parseIncludeObject(raw), want));
  }

  it('an unknown includeObject is refused with a 422 naming the field', () => {
    assert.throws(
      () => parseIncludeObject('All'),
      (e: unknown) =>
        e instanceof StatusError &&
        e.code === 422 &&
        e.message === `TableOptions.meta.k8s.io "" is invalid: includeObject: Invalid value: "All": must be 'Metadata', 'Object', 'None', or empty`,
    );
  });
});

describe('human durations', () => {
  const human: [string, number, string][] = [
    ['no time at all is 0s', 0, '0s'],
    ['a clock skew under two seconds reads 0s', -1.5 * S, '0s'],
    ['a time two seconds in the future is <invalid>', -2 * S, '<invalid>'],
    ['seconds count up to 119s', 119 * S, '119s'],
    ['two minutes read 2m', 2 * M, '2m'],
    ['minutes under ten keep their seconds', 3 * M + 2 * S, '3m2s'],
    ['ten minutes drop the seconds', 10 * M + 30 * S, '10m'],
    ['minutes count up to 179m', 179 * M, '179m'],
    ['three hours read 3h', 3 * H, '3h'],
    ['hours under eight keep their minutes', 5 * H + 3 * M, '5h3m'],
    ['hours count up to 47h', 47 * H + 59 * M, '47h'],
    ['two days read 2d', 2 * D, '2d'],
    ['days under eight keep their hours', 2 * D + 3 * H, '2d3h'],
    ['days count up to two years', 729 * D, '729d'],
    ['two years read 2y', 730 * D, '2y'],
    ['years under eight keep their days', 731 * D, '2y1d'],
    ['eight years and more read in years', 8 * 365 * D + 100 * D, '8y'],
  ];
  for (const [name, ms, want] of human) it(`humanDuration: ${name}`, () => assert.equal(humanDuration(ms), want));

  const short: [string, number, string][] = [
    ['a clock skew under two seconds reads 0s', -1 * S, '0s'],
    ['a time further in the future is <invalid>', -5 * S, '<invalid>'],
    ['seconds count up to 59s', 59 * S, '59s'],
    ['minutes are whole', 59 * M + 59 * S, '59m'],
    ['hours are whole', 23 * H + 59 * M, '23h'],
    ['days count up to a year', 364 * D, '364d'],
    ['years are whole', 365 * 3 * D, '3y'],
  ];
  for (const [name, ms, want] of short) it(`shortHumanDuration: ${name}`, () => assert.equal(shortHumanDuration(ms), want));

  it('AGE is the creation timestamp measured at opts.now, <unknown> without one', () => {
    assert.equal(cells(RT.pods, { metadata: { name: 'p', creationTimestamp: ago(3 * M + 2 * S) } })['Age'], '3m2s');
    assert.equal(buildTable(RT.pods, [{ metadata: { name: 'p' } }], { now: NOW }).rows[0]?.cells[4], '<unknown>');
  });
});
