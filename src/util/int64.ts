/**
 * Redis's 64-bit integers as text (`string2ll`): one parser shared by the protocol (bulk and
 * multibulk lengths) and the commands (counters, integer arguments).
 */
import { toBinaryString } from "./bytes.ts";

/** Top of the signed 64-bit range of Redis integers. */
export const INT64_MAX = 9223372036854775807n;
/** Bottom of the signed 64-bit range of Redis integers. */
export const INT64_MIN = -9223372036854775808n;

/**
 * The decimal text of an integer held as a double beyond 2^53 (an expiry time near INT64_MAX,
 * say), clamped to the int64 range: INT64_MAX is stored as 2^63, one past the range, and must
 * not reach a client, the AOF or a follower as a number Redis would refuse.
 */
export function int64Text(n: number): string {
  const value = BigInt(Math.trunc(n));
  return (value > INT64_MAX ? INT64_MAX : value < INT64_MIN ? INT64_MIN : value).toString();
}

/**
 * Parses `buf[start, end)` as Redis's `string2ll` does: optional minus, no plus, no leading
 * zeros or spaces, at most 20 characters, within the signed 64-bit range. Returns a number when
 * the value is a safe integer, a bigint beyond that (so counters stay exact), or null when it is
 * no integer. Takes bytes so that counters are parsed where they are stored, without a string.
 */
export function parseInt64Bytes(
  buf: Uint8Array,
  start = 0,
  end = buf.length,
): number | bigint | null {
  const n = end - start;
  if (n === 0 || n > 20) return null;
  const negative = buf[start] === 45;
  let i = start;
  if (negative) {
    if (n === 1) return null;
    i++;
  }
  const first = buf[i];
  if (first === 48) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  let value = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  if (value <= Number.MAX_SAFE_INTEGER) return negative ? -value : value;
  const exact = BigInt(toBinaryString(buf, start, end));
  return exact > INT64_MAX || exact < INT64_MIN ? null : exact;
}
