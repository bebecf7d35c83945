// Duplicate object keys in a raw JSON body. JSON.parse keeps the last of two equal keys without
// a word, while kube-apiserver's strict decoder (sigs.k8s.io/json) reports each one; under
// fieldValidation=Strict that is a 400. So the body is scanned once, before parsing, by a
// tokenizer that only tracks keys and positions.

/**
 * Every duplicated key of `jsonText`, in document order, worded as upstream's strict decoder:
 * `duplicate field "spec.replicas"` (path from the root; array elements as `[i]`). A key seen
 * three times is reported twice. Returns [] for valid JSON without duplicates, and also for
 * malformed JSON: the parse error is the caller's to report.
 */
export function findDuplicateFields(jsonText: string): string[] {
  try {
    return new Scanner(jsonText).document();
  } catch (e) {
    if (e instanceof SyntaxError) return [];
    throw e;
  }
}

// Characters that end a number or true/false/null: whitespace and structural punctuation.
const LITERAL_END = new Set([0x20, 0x0a, 0x0d, 0x09, 0x2c, 0x5d, 0x7d, 0x3a]);

class Scanner {
  private i = 0;
  private readonly found: string[] = [];

  constructor(private readonly s: string) {}

  document(): string[] {
    this.value('');
    this.space();
    if (this.i !== this.s.length) throw new SyntaxError('trailing data');
    return this.found;
  }

  private space(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  private value(path: string): void {
    this.space();
    const c = this.s[this.i];
    if (c === '{') this.object(path);
    else if (c === '[') this.array(path);
    else if (c === '"') this.string();
    else this.literal();
  }

  private object(path: string): void {
    this.i++; // {
    const seen = new Set<string>();
    this.space();
    if (this.s[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.space();
      if (this.s[this.i] !== '"') throw new SyntaxError('expected key');
      const key = this.string();
      const child = path ? `${path}.${key}` : key;
      if (seen.has(key)) this.found.push(`duplicate field "${child}"`);
      seen.add(key);
      this.space();
      if (this.s[this.i++] !== ':') throw new SyntaxError('expected colon');
      this.value(child);
      this.space();
      const next = this.s[this.i++];
      if (next === '}') return;
      if (next !== ',') throw new SyntaxError('expected comma');
    }
  }

  private array(path: string): void {
    this.i++; // [
    this.space();
    if (this.s[this.i] === ']') {
      this.i++;
      return;
    }
    for (let n = 0; ; n++) {
      this.value(`${path}[${n}]`);
      this.space();
      const next = this.s[this.i++];
      if (next === ']') return;
      if (next !== ',') throw new SyntaxError('expected comma');
    }
  }

  /** Consumes a string token and returns its decoded value. */
  private string(): string {
    const start = this.i++;
    let escaped = false;
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === '\\') {
        escaped = true;
        this.i++;
      } else if (c === '"') {
        const raw = this.s.slice(start, this.i);
        return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      }
    }
    throw new SyntaxError('unterminated string');
  }

  private literal(): void {
    const start = this.i;
    while (this.i < this.s.length && !LITERAL_END.has(this.s.charCodeAt(this.i))) this.i++;
    if (this.i === start) throw new SyntaxError('expected value');
  }
}
