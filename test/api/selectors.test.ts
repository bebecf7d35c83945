import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import {
  fieldSelectorMatcher,
  fieldSelectorToString,
  labelRequiresExactMatch,
  labelSelectorFromObject,
  matches,
  parseFieldSelector,
  parseLabelSelector,
  pinnedName,
  selectorFromSet,
  selectorToString,
} from '../../src/api/selectors.js';

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isStatusError(e, 'BadRequest'), `expected a BadRequest StatusError, got ${String(e)}`);
    assert.equal(e.code, 400);
    return e.message;
  }
  assert.fail('expected an error');
}

const QNAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('label selector strings that upstream accepts print back in canonical form', async (t) => {
  const cases: [string, string, string][] = [
    ['equalities joined by commas print unchanged', 'x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['the empty string selects everything', '', ''],
    ['an inequality prints as !=', 'x!=a,y=b', 'x!=a,y=b'],
    ['a missing value is the empty value', 'x=', 'x='],
    ['spaces around values are dropped', 'x= ,z= ', 'x=,z='],
    ['a bang means the key must not exist', '!x', '!x'],
    ['greater-than and less-than take integers', 'x>1,z<5', 'x>1,z<5'],
    ['a double equals keeps its spelling', 'y==jkl', 'y==jkl'],
    ['requirements are sorted by key', 'x=a,a=x', 'a=x,x=a'],
    ['set values are sorted and deduplicated', 'tier in (b,a,b)', 'tier in (a,b)'],
    ['in and notin are plain values inside a set', 'a in (x,y,notin, z,in)', 'a in (in,notin,x,y,z)'],
    ['an empty set holds the empty value', 'x in ()', 'x in ()'],
    ['a trailing comma in a set adds the empty value', 'x in (abc,)', 'x in (,abc)'],
    ['a prefixed key with a notin set parses', '0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', '0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)'],
    ['tabs, newlines and carriage returns are whitespace', 'x  notin\t\n(abc,def),\ry', 'x notin (abc,def),y'],
    ['keys that spell keywords are keys in key position', 'notin=in', 'notin=in'],
    ['mixed existence and sets sort by key', 'x notin (abc,def),bar,z in (),w', 'bar,w,x notin (abc,def),z in ()'],
  ];
  for (const [name, input, out] of cases) {
    await t.test(name, () => assert.equal(selectorToString(parseLabelSelector(input)), out));
  }
});

test('label selector strings that upstream refuses give its words in a 400', async (t) => {
  const cases: [string, string, string][] = [
    ['a value with pipes is not a label value', 'x=a||y=b', `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${VALUE_RULE}`],
    ['a second operator after a value is unexpected', 'x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['a bang requirement takes no value', '!x=a', "found '=', expected: ',' or 'end of string'"],
    ['less-than needs an integer', 'x<a', `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['two commas in a row leave a hole', 'x,,y', "found ',', expected: identifier after ','"],
    ['a leading comma is not a requirement', ',x,y', "found ',', expected: !, identifier, or 'end of string'"],
    ['a misspelt operator names the ones that exist', 'x nott in (y)', "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"],
    ['a trailing comma needs another requirement', 'a in (xyz),', "found '', expected: identifier after ','"],
    ['requirements need a comma between them', 'a in (xyz)b notin ()', "found 'b', expected: ',' or 'end of string'"],
    ['set members need commas', 'a in (xyz abc)', "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ['an unclosed set is refused', 'a notin(', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ['a parenthesis is not an operator', 'a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['a parenthesis cannot start a selector', '(', "found '(', expected: !, identifier, or 'end of string'"],
    ['a colon is not allowed in a key', 'run:tmp', `unable to parse requirement: <nil>: Invalid value: "run:tmp": name part ${QNAME_RULE}`],
    ['a key has at most one slash', 'a/b/c', `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name ${QNAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`],
    ['a key prefix must be a lowercase subdomain', 'Ex.com/a', `unable to parse requirement: <nil>: Invalid value: "Ex.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['a key name longer than 63 characters is refused', `${'a'.repeat(64)}=b`, `unable to parse requirement: <nil>: Invalid value: "${'a'.repeat(64)}": name part must be no more than 63 characters`],
  ];
  for (const [name, input, message] of cases) {
    await t.test(name, () => assert.equal(badRequest(() => parseLabelSelector(input)), message));
  }
});

test('label selectors match label sets as upstream does', async (t) => {
  const cases: [string, string, Record<string, string> | undefined, boolean][] = [
    ['the empty selector matches anything', '', { x: 'y' }, true],
    ['an equality matches the same value', 'x=y', { x: 'y' }, true],
    ['every requirement must hold', 'x=y,z=w', { x: 'w', z: 'w' }, false],
    ['inequalities match other values', 'x!=y,z!=w', { x: 'z', z: 'a' }, true],
    ['an inequality matches a missing key', 'x!=y', {}, true],
    ['an equality never matches a missing key', 'x=z', {}, false],
    ['existence needs the key', 'x', { y: 'z' }, false],
    ['non-existence refuses the key', '!x', { x: 'z' }, false],
    ['greater-than compares integers', 'x>1', { x: '2' }, true],
    ['greater-than refuses a non-integer label', 'x>1', { x: 'v2' }, false],
    ['less-than compares integers', 'x<1', { x: '0' }, true],
    ['in matches a listed value', 'x in (foo),y notin (alpha)', { x: 'foo', y: 'baz' }, true],
    ['notin matches a missing key', 'x notin ()', { y: '' }, true],
    ['in () matches only the empty value', 'x in ()', { y: 'baz' }, false],
    ['labels may be absent altogether', '!x', undefined, true],
  ];
  for (const [name, sel, labels, want] of cases) {
    await t.test(name, () => assert.equal(matches(parseLabelSelector(sel), labels), want));
  }
});

test('LabelSelector objects convert as LabelSelectorAsSelector does', async (t) => {
  await t.test('matchLabels become equalities and expressions keep their operators', () => {
    const sel = labelSelectorFromObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'gone', operator: 'DoesNotExist' }] });
    assert.equal(selectorToString(sel), 'app=web,!gone,tier in (a,b)');
    assert.equal(matches(sel, { app: 'web', tier: 'a' }), true);
    assert.equal(matches(sel, { app: 'web', tier: 'c' }), false);
  });
  await t.test('an empty object selects everything', () => assert.equal(matches(labelSelectorFromObject({}), { a: 'b' }), true));
  await t.test('a missing selector selects nothing', () => assert.equal(matches(labelSelectorFromObject(undefined), {}), false));
  await t.test('selectorToString accepts the object form', () => assert.equal(selectorToString({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2'));
  await t.test('an unknown operator is named', () =>
    assert.equal(badRequest(() => labelSelectorFromObject({ matchExpressions: [{ key: 'x', operator: 'Foo' }] })), '"Foo" is not a valid label selector operator'));
  await t.test('In without values is refused with the field path', () =>
    assert.equal(badRequest(() => labelSelectorFromObject({ matchExpressions: [{ key: 'x', operator: 'In' }] })), "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"));
  await t.test('Exists with values is refused', () =>
    assert.equal(badRequest(() => labelSelectorFromObject({ matchExpressions: [{ key: 'x', operator: 'Exists', values: ['a'] }] })), 'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist'));
  await t.test('the string form parses back to the same selector', () => {
    const s = selectorToString({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x', 'y'] }] });
    assert.equal(selectorToString(parseLabelSelector(s)), s);
  });
  await t.test('a set selector pins each key', () => assert.equal(labelRequiresExactMatch(selectorFromSet({ app: 'web' }), 'app'), 'web'));
});

test('field selectors parse as fields.ParseSelector does', async (t) => {
  const good: [string, string, string][] = [
    ['terms are sorted and == prints as =', 'b==2,a=1', 'a=1,b=2'],
    ['an inequality keeps its operator', 'status.phase!=Failed', 'status.phase!=Failed'],
    ['an escaped comma stays inside the value', 'x=a\\,b', 'x=a\\,b'],
    ['the empty selector has no terms', '', ''],
  ];
  for (const [name, input, out] of good) await t.test(name, () => assert.equal(fieldSelectorToString(parseFieldSelector(input)), out));
  const bad: [string, string, string][] = [
    ['a term without an operator is not understood', 'a', "invalid selector: 'a'; can't understand 'a'"],
    ['an unescaped comma splits a value', 'x=a,b', "invalid selector: 'x=a,b'; can't understand 'b'"],
    ['an unknown escape is refused', 'x=a\\q', 'invalid field selector: invalid escape sequence: \\q'],
    ['a second equals in a value must be escaped', 'x=a=b', 'invalid field selector: unescaped character in value: ='],
  ];
  for (const [name, input, message] of bad) await t.test(name, () => assert.equal(badRequest(() => parseFieldSelector(input)), message));
});

test('field selectors evaluate on objects of a kind', async (t) => {
  const pods = resourceFor('', 'v1', 'pods');
  const pod: KubeObject = {
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { nodeName: 'n1', restartPolicy: 'Always' },
    status: { phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }, { ip: 'fd00::9' }] },
  };
  const cases: [string, string, boolean][] = [
    ['a name equality matches the name', 'metadata.name=web-1', true],
    ['kubectl describe node combines node and phase terms', 'spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed', true],
    ['a missing boolean reads as false', 'spec.hostNetwork=false', true],
    ['the pod IP is the first of podIPs', 'status.podIP=10.0.0.9', true],
    ['status.podIPs is accepted but always empty upstream', 'status.podIPs=', true],
    ['a missing string reads as empty', 'status.nominatedNodeName=', true],
    ['the old spec.host label means spec.nodeName', 'spec.host=n1', true],
    ['a different namespace does not match', 'metadata.namespace=kube-system', false],
  ];
  for (const [name, sel, want] of cases) await t.test(name, () => assert.equal(fieldSelectorMatcher(pods, sel)(pod), want));

  await t.test("jobs' status.successful is status.succeeded, 0 when missing", () => {
    const jobs = resourceFor('batch', 'v1', 'jobs');
    assert.equal(fieldSelectorMatcher(jobs, 'status.successful=0')({ metadata: { name: 'j' } }), true);
    assert.equal(fieldSelectorMatcher(jobs, 'status.successful=3')({ metadata: { name: 'j' }, status: { succeeded: 3 } }), true);
  });
  await t.test('a label the kind does not declare is refused with upstream words', () =>
    assert.equal(badRequest(() => fieldSelectorMatcher(pods, 'spec.containers=x')), 'field label not supported: spec.containers'));
  await t.test('a kind with only metadata labels refuses others with the default wording', () =>
    assert.equal(
      badRequest(() => fieldSelectorMatcher(resourceFor('apps', 'v1', 'deployments'), 'spec.replicas=1')),
      '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ));
  await t.test('nodes do not accept metadata.namespace', () =>
    assert.equal(badRequest(() => fieldSelectorMatcher(resourceFor('', 'v1', 'nodes'), 'metadata.namespace=x')), 'field label not supported: metadata.namespace'));
  await t.test('a name equality pins the name for watch fan-out', () => {
    assert.equal(pinnedName('metadata.name=web,metadata.namespace=default'), 'web');
    assert.equal(pinnedName('metadata.name!=web'), undefined);
    assert.equal(pinnedName(''), undefined);
  });
});
