// hostUpstreams as a table: which nameservers of a resolv.conf cluster DNS forwards to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostUpstreams } from '../../src/dns/upstreams.js';

const cases: { name: string; text: string; skip?: string[]; want: string[] }[] = [
  { name: 'nameservers are taken in order on port 53', text: 'search example.org\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions ndots:1\n', want: ['192.0.2.53:53', '192.0.2.54:53'] },
  { name: 'the cluster DNS itself is skipped, so it never forwards to itself', text: 'nameserver 10.43.0.10\nnameserver 192.0.2.53\n', skip: ['10.43.0.10'], want: ['192.0.2.53:53'] },
  { name: 'comments, blank lines and junk are ignored', text: '# nameserver 192.0.2.1\n; also a comment\n\nnameserver   192.0.2.2  # trailing\nnameserver not-an-ip\n', want: ['192.0.2.2:53'] },
  { name: 'IPv6 nameservers lose their zone suffix', text: 'nameserver fe80::1%eth0\nnameserver 2001:db8::53\n', want: ['fe80::1:53', '2001:db8::53:53'] },
  { name: 'a repeated nameserver is listed once', text: 'nameserver 192.0.2.2\nnameserver 192.0.2.2\n', want: ['192.0.2.2:53'] },
  { name: 'a loopback resolver (systemd-resolved) is kept: the server runs in the host network namespace', text: 'nameserver 127.0.0.53\n', want: ['127.0.0.53:53'] },
  { name: 'no nameserver gives no upstream', text: 'search a.b\n', want: [] },
];

for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(hostUpstreams(c.text, c.skip ? { skip: c.skip } : {}).map((u) => `${u.host}:${u.port}`), c.want);
  });
}
