// Duplicate keys in raw JSON bodies, reported with sigs.k8s.io/json's strict-decoding wording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findDuplicateFields } from '../../src/api/json-duplicates.js';

describe('findDuplicateFields', () => {
  const cases: { name: string; json: string; want: string[] }[] = [
    { name: 'a body without duplicates yields nothing', json: '{"kind":"Deployment","spec":{"replicas":1}}', want: [] },
    { name: 'a duplicated top-level key is named alone', json: '{"kind":"A","kind":"B"}', want: ['duplicate field "kind"'] },
    { name: 'a nested duplicate is named by its path', json: '{"spec":{"replicas":1,"replicas":2}}', want: ['duplicate field "spec.replicas"'] },
    { name: 'keys in list items carry the index', json: '{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}', want: ['duplicate field "spec.containers[1].name"'] },
    { name: 'equal keys in different objects are not duplicates', json: '{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}', want: [] },
    { name: 'a key seen three times is reported twice, in document order', json: '{"a":1,"b":{"c":1,"c":2},"a":2,"a":3}', want: ['duplicate field "b.c"', 'duplicate field "a"', 'duplicate field "a"'] },
    { name: 'escaped keys are compared by their decoded value', json: '{"a\\u0062":1,"ab":2}', want: ['duplicate field "ab"'] },
    { name: 'braces and quotes inside strings are not structure', json: '{"s":"{\\"s\\":1}","t":"]},","s":2}', want: ['duplicate field "s"'] },
    { name: 'whitespace, numbers and literals are skipped', json: ' {\n "n" : -1.5e3 , "t":true,"f":false,"z":null,"n":0 }\n', want: ['duplicate field "n"'] },
    { name: 'top-level arrays are walked too', json: '[{"a":1,"a":2}]', want: ['duplicate field "[0].a"'] },
    { name: 'malformed JSON yields nothing: parsing reports it', json: '{"a":1,"a":', want: [] },
    { name: 'trailing data is malformed', json: '{"a":1,"a":2} x', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(findDuplicateFields(c.json), c.want));
  }

  it('agrees with JSON.parse on what a large clean body holds: nothing duplicated', () => {
    const big = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ metadata: { name: `p${i}`, labels: { a: 'b', c: 'd' } }, spec: { containers: [{ name: 'c', args: ['x', 'y'] }] } })) });
    assert.deepEqual(findDuplicateFields(big), []);
  });
});
