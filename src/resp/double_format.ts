/**
 * Doubles as Redis 7.0 writes them in replies (addReplyDouble) and in its encodings: C's
 * `printf("%.17g")`, with "inf", "-inf" and "-0". JavaScript's shortest round-trip form differs
 * (1.1 is "1.1000000000000001" here), and clients and tests compare the text.
 */

/**
 * A double as C's `printf("%.17g")` writes it (Redis 7.0's score replies and its d2string),
 * with "inf", "-inf" and "-0" as Redis writes them.
 */
export function formatDouble17g(value: number): string {
  return formatDoubleG(value, 17);
}

/**
 * A double as C's `printf("%.<precision>g")` writes it (precision 1 to 17; cjson's
 * `encode_number_precision` uses 14), with "inf", "-inf", "nan" and "-0".
 */
export function formatDoubleG(value: number, precision: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Number.isNaN(value)) return "nan";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const negative = value < 0;
  const [digits, exponent] = significantDigits(Math.abs(value), precision);
  let body: string;
  if (exponent < -4 || exponent >= precision) {
    const fraction = trimZeros(digits.slice(1));
    const e = Math.abs(exponent);
    body = `${digits[0]}${fraction === "" ? "" : "." + fraction}e${exponent < 0 ? "-" : "+"}${
      e < 10 ? "0" + e : e
    }`;
  } else if (exponent < 0) {
    body = trimPoint(`0.${"0".repeat(-exponent - 1)}${digits}`);
  } else {
    body = trimPoint(`${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`);
  }
  return negative ? "-" + body : body;
}

/**
 * The `precision` significant digits of positive finite `x` and the decimal exponent of the
 * first, rounded half to even from the exact binary value as glibc does (`toExponential` rounds
 * exact ties up instead, so ties take the exact path).
 */
function significantDigits(x: number, precision: number): [string, number] {
  const mantissa = x.toExponential(precision).split("e")[0];
  if (!mantissa.endsWith("5")) {
    const [m, e] = x.toExponential(precision - 1).split("e");
    return [m.replace(".", ""), Number(e)];
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const biased = (high >>> 20) & 0x7ff;
  let bits = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (biased !== 0) bits |= 1n << 52n;
  const power = (biased === 0 ? 1 : biased) - 1075;
  const exact = power >= 0
    ? (bits << BigInt(power)).toString()
    : (bits * 5n ** BigInt(-power)).toString();
  let exponent = exact.length - 1 - (power >= 0 ? 0 : -power);
  let head = exact.slice(0, precision).padEnd(precision, "0");
  const rest = exact.slice(precision);
  const up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) ||
    (Number(head[precision - 1]) & 1) === 1));
  if (rest.length > 0 && up) {
    head = (BigInt(head) + 1n).toString();
    if (head.length > precision) {
      head = head.slice(0, precision);
      exponent++;
    }
  }
  return [head, exponent];
}

function trimZeros(text: string): string {
  return text.replace(/0+$/, "");
}

/** Drops trailing fraction zeros and a bare point, as %g does. */
function trimPoint(text: string): string {
  if (!text.includes(".")) return text;
  const trimmed = trimZeros(text);
  return trimmed.endsWith(".") ? trimmed.slice(0, -1) : trimmed;
}
