import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalQuantity,
  compareQuantities,
  formatQuantity,
  milliValue,
  parseQuantity,
  roundUpQuantity,
  tryParseQuantity,
} from '../../src/util/quantity.js';

describe('parseQuantity', () => {
  const cases: [string, string, number][] = [
    ['a milli suffix is thousandths', '500m', 0.5],
    ['a binary suffix is a power of 1024', '128Mi', 128 * 1024 * 1024],
    ['a decimal suffix is a power of 1000', '2k', 2000],
    ['a plain integer is itself', '3', 3],
    ['a decimal fraction is exact', '0.25', 0.25],
    ['an exponent multiplies by a power of ten', '1e3', 1000],
    ['a negative sign is kept', '-1', -1],
    ['a trailing dot is allowed', '5.', 5],
    ['a leading dot is allowed', '.5', 0.5],
    ['micro and nano are supported', '2u', 2e-6],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.equal(parseQuantity(text), want));
  }

  const invalid: [string, string][] = [
    ['an unknown suffix is rejected', '1K'],
    ['a bare exponent marker is rejected', '1e'],
    ['an empty string is rejected', ''],
    ['inner whitespace is rejected', '1 Gi'],
    ['a lone dot is rejected', '.'],
    ['two dots are rejected', '1.2.3'],
  ];
  for (const [name, text] of invalid) {
    it(name, () => {
      assert.equal(tryParseQuantity(text), undefined);
      assert.throws(() => parseQuantity(text), /quantities must match the regular expression/);
    });
  }
});

describe('formatQuantity gives the canonical form kube-apiserver stores', () => {
  const cases: [string, string, string][] = [
    ['half a CPU is written in millicores', '0.5', '500m'],
    ['a thousand is written with k', '1000', '1k'],
    ['1500 stays 1500 because 1.5k is not whole', '1500', '1500'],
    ['whole mebibytes keep their binary suffix', '128Mi', '128Mi'],
    ['binary values move to the largest whole suffix', '2048Mi', '2Gi'],
    ['half a gibibyte becomes mebibytes', '0.5Gi', '512Mi'],
    ['a binary value below 1024 is written in decimal', '0.5Ki', '512'],
    ['one and a half cores are written in millicores', '1.5', '1500m'],
    ['a binary value that is not whole bytes is written in decimal', '0.3Ki', '307200m'],
    ['a binary value with no whole larger suffix keeps bytes', '1.5Ki', '1536'],
    ['an exponent keeps exponent notation', '1e3', '1e3'],
    ['zero is 0', '0m', '0'],
    ['millicores that are whole cores become cores', '2000m', '2'],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.equal(canonicalQuantity(text), want));
  }
});

describe('quantity arithmetic', () => {
  const q = (s: string) => {
    const v = tryParseQuantity(s);
    assert.ok(v, s);
    return v;
  };
  it('compares across suffixes exactly', () => {
    assert.equal(compareQuantities(q('1Gi'), q('1073741824')), 0);
    assert.ok(compareQuantities(q('500m'), q('1')) < 0);
    assert.ok(compareQuantities(q('1Ei'), q('1E')) > 0);
  });
  it('rounds sub-milli values up to one milli', () => {
    assert.equal(formatQuantity(roundUpQuantity(q('0.1m'), -3)), '1m');
    assert.equal(formatQuantity(roundUpQuantity(q('1.0001'), -3)), '1001m');
  });
  it('rounding leaves values already at milli precision alone', () => {
    assert.equal(formatQuantity(roundUpQuantity(q('250m'), -3)), '250m');
  });
  it('reports milli values rounded up', () => {
    assert.equal(milliValue(q('250m')), 250);
    assert.equal(milliValue(q('2')), 2000);
    assert.equal(milliValue(q('1n')), 1);
  });
});
