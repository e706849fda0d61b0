/**
 * The hash type's value: fields to values, both binary strings (one character per byte), in
 * Redis's two encodings.
 *
 * - "listpack" (small hashes): every entry packed into ONE binary string, field and value
 *   alternating, each as a length prefix (a varint: 7 bits per character, high bit set on all
 *   but the last) followed by its bytes. As Redis's listpack it keeps insertion order (an update
 *   keeps the field's place), finds a field by a linear walk (O(n), n bounded by
 *   `hash-max-listpack-entries`) and rewrites the string on every change; the per-entry overhead
 *   is its one or two prefix bytes, not a JS object.
 * - "hashtable" (large hashes): the fields in a {@link MemberTable} (a chained hash table over
 *   dense arrays: measured 2-3x faster lookups than a `Map` at 100k fields, see there) and the
 *   values as bytes in a {@link ValueBlocks} parallel to its members (see there for why not
 *   strings). Lookups, inserts and deletes are O(1) (a
 *   delete moves the last entry into the hole); a uniform random entry is one index pick
 *   (Redis's `dictGetFairRandomKey`); and the dense arrays give {@link HashValue.scan} a cursor
 *   that never misses an entry present for the whole scan (see there).
 *
 * A hash starts as a listpack and becomes a hashtable, never back, when a field or value longer
 * than `hash-max-listpack-value` is stored or it grows past `hash-max-listpack-entries` fields
 * (Redis's `hashTypeSet`, which `hashTypeTryConversion` only anticipates).
 *
 * Memory model ({@link HashValue.bytes}): {@link HASH_OBJECT_BYTES} for the object itself, plus
 * - listpack: {@link STRING_HEADER_BYTES} and the packed string's length (fields, values and
 *   their prefixes);
 * - hashtable: per field {@link HASHTABLE_FIELD_OVERHEAD} (the field's string header and array
 *   slot, the value's offset, length and block size, the field's hash and chain link, its share
 *   of the buckets, and an allowance for the value block's rounding and the buffer's spare room)
 *   plus the field's and the value's lengths.
 */
import { detached, lengthPrefix, prefixSize, readLength } from "./packed.ts";
import { hashOf, MemberTable } from "./member_table.ts";
import { ValueBlocks } from "./value_blocks.ts";
import type { CollectionValue } from "./collection.ts";
import { encodingLimits } from "./collection.ts";

/**
 * Bytes of a hash object (its header and seven slots, ~80) and of the wrapper V8 may keep
 * around a rewritten packed string, whatever the encoding. Measured (heap growth per hash,
 * 50k hashes of 8-byte fields and values): 10 fields 416 B for a model of 292, 100 fields
 * 2028 B for 1912; 600 fields (hashtable, 2000 hashes) 44.3 kB for 47.2 kB with values as
 * strings. With values in a {@link ValueBlocks} (heap and buffers, 2000 hashes, after a round of
 * overwrites): 600 fields of 8-byte values 65 kB for a model of 47 (54 kB with strings), of
 * 32-byte values 89 kB for 61 (107 with strings); 10000 fields of 32 bytes (200 hashes) 1037 kB
 * for 1016 (1680 with strings).
 */
export const HASH_OBJECT_BYTES = 96;
/** Bytes of a JS one-byte string's header (map, hash, length). */
export const STRING_HEADER_BYTES = 16;
/**
 * Bytes per field of a "hashtable" hash besides the field's and value's bytes: the field's
 * string header (16) and array slot (8), the value's offset, length and block size (12), the
 * field's hash and chain link (8), its share of the buckets (one or two of 4 bytes: 8), and 12
 * for the value block's rounding up to 8 bytes and the buffer's spare room.
 */
export const HASHTABLE_FIELD_OVERHEAD = STRING_HEADER_BYTES + 8 + 12 + 8 + 8 + 12;

/** A field and its value. */
export type HashEntry = [field: string, value: string];

/** A listpack entry: its length prefix, then its bytes. */
function packEntry(text: string): string {
  return lengthPrefix(text.length) + text;
}

