// Kubernetes resource quantities ("500m", "128Mi", "1e3"), after k8s.io/apimachinery's
// resource.Quantity: parsing, exact comparison, the canonical string the API server writes
// back (kubectl shows "500m" for a submitted "0.5"), and the round-up to milli precision
// applied when resource lists are defaulted. Values are kept exact as mantissa × 10^scale
// with a BigInt mantissa, because "1Ei" or "123456789123456789" overflow a double.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact quantity: value = mantissa × 10^scale. `format` is the notation it was written in. */
export interface Quantity {
  mantissa: bigint;
  scale: number;
  format: QuantityFormat;
}

/** The regular expression upstream cites when a quantity does not parse. */
export const QUANTITY_REGEX = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
/** The error text kube-apiserver reports for an unparsable quantity. */
export const QUANTITY_ERROR = `quantities must match the regular expression '${QUANTITY_REGEX}'`;

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;

/** Parses a quantity exactly; returns undefined when the text is not a valid quantity. */
export function tryParseQuantity(text: string): Quantity | undefined {
  if (/\s/.test(text)) return undefined;
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', frac = '', suffix = ''] = m;
  if (whole === '' && frac === '') return undefined;
  let mantissa = BigInt((whole || '0') + frac);
  if (sign === '-') mantissa = -mantissa;
  let scale = -frac.length;
  let format: QuantityFormat;
  if (suffix in BINARY_SUFFIX) {
    mantissa *= 2n ** BigInt(BINARY_SUFFIX[suffix] ?? 0);
    format = 'BinarySI';
  } else if (suffix in DECIMAL_SUFFIX) {
    scale += DECIMAL_SUFFIX[suffix] ?? 0;
    format = 'DecimalSI';
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    scale += Number(suffix.slice(1));
    format = 'DecimalExponent';
  } else {
    return undefined;
  }
  return normalize({ mantissa, scale, format });
}

/** The quantity as a JavaScript number (approximate for huge values). Throws on invalid text. */
export function parseQuantity(text: string): number {
  const q = tryParseQuantity(text);
  if (!q) throw new Error(`${QUANTITY_ERROR}: ${JSON.stringify(text)}`);
  return quantityToNumber(q);
}

export function quantityToNumber(q: Quantity): number {
  return Number(q.mantissa) * 10 ** q.scale;
}

/** The value in thousandths, rounded up (Quantity.MilliValue): cpu "250m" → 250. */
export function milliValue(q: Quantity): number {
  return Number(scaledCeil(q, -3));
}

/** Compares exactly: negative when a < b, 0 when equal, positive when a > b. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const s = Math.min(a.scale, b.scale);
  const x = a.mantissa * 10n ** BigInt(a.scale - s);
  const y = b.mantissa * 10n ** BigInt(b.scale - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addQuantities(a: Quantity, b: Quantity): Quantity {
  const s = Math.min(a.scale, b.scale);
  const sum = a.mantissa * 10n ** BigInt(a.scale - s) + b.mantissa * 10n ** BigInt(b.scale - s);
  return normalize({ mantissa: sum, scale: s, format: a.format });
}

/** Rounds away from zero to a multiple of 10^scale (Quantity.RoundUp), as resource defaulting does at milli scale. */
export function roundUpQuantity(q: Quantity, scale: number): Quantity {
  if (q.scale >= scale) return q;
  return normalize({ mantissa: scaledCeil(q, scale), scale, format: q.format });
}

/** The canonical text the API server stores (Quantity.String()). */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return '0';
  if (q.format === 'BinarySI') {
    const big1024 = 1024n;
    const isInteger = q.scale >= 0 || q.mantissa % 10n ** BigInt(-q.scale) === 0n;
    const abs = q.mantissa < 0n ? -q.mantissa : q.mantissa;
    const small = q.scale >= 0 ? abs * 10n ** BigInt(q.scale) < big1024 : abs < big1024 * 10n ** BigInt(-q.scale);
    if (isInteger && !small) {
      let v = q.scale >= 0 ? q.mantissa * 10n ** BigInt(q.scale) : q.mantissa / 10n ** BigInt(-q.scale);
      let exp = 0;
      while (exp < 6 && v % big1024 === 0n) {
        v /= big1024;
        exp++;
      }
      return `${v}${['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][exp]}`;
    }
    return formatDecimal(q, 'DecimalSI');
  }
  return formatDecimal(q, q.format);
}

/** Parses and re-formats; returns the input unchanged when it does not parse. */
export function canonicalQuantity(text: string): string {
  const q = tryParseQuantity(text);
  return q ? formatQuantity(q) : text;
}

function formatDecimal(q: Quantity, format: QuantityFormat): string {
  let { mantissa, scale } = q;
  // Shift the exponent down to a multiple of three, as AsCanonicalBytes does.
  const r = ((scale % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(r);
  scale -= r;
  if (format === 'DecimalExponent') return scale === 0 ? `${mantissa}` : `${mantissa}e${scale}`;
  const suffix = Object.entries(DECIMAL_SUFFIX).find(([, e]) => e === scale)?.[0];
  if (suffix !== undefined) return `${mantissa}${suffix}`;
  // Beyond the SI range the upstream suffixer falls back to exponent notation.
  return `${mantissa}e${scale}`;
}

/** Removes trailing zero digits from the mantissa so equal values share one representation. */
function normalize(q: Quantity): Quantity {
  let { mantissa, scale } = q;
  if (mantissa === 0n) return { mantissa: 0n, scale: 0, format: q.format };
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale++;
  }
  return { mantissa, scale, format: q.format };
}

/** The mantissa at the given (coarser) scale, rounded away from zero. */
function scaledCeil(q: Quantity, scale: number): bigint {
  if (q.scale >= scale) return q.mantissa * 10n ** BigInt(q.scale - scale);
  const div = 10n ** BigInt(scale - q.scale);
  const whole = q.mantissa / div;
  if (q.mantissa % div === 0n) return whole;
  return q.mantissa > 0n ? whole + 1n : whole - 1n;
}
