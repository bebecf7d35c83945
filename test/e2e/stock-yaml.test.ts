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
import { startSkiff, type Skiff } from './harness.js';

const EXAMPLES = resolve(import.meta.dirname, '../../../shared/k8s-examples');

interface Example {
  file: string;
  kinds: string[];
  namespaces: string[];
}

function examples(): Example[] {
  const index = readFileSync(join(EXAMPLES, 'SOURCES.md'), 'utf8');
  const out: Example[] = [];
  for (const m of index.matchAll(/^\| `([^`]+\.yaml)` \| ([^|]*) \|/gm)) {
    const file = m[1]!;
    const docs = parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'));
    const objs = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as { kind?: string; metadata?: { namespace?: string } } | null).filter((o) => o?.kind);
    out.push({
      file,
      kinds: objs.map((o) => o!.kind!),
      namespaces: [...new Set(objs.map((o) => o!.metadata?.namespace).filter((n): n is string => !!n))],
    });
  }
  return out;
}

const served = new Set(RESOURCES.map((r) => r.kind));

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
    const queue = [...all];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let e = queue.shift(); e; e = queue.shift()) {
          const r = await s.kubectl(['apply', '--dry-run=server', '-f', join(EXAMPLES, e.file)]);
          const unserved = [...new Set(e.kinds.filter((k) => !served.has(k)))];
          if (/InternalError|Internal error|500/.test(r.stderr)) failures.push(`${e.file}: server error: ${r.stderr}`);
          else if (unserved.length === 0) {
            if (r.code !== 0) failures.push(`${e.file}: refused: ${r.stderr}`);
            else accepted++;
          } else {
            for (const k of unserved) if (!r.stderr.includes(`no matches for kind "${k}"`)) failures.push(`${e.file}: expected "no matches for kind ${k}", got: ${r.stderr}`);
            const other = r.stderr.split('\n').filter((l) => l.trim() && !/no matches for kind|ensure CRDs are installed first|resource mapping not found/.test(l));
            if (other.length) failures.push(`${e.file}: unexpected errors: ${other.join(' | ')}`);
          }
        }
      }),
    );
    assert.deepEqual(failures, []);
    assert.ok(accepted > 80, `accepted ${accepted} examples`);
  });
});