/** Where the bytes of the entry {@link entryEnd} read last start (saves an object per entry). */
let entryStart = 0;

/**
 * Offset just past the bytes of the listpack entry whose length prefix is at `at`; sets
 * {@link entryStart} to the offset of its first byte.
 */
function entryEnd(packed: string, at: number): number {
  const length = readLength(packed, at);
  entryStart = at + prefixSize(length);
  return entryStart + length;
}

/** The hash value; see the module comment. */
export class HashValue implements CollectionValue {
  /** Redis's type name. */
  get type(): "hash" {
    return "hash";
  }
  /** Listpack encoding: the packed entries; "" once a hashtable. */
  #packed = "";
  /** Listpack encoding: number of fields. */
  #packedCount = 0;
  /** Hashtable encoding: the fields. Null while a listpack. */
  #table: MemberTable | null = null;
  /** Hashtable encoding: values, parallel to the table's members; null while a listpack. */
  #values: ValueBlocks | null = null;
  #bytes = HASH_OBJECT_BYTES + STRING_HEADER_BYTES;

  /** Number of fields. */
  get size(): number {
    return this.#table === null ? this.#packedCount : this.#table.size;
  }

  /** Bytes by the memory model of the module comment; O(1). */
  get bytes(): number {
    return this.#bytes;
  }

  /** "listpack" or "hashtable" (OBJECT ENCODING). */
  encoding(): string {
    return this.#table === null ? "listpack" : "hashtable";
  }

