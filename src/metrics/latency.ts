/**
 * Per-command latency histograms kept in flat typed arrays indexed by command id, so that
 * recording a command is a few array writes: no allocation, no label lookup. The Prometheus
 * exposition, INFO commandstats (`usec`) and INFO latencystats all read these arrays.
 */

/**
 * Upper bounds of the histogram buckets in microseconds: 10 µs to 1 s in Prometheus's usual
 * 1-2.5-5 steps. A command's duration falls in the first bucket whose bound is not below it;
 * longer ones only in `+Inf`.
 */
export const LATENCY_BOUNDS_US: readonly number[] = [
  10,
  25,
  50,
  100,
  250,
  500,
  1_000,
  2_500,
  5_000,
  10_000,
  25_000,
  50_000,
  100_000,
  250_000,
  500_000,
  1_000_000,
];

/** Slots per command: one per bound plus `+Inf`. */
const SLOTS = LATENCY_BOUNDS_US.length + 1;

/** Latency histograms of every command; see the module comment. */
export class LatencyHistograms {
  /** Bucket counts (not cumulative), `SLOTS` per command id, the last one being `+Inf`. */
  readonly buckets: Float64Array;
  /** Sum of durations in microseconds, per command id. */
  readonly sums: Float64Array;
  /** Number of recorded durations, per command id. */
  readonly counts: Float64Array;
  readonly #bounds = Float64Array.from(LATENCY_BOUNDS_US);

  /** Histograms for command ids `0 .. commands-1`. */
  constructor(commands: number) {
    this.buckets = new Float64Array(commands * SLOTS);
    this.sums = new Float64Array(commands);
    this.counts = new Float64Array(commands);
  }

  /** Adds one duration (microseconds) for command `id`. */
  record(id: number, micros: number): void {
    const bounds = this.#bounds;
    let slot = 0;
    while (slot < bounds.length && micros > bounds[slot]) slot++;
    this.buckets[id * SLOTS + slot]++;
    this.sums[id] += micros;
    this.counts[id]++;
  }

  /** The count in bucket `slot` (0-based, `LATENCY_BOUNDS_US.length` is `+Inf`) of command `id`. */
  bucket(id: number, slot: number): number {
    return this.buckets[id * SLOTS + slot];
  }

  /** Zeroes everything (CONFIG RESETSTAT). */
  reset(): void {
    this.buckets.fill(0);
    this.sums.fill(0);
    this.counts.fill(0);
  }
}
