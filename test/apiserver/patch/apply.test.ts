import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStatusError, type StatusError } from '../../../src/api/errors.js';
import type { KubeObject, ManagedFieldsEntry } from '../../../src/api/types.js';
import { recordUpdate } from '../../../src/apiserver/managed-fields.js';
import { LAST_APPLIED_ANNOTATION, serverSideApply } from '../../../src/apiserver/patch/apply.js';
import { deployment, deploymentMeta, stored, T0, T1, T2 } from '../support/ssa-fixtures.js';

const same = (actual: unknown, expected: unknown) => assert.equal(JSON.stringify(actual), JSON.stringify(expected));

function apply(live: KubeObject | undefined, applied: KubeObject, manager = 'kubectl', o: { force?: boolean; now?: string; subresource?: string } = {}): KubeObject {
  return serverSideApply({ live, applied, manager, force: o.force ?? false, meta: deploymentMeta, apiVersion: 'apps/v1', now: o.now ?? T1, ...(o.subresource ? { subresource: o.subresource } : {}) });
}

/** The first apply, as the caller would store it. */
const applied0 = (obj: KubeObject, manager = 'kubectl') => stored(apply(undefined, obj, manager, { now: T0 }));

/** A non-apply write (merge patch, scale, edit) by `manager`. */
function updated(old: KubeObject, manager: string, change: (o: KubeObject) => void, subresource?: string): KubeObject {
  const next = structuredClone(old);
  change(next);
  recordUpdate(old, next, { manager, apiVersion: 'apps/v1', now: T1, meta: deploymentMeta, ...(subresource ? { subresource } : {}) });
  return next;
}

function refused(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (isStatusError(e)) return e;
    throw e;
  }
  assert.fail('expected a StatusError');
}

const entry = (o: KubeObject, manager: string): ManagedFieldsEntry | undefined => o.metadata.managedFields?.find((e) => e.manager === manager);
const owns = (o: KubeObject, manager: string, fragment: string) => JSON.stringify(entry(o, manager)?.fieldsV1 ?? {}).includes(fragment);
const spec = (o: KubeObject) => o.spec as Record<string, any>;
const containers = (o: KubeObject) => spec(o).template.spec.containers as Array<Record<string, unknown>>;