  /** Whether the hash uses the compact listpack encoding. */
  get isListpack(): boolean {
    return this.#table === null;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    if (this.#table !== null) {
      const at = this.#table!.find(field, hashOf(field));
      return at < 0 ? undefined : this.#values!.get(at);
    }
    const at = this.#find(field);
    if (at < 0) return undefined;
    return this.#readEntry(this.#skipEntry(at)).text;
  }

  /**
   * Where `field`'s value lies when the hash keeps its values as bytes ("hashtable"): the buffer,
   * the value's offset and its end, valid only until the next change; null when the field is
   * missing; undefined for a listpack hash (its values live in its string: use {@link get}).
   */
  valueRange(field: string): [Uint8Array, number, number] | null | undefined {
    if (this.#table === null) return undefined;
    const at = this.#table.find(field, hashOf(field));
    if (at < 0) return null;
    const values = this.#values!;
    const start = values.offset(at);
    return [values.bytes, start, start + values.length(at)];
  }

  /** Whether `field` exists. */
  has(field: string): boolean {
    if (this.#table !== null) return this.#table.find(field, hashOf(field)) >= 0;
    return this.#find(field) >= 0;
  }

  /**
   * Sets `field` to `value`; true when the field is new. Converts to "hashtable" first when
   * either is longer than `hash-max-listpack-value`, and after adding when the hash has more
   * than `hash-max-listpack-entries` fields (Redis's `hashTypeSet`).
   */
  set(field: string, value: string): boolean {
    if (this.#table === null) {
      const limit = encodingLimits.hashMaxListpackValue;
      if (field.length > limit || value.length > limit) this.#convert();
    }
    if (this.#table !== null) return this.#setInTable(field, value);
    const added = this.#setPacked(field, value);
    if (added && this.#packedCount > encodingLimits.hashMaxListpackEntries) this.#convert();
    return added;
  }

  /** Deletes `field`; true if it existed. */
  delete(field: string): boolean {
    if (this.#table !== null) return this.#deleteFromTable(field);
    const start = this.#find(field);
    if (start < 0) return false;
    const end = this.#skipEntry(this.#skipEntry(start));
    this.#replacePacked(start, end, "");
    this.#packedCount--;
    return true;
  }

  /** Every field with its value: insertion order for a listpack, table order otherwise. */
  *entries(): IterableIterator<HashEntry> {
    const fields = this.#table?.members ?? null;
    if (fields !== null) {
      const values = this.#values!;
      for (let i = 0; i < fields.length; i++) yield [fields[i], values.get(i)];
      return;
    }
    for (let at = 0; at < this.#packed.length;) {
      const field = this.#readEntry(at);
      const value = this.#readEntry(field.next);
      at = value.next;
      yield [field.text, value.text];
    }
  }

  /** Every entry as an array, in {@link entries} order. */
  toArray(): HashEntry[] {
    return [...this.entries()];
  }

  /**
   * A uniformly random entry, or undefined when empty: O(1) for a hashtable (an index pick),
   * O(n) for a listpack (Redis's `lpRandomPair` walks too). `random` returns floats in [0, 1).
   */
  randomEntry(random: () => number = Math.random): HashEntry | undefined {
    const size = this.size;
    if (size === 0) return undefined;
    const pick = Math.floor(random() * size);
    if (this.#table !== null) return [this.#table.members[pick], this.#values!.get(pick)];
    let at = 0;
    for (let i = 0; i < pick; i++) at = this.#skipEntry(this.#skipEntry(at));
    const field = this.#readEntry(at);
    return [field.text, this.#readEntry(field.next).text];
  }

  /**
   * HRANDFIELD's selection of `count` (>= 1) entries, as Redis's `hrandfieldWithCountCommand`:
   * with `distinct` false, `count` independent uniform picks (a listpack is decoded once);
   * with `distinct`, the whole hash in order when `count` >= size, otherwise `count` distinct
   * entries: in order by selection sampling for a listpack (Redis's `lpRandomPairsUnique`) or
   * when `count` is over a third of the size (Redis copies the table then), else by rejection
   * of repeated picks (expected O(count)).
   */
  sample(count: number, distinct: boolean, random: () => number = Math.random): HashEntry[] {
    const size = this.size;
    if (size === 0 || count <= 0) return [];
    if (distinct && count >= size) return this.toArray();
    const fields = this.#table?.members ?? null;
    if (!distinct) {
      const all = fields === null ? this.toArray() : null;
      const out: HashEntry[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const pick = Math.floor(random() * size);
        out[i] = all !== null ? all[pick] : [fields![pick], this.#values!.get(pick)];
      }
      return out;
    }
    if (fields === null || count * 3 > size) {
      return selectInOrder(this.entries(), size, count, random);
    }
    return this.#pickDistinct(count, random);
  }

  /** `count` distinct random entries of the hashtable by rejecting repeated index picks. */
  #pickDistinct(count: number, random: () => number): HashEntry[] {
    const fields = this.#table!.members;
    const picked = new Set<number>();
    const out: HashEntry[] = [];
    while (out.length < count) {
      const pick = Math.floor(random() * fields.length);
      if (picked.has(pick)) continue;
      picked.add(pick);
      out.push([fields[pick], this.#values!.get(pick)]);
    }
    return out;
  }

  /**
   * One HSCAN step from `cursor`, calling `visit` for each entry it returns, and the next
   * cursor (0 when the scan is complete). A listpack returns everything at once with cursor 0,
   * whatever the cursor, as Redis does. A hashtable walks its dense arrays from the top index
   * down, about `count` entries per step: cursor c means "indices c and above are done". An
   * insert appends (above the cursor: not returned, as it was not there for the whole scan) and
   * a delete moves the last entry into the hole, which is either already visited or, when the
   * hash shrank below the cursor, still ahead: so every entry present for the whole scan is
   * returned at least once.
   */
  scan(cursor: number, count: number, visit: (field: string, value: string) => void): number {
    const fields = this.#table?.members ?? null;
    if (fields === null) {
      for (const [field, value] of this.entries()) visit(field, value);
      return 0;
    }
    const size = fields.length;
    let at = cursor === 0 || cursor > size ? size : cursor;
    const stop = Math.max(0, at - Math.max(1, count));
    while (at > stop) {
      at--;
      visit(fields[at], this.#values!.get(at));
    }
    return at;
  }

  /** An independent copy with the same entries, order and encoding. */
  clone(): HashValue {
    const copy = new HashValue();
    copy.#packed = this.#packed;
    copy.#packedCount = this.#packedCount;
    if (this.#table !== null) {
      copy.#table = this.#table.clone();
      copy.#values = this.#values!.clone();
    }
    copy.#bytes = this.#bytes;
    return copy;
  }

  // -------------------------------------------------------------------------------------------
  // Listpack encoding

  /** Offset of `field`'s entry in the packed string, or -1. */
  #find(field: string): number {
    const packed = this.#packed;
    const length = field.length;
    for (let at = 0; at < packed.length;) {
      const end = entryEnd(packed, at);
      const start = entryStart;
      if (end - start === length && packed.startsWith(field, start)) return at;
      at = entryEnd(packed, end);
    }
    return -1;
  }

  /** Offset just past the entry at `at`. */
  #skipEntry(at: number): number {
    return entryEnd(this.#packed, at);
  }

  /** The entry at `at` and the offset of the next one. */
  #readEntry(at: number): { text: string; next: number } {
    const end = entryEnd(this.#packed, at);
    return { text: this.#packed.slice(entryStart, end), next: end };
  }

  /** Sets a field of the listpack; true when it is new. */
  #setPacked(field: string, value: string): boolean {
    const at = this.#find(field);
    if (at < 0) {
      this.#replacePacked(
        this.#packed.length,
        this.#packed.length,
        packEntry(field) + packEntry(value),
      );
      this.#packedCount++;
      return true;
    }
    const valueAt = this.#skipEntry(at);
    this.#replacePacked(valueAt, this.#skipEntry(valueAt), packEntry(value));
    return false;
  }

  /** Replaces the packed bytes [start, end) with `text`, keeping {@link bytes} in step. */
  #replacePacked(start: number, end: number, text: string): void {
    const packed = this.#packed;
    this.#packed = packed.slice(0, start) + text + packed.slice(end);
    this.#bytes += text.length - (end - start);
  }

  /** Converts to the hashtable encoding (Redis's `hashTypeConvert`), keeping the order. */
  #convert(): void {
    const table = new MemberTable();
    const values = new ValueBlocks(this.#packedCount + 1, 2 * this.#packed.length);
    let bytes = HASH_OBJECT_BYTES;
    for (const [sliced, value] of this.entries()) {
      const field = detached(sliced);
      table.insert(field, hashOf(field));
      values.push(value);
      bytes += HASHTABLE_FIELD_OVERHEAD + field.length + value.length;
    }
    this.#table = table;
    this.#values = values;
    this.#packed = "";
    this.#packedCount = 0;
    this.#bytes = bytes;
  }

  // -------------------------------------------------------------------------------------------
  // Hashtable encoding

  /** Sets a field of the hashtable; true when it is new. */
  #setInTable(field: string, value: string): boolean {
    const table = this.#table!;
    const hash = hashOf(field);
    const at = table.find(field, hash);
    // The value first: a value store at its limit (ArenaFullError) then leaves the hash as it was.
    if (at >= 0) {
      const before = this.#values!.length(at);
      this.#values!.set(at, value);
      this.#bytes += value.length - before;
      return false;
    }
    this.#values!.push(value);
    table.insert(field, hash);
    this.#bytes += HASHTABLE_FIELD_OVERHEAD + field.length + value.length;
    return true;
  }

  /** Deletes a field of the hashtable, moving the last entry into its place. */
  #deleteFromTable(field: string): boolean {
    const values = this.#values!;
    const at = this.#table!.find(field, hashOf(field));
    if (at < 0) return false;
    this.#bytes -= HASHTABLE_FIELD_OVERHEAD + field.length + values.length(at);
    // The table moves its last entry into the hole: the values follow.
    this.#table!.removeAt(at);
    values.removeAt(at);
    return true;
  }
}

/**
 * `count` of the `size` entries, chosen uniformly and returned in iteration order (Knuth's
 * selection sampling, as Redis's `lpRandomPairsUnique`).
 */
function selectInOrder(
  entries: Iterable<HashEntry>,
  size: number,
  count: number,
  random: () => number,
): HashEntry[] {
  const out: HashEntry[] = [];
  let seen = 0;
  for (const entry of entries) {
    if (out.length === count) break;
    if (random() * (size - seen) < count - out.length) out.push(entry);
    seen++;
  }
  return out;
}
