// Label selectors, as k8s.io/apimachinery/pkg/labels parses, prints and matches them. The string
// parser is a faithful port of upstream's lexer and recursive-descent parser, because kubectl users
// paste selectors and read the errors back: the same input must be accepted or refused with the same
// words ("unable to parse requirement: …", "found ',', expected: identifier after ','").
// Field selectors live in field-selectors.ts and are re-exported from here.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { errors } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './label-syntax.js';

export * from './field-selectors.js';

/** Upstream's selection.Operator spellings. `exists` has no symbol; `!` is DoesNotExist. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/** A parsed label selector: the AND of its requirements, sorted by key. `nothing` (what a missing
 *  LabelSelector object converts to) matches no object at all. Immutable; safe to share. */
export interface Selector {
  readonly requirements: readonly Requirement[];
  readonly nothing?: true;
}

export const EVERYTHING: Selector = Object.freeze({ requirements: Object.freeze([]) as readonly Requirement[] });
export const NOTHING: Selector = Object.freeze({ requirements: Object.freeze([]) as readonly Requirement[], nothing: true as const });

/** True when the selector does not restrict anything (an empty string, `{}`). */
export function isEverything(sel: Selector): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

// ---- requirement construction (labels.NewRequirement) ----

/** A field error as Go's field.Invalid prints it; `shown` is the value already formatted. */
const invalid = (path: string, shown: string, detail: string) => `${path}: Invalid value: ${shown}: ${detail}`;
/** Go's %q for the strings we meet (JSON escaping is close enough for printable input). */
const q = (s: string) => JSON.stringify(s);
/** Go's %#v of a []string: `[]string{"a", "b"}`, or `[]string(nil)` when empty. */
const goStrings = (vs: readonly string[]) => (vs.length === 0 ? '[]string(nil)' : `[]string{${vs.map(q).join(', ')}}`);

/** The messages validateLabelKey gives for `key` at `path` ("<nil>" is how upstream prints the
 *  parser's nil path), or undefined when the key is a valid qualified name. */
function keyError(path: string, key: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? invalid(path, q(key), errs.join('; ')) : undefined;
}

/** Builds one requirement, validating key, operator arity and values as labels.NewRequirement
 *  does, with its field paths ("key", "values", "values[0][key]"). Returns the requirement or the
 *  error messages found. */
function newRequirement(key: string, operator: LabelOperator, values: string[]): Requirement | string[] {
  const errs: string[] = [];
  const ke = keyError('key', key);
  if (ke) errs.push(ke);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid('values', goStrings(values), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid('values', goStrings(values), 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid('values', goStrings(values), 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid('values', goStrings(values), "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!isInt64(v)) errs.push(invalid(`values[${i}]`, q(v), "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const ve = isValidLabelValue(v);
    if (ve.length) errs.push(invalid(`values[${i}][${key}]`, q(v), ve.join('; ')));
  });
  return errs.length ? errs : { key, operator, values };
}

/** strconv.ParseInt(s, 10, 64) succeeds. */
function isInt64(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** Go's utilerrors.Aggregate wording: one message alone, several as "[a, b]", duplicates dropped. */
function aggregate(errs: string[]): string {
  const msgs = [...new Set(errs)];
  return msgs.length === 1 ? (msgs[0] as string) : `[${msgs.join(', ')}]`;
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// ---- the string syntax (labels.Parse) ----

const enum Tok {
  Error,
  End,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const KEYWORDS: Record<string, Tok> = {
  ')': Tok.ClosedPar, ',': Tok.Comma, '!': Tok.DoesNotExist, '==': Tok.DoubleEquals, '=': Tok.Equals, '>': Tok.GreaterThan,
  in: Tok.In, '<': Tok.LessThan, '!=': Tok.NotEquals, notin: Tok.NotIn, '(': Tok.OpenPar,
};
const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => '=!(),><'.includes(c);

interface Item {
  tok: Tok;
  lit: string;
}

/** Splits the input into tokens exactly like upstream's Lexer (longest special-symbol match). */
function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] as string)) pos++;
    if (pos >= s.length) {
      items.push({ tok: Tok.End, lit: '' });
      return items;
    }
    const c = s[pos] as string;
    if (isSpecial(c)) {
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos] as string)) {
        buf += s[pos];
        const t = KEYWORDS[buf];
        if (t !== undefined) last = { tok: t, lit: buf };
        else if (last) break;
        pos++;
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buf}'` });
      // an unmatched run is consumed whole; upstream ends parsing on the error token anyway
    } else {
      let buf = '';
      while (pos < s.length && !isSpecial(s[pos] as string) && !isWhitespace(s[pos] as string)) buf += s[pos++];
      const t = KEYWORDS[buf];
      items.push({ tok: t ?? Tok.Identifier, lit: buf });
    }
  }
}

