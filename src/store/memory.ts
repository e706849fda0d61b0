/**
 * The memory model behind `used_memory`, `maxmemory` and MEMORY USAGE. Since the store keeps
 * keys and values in typed arrays (see key_table.ts) rather than as heap objects, the model is
 * an account of bytes the store itself lays out, kept incrementally so that checking a limit
 * costs nothing:
 *
 * - each key's arena block: a 24-byte header (lengths, id, hash, access stamp), the key and the
 *   value, rounded up to 8 bytes;
 * - {@link ENTRY_OVERHEAD} per key: its 16-byte record (block offset, flags, expiry time), its
 *   hash slot (8 bytes in a table between 3/8 and 3/4 full, so 16 counted) and its slot in the
 *   TTL list's position index (4 bytes);
 * - {@link TTL_OVERHEAD} per key with a TTL: its slot in the list of volatile keys (4 bytes,
 *   in a list whose capacity doubles, so 8 counted);
 * - in cluster mode, {@link SLOT_INDEX_OVERHEAD} per key: its two links in the index of keys
 *   by hash slot (slot_index.ts), in an array with the records' capacity, counted as records are.
 *   Redis 7.0 spends 16 bytes per key on the same list (dict entry metadata).
 *
 * What the model leaves out, as Redis's `used_memory` leaves out allocator fragmentation: freed
 * arena blocks waiting for reuse, the unused tail of capacities that grow by doubling, tables
 * the allocator keeps after they were replaced by larger ones, and the JS heap's own slack.
 * `deno task bench:memory-model` measures it (each case in a fresh process, after forced
 * collections; resident = RSS growth, reserved = heap plus array buffers at full capacity):
 *
 * | case | estimate | resident | reserved |
 * | --- | --- | --- | --- |
 * | 500k keys, 16 + 32 B | 54 MB | 1.71x | 1.56x |
 * | same with TTLs | 58 MB | 1.69x | 1.52x |
 * | 500k keys, 16 + 100 B | 90 MB | 1.62x | 1.68x |
 * | 100k keys, 16 + 1000 B | 108 MB | 1.20x | 1.29x |
 * | 1M sets through 250k keys (eviction churn) | 45 MB | 3.06x | 1.69x |
 *
 * The overhead is mostly fixed or stepwise (replaced tables, the last doubling, garbage the fill
 * itself made), so it shrinks relative to larger datasets: with 2M keys of 32 B
 * (`deno task bench:memory`) the node's RSS is 301 MB for a 216 MB estimate plus a ~40 MB
 * baseline, against 281 MB for redis-server.
 */

/** Bytes per key besides its arena block (see the module comment). */
export const ENTRY_OVERHEAD = 16 + 16 + 4;

/**
 * Bytes per key of the index of keys by hash slot, kept in cluster mode only (slot_index.ts):
 * two int32 links per id, in an array whose capacity doubles with the ids.
 */
export const SLOT_INDEX_OVERHEAD = 8;

/** Bytes per key with a TTL (see the module comment). */
export const TTL_OVERHEAD = 8;

/** Arena bytes of a block holding a key and a value of the given lengths. */
export function blockBytes(keyLength: number, valueLength: number): number {
  return (24 + keyLength + valueLength + 7) & ~7;
}

/** Bytes counted for a key holding a string value (without a TTL). */
export function entryBytes(key: string, value: string): number {
  return blockBytes(key.length, value.length) + ENTRY_OVERHEAD;
}
