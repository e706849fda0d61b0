/**
 * The memory model behind `used_memory`, `maxmemory` and MEMORY USAGE: an estimate of what each
 * key costs in the V8 heap, maintained incrementally by the databases so that checking a limit
 * costs nothing. It is derived from measurement, not guessed (Deno 2.9.6, V8 with pointer
 * compression, 200k entries in a `Map<string, string>` of flat one-byte strings, heap growth
 * after a full GC):
 *
 * | key + value bytes | measured per entry | model |
 * | --- | --- | --- |
 * | 16 + 32 | 117 B | 104 B |
 * | 16 + 100 | 157 B | 168 B |
 * | 40 + 8 | 117 B | 104 B |
 * | 16 + 1000 | 1053 B | 1072 B |
 * | a TTL on top | +45 B | +44 B |
 *
 * The differences come from the Map's capacity, which doubles and so is between half and fully
 * used: the model takes the middle. `deno task bench:memory-model` repeats the comparison with
 * forced full GCs (500k keys; heap growth / estimate): 1.05 for 16+32 B, 1.08 for 16+100 B,
 * 1.01 for 16+1000 B. Under eviction churn (1M sets through an allkeys-lru keyspace holding
 * 250k keys) it is 1.26: deleted entries keep their Map slots until V8 rehashes, which the
 * per-entry model does not count. Between collections the heap also holds garbage (request
 * buffers, replaced values), so `used_memory_heap` in INFO runs above `used_memory`.
 */

/** Heap bytes of a flat one-byte string of `length` characters: a 12-byte header, 8-aligned. */
export function stringBytes(length: number): number {
  return (12 + length + 7) & ~7;
}

/** Heap bytes of one Map entry besides its key and value (slot plus hash bucket share). */
export const ENTRY_OVERHEAD = 24;

/** Heap bytes of a TTL: its entry in the expiry Map plus the boxed number (measured: ~45). */
export const TTL_OVERHEAD = 44;

/** Estimated heap bytes of a key holding a string value (without a TTL). */
export function entryBytes(key: string, value: string): number {
  return stringBytes(key.length) + stringBytes(value.length) + ENTRY_OVERHEAD;
}
