/**
 * Seeded input generation: each input is a function of (run seed, target name, input index)
 * only, so any input of any run is rebuilt alone by `--replay seed:index`. An input is a corpus
 * seed as is, random bytes, or (mostly) a seed put through a stack of mutations: bit flips,
 * byte overwrites with boundary values, insertions, deletions, duplicated ranges, truncation,
 * splicing with another seed, dictionary tokens, and numbers written over digit runs (in text)
 * or over 1 to 8 bytes (in binary).
 *
 * @module
 */
import { mulberry32 } from "../src/util/prng.ts";

/** Seeded randomness (mulberry32, the project's PRNG). */
export class Rng {
  readonly #next: () => number;

  /** A generator determined by `seed`. */
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.#next();
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.#next() * n);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.below(256);
    return out;
  }
}

/** FNV-1a of a target's name, so that targets sharing a seed get different inputs. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The generator of input `index` of `target` in a run seeded with `seed`. */
export function inputRng(seed: number, target: string, index: number): Rng {
  let h = (seed >>> 0) ^ nameHash(target);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) >>> 0);
}

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x0d, 0x0a, 0x20, 0x2a, 0x24, 0x3a, 0x2d, 0x30];
const INTERESTING_NUMBERS = [
  "0",
  "-1",
  "1",
  "-0",
  "00",
  "+1",
  "",
  " 1",
  "2",
  "15",
  "16",
  "63",
  "64",
  "255",
  "256",
  "1024",
  "65535",
  "65536",
  "2147483647",
  "2147483648",
  "4294967295",
  "4294967296",
  "536870912",
  "536870913",
  "9007199254740993",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775808",
  "-9223372036854775809",
  "99999999999999999999",
  "1e3",
  "0x10",
  "inf",
  "nan",
].map((s) => new TextEncoder().encode(s));
const INTERESTING_WORDS = [
  0,
  1,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0x8000,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xffffffff,
  2 ** 32,
  2 ** 53,
  2 ** 63,
  2 ** 64 - 1,
];

/**
 * One input for a target: from `corpus` (never empty), mutated with `dictionary` tokens among
 * the rest, at most `maxLength` bytes.
 */
export function generateInput(
  rng: Rng,
  corpus: readonly Uint8Array[],
  dictionary: readonly Uint8Array[],
  maxLength: number,
): Uint8Array {
  const roll = rng.below(100);
  if (roll < 3) return rng.bytes(rng.below(Math.min(maxLength, rng.pick([8, 64, 512])) + 1));
  const seed = rng.pick(corpus);
  if (roll < 8) return seed.length > maxLength ? seed.slice(0, maxLength) : seed.slice();
  let data: Uint8Array = seed.slice();
  const rounds = 1 << rng.below(4);
  for (let i = 0; i < rounds; i++) {
    data = mutateOnce(rng, data, corpus, dictionary);
    if (data.length > maxLength) data = data.slice(0, maxLength);
  }
  return data;
}

function insert(data: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + bytes.length);
  out.set(data.subarray(0, at));
  out.set(bytes, at);
  out.set(data.subarray(at), at + bytes.length);
  return out;
}

function remove(data: Uint8Array, at: number, count: number): Uint8Array {
  const out = new Uint8Array(data.length - count);
  out.set(data.subarray(0, at));
  out.set(data.subarray(at + count), at);
  return out;
}

/** A position biased towards the start, where headers and lengths live. */
function position(rng: Rng, length: number): number {
  if (length === 0) return 0;
  return rng.below(2) === 0 ? rng.below(Math.min(length, 64)) : rng.below(length);
}

