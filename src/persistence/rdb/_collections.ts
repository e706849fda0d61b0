/**
 * Reads the body of an RDB record holding a hash, list, set or sorted set, in every encoding
 * Redis 7.0 writes or loads: the plain ones (a count, then elements as RDB strings), and the
 * blobs of compact encodings stored as one RDB string (listpack, ziplist, intset, zipmap, and
 * the quicklists made of them), decoded by _encodings.ts. Damage is reported as an RdbError at
 * the record's offset, as Redis's loader refuses a corrupt value rather than guessing.
 */
import type { ByteInput } from "./_input.ts";
import { rdbErrorAt } from "./errors.ts";
import {
  QUICKLIST_NODE_PACKED,
  QUICKLIST_NODE_PLAIN,
  TYPE_HASH,
  TYPE_HASH_LISTPACK,
  TYPE_HASH_ZIPLIST,
  TYPE_HASH_ZIPMAP,
  TYPE_LIST,
  TYPE_LIST_QUICKLIST,
  TYPE_LIST_QUICKLIST_2,
  TYPE_LIST_ZIPLIST,
  TYPE_SET,
  TYPE_SET_INTSET,
  TYPE_ZSET,
  TYPE_ZSET_2,
  TYPE_ZSET_LISTPACK,
  TYPE_ZSET_ZIPLIST,
} from "./format.ts";
import {
  decodeIntset,
  decodeListpack,
  decodeZiplist,
  decodeZipmap,
  EncodingError,
} from "./_encodings.ts";
import type { CollectionValue } from "../../store/collection.ts";
import { HashValue } from "../../store/hash_value.ts";
import { ListValue } from "../../store/list_value.ts";
import { SetValue } from "../../store/set_value.ts";
import { SortedSetValue } from "../../store/sorted_set_value.ts";
import { toBinaryString } from "../../util/bytes.ts";

const DECODED: ReadonlySet<number> = new Set([
  TYPE_LIST,
  TYPE_SET,
  TYPE_ZSET,
  TYPE_HASH,
  TYPE_ZSET_2,
  TYPE_HASH_ZIPMAP,
  TYPE_LIST_ZIPLIST,
  TYPE_SET_INTSET,
  TYPE_ZSET_ZIPLIST,
  TYPE_HASH_ZIPLIST,
  TYPE_LIST_QUICKLIST,
  TYPE_HASH_LISTPACK,
  TYPE_ZSET_LISTPACK,
  TYPE_LIST_QUICKLIST_2,
]);

/** A score as Redis writes it in a listpack or ziplist (integer or "%.17g" text), or NaN. */
function scoreFromText(text: string): number {
  if (text === "inf" || text === "+inf") return Infinity;
  if (text === "-inf") return -Infinity;
  if (text.length === 0 || text.trim() !== text) return NaN;
  return Number(text);
}

/** Decodes collection record bodies with the parser's own string and length readers. */
export class CollectionDecoder {
  readonly #string: () => Uint8Array;
  readonly #length: () => number;
  readonly #input: () => ByteInput;

  /** `string` and `length` read the next RDB string and length; `input` is the raw input. */
  constructor(string: () => Uint8Array, length: () => number, input: () => ByteInput) {
    this.#string = string;
    this.#length = length;
    this.#input = input;
  }

  /** Whether `type` is a collection type this decoder reads. */
  static decodes(type: number): boolean {
    return DECODED.has(type);
  }

  /**
   * Reads the body of a record of `type` (its key already read) starting at file offset `at`;
   * null when the collection is empty (Redis skips such keys).
   */
  decode(type: number, at: number): CollectionValue | null {
    try {
      const value = this.#decode(type, at);
      return value.size === 0 ? null : value;
    } catch (e) {
      if (e instanceof EncodingError) {
        throw rdbErrorAt(`Corrupt ${describe(type)} value: ${e.message}`, at);
      }
      throw e;
    }
  }