class ParseError extends Error {}

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  /** In a values context the keywords `in` and `notin` are plain identifiers. */
  private peek(values: boolean): Item {
    const it = this.items[this.pos] ?? { tok: Tok.End, lit: '' };
    return values && (it.tok === Tok.In || it.tok === Tok.NotIn) ? { tok: Tok.Identifier, lit: it.lit } : it;
  }
  private next(values: boolean): Item {
    const it = this.peek(values);
    if (this.pos < this.items.length) this.pos++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      if (tok === Tok.End) return reqs;
      if (tok !== Tok.Identifier && tok !== Tok.DoesNotExist) throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      let r: Requirement;
      try {
        r = this.requirement();
      } catch (e) {
        if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      reqs.push(r);
      const t = this.next(true);
      if (t.tok === Tok.End) return reqs;
      if (t.tok !== Tok.Comma) throw new ParseError(`found '${t.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek(true);
      if (t2.tok !== Tok.Identifier && t2.tok !== Tok.DoesNotExist) throw new ParseError(`found '${t2.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): Requirement {
    let op: LabelOperator | undefined;
    let t = this.next(true);
    if (t.tok === Tok.DoesNotExist) {
      op = '!';
      t = this.next(true);
    }
    if (t.tok !== Tok.Identifier) throw new ParseError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErr = keyError('<nil>', key);
    if (keyErr) throw new ParseError(keyErr);
    const after = this.peek(true).tok;
    if ((after === Tok.End || after === Tok.Comma) && op !== '!') op = 'exists';
    if (op === 'exists' || op === '!') return build(key, op, []);

    const o = this.next(false);
    const ops: Partial<Record<Tok, LabelOperator>> = {
      [Tok.In]: 'in', [Tok.Equals]: '=', [Tok.DoubleEquals]: '==', [Tok.GreaterThan]: 'gt', [Tok.LessThan]: 'lt', [Tok.NotIn]: 'notin', [Tok.NotEquals]: '!=',
    };
    op = ops[o.tok];
    if (!op) throw new ParseError(`found '${o.lit}', expected: ${BINARY_OPERATORS}`);
    const values = op === 'in' || op === 'notin' ? this.valueSet() : this.exactValue();
    return build(key, op, [...new Set(values)].sort());
  }

  /** `(a,b,c)`; empty members are the empty string, as upstream's sets allow. */
  private valueSet(): string[] {
    const open = this.next(true);
    if (open.tok !== Tok.OpenPar) throw new ParseError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.peek(true);
    if (tok === Tok.ClosedPar) {
      this.next(true);
      return [''];
    }
    if (tok !== Tok.Identifier && tok !== Tok.Comma) throw new ParseError(`found '${lit}', expected: ',', ')' or identifier`);
    const vals = this.identifiers();
    if (this.next(true).tok !== Tok.ClosedPar) throw new ParseError(`found '${lit}', expected: ')'`);
    return vals;
  }

  private identifiers(): string[] {
    const out: string[] = [];
    for (;;) {
      const t = this.next(true);
      if (t.tok === Tok.Identifier) {
        out.push(t.lit);
        const t2 = this.peek(true);
        if (t2.tok === Tok.Comma) continue;
        if (t2.tok === Tok.ClosedPar) return out;
        throw new ParseError(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === Tok.Comma) {
        if (out.length === 0) out.push('');
        const t2 = this.peek(true);
        if (t2.tok === Tok.ClosedPar) {
          out.push('');
          return out;
        }
        if (t2.tok === Tok.Comma) {
          this.next(true);
          out.push('');
        }
      } else {
        throw new ParseError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): string[] {
    const { tok } = this.peek(true);
    if (tok === Tok.End || tok === Tok.Comma) return [''];
    const t = this.next(true);
    if (t.tok === Tok.Identifier) return [t.lit];
    throw new ParseError(`found '${t.lit}', expected: identifier`);
  }
}

function build(key: string, op: LabelOperator, values: string[]): Requirement {
  const r = newRequirement(key, op, values);
  if (Array.isArray(r)) throw new ParseError(aggregate(r));
  return r;
}

/** Parses the string syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
 *  `a>1`, `a<1`, comma-joined). Throws a 400 BadRequest StatusError worded as kube-apiserver words
 *  it (upstream's parser message as is). The empty string selects everything. */
export function parseLabelSelector(s: string): Selector {
  try {
    const reqs = new Parser(lex(s)).parse();
    return reqs.length === 0 ? EVERYTHING : { requirements: sortByKey(reqs) };
  } catch (e) {
    if (e instanceof ParseError) throw errors.badRequest(e.message);
    throw e;
  }
}

/** Converts a metav1.LabelSelector (`matchLabels` + `matchExpressions`) as LabelSelectorAsSelector
 *  does: `undefined`/`null` selects nothing, `{}` selects everything, matchLabels become `k=v`.
 *  Throws a 400 StatusError for an unknown operator (`"Foo" is not a valid label selector operator`)
 *  or an invalid key/value. */
export function labelSelectorFromObject(sel: LabelSelector | null | undefined): Selector {
  if (sel === null || sel === undefined) return NOTHING;
  const labels = Object.entries(sel.matchLabels ?? {});
  const exprs = sel.matchExpressions ?? [];
  if (labels.length + exprs.length === 0) return EVERYTHING;
  const reqs: Requirement[] = [];
  const add = (key: string, op: LabelOperator, values: string[]) => {
    const r = newRequirement(key, op, values);
    if (Array.isArray(r)) throw errors.badRequest(aggregate(r));
    reqs.push(r);
  };
  for (const [k, v] of labels) add(k, '=', [v]);
  for (const e of exprs) {
    const op = OBJECT_OPERATORS[e.operator];
    if (!op) throw errors.badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    add(e.key, op, [...(e.values ?? [])]);
  }
  return { requirements: sortByKey(reqs) };
}

const OBJECT_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/** Builds the selector that matches exactly these labels (labels.SelectorFromSet). */
export function selectorFromSet(set: Record<string, string> | undefined): Selector {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) return EVERYTHING;
  return { requirements: sortByKey(entries.map(([key, v]) => ({ key, operator: '=' as const, values: [v] }))) };
}

const OP_TEXT: Record<LabelOperator, string> = { in: ' in ', notin: ' notin ', '=': '=', '==': '==', '!=': '!=', gt: '>', lt: '<', exists: '', '!': '' };

/** One requirement as upstream prints it: `a=b`, `a in (x,y)` (values sorted), `!a`. */
export function requirementToString(r: Requirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  const vals = r.values.length === 1 ? (r.values[0] as string) : [...r.values].sort().join(',');
  const body = r.operator === 'in' || r.operator === 'notin' ? `(${vals})` : vals;
  return `${r.key}${OP_TEXT[r.operator]}${body}`;
}

/** The selector's string form: what Scale's `status.selector` holds and kubectl shows
 *  (`app=web,tier in (a,b)`). Accepts a parsed selector or a LabelSelector object. The NOTHING
 *  selector prints as "" (as upstream's). Parsing the result gives back an equal selector. */
export function selectorToString(sel: Selector | LabelSelector): string {
  const parsed = 'requirements' in sel ? (sel as Selector) : labelSelectorFromObject(sel as LabelSelector);
  return parsed.requirements.map(requirementToString).join(',');
}

/** Whether the labels satisfy every requirement. `undefined` labels are the empty set. */
export function matches(sel: Selector, labels: Record<string, string> | undefined): boolean {
  if (sel.nothing) return false;
  const ls = labels ?? {};
  return sel.requirements.every((r) => requirementMatches(r, ls));
}

function requirementMatches(r: Requirement, ls: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(ls, r.key);
  const v = has ? ls[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(v as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(v as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !isInt64(v as string) || r.values.length !== 1 || !isInt64(r.values[0] as string)) return false;
      const a = BigInt(v as string);
      const b = BigInt(r.values[0] as string);
      return r.operator === 'gt' ? a > b : a < b;
    }
  }
}

/** If the selector requires `key` to have one specific value (`k=v`, `k==v`, `k in (v)`), that
 *  value (labels.RequiresExactMatch). Lets callers index by label. */
export function labelRequiresExactMatch(sel: Selector, key: string): string | undefined {
  const r = sel.requirements.find((x) => x.key === key);
  if (!r) return undefined;
  return (r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1 ? r.values[0] : undefined;
}