test('server-side apply', async (t) => {
  const cases: Array<[string, () => void]> = [
    [
      'the first apply creates the applied object and records its fields as the Apply entry',
      () => {
        const out = apply(undefined, deployment({ replicas: 2 }), 'kubectl', { now: T0 });
        const { managedFields, ...meta } = out.metadata;
        same({ ...out, metadata: meta }, deployment({ replicas: 2 }));
        same(managedFields, [
          {
            manager: 'kubectl',
            operation: 'Apply',
            apiVersion: 'apps/v1',
            time: T0,
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:replicas': {},
                'f:selector': {},
                'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
              },
            },
          },
        ]);
      },
    ],
    [
      're-applying with a changed image updates the object and keeps the server bookkeeping',
      () => {
        const out = apply(applied0(deployment({ replicas: 2 })), deployment({ replicas: 2, image: 'nginx:1.28' }));
        assert.equal(containers(out)[0]!.image, 'nginx:1.28');
        assert.equal(out.metadata.uid, 'u-1');
        assert.equal(entry(out, 'kubectl')?.time, T1);
      },
    ],
    [
      'a label dropped from the applied configuration is removed from the object',
      () => {
        const live = applied0(deployment({ labels: { app: 'web', tier: 'front' } }));
        const out = apply(live, deployment({ labels: { app: 'web' } }));
        same(out.metadata.labels, { app: 'web' });
        assert.ok(!owns(out, 'kubectl', 'f:tier'));
      },
    ],
    [
      'a dropped label that another manager also set stays',
      () => {
        const live = updated(applied0(deployment({ labels: { app: 'web' } })), 'kubectl-label', (x) => (x.metadata.labels!.tier = 'front'));
        const out = apply(apply(live, deployment({ labels: { app: 'web', tier: 'front' } })), deployment({ labels: { app: 'web' } }));
        same(out.metadata.labels, { app: 'web', tier: 'front' });
      },
    ],
    [
      'a second manager applying a different replicas conflicts, naming the manager and .spec.replicas',
      () => {
        const e = refused(() => apply(applied0(deployment({ replicas: 2 })), deployment({ replicas: 5 }), 'ci'));
        assert.equal(e.code, 409);
        assert.equal(e.reason, 'Conflict');
        assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
        same(e.status.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }] });
      },
    ],
    [
      'with force the second manager takes the field and the value',
      () => {
        const out = apply(applied0(deployment({ replicas: 2 })), deployment({ replicas: 5 }), 'ci', { force: true });
        assert.equal(spec(out).replicas, 5);
        assert.ok(owns(out, 'ci', 'f:replicas'));
        assert.ok(!owns(out, 'kubectl', 'f:replicas'));
        assert.ok(owns(out, 'kubectl', 'f:image'), 'the first applier keeps what was not taken');
      },
    ],
    [
      'after kubectl scale, applying another replicas conflicts with the scale manager and subresource',
      () => {
        const live = updated(applied0(deployment({ replicas: 2 })), 'kubectl-scale', (x) => (spec(x).replicas = 4), 'scale');
        const e = refused(() => apply(live, deployment({ replicas: 2 })));
        assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas');
      },
    ],
    [
      'after a merge patch, applying another value conflicts with the patching manager',
      () => {
        const live = updated(applied0(deployment({ replicas: 2 })), 'kubectl-patch', (x) => (containers(x)[0]!.image = 'nginx:edited'));
        const e = refused(() => apply(live, deployment({ replicas: 2, image: 'nginx:1.28' })));
        same(e.status.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-patch" using apps/v1', field: '.spec.template.spec.containers[name="nginx"].image' }]);
      },
    ],
    [
      'applying the value another manager holds is shared ownership, not a conflict',
      () => {
        const out = apply(applied0(deployment({ replicas: 2 })), deployment({ replicas: 2 }), 'ci');
        assert.ok(owns(out, 'ci', 'f:replicas') && owns(out, 'kubectl', 'f:replicas'));
      },
    ],
    [
      'several conflicts are listed per manager, one line per field',
      () => {
        const e = refused(() => apply(applied0(deployment({ replicas: 2 })), deployment({ replicas: 5, image: 'nginx:2' }), 'ci'));
        assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image');
        assert.equal(e.status.details?.causes?.length, 2);
      },
    ],
    [
      'containers merge by name: a container another manager added survives an apply that does not mention it',
      () => {
        const live = updated(applied0(deployment()), 'kubectl-edit', (x) => containers(x).push({ name: 'sidecar', image: 'busybox' }));
        const out = apply(live, deployment({ image: 'nginx:1.28' }));
        same(containers(out), [{ name: 'nginx', image: 'nginx:1.28' }, { name: 'sidecar', image: 'busybox' }]);
      },
    ],
    [
      'a container the applier alone set is removed when it stops applying it',
      () => {
        const two = [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'log', image: 'fluentd' }];
        const out = apply(applied0(deployment({ containers: two })), deployment());
        same(containers(out), [{ name: 'nginx', image: 'nginx:1.27' }]);
      },
    ],
    [
      'list items keep the live position of items the configuration does not name',
      () => {
        const live = applied0(deployment({ containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }), 'other');
        const out = apply(live, deployment({ containers: [{ name: 'c', image: 'x' }, { name: 'd' }] }));
        same(containers(out).map((c) => c.name), ['a', 'b', 'c', 'd']);
      },
    ],
    [
      'a port applied without protocol is the stored TCP port, not a second one',
      () => {
        const live = stored(deployment({ containers: [{ name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] }] }));
        const out = apply(live, deployment({ containers: [{ name: 'nginx', ports: [{ containerPort: 80, name: 'http' }] }] }));
        same(containers(out)[0]!.ports, [{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
      },
    ],
    [
      'a null in the configuration unsets the field',
      () => {
        const out = apply(applied0(deployment({ replicas: 2 })), { ...deployment(), spec: { ...spec(deployment()), replicas: null } });
        assert.equal('replicas' in spec(out), false);
      },
    ],
    [
      'client-side apply then server-side apply of the same file succeeds with shared ownership',
      () => {
        const file = deployment({ replicas: 2 });
        const csa = structuredClone(file);
        csa.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(file) + '\n' };
        const live = stored(csa);
        recordUpdate(undefined, live, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', now: T0, meta: deploymentMeta });
        const out = apply(live, file, 'kubectl', { now: T2 });
        assert.ok(owns(out, 'kubectl', 'f:replicas') && owns(out, 'kubectl-client-side-apply', 'f:replicas'));
      },
    ],
    [
      'kubectl may change what its own client-side apply set, and keeps the last-applied annotation current',
      () => {
        const file = deployment({ replicas: 2 });
        const csa = structuredClone(file);
        csa.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(file) + '\n' };
        const live = stored(csa);
        recordUpdate(undefined, live, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', now: T0, meta: deploymentMeta });
        const out = apply(live, deployment({ replicas: 3 }));
        assert.equal(spec(out).replicas, 3);
        assert.equal(JSON.parse(out.metadata.annotations![LAST_APPLIED_ANNOTATION]!).spec.replicas, 3);
        assert.ok(out.metadata.annotations![LAST_APPLIED_ANNOTATION]!.endsWith('}\n'));
        const other = refused(() => apply(live, deployment({ replicas: 3 }), 'ci'));
        assert.equal(other.code, 409, 'another manager still conflicts');
      },
    ],
    [
      'an apply that changes nothing returns the stored managedFields verbatim',
      () => {
        const live = applied0(deployment({ replicas: 2 }));
        same(apply(live, deployment({ replicas: 2 }), 'kubectl', { now: T2 }), live);
      },
    ],
    [
      'managedFields in the applied body are ignored',
      () => {
        const body = deployment();
        body.metadata.managedFields = [{ manager: 'forged', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
        same(apply(undefined, body).metadata.managedFields?.map((e) => e.manager), ['kubectl']);
      },
    ],
    [
      'status applied to the main resource is not owned',
      () => {
        const out = apply(undefined, { ...deployment(), status: { replicas: 9 } });
        assert.ok(!owns(out, 'kubectl', 'f:status'));
      },
    ],
    [
      'applying to /status owns only status, under the subresource',
      () => {
        const out = apply(applied0(deployment()), { ...deployment(), status: { replicas: 1 } }, 'controller', { subresource: 'status' });
        same(entry(out, 'controller'), { manager: 'controller', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {} } }, subresource: 'status' });
      },
    ],
    [
      'a missing field manager is refused with 422 as upstream words it',
      () => {
        const e = refused(() => apply(undefined, deployment(), ''));
        assert.equal(e.code, 422);
        assert.equal(e.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
        same(e.status.details, { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
      },
    ],
    [
      'an applied configuration of another apiVersion is refused with 400',
      () => {
        const e = refused(() => apply(undefined, { ...deployment(), apiVersion: 'apps/v1beta1' }));
        assert.equal(e.code, 400);
        assert.equal(e.message, 'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1');
      },
    ],
    [
      'neither the live object nor the configuration is modified',
      () => {
        const live = applied0(deployment({ replicas: 2 }));
        const body = deployment({ replicas: 2, image: 'x' });
        const [liveCopy, bodyCopy] = [structuredClone(live), structuredClone(body)];
        apply(live, body);
        same(live, liveCopy);
        same(body, bodyCopy);
      },
    ],
  ];
  for (const [name, fn] of cases) await t.test(name, fn);
});
