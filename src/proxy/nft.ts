// The nftables backend: a rule model (rules.ts) as `nft -f` text, the script that turns one model
// into another changing only what changed (map elements added and deleted, changed chains flushed
// and refilled, removed chains and sets deleted), and running such a script as one `nft -f -`
// process, optionally inside a network namespace (tests, several test clusters on one machine).
// nft applies a whole script as one kernel transaction, so a failed diff leaves the old rules.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ChainDef, MapDef, Model, SetDef } from './rules.js';

/** Table names are `skiff-<instance>`; the instance is checked so it is safe in a script. */
const INSTANCE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/;
/** Elements per `add element` line, so no single line grows to megabytes. */
const CHUNK = 500;

/** `ip skiff-<instance>`, the table one proxy owns. Throws on an unsafe instance name. */
export function tableName(instance: string): string {
  if (!INSTANCE.test(instance)) throw new Error(`invalid proxy instance ${JSON.stringify(instance)}: 1-41 of [A-Za-z0-9_-]`);
  return `ip skiff-${instance}`;
}

function setDecl(s: SetDef): string {
  return `{ type ${s.type};${s.flags ? ` flags ${s.flags};` : ''}${s.timeoutSeconds !== undefined ? ` timeout ${s.timeoutSeconds}s;` : ''} }`;
}

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

function chainLines(t: string, name: string, c: ChainDef): string[] {
  return c.rules.map((r) => `add rule ${t} ${name} ${r}`);
}

function addElements(t: string, name: string, elems: string[]): string[] {
  return chunks(elems).map((c) => `add element ${t} ${name} { ${c.join(', ')} }`);
}

function deleteElements(t: string, name: string, keys: string[]): string[] {
  return chunks(keys).map((c) => `delete element ${t} ${name} { ${c.join(', ')} }`);
}

function mapElems(m: MapDef, keys: string[]): string[] {
  return keys.map((k) => `${k} : ${m.elements[k]}`);
}

/**
 * The full ruleset as an nft script that replaces whatever table of that name exists (the
 * `add table; delete table` pair makes the delete safe when there is none). Used once at start
 * and after a failed apply, never per change.
 */
export function renderNft(model: Model, instance: string): string {
  const t = tableName(instance);
  const out = [`add table ${t}`, `delete table ${t}`, `add table ${t}`];
  for (const [name, c] of Object.entries(model.chains)) out.push(`add chain ${t} ${name}${c.hook ? ` { ${c.hook} }` : ''}`);
  for (const [name, s] of Object.entries(model.sets)) {
    out.push(`add set ${t} ${name} ${setDecl(s)}`);
    if (!s.flags?.includes('dynamic')) out.push(...addElements(t, name, s.elements));
  }
  for (const [name, m] of Object.entries(model.maps)) {
    out.push(`add map ${t} ${name} { type ${m.type}; }`);
    out.push(...addElements(t, name, mapElems(m, Object.keys(m.elements))));
  }
  for (const [name, c] of Object.entries(model.chains)) out.push(...chainLines(t, name, c));
  return out.join('\n') + '\n';
}

function sameRules(a: ChainDef, b: ChainDef): boolean {
  if (a === b) return true; // a cached fragment's chain: unchanged by construction
  return a.hook === b.hook && a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]);
}

/**
 * The script that turns the table from `old` into `next`; empty when nothing changed. Order
 * matters inside the one transaction: new chains and sets first (so rules and elements can name
 * them), then changed chains refilled, then elements, and last the chains and sets nothing
 * refers to any more. A set's or map's definition never changes under the same name (rules.ts
 * puts what would change in the name), so only their elements are compared.
 */
export function diffNft(old: Model, next: Model, instance: string): string {
  const t = tableName(instance);
  const out: string[] = [];
  for (const [name, c] of Object.entries(next.chains)) {
    if (!old.chains[name]) out.push(`add chain ${t} ${name}${c.hook ? ` { ${c.hook} }` : ''}`);
  }
  for (const [name, s] of Object.entries(next.sets)) if (!old.sets[name]) out.push(`add set ${t} ${name} ${setDecl(s)}`);
  for (const [name, m] of Object.entries(next.maps)) if (!old.maps[name]) out.push(`add map ${t} ${name} { type ${m.type}; }`);
  for (const [name, c] of Object.entries(next.chains)) {
    const before = old.chains[name];
    if (before && sameRules(before, c)) continue;
    if (before) out.push(`flush chain ${t} ${name}`);
    out.push(...chainLines(t, name, c));
  }
  for (const [name, s] of Object.entries(next.sets)) {
    if (s.flags?.includes('dynamic')) continue;
    const had = new Set(old.sets[name]?.elements ?? []);
    const has = new Set(s.elements);
    out.push(...deleteElements(t, name, [...had].filter((e) => !has.has(e))));
    out.push(...addElements(t, name, s.elements.filter((e) => !had.has(e))));
  }
  for (const [name, m] of Object.entries(next.maps)) {
    const before = old.maps[name]?.elements ?? {};
    const gone = Object.keys(before).filter((k) => m.elements[k] !== before[k]);
    const added = Object.keys(m.elements).filter((k) => m.elements[k] !== before[k]);
    out.push(...deleteElements(t, name, gone));
    out.push(...addElements(t, name, mapElems(m, added)));
  }
  const goneChains = Object.keys(old.chains).filter((n) => !next.chains[n]);
  // flushed first, then deleted: removed chains may jump to each other
  for (const n of goneChains) out.push(`flush chain ${t} ${n}`);
  for (const n of goneChains) out.push(`delete chain ${t} ${n}`);
  for (const n of Object.keys(old.sets)) if (!next.sets[n]) out.push(`delete set ${t} ${n}`);
  for (const n of Object.keys(old.maps)) if (!next.maps[n]) out.push(`delete map ${t} ${n}`);
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

let nftPath: string | undefined;
/** Where `nft` is, or undefined when nftables is not installed. */
export function nftBinary(): string | undefined {
  if (nftPath !== undefined) return nftPath;
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (d && existsSync(`${d}/nft`)) return (nftPath = `${d}/nft`);
  }
  return undefined;
}

/**
 * Runs `nft <args>` (inside network namespace `netns` when given, through `ip netns exec`) with
 * `stdin`; resolves with stdout, rejects with nft's error text (which names the failing line).
 */
export function runNft(args: string[], opts: { stdin?: string; netns?: string } = {}): Promise<string> {
  const nft = nftBinary();
  if (!nft) return Promise.reject(new Error('nftables (the `nft` command) is not installed'));
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, nft, ...args]] : [nft, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`nft ${args.join(' ')}: ${stderr.trim().slice(0, 2000) || `exit ${code}`}`));
    });
    child.stdin.on('error', () => undefined); // nft may exit before reading everything; close reports it
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Applies a script (renderNft or diffNft output) in one transaction. An empty script is a no-op. */
export async function applyNft(script: string, netns?: string): Promise<void> {
  if (script === '') return;
  await runNft(['-f', '-'], { stdin: script, ...(netns ? { netns } : {}) });
}

/** Removes the instance's table; no error when it is already gone. */
export async function deleteTable(instance: string, netns?: string): Promise<void> {
  const t = tableName(instance);
  await applyNft(`add table ${t}\ndelete table ${t}\n`, netns);
}
