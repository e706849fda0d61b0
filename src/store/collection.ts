/**
 * What every value of a type other than string (hash, list, set, sorted set) offers the rest of
 * the server: its Redis type name, its element count, OBJECT ENCODING's answer, a deep copy
 * (COPY, the snapshot's copy on write), and the bytes it occupies, kept up to date by the value
 * itself on every change so that `used_memory` stays O(1) to read. The keyspace stores these as
 * objects beside its byte arena (see key_table.ts); strings stay bytes in the arena.
 *
 * Each type's class lives in its own module (hash_value.ts, list_value.ts, set_value.ts,
 * sorted_set_value.ts) and is the only owner of its representation, so that a compact encoding
 * can replace a simple one without touching the commands.
 */

/** Redis's type names of the collection types (TYPE, SCAN TYPE). */
export type CollectionType = "hash" | "list" | "set" | "zset";

/** The limits that decide a collection's compact encoding (Redis's `*-max-*` settings). */
export interface EncodingLimits {
  /** `hash-max-listpack-entries`. */
  hashMaxListpackEntries: number;
  /** `hash-max-listpack-value`. */
  hashMaxListpackValue: number;
  /** `set-max-intset-entries`. */
  setMaxIntsetEntries: number;
  /** `zset-max-listpack-entries`. */
  zsetMaxListpackEntries: number;
  /** `zset-max-listpack-value`. */
  zsetMaxListpackValue: number;
}

/** Redis 7.0's defaults of {@link EncodingLimits}. */
export const DEFAULT_ENCODING_LIMITS: EncodingLimits = {
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
};

/** A value of a collection type; see the module comment. */
export interface CollectionValue {
  /** Its Redis type name. */
  readonly type: CollectionType;
  /** Number of elements: fields, items or members. Never 0 while stored under a key. */
  readonly size: number;
  /**
   * Bytes it occupies by the memory model (memory.ts): elements and their per-element
   * overhead. Read in O(1): the value updates it as it changes.
   */
  readonly bytes: number;
  /** OBJECT ENCODING's answer: "listpack", "quicklist", "intset", "hashtable" or "skiplist". */
  encoding(): string;
  /** An independent deep copy with the same contents and encoding. */
  clone(): CollectionValue;
}

/**
 * The limits in force, read by the collections when they grow: the server keeps it in step with
 * its configuration (CONFIG SET applies to the next write, as in Redis).
 */
export const encodingLimits: EncodingLimits = { ...DEFAULT_ENCODING_LIMITS };

/** Whether a stored value is a collection (anything but a string). */
export function isCollection(value: unknown): value is CollectionValue {
  return typeof value === "object" && value !== null && "type" in value;
}
