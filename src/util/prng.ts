/**
 * A small seeded pseudo-random generator (mulberry32), for what must be reproducible from a
 * seed: benchmark traces that every variant sees alike, and fuzz inputs whose failures replay.
 * Not for anything that needs unpredictability.
 */

/** A generator of floats in [0, 1) determined by `seed`. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
