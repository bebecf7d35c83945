// The layering rule of DESIGN.md §3, enforced: layers import only to their left, peers never
// import each other, and only apiserver/ touches store/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { test } from 'node:test';

const SRC = resolve('src');
const RANK: Record<string, number> = { util: 0, api: 1, store: 2, client: 2, apiserver: 3, controllers: 3, scheduler: 3, node: 3, proxy: 3, dns: 3, cli: 4 };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(path: string): string {
  return relative(SRC, path).split('/')[0]!;
}

/** Every import of another layer that the rule forbids, as "file → target". */
export function violations(): string[] {
  const out: string[] = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      const to = layerOf(resolve(dirname(f), spec));
      if (to === from) continue;
      const ok = to === 'store' ? from === 'apiserver' : (RANK[to] ?? 99) < (RANK[from] ?? -1);
      if (!ok) out.push(`${relative(SRC, f)} → ${spec}`);
    }
  }
  return out;
}

test('every layer imports only from layers to its left', () => {
  assert.ok(files(SRC).length > 10, 'the source tree was found');
  assert.deepEqual(violations(), []);
});

test('every source directory is a known layer', () => {
  const dirs = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  for (const d of dirs) assert.ok(d in RANK, `src/${d} is not a layer of DESIGN.md`);
});
