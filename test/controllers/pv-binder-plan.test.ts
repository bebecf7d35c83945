// Tables for the PV binder's matching (pv-binder-plan.ts): class, access modes (smallest superset
// group first), capacity (smallest that fits), selector, volumeMode, pre-bound volumes, delayed binding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { defaultClass, findBestMatch, volumeUnfitReason } from '../../src/controllers/pv-binder-plan.js';

const pv = (name: string, size: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}): PersistentVolume => ({
  metadata: { name, labels },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', volumeMode: 'Filesystem', ...extra },
  status: { phase: 'Available' },
});
const pvc = (size: string, extra: Record<string, unknown> = {}): PersistentVolumeClaim => ({
  metadata: { name: 'c', namespace: 'ns', uid: 'u1' },
  spec: { resources: { requests: { storage: size } }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', volumeMode: 'Filesystem', ...extra },
});

const cases: { name: string; claim: PersistentVolumeClaim; volumes: PersistentVolume[]; opts?: { delayBinding?: boolean; nodeLabels?: Record<string, string> }; want: string | undefined }[] = [
  { name: 'smallest volume that fits', claim: pvc('1Gi'), volumes: [pv('big', '10Gi'), pv('small', '1Gi'), pv('tiny', '500Mi')], want: 'small' },
  { name: 'none big enough', claim: pvc('2Gi'), volumes: [pv('a', '1Gi')], want: undefined },
  { name: 'class must match', claim: pvc('1Gi'), volumes: [pv('other', '1Gi', { storageClassName: 'fast' })], want: undefined },
  { name: 'empty class matches only empty class', claim: pvc('1Gi', { storageClassName: '' }), volumes: [pv('m', '1Gi'), pv('e', '5Gi', { storageClassName: '' })], want: 'e' },
  { name: 'access modes: volume must offer all', claim: pvc('1Gi', { accessModes: ['ReadWriteMany'] }), volumes: [pv('rwo', '1Gi'), pv('rwx', '5Gi', { accessModes: ['ReadWriteOnce', 'ReadWriteMany'] })], want: 'rwx' },
  { name: 'fewest modes group first, even if bigger', claim: pvc('1Gi'), volumes: [pv('multi', '1Gi', { accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }), pv('single', '8Gi')], want: 'single' },
  { name: 'selector matchLabels', claim: pvc('1Gi', { selector: { matchLabels: { tier: 'db' } } }), volumes: [pv('a', '1Gi'), pv('b', '2Gi', {}, { tier: 'db' })], want: 'b' },
  { name: 'selector matchExpressions', claim: pvc('1Gi', { selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] } }), volumes: [pv('a', '1Gi', {}, { zone: 'z2' }), pv('b', '3Gi', {}, { zone: 'z1' })], want: 'b' },
  { name: 'volumeMode must match', claim: pvc('1Gi', { volumeMode: 'Block' }), volumes: [pv('fs', '1Gi'), pv('blk', '2Gi', { volumeMode: 'Block' })], want: 'blk' },
  { name: 'bound volumes are skipped', claim: pvc('1Gi'), volumes: [pv('taken', '1Gi', { claimRef: { namespace: 'ns', name: 'other', uid: 'x' } })], want: undefined },
  { name: 'non-Available volumes are skipped', claim: pvc('1Gi'), volumes: [{ ...pv('rel', '1Gi'), status: { phase: 'Released' } }], want: undefined },
  { name: 'pre-bound volume wins over a smaller one', claim: pvc('1Gi'), volumes: [pv('small', '1Gi'), pv('mine', '9Gi', { claimRef: { namespace: 'ns', name: 'c' } })], want: 'mine' },
  { name: 'pre-bound volume wins even with another class', claim: pvc('1Gi'), volumes: [pv('mine', '9Gi', { storageClassName: 'x', claimRef: { namespace: 'ns', name: 'c', uid: 'u1' } })], want: 'mine' },
  { name: 'delayed binding: only pre-bound volumes', claim: pvc('1Gi'), volumes: [pv('free', '1Gi')], opts: { delayBinding: true }, want: undefined },
  { name: 'node known: node affinity filters', claim: pvc('1Gi'), opts: { nodeLabels: { 'kubernetes.io/hostname': 'n1' } }, volumes: [
    pv('n2', '1Gi', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } } }),
    pv('n1', '2Gi', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } }),
  ], want: 'n1' },
];

for (const c of cases) {
  test(`findBestMatch: ${c.name}`, () => {
    assert.equal(findBestMatch(c.claim, c.volumes, c.opts)?.metadata?.name, c.want);
  });
}

test('volumeUnfitReason names what does not fit, as checkVolumeSatisfyClaim', () => {
  assert.equal(volumeUnfitReason(pv('a', '1Gi'), pvc('2Gi')), 'requested PV is too small');
  assert.equal(volumeUnfitReason(pv('a', '1Gi', { storageClassName: 'x' }), pvc('1Gi')), 'storageClassName does not match');
  assert.equal(volumeUnfitReason(pv('a', '1Gi', { volumeMode: 'Block' }), pvc('1Gi')), 'incompatible volumeMode');
  assert.equal(volumeUnfitReason(pv('a', '1Gi'), pvc('1Gi', { accessModes: ['ReadWriteMany'] })), 'incompatible accessMode');
  assert.equal(volumeUnfitReason(pv('a', '1Gi'), pvc('1Gi')), undefined);
});

test('defaultClass: the newest annotated class', () => {
  const sc = (name: string, ts: string, def: boolean): StorageClass => ({ metadata: { name, creationTimestamp: ts, annotations: def ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : ({} as Record<string, string>) }, provisioner: 'p' });
  assert.equal(defaultClass([sc('a', '2026-01-01T00:00:00Z', true), sc('b', '2026-01-02T00:00:00Z', true), sc('c', '2026-01-03T00:00:00Z', false)])?.metadata?.name, 'b');
  assert.equal(defaultClass([sc('c', '2026-01-03T00:00:00Z', false)]), undefined);
});
