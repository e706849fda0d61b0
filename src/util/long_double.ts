/**
 * Redis's INCRBYFLOAT arithmetic: an x87 80-bit long double (64-bit mantissa, 15-bit exponent),
 * emulated exactly with bigints, parsed like `strtold` and printed like `%.17Lf` with trailing
 * zeros removed. JS doubles would answer 0.1 + 0.2 with "0.30000000000000004" where Redis
 * answers "0.3".
 */

/** A finite long double: `(-1)^negative * mantissa * 2^exponent`, mantissa below 2^64. */
export interface LongDouble {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
}

/** Exponent of a long double's least significant mantissa bit at the smallest subnormal. */
const LD_MIN_LSB = -16445;
/** Largest exponent of a long double's top bit (DBL_MAX_EXP - 1 for the 80-bit format). */
const LD_MAX_TOP = 16383;
/** Zero, the value of a missing key for INCRBYFLOAT. */
export const LD_ZERO: LongDouble = { negative: false, mantissa: 0n, exponent: 0 };

/** What parsing or arithmetic produced: a finite value, an infinity, or null (out of range). */
export type LongDoubleResult = LongDouble | "infinite" | null;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * Rounds the positive value `num / den * 2^exp2` to the nearest long double, ties to even, as
 * the FPU and glibc's strtold do, subnormals included. Null when it underflows to zero,
 * "infinite" when it overflows.
 */
function roundLongDouble(
  negative: boolean,
  num: bigint,
  den: bigint,
  exp2: number,
): LongDoubleResult {
  // Scale so that the integer quotient has at least 66 significant bits.
  const s = 66 - (bitLength(num) - bitLength(den)) + 1;
  let q: bigint;
  let sticky: boolean;
  if (s >= 0) {
    const scaled = num << BigInt(s);
    q = scaled / den;
    sticky = scaled % den !== 0n;
  } else {
    const d = den << BigInt(-s);
    q = num / d;
    sticky = num % d !== 0n;
  }
  const lsb = exp2 - s;
  const bits = bitLength(q);
  const drop = Math.max(bits - 64, LD_MIN_LSB - lsb);
  if (drop > bits) return null;
  let mantissa = q >> BigInt(drop);
  if (drop > 0) {
    const rest = q & ((1n << BigInt(drop)) - 1n);
    const half = 1n << BigInt(drop - 1);
    if (rest > half || (rest === half && (sticky || (mantissa & 1n) === 1n))) mantissa++;
  }
  let exponent = lsb + drop;
  if (mantissa === 1n << 64n) {
    mantissa >>= 1n;
    exponent++;
  }
  if (mantissa === 0n) return null;
  if (exponent + bitLength(mantissa) - 1 > LD_MAX_TOP) return "infinite";
  return { negative, mantissa, exponent };
}

const DECIMAL = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?$/;
const INFINITE = /^[+-]?inf(?:inity)?$/i;

/**
 * Parses text as Redis's `string2ld`: C's `strtold` (decimal and hex floats, `inf`), refusing
 * a leading space, trailing bytes, NaN, and values out of the long double range (ERANGE with a
 * zero or infinite result). Returns null when Redis says "value is not a valid float".
 */
export function parseLongDouble(s: string): LongDoubleResult {
  if (s.length === 0 || s.length >= 5 * 1024) return null;
  // strtold stops at a NUL byte, and Redis refuses a parse that did not use every byte.
  if (s.indexOf("\0") >= 0) return null;
  if (INFINITE.test(s)) return "infinite";
  const hex = HEX.exec(s);
  if (hex !== null) {
    if (hex[2].length + hex[3].length === 0) return null;
    const digits = BigInt(`0x${hex[2]}${hex[3]}`);
    const exp2 = Number(hex[4] ?? "0") - 4 * hex[3].length;
    return fromParts(hex[1] === "-", digits, 1n, exp2);
  }
  const dec = DECIMAL.exec(s);
  if (dec === null || dec[2].length + dec[3].length === 0) return null;
  const digits = BigInt(dec[2] + dec[3]);
  const exp10 = Number(dec[4] ?? "0") - dec[3].length;
  if (digits === 0n) return LD_ZERO;
  // Decide far-out magnitudes before building huge powers of ten.
  const magnitude = exp10 + digits.toString().length - 1;
  if (magnitude > 4933 || magnitude < -4952) return null;
  const negative = dec[1] === "-";
  if (exp10 >= 0) return fromParts(negative, digits * 10n ** BigInt(exp10), 1n, 0);
  return fromParts(negative, digits, 10n ** BigInt(-exp10), 0);
}

/** A parsed literal rounded to a long double; out of range is "not a valid float" (null). */
function fromParts(negative: boolean, num: bigint, den: bigint, exp2: number): LongDoubleResult {
  if (num === 0n) return LD_ZERO;
  const value = roundLongDouble(negative, num, den, exp2);
  return value === "infinite" ? null : value;
}

/** `a + b` rounded to a long double ("infinite" on overflow), as the FPU adds them. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDoubleResult {
  const low = Math.min(a.exponent, b.exponent);
  const x = a.mantissa << BigInt(a.exponent - low);
  const y = b.mantissa << BigInt(b.exponent - low);
  const sum = (a.negative ? -x : x) + (b.negative ? -y : y);
  if (sum === 0n) return a.mantissa === 0n && a.negative && b.negative ? a : LD_ZERO;
  // An exact sum of representable values is never below the smallest subnormal.
  return roundLongDouble(sum < 0n, sum < 0n ? -sum : sum, 1n, low);
}

/**
 * Formats a long double as Redis's `ld2string(..., LD_STR_HUMAN)`: printf's `%.17Lf` (exact
 * decimal expansion, rounded half to even), then trailing zeros and a bare point removed, and
 * "-0" written "0".
 */
export function formatLongDouble(value: LongDouble): string {
  const scaled = value.mantissa * 10n ** 17n;
  let units: bigint;
  if (value.exponent >= 0) units = scaled << BigInt(value.exponent);
  else {
    const shift = BigInt(-value.exponent);
    units = scaled >> shift;
    const rest = scaled & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (units & 1n) === 1n)) units++;
  }
  const digits = units.toString().padStart(18, "0");
  let text = `${digits.slice(0, -17)}.${digits.slice(-17)}`.replace(/\.?0+$/, "");
  if (value.negative) text = `-${text}`;
  return text === "-0" ? "0" : text;
}