/** `value` as `size` bytes, little- or big-endian. */
function wordBytes(value: number, size: number, bigEndian: boolean): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, BigInt(Math.min(value, 2 ** 64 - 1)));
  for (let i = 0; i < size; i++) {
    out[bigEndian ? size - 1 - i : i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** One mutation of `data` (which it may change in place) into a new or the same array. */
function mutateOnce(
  rng: Rng,
  data: Uint8Array,
  corpus: readonly Uint8Array[],
  dictionary: readonly Uint8Array[],
): Uint8Array {
  const n = data.length;
  switch (rng.below(13)) {
    case 0: // flip one bit
      if (n > 0) data[position(rng, n)] ^= 1 << rng.below(8);
      return data;
    case 1: // overwrite a byte
      if (n > 0) data[position(rng, n)] = rng.below(256);
      return data;
    case 2: // overwrite a byte with a boundary value or a delimiter
      if (n > 0) data[position(rng, n)] = rng.pick(INTERESTING_BYTES);
      return data;
    case 3: // small arithmetic on a byte
      if (n > 0) {
        const at = position(rng, n);
        data[at] = (data[at] + rng.int(-4, 4)) & 0xff;
      }
      return data;
    case 4: // insert random bytes
      return insert(data, rng.below(n + 1), rng.bytes(rng.pick([1, 1, 2, 4, 8, 32, 128])));
    case 5: { // delete a range
      if (n === 0) return data;
      const at = rng.below(n);
      return remove(data, at, Math.min(n - at, rng.pick([1, 1, 2, 4, 16, 64])));
    }
    case 6: { // duplicate a range elsewhere
      if (n === 0) return data;
      const from = rng.below(n);
      const length = Math.min(n - from, rng.int(1, 64));
      return insert(data, rng.below(n + 1), data.slice(from, from + length));
    }
    case 7: // truncate
      return data.slice(0, rng.below(n + 1));
    case 8: { // splice: a prefix of this with a suffix of another seed
      const other = rng.pick(corpus);
      const cut = rng.below(n + 1);
      return insert(data.slice(0, cut), cut, other.subarray(rng.below(other.length + 1)));
    }
    case 9: // insert or overwrite with a dictionary token
      if (dictionary.length === 0) return insert(data, rng.below(n + 1), rng.bytes(1));
      if (rng.below(2) === 0 || n === 0) {
        return insert(data, rng.below(n + 1), rng.pick(dictionary));
      } else {
        const token = rng.pick(dictionary);
        const at = rng.below(n);
        const out = data.slice();
        out.set(token.subarray(0, Math.min(token.length, n - at)), at);
        return out;
      }
    case 10: { // replace a run of ASCII digits (a length in text formats) by another number
      const starts: number[] = [];
      for (let i = 0; i < n; i++) {
        if (isDigit(data[i]) && (i === 0 || !isDigit(data[i - 1]))) starts.push(i);
      }
      const number = rng.pick(INTERESTING_NUMBERS);
      if (starts.length === 0) return insert(data, rng.below(n + 1), number);
      const at = rng.pick(starts);
      let end = at;
      while (end < n && isDigit(data[end])) end++;
      if (at > 0 && data[at - 1] === 0x2d && rng.below(2) === 0) {
        return insert(remove(data, at - 1, end - at + 1), at - 1, number);
      }
      return insert(remove(data, at, end - at), at, number);
    }
    case 11: { // overwrite 1 to 8 bytes with a boundary integer (binary formats)
      if (n === 0) return data;
      const size = rng.pick([1, 2, 4, 8]);
      const at = position(rng, n);
      const word = wordBytes(
        rng.pick(INTERESTING_WORDS) + rng.int(-1, 1),
        size,
        rng.below(2) === 0,
      );
      data.set(word.subarray(0, Math.min(size, n - at)), at);
      return data;
    }
    default: { // swap two ranges' bytes (reorders fields and records)
      if (n < 2) return data;
      const a = rng.below(n);
      const b = rng.below(n);
      const length = Math.min(rng.int(1, 16), n - Math.max(a, b));
      const tmp = data.slice(a, a + length);
      data.copyWithin(a, b, b + length);
      data.set(tmp, b);
      return data;
    }
  }
}
