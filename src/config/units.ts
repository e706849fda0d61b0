/** Redis's number formats for configuration values, so operators can write `100mb` as in redis.conf. */

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 * 1000,
  mb: 1024 * 1024,
  g: 1000 * 1000 * 1000,
  gb: 1024 * 1024 * 1024,
};

/**
 * Parses a memory amount the way Redis's `memtoull` does: a non-negative integer with an optional
 * case-insensitive unit `b`, `k`, `kb`, `m`, `mb`, `g`, `gb` (k = 1000, kb = 1024). Returns null
 * when the text is not such a value.
 */
export function parseMemory(text: string): number | null {
  const m = /^(\d+)([a-z]*)$/i.exec(text.trim());
  if (!m) return null;
  const unit = MEMORY_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  const value = Number(m[1]) * unit;
  return Number.isSafeInteger(value) ? value : null;
}

/** Parses a plain decimal integer (optional minus sign), or returns null. */
export function parseInteger(text: string): number | null {
  if (!/^-?\d+$/.test(text.trim())) return null;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : null;
}
