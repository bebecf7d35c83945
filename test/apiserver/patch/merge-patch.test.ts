import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStatusError } from '../../../src/api/errors.js';
import { applyMergePatch } from '../../../src/apiserver/patch/merge-patch.js';

const cases: Array<{ name: string; doc: unknown; patch: unknown; want: unknown }> = [
  // RFC 7386 appendix A (the rows with an object patch).
  { name: 'a member is replaced', doc: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
  { name: 'a member is added', doc: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
  { name: 'null removes a member', doc: { a: 'b' }, patch: { a: null }, want: {} },
  { name: 'null removes only the named member', doc: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
  { name: 'a list is replaced by a scalar', doc: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
  { name: 'a scalar is replaced by a list', doc: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
  { name: 'objects merge recursively and nested nulls delete', doc: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, want: { a: { b: 'd' } } },
  { name: 'lists are replaced whole, never merged', doc: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
  { name: 'an existing null member is kept when another is added', doc: { e: null }, patch: { a: 1 }, want: { e: null, a: 1 } },
  { name: 'nulls inside an added object are pruned', doc: {}, patch: { a: { bb: { ccc: null } } }, want: { a: { bb: {} } } },
  // What kubectl sends.
  {
    name: 'kubectl scale sets the replicas',
    doc: { spec: { replicas: 1, selector: { matchLabels: { app: 'web' } } } },
    patch: { spec: { replicas: 4 } },
    want: { spec: { replicas: 4, selector: { matchLabels: { app: 'web' } } } },
  },
  {
    name: 'kubectl label adds a label beside the others',
    doc: { metadata: { name: 'p', labels: { app: 'web' } } },
    patch: { metadata: { labels: { tier: 'frontend' } } },
    want: { metadata: { name: 'p', labels: { app: 'web', tier: 'frontend' } } },
  },
  {
    name: 'kubectl label key- removes the label with null',
    doc: { metadata: { name: 'p', labels: { app: 'web', tier: 'frontend' } } },
    patch: { metadata: { labels: { tier: null } } },
    want: { metadata: { name: 'p', labels: { app: 'web' } } },
  },
  {
    name: 'kubectl annotate adds an annotation where there were none',
    doc: { metadata: { name: 'p' } },
    patch: { metadata: { annotations: { note: 'hi' } } },
    want: { metadata: { name: 'p', annotations: { note: 'hi' } } },
  },
  {
    name: 'kubectl rollout restart stamps the template annotation',
    doc: { spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } },
    patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } } } } },
    want: {
      spec: {
        template: {
          metadata: { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } },
          spec: { containers: [{ name: 'c', image: 'i' }] },
        },
      },
    },
  },
  {
    name: 'a containers list in a merge patch replaces the whole list',
    doc: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } },
    patch: { spec: { containers: [{ name: 'a', image: 'z' }] } },
    want: { spec: { containers: [{ name: 'a', image: 'z' }] } },
  },
  // evanphx/json-patch details that decide what is stored.
  { name: 'nulls inside objects of an added list are pruned, null elements stay', doc: {}, patch: { a: [{ x: null, y: 1 }, null] }, want: { a: [{ y: 1 }, null] } },
  { name: 'an explicit null member counts as absent and the added value is pruned', doc: { a: null }, patch: { a: { b: null, c: 1 } }, want: { a: { c: 1 } } },
  { name: 'an object replacing a scalar has its nulls pruned', doc: { a: 'x' }, patch: { a: { b: null, c: 1 } }, want: { a: { c: 1 } } },
  { name: 'a list replacing an object is taken as sent', doc: { a: { b: 1 } }, patch: { a: [{ x: null }] }, want: { a: [{ x: null }] } },
  { name: 'an empty patch changes nothing', doc: { a: { b: 1 } }, patch: {}, want: { a: { b: 1 } } },
  { name: 'a document that is not an object is treated as empty', doc: 'text', patch: { a: 1, b: null }, want: { a: 1 } },
];

describe('applyMergePatch follows RFC 7386 as kube-apiserver applies it', () => {
  for (const c of cases) {
    it(c.name, () => {
      const doc = structuredClone(c.doc);
      const patch = structuredClone(c.patch);
      assert.deepEqual(applyMergePatch(doc, patch), c.want);
      assert.deepEqual(doc, c.doc, 'the document is not mutated');
      assert.deepEqual(patch, c.patch, 'the patch is not mutated');
    });
  }

  it('the result shares nothing with the patch', () => {
    const patch = { metadata: { labels: { a: 'b' } } };
    const out = applyMergePatch({ metadata: {} }, patch) as typeof patch;
    out.metadata.labels.a = 'changed';
    assert.equal(patch.metadata.labels.a, 'b');
  });

  it('a __proto__ member stays an ordinary member', () => {
    const patch = JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}') as unknown;
    const out = applyMergePatch({ metadata: { labels: {} } }, patch) as { metadata: { labels: Record<string, unknown> } };
    assert.equal(Object.getPrototypeOf(out.metadata.labels), Object.prototype);
    assert.deepEqual(Object.keys(out.metadata.labels), ['__proto__']);
  });
});

const refusals: Array<{ name: string; patch: unknown; message: string }> = [
  { name: 'a null body is not a merge patch', patch: null, message: 'Invalid JSON Patch' },
  { name: 'an array body is refused while decoding', patch: [{ a: 1 }], message: 'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}' },
  { name: 'a string body is refused while decoding', patch: 'x', message: 'error decoding patch: json: cannot unmarshal string into Go value of type map[string]interface {}' },
  { name: 'a number body is refused while decoding', patch: 3, message: 'error decoding patch: json: cannot unmarshal number into Go value of type map[string]interface {}' },
  { name: 'a boolean body is refused while decoding', patch: true, message: 'error decoding patch: json: cannot unmarshal bool into Go value of type map[string]interface {}' },
];

describe('applyMergePatch refuses bodies that are not objects with 400', () => {
  for (const c of refusals) {
    it(c.name, () => {
      assert.throws(
        () => applyMergePatch({ a: 1 }, c.patch),
        (e: unknown) => isStatusError(e, 'BadRequest') && e.status.code === 400 && e.status.message === c.message,
      );
    });
  }
});
