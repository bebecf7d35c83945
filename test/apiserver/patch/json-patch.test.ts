import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStatusError } from '../../../src/api/errors.js';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from '../../../src/apiserver/patch/json-patch.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', annotations: { 'deployment.kubernetes.io/revision': '2' }, labels: { app: 'web' } },
  spec: {
    replicas: 2,
    template: {
      metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', args: ['-g', 'daemon off;'] }] },
    },
  },
});

type Doc = ReturnType<typeof deployment>;

function expected(edit: (d: Doc) => void): Doc {
  const d = deployment();
  edit(d);
  return d;
}

const applies: Array<{ name: string; ops: unknown; want: unknown }> = [
  {
    name: 'replace changes a scalar in place',
    ops: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    want: expected((d) => (d.spec.replicas = 5)),
  },
  {
    name: 'add creates a map member, escaping "/" as ~1 in the pointer',
    ops: [{ op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'web' }],
    want: expected((d) => ((d.metadata.labels as Record<string, string>)['app.kubernetes.io/name'] = 'web')),
  },
  {
    name: 'add with "-" appends to a list',
    ops: [{ op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--verbose' }],
    want: expected((d) => d.spec.template.spec.containers[0]!.args.push('--verbose')),
  },
  {
    name: 'add at an index inserts before the element there',
    ops: [{ op: 'add', path: '/spec/template/spec/containers/0/args/0', value: 'first' }],
    want: expected((d) => d.spec.template.spec.containers[0]!.args.unshift('first')),
  },
  {
    name: 'remove deletes a map member',
    ops: [{ op: 'remove', path: '/spec/template/metadata/labels/pod-template-hash' }],
    want: expected((d) => delete (d.spec.template.metadata.labels as Record<string, string>)['pod-template-hash']),
  },
  {
    name: 'a passing test lets the following operations apply',
    ops: [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
    ],
    want: expected((d) => (d.spec.replicas = 3)),
  },
  {
    name: 'test compares objects by value',
    ops: [{ op: 'test', path: '/metadata/labels', value: { app: 'web' } }],
    want: deployment(),
  },
  {
    name: 'move takes a value from one path to another',
    ops: [{ op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/component' }],
    want: expected((d) => (d.metadata.labels = { component: 'web' } as never)),
  },
  {
    name: 'copy duplicates a subtree',
    ops: [{ op: 'copy', from: '/spec/template/spec/containers/0', path: '/spec/template/spec/containers/-' }],
    want: expected((d) => d.spec.template.spec.containers.push(structuredClone(d.spec.template.spec.containers[0]!))),
  },
  {
    name: 'rollout undo replaces the template and the annotations in one patch',
    ops: [
      { op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.24' }] } } },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
    ],
    want: expected((d) => {
      d.spec.template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.24' }] } } as never;
      d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' };
    }),
  },
  {
    name: 'add without a value stores null, as evanphx/json-patch does',
    ops: [{ op: 'add', path: '/spec/paused' }],
    want: expected((d) => ((d.spec as Record<string, unknown>).paused = null)),
  },
  {
    name: 'an empty patch changes nothing',
    ops: [],
    want: deployment(),
  },
  {
    name: 'a null body is an empty patch',
    ops: null,
    want: deployment(),
  },
];

describe('applyJsonPatch applies RFC 6902 operations', () => {
  for (const c of applies) {
    it(c.name, () => {
      const doc = deployment();
      const ops = structuredClone(c.ops);
      assert.deepEqual(applyJsonPatch(doc, ops), c.want);
      assert.deepEqual(doc, deployment(), 'the document is not mutated');
      assert.deepEqual(ops, c.ops, 'the operations are not mutated');
    });
  }

  it('the result shares nothing with the operations', () => {
    const ops = [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }];
    const out = applyJsonPatch(deployment(), ops) as Doc;
    (out.metadata.labels as Record<string, string>).a = 'changed';
    assert.equal(ops[0]!.value.a, 'b');
  });
});

const invalid = { code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' };

const failures: Array<{ name: string; ops: unknown; want: { code: number; reason: string; message: string } }> = [
  { name: 'replace of a missing path does not apply', ops: [{ op: 'replace', path: '/spec/paused', value: true }], want: invalid },
  { name: 'remove of a missing key does not apply', ops: [{ op: 'remove', path: '/metadata/labels/tier' }], want: invalid },
  { name: 'add under a missing parent does not apply', ops: [{ op: 'add', path: '/spec/strategy/type', value: 'Recreate' }], want: invalid },
  { name: 'a failed test stops the patch', ops: [{ op: 'test', path: '/spec/replicas', value: 3 }, { op: 'replace', path: '/spec/replicas', value: 9 }], want: invalid },
  { name: 'an index past the end of a list does not apply', ops: [{ op: 'add', path: '/spec/template/spec/containers/0/args/7', value: 'x' }], want: invalid },
  { name: 'a non-numeric list index does not apply', ops: [{ op: 'replace', path: '/spec/template/spec/containers/first/image', value: 'x' }], want: invalid },
  { name: 'an unknown op does not apply', ops: [{ op: 'merge', path: '/spec', value: {} }], want: invalid },
  { name: 'the internal _get op of fast-json-patch is not an RFC 6902 op', ops: [{ op: '_get', path: '/spec' }], want: invalid },
  { name: 'a null operation does not apply', ops: [null], want: invalid },
  { name: 'move from a missing path does not apply', ops: [{ op: 'move', from: '/spec/nothing', path: '/spec/x' }], want: invalid },
  {
    name: 'a body that is an object is not a JSON patch',
    ops: { op: 'replace', path: '/spec/replicas', value: 1 },
    want: { code: 400, reason: 'BadRequest', message: 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp' },
  },
  {
    name: 'an operation that is not an object is refused while decoding',
    ops: ['replace'],
    want: { code: 400, reason: 'BadRequest', message: 'error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp' },
  },
  {
    name: 'an op that is not a string is refused while decoding',
    ops: [{ op: 1, path: '/spec' }],
    want: { code: 400, reason: 'BadRequest', message: 'error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string' },
  },
  {
    name: 'a path that is not a string is refused while decoding',
    ops: [{ op: 'remove', path: ['spec'] }],
    want: { code: 400, reason: 'BadRequest', message: 'error decoding patch: json: cannot unmarshal array into Go struct field jsonPatchOp.path of type string' },
  },
  {
    name: 'more operations than the API server accepts is too large',
    ops: Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' })),
    want: { code: 413, reason: 'RequestEntityTooLarge', message: `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001` },
  },
];

describe('applyJsonPatch answers errors as kube-apiserver does', () => {
  for (const c of failures) {
    it(c.name, () => {
      const doc = deployment();
      assert.throws(
        () => applyJsonPatch(doc, c.ops),
        (e: unknown) => {
          assert.ok(isStatusError(e), `expected a StatusError, got ${String(e)}`);
          assert.equal(e.status.code, c.want.code);
          assert.equal(e.status.reason, c.want.reason);
          assert.equal(e.status.message, c.want.message);
          return true;
        },
      );
      assert.deepEqual(doc, deployment(), 'a failed patch leaves the document untouched');
    });
  }

  it('the 422 carries empty details, as NewGenericServerResponse leaves them', () => {
    try {
      applyJsonPatch(deployment(), [{ op: 'remove', path: '/nope' }]);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(isStatusError(e));
      assert.deepEqual(e.status.details, {});
      assert.ok(e.cause, 'the underlying failure is kept for logs');
    }
  });
});
