import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_PATCH_META } from '../../src/api/patch-meta.js';
import type { KubeObject, ManagedFieldsEntry } from '../../src/api/types.js';
import { fieldSetOfPaths } from '../../src/apiserver/field-set.js';
import {
  difference,
  fieldSetOf,
  fromFieldsV1,
  intersection,
  pathString,
  recordUpdate,
  toFieldsV1,
  union,
} from '../../src/apiserver/managed-fields.js';
import { deployment, deploymentMeta, stored, T0, T1, T2 } from './support/ssa-fixtures.js';

/** JSON.stringify keeps key order, so equal strings also mean FieldsV1 came out in upstream's order. */
const same = (actual: unknown, expected: unknown) => assert.equal(JSON.stringify(actual), JSON.stringify(expected));

test('FieldsV1 and field sets', async (t) => {
  const cases: Array<[string, () => void]> = [
    [
      'FieldsV1 round-trips fields, keys, values and the element itself ("."), in upstream order',
      () => {
        const v1 = {
          'f:metadata': { 'f:finalizers': { '.': {}, 'v:"a"': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
          },
        };
        same(toFieldsV1(fromFieldsV1(v1)), v1);
      },
    ],
    [
      'keys parse to one canonical form whatever their spacing and field order',
      () => same(toFieldsV1(fromFieldsV1({ 'k:{"protocol": "TCP", "containerPort":80}': {} })), { 'k:{"containerPort":80,"protocol":"TCP"}': {} }),
    ],
    ['an unknown element prefix is refused', () => assert.throws(() => fromFieldsV1({ 'x:spec': {} }), /unknown path element type/)],
    ['a key that is not JSON is refused', () => assert.throws(() => fromFieldsV1({ 'k:{name': {} }), /not JSON/)],
    [
      'elements sort fields first, then keys, then values',
      () => same(Object.keys(toFieldsV1(fieldSetOfPaths([['v:"b"'], ['k:{"name":"a"}'], ['f:z'], ['f:a']]))), ['f:a', 'f:z', 'k:{"name":"a"}', 'v:"b"']),
    ],
    [
      'union, difference and intersection work path by path',
      () => {
        const a = fieldSetOfPaths([['f:spec', 'f:replicas'], ['f:spec', 'f:paused']]);
        const b = fieldSetOfPaths([['f:spec', 'f:replicas'], ['f:metadata', 'f:labels', 'f:app']]);
        same(toFieldsV1(union(a, b)), { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:paused': {}, 'f:replicas': {} } });
        same(toFieldsV1(difference(a, b)), { 'f:spec': { 'f:paused': {} } });
        same(toFieldsV1(intersection(a, b)), { 'f:spec': { 'f:replicas': {} } });
      },
    ],
    [
      'removing an element keeps what is under it (difference is exact, not recursive)',
      () => same(toFieldsV1(difference(fieldSetOfPaths([['k:{"name":"a"}'], ['k:{"name":"a"}', 'f:image']]), fieldSetOfPaths([['k:{"name":"a"}']]))), { 'k:{"name":"a"}': { 'f:image': {} } }),
    ],
    [
      'paths print as conflicts print them',
      () => {
        assert.equal(pathString(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']), '.spec.template.spec.containers[name="nginx"].image');
        assert.equal(pathString(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}']), '.spec.ports[port=80,protocol="TCP"]');
        assert.equal(pathString(['f:metadata', 'f:finalizers', 'v:"x"']), '.metadata.finalizers[="x"]');
      },
    ],
  ];
  for (const [name, fn] of cases) await t.test(name, fn);
});

test('fieldSetOf: what an object sets', async (t) => {
  const cases: Array<[string, unknown, unknown]> = [
    [
      'a Deployment sets its scalars, each label, its atomic selector whole, and each container by name',
      deployment({ replicas: 3 }),
      {
        'f:apiVersion': {},
        'f:kind': {},
        'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {}, 'f:namespace': {} },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
          },
        },
      },
    ],
    ['an empty object and a null are set themselves', { spec: { strategy: {}, paused: null } }, { 'f:spec': { 'f:paused': {}, 'f:strategy': {} } }],
    [
      'a port without protocol is keyed with the defaulted TCP',
      { spec: { template: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] } } } },
      {
        'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } } } },
      },
    ],
    ['set-like lists own each value', { metadata: { finalizers: ['a', 'b'] } }, { 'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } } }],
    ['atomic lists are owned whole', { spec: { template: { spec: { tolerations: [{ key: 'k' }] } } } }, { 'f:spec': { 'f:template': { 'f:spec': { 'f:tolerations': {} } } } }],
    ['an empty granular list sets nothing', { spec: { template: { spec: { volumes: [] } } } }, {}],
    ['managedFields are never part of what an object sets', { metadata: { managedFields: [{ manager: 'x' }], labels: { a: 'b' } } }, { 'f:metadata': { 'f:labels': { 'f:a': {} } } }],
    ['without merge metadata a list is atomic', { items: [{ name: 'a' }] }, { 'f:items': {} }],
  ];
  for (const [name, obj, v1] of cases) {
    await t.test(name, () => same(toFieldsV1(fieldSetOf(obj, name.startsWith('without') ? EMPTY_PATCH_META : deploymentMeta)), v1));
  }
});

const opts = (manager: string, now: string, extra: { subresource?: string; apiVersion?: string } = {}) => ({ manager, now, apiVersion: 'apps/v1', meta: deploymentMeta, ...extra });

/** Create `obj` as `manager` and return it as stored. */
function created(obj: KubeObject, manager = 'kubectl-create'): KubeObject {
  const s = stored(obj);
  recordUpdate(undefined, s, opts(manager, T0));
  return s;
}

/** Writes `change(copy of old)` as `manager` and returns the new object. */
function updated(old: KubeObject, manager: string, change: (o: KubeObject) => void, extra: { subresource?: string; apiVersion?: string } = {}, now = T1): KubeObject {
  const next = structuredClone(old);
  change(next);
  recordUpdate(old, next, opts(manager, now, extra));
  return next;
}

const entry = (o: KubeObject, manager: string): ManagedFieldsEntry | undefined => o.metadata.managedFields?.find((e) => e.manager === manager);
const spec = (o: KubeObject) => o.spec as Record<string, unknown>;

test('recordUpdate: ownership after non-apply writes', async (t) => {
  const cases: Array<[string, () => void]> = [
    [
      'a create owns every field it set, with "." on new maps and list items, but never identity fields',
      () => {
        const o = created(deployment({ replicas: 2 }));
        same(o.metadata.managedFields, [
          {
            manager: 'kubectl-create',
            operation: 'Update',
            apiVersion: 'apps/v1',
            time: T0,
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:replicas': {},
                'f:selector': {},
                'f:template': {
                  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
                  'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
                },
              },
            },
          },
        ]);
      },
    ],
    [
      'a write that changes nothing leaves entries and times alone',
      () => {
        const o = created(deployment({ replicas: 2 }));
        const n = updated(o, 'someone-else', () => {});
        same(n.metadata.managedFields, o.metadata.managedFields);
      },
    ],
    [
      'a manager that changes a value takes that field; the creator keeps the fields it still holds',
      () => {
        const n = updated(created(deployment({ replicas: 2 })), 'kubectl-edit', (x) => (spec(x).replicas = 5));
        same(entry(n, 'kubectl-edit')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
        assert.equal(entry(n, 'kubectl-edit')?.time, T1);
        assert.equal(JSON.stringify(entry(n, 'kubectl-create')?.fieldsV1).includes('f:replicas'), false);
        assert.equal(JSON.stringify(entry(n, 'kubectl-create')?.fieldsV1).includes('f:image'), true);
      },
    ],
    [
      'setting a field to the value it already has takes nothing from its owner',
      () => {
        const n = updated(created(deployment({ replicas: 2 })), 'kubectl-edit', (x) => (spec(x).replicas = 2));
        assert.equal(entry(n, 'kubectl-edit'), undefined);
      },
    ],
    [
      'later writes by the same manager merge into its entry and move its time',
      () => {
        const a = updated(created(deployment({ replicas: 2 })), 'kubectl-edit', (x) => (spec(x).replicas = 5));
        const b = updated(a, 'kubectl-edit', (x) => (spec(x).paused = true), {}, T2);
        same(entry(b, 'kubectl-edit')?.fieldsV1, { 'f:spec': { 'f:paused': {}, 'f:replicas': {} } });
        assert.equal(entry(b, 'kubectl-edit')?.time, T2);
        assert.equal(b.metadata.managedFields?.length, 2);
      },
    ],
    [
      'a removed field leaves every entry, and an entry left empty is dropped',
      () => {
        const a = updated(created(deployment({ replicas: 2 })), 'kubectl-edit', (x) => (spec(x).replicas = 5));
        const b = updated(a, 'kubectl-other', (x) => delete spec(x).replicas);
        assert.equal(entry(b, 'kubectl-edit'), undefined);
        assert.equal(entry(b, 'kubectl-other'), undefined);
      },
    ],
    [
      'a write in another apiVersion gets its own entry',
      () => {
        const n = updated(created(deployment({ replicas: 2 })), 'kubectl-create', (x) => (spec(x).replicas = 3), { apiVersion: 'apps/v1beta2' });
        same(n.metadata.managedFields?.map((e) => e.apiVersion), ['apps/v1', 'apps/v1beta2']);
      },
    ],
    [
      'a /status write records its subresource and owns only status',
      () => {
        const n = updated(created(deployment()), 'kube-controller-manager', (x) => (x.status = { replicas: 1, conditions: [{ type: 'Available', status: 'True' }] }), { subresource: 'status' });
        same(entry(n, 'kube-controller-manager'), {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: T1,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:replicas': {} } },
          subresource: 'status',
        });
      },
    ],
    [
      'a main-resource write never owns status',
      () => {
        const n = updated(created(deployment()), 'kubectl-edit', (x) => (x.status = { replicas: 1 }));
        assert.equal(entry(n, 'kubectl-edit'), undefined);
      },
    ],
    [
      'managedFields sent with a write replace the stored ones (how kubectl migrates client-side apply)',
      () => {
        const sent: ManagedFieldsEntry[] = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
        const n = updated(created(deployment({ replicas: 2 })), 'kubectl', (x) => (x.metadata.managedFields = sent));
        same(n.metadata.managedFields, sent);
      },
    ],
    [
      'an empty managedFields list resets ownership',
      () => {
        const n = updated(created(deployment({ replicas: 2 })), 'kubectl', (x) => (x.metadata.managedFields = []));
        assert.equal(n.metadata.managedFields, undefined);
      },
    ],
    [
      'stored managedFields that do not decode are rebuilt from this write on',
      () => {
        const o = created(deployment({ replicas: 2 }));
        o.metadata.managedFields = [{ manager: 'x', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'bogus': {} } }];
        const n = updated(o, 'kubectl-edit', (x) => {
          spec(x).replicas = 4;
          delete x.metadata.managedFields;
        });
        same(n.metadata.managedFields?.map((e) => e.manager), ['kubectl-edit']);
      },
    ],
    [
      'more than ten Update managers fold the oldest into ancient-changes',
      () => {
        let o = created(deployment({ replicas: 0 }));
        for (let i = 1; i <= 11; i++) {
          o = updated(o, `m${String(i).padStart(2, '0')}`, (x) => ((x.metadata.annotations ??= {})[`a${i}`] = 'v'), {}, `2026-01-01T00:${String(i).padStart(2, '0')}:00Z`);
        }
        const managers = o.metadata.managedFields?.map((e) => e.manager) ?? [];
        assert.equal(managers.length, 10);
        assert.ok(managers.includes('ancient-changes'));
        assert.ok(!managers.includes('kubectl-create') && !managers.includes('m01'));
      },
    ],
  ];
  for (const [name, fn] of cases) await t.test(name, fn);
});
