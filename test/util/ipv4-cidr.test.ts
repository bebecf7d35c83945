import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, formatIpv4, formatIpv4Cidr, parseIpv4, parseIpv4Cidr } from '../../src/util/ipv4-cidr.js';

test('parseIpv4 reads dotted quads and refuses anything else', () => {
  const cases: [string, string, number | undefined][] = [
    ['a plain address is its 32-bit value', '10.42.1.2', 10 * 2 ** 24 + 42 * 2 ** 16 + 256 + 2],
    ['the top address does not go negative', '255.255.255.255', 2 ** 32 - 1],
    ['an octet above 255 is refused', '10.256.0.1', undefined],
    ['three octets are refused', '10.0.1', undefined],
    ['an IPv6 address is refused', 'fd00::1', undefined],
  ];
  for (const [name, input, want] of cases) assert.equal(parseIpv4(input), want, name);
});

test('formatIpv4 is the inverse of parseIpv4', () => {
  for (const ip of ['0.0.0.0', '10.42.255.1', '255.255.255.255', '192.168.0.10']) assert.equal(formatIpv4(parseIpv4(ip)!), ip);
});

test('parseIpv4Cidr reads blocks as Go’s net.ParseCIDR does', () => {
  const cases: [string, string, string | undefined][] = [
    ['a block keeps its network address', '10.42.0.0/16', '10.42.0.0/16'],
    ['host bits are cleared', '10.42.7.9/24', '10.42.7.0/24'],
    ['a /32 is one address', '10.1.2.3/32', '10.1.2.3/32'],
    ['a prefix above 32 is refused', '10.0.0.0/33', undefined],
    ['a missing prefix is refused', '10.0.0.0', undefined],
    ['an IPv6 block is refused', 'fd00::/64', undefined],
  ];
  for (const [name, input, want] of cases) {
    const c = parseIpv4Cidr(input);
    assert.equal(c ? formatIpv4Cidr(c) : undefined, want, name);
  }
});

test('cidrContains includes the first and last address and nothing beyond', () => {
  const c = parseIpv4Cidr('10.42.3.0/24')!;
  assert.equal(cidrContains(c, parseIpv4('10.42.3.0')!), true);
  assert.equal(cidrContains(c, parseIpv4('10.42.3.255')!), true);
  assert.equal(cidrContains(c, parseIpv4('10.42.4.0')!), false);
  assert.equal(cidrContains(c, parseIpv4('10.42.2.255')!), false);
});