  #decode(type: number, at: number): CollectionValue {
    switch (type) {
      case TYPE_LIST:
        return this.#plainList();
      case TYPE_SET:
        return this.#plainSet(at);
      case TYPE_HASH:
        return this.#plainHash(at);
      case TYPE_ZSET:
      case TYPE_ZSET_2:
        return this.#plainZset(type === TYPE_ZSET_2, at);
      case TYPE_HASH_ZIPMAP:
        return hashFromPairs(decodeZipmap(this.#string()), at);
      case TYPE_HASH_ZIPLIST:
        return hashFromFlat(decodeZiplist(this.#string()), at);
      case TYPE_HASH_LISTPACK:
        return hashFromFlat(decodeListpack(this.#string()), at);
      case TYPE_ZSET_ZIPLIST:
        return zsetFromFlat(decodeZiplist(this.#string()), at);
      case TYPE_ZSET_LISTPACK:
        return zsetFromFlat(decodeListpack(this.#string()), at);
      case TYPE_SET_INTSET:
        return setFromMembers(decodeIntset(this.#string()), at);
      case TYPE_LIST_ZIPLIST:
        return listFromItems(new ListValue(), decodeZiplist(this.#string()));
      case TYPE_LIST_QUICKLIST:
        return this.#quicklist(false, at);
      case TYPE_LIST_QUICKLIST_2:
        return this.#quicklist(true, at);
      default:
        throw rdbErrorAt(`Value type ${type} is not a collection`, at);
    }
  }

  #plainList(): ListValue {
    const list = new ListValue();
    for (let n = this.#length(); n > 0; n--) list.pushRight(toBinaryString(this.#string()));
    return list;
  }

  #plainSet(at: number): SetValue {
    const set = new SetValue();
    for (let n = this.#length(); n > 0; n--) {
      if (!set.add(toBinaryString(this.#string()))) throw rdbErrorAt("Duplicate set member", at);
    }
    return set;
  }

  #plainHash(at: number): HashValue {
    const hash = new HashValue();
    for (let n = this.#length(); n > 0; n--) {
      const field = toBinaryString(this.#string());
      if (!hash.set(field, toBinaryString(this.#string()))) {
        throw rdbErrorAt("Duplicate hash field", at);
      }
    }
    return hash;
  }

  #plainZset(binaryScores: boolean, at: number): SortedSetValue {
    const zset = new SortedSetValue();
    for (let n = this.#length(); n > 0; n--) {
      const member = toBinaryString(this.#string());
      const score = binaryScores ? this.#binaryDouble() : this.#textDouble(at);
      if (Number.isNaN(score)) throw rdbErrorAt("Sorted set score is not a number", at);
      if (!zset.add(member, score)) throw rdbErrorAt("Duplicate sorted set member", at);
    }
    return zset;
  }

  #binaryDouble(): number {
    const input = this.#input();
    const p = input.take(8);
    return new DataView(input.buf.buffer, input.buf.byteOffset).getFloat64(p, true);
  }

  /** The old score encoding: a length byte (253 nan, 254 +inf, 255 -inf) and ASCII text. */
  #textDouble(at: number): number {
    const input = this.#input();
    const len = input.u8();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const p = input.take(len);
    const score = scoreFromText(String.fromCharCode(...input.buf.subarray(p, p + len)));
    if (Number.isNaN(score)) throw rdbErrorAt("Malformed sorted set score", at);
    return score;
  }

  /** A quicklist: nodes of ziplists (version 1) or of listpacks and plain elements (2). */
  #quicklist(version2: boolean, at: number): ListValue {
    const list = new ListValue();
    for (let nodes = this.#length(); nodes > 0; nodes--) {
      const container = version2 ? this.#length() : QUICKLIST_NODE_PACKED;
      const blob = this.#string();
      if (container === QUICKLIST_NODE_PLAIN) list.pushRight(toBinaryString(blob));
      else if (container === QUICKLIST_NODE_PACKED) {
        const items = version2 ? decodeListpack(blob) : decodeZiplist(blob);
        if (items.length === 0) throw rdbErrorAt("Empty quicklist node", at);
        listFromItems(list, items);
      } else throw rdbErrorAt(`Unknown quicklist node container ${container}`, at);
    }
    return list;
  }
}

function listFromItems(list: ListValue, items: readonly string[]): ListValue {
  for (const item of items) list.pushRight(item);
  return list;
}

function setFromMembers(members: readonly string[], at: number): SetValue {
  const set = new SetValue();
  for (const member of members) {
    if (!set.add(member)) throw rdbErrorAt("Duplicate set member", at);
  }
  return set;
}

function hashFromPairs(pairs: readonly [string, string][], at: number): HashValue {
  const hash = new HashValue();
  for (const [field, value] of pairs) {
    if (!hash.set(field, value)) throw rdbErrorAt("Duplicate hash field", at);
  }
  return hash;
}

function hashFromFlat(flat: readonly string[], at: number): HashValue {
  if (flat.length % 2 !== 0) throw rdbErrorAt("Hash blob with an odd number of elements", at);
  const hash = new HashValue();
  for (let i = 0; i < flat.length; i += 2) {
    if (!hash.set(flat[i], flat[i + 1])) throw rdbErrorAt("Duplicate hash field", at);
  }
  return hash;
}

function zsetFromFlat(flat: readonly string[], at: number): SortedSetValue {
  if (flat.length % 2 !== 0) {
    throw rdbErrorAt("Sorted set blob with an odd number of elements", at);
  }
  const zset = new SortedSetValue();
  for (let i = 0; i < flat.length; i += 2) {
    const score = scoreFromText(flat[i + 1]);
    if (Number.isNaN(score)) throw rdbErrorAt("Malformed sorted set score", at);
    if (!zset.add(flat[i], score)) throw rdbErrorAt("Duplicate sorted set member", at);
  }
  return zset;
}

function describe(type: number): string {
  switch (type) {
    case TYPE_HASH_ZIPMAP:
      return "zipmap";
    case TYPE_LIST_ZIPLIST:
    case TYPE_ZSET_ZIPLIST:
    case TYPE_HASH_ZIPLIST:
    case TYPE_LIST_QUICKLIST:
      return "ziplist";
    case TYPE_SET_INTSET:
      return "intset";
    default:
      return "listpack";
  }
}
