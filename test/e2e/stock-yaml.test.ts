// The Kubernetes documentation's own manifests (../shared/k8s-examples), unchanged: every file
// whose kinds Skiff serves is accepted by `kubectl apply --dry-run=server`; the others fail with
// kubectl's "no matches for kind" for exactly the kinds Skiff does not serve — never a crash or
// a 500.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { RESOURCES } from '../../src/api/kinds.js';
import { apiVersionOf } from '../../src/api/types.js';
import { startSkiff, type Skiff } from './harness.js';

const EXAMPLES = resolve(import.meta.dirname, '../../../shared/k8s-examples');

interface Example {
  file: string;
  /** `apiVersion/Kind` of each document. */
  kinds: string[];
  namespaces: string[];
}

// Examples a Kubernetes 1.32 API server refuses as well, and the message it refuses them with.
const REFUSED_BY_KUBERNETES_1_32: Record<string, RegExp> = {
  'controllers/job-success-policy-example.yaml': /resource name may not be empty/, // no metadata.name
  'pods/pod-with-node-affinity.yaml': /cannot unmarshal array into Go struct field NodeAffinity\.spec\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution of type v1\.NodeSelector/,
  'pods/pod-with-numeric-toleration.yaml': /spec\.tolerations\[0\]\.operator: Unsupported value: "Gt"/, // an operator newer than 1.32
  'pods/probe/grpc-liveness.yaml': /unknown field "spec\.containers\[0\]\.livenessProbe\.gRPC"/, // the field is "grpc"
  'pods/emptydir-volume-mode.yaml': /unknown field "spec\.volumes\[0\]\.emptyDir\.mode"/, // a field newer than 1.32
  'pods/security/security-context-7.yaml': /unknown field "spec\.containers\[0\]\.securityContext\.cgroupOptions"/, // newer than 1.32
};

function examples(): Example[] {
  const index = readFileSync(join(EXAMPLES, 'SOURCES.md'), 'utf8');
  const out: Example[] = [];
  for (const m of index.matchAll(/^\| `([^`]+\.yaml)` \| ([^|]*) \|/gm)) {
    const file = m[1]!;
    const docs = parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'));
    const objs = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as { apiVersion?: string; kind?: string; metadata?: { namespace?: string } } | null).filter((o) => o?.kind);
    out.push({
      file,
      kinds: objs.map((o) => `${o!.apiVersion}/${o!.kind}`),
      namespaces: [...new Set(objs.map((o) => o!.metadata?.namespace).filter((n): n is string => !!n))],
    });
  }
  return out;
}

const served = new Set(RESOURCES.map((r) => `${apiVersionOf(r.group, r.version)}/${r.kind}`));

describe('stock Kubernetes example manifests', () => {
  let s: Skiff;
  const all = existsSync(EXAMPLES) ? examples() : [];
  before(async () => {
    assert.ok(existsSync(EXAMPLES), `the example manifests are expected at ${EXAMPLES} (shared/ beside the repository)`);
    assert.ok(all.length > 100, `found ${all.length} examples in ${EXAMPLES}`);
    s = await startSkiff();
    const namespaces = new Set(all.flatMap((e) => e.namespaces));
    for (const ns of namespaces) {
      const r = await s.kubectl(['create', 'namespace', ns]);
      assert.ok(r.code === 0 || /AlreadyExists/.test(r.stderr), r.stderr);
    }
  });
  after(async () => {
    await s?.stop();
  });

  test('every example is accepted, or refused only for the kinds Skiff does not serve', async () => {
    const failures: string[] = [];
    let accepted = 0;
    let refused = 0;
    const queue = [...all];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let e = queue.shift(); e; e = queue.shift()) {
          const r = await s.kubectl(['apply', '--dry-run=server', '-f', join(EXAMPLES, e.file)]);
          const unserved = [...new Set(e.kinds.filter((k) => !served.has(k)))];
          const refusal = REFUSED_BY_KUBERNETES_1_32[e.file];
          if (/InternalError|Internal error|500/.test(r.stderr)) failures.push(`${e.file}: server error: ${r.stderr}`);
          else if (refusal) {
            if (r.code === 0 || !refusal.test(r.stderr)) failures.push(`${e.file}: expected the refusal ${refusal}, got: ${r.code} ${r.stderr}`);
            else refused++;
          } else if (unserved.length === 0) {
            if (r.code !== 0) failures.push(`${e.file}: refused: ${r.stderr}`);
            else accepted++;
          } else {
            for (const k of unserved) {
              const kind = k.slice(k.lastIndexOf('/') + 1);
              const version = k.slice(0, k.lastIndexOf('/'));
              if (!r.stderr.includes(`no matches for kind "${kind}" in version "${version}"`)) failures.push(`${e.file}: expected "no matches for kind ${kind} in version ${version}", got: ${r.stderr}`);
            }
            const other = r.stderr.split('\n').filter((l) => l.trim() && !/no matches for kind|ensure CRDs are installed first|resource mapping not found/.test(l));
            if (other.length) failures.push(`${e.file}: unexpected errors: ${other.join(' | ')}`);
          }
        }
      }),
    );
    assert.deepEqual(failures, []);
    assert.ok(accepted > 80, `accepted ${accepted} examples`);
    assert.equal(refused, Object.keys(REFUSED_BY_KUBERNETES_1_32).length, 'each known refusal was seen');
  });
});
