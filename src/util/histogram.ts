/**
 * A small HDR-style latency histogram: integer values (microseconds for the benchmark) counted
 * in log-linear buckets with 128 sub-buckets per power of two, so every recorded value is known
 * to within 1/128 (under 0.8%) at any magnitude, in a fixed 4 KiB-ish array. Recording is a few
 * integer operations; histograms from several workers merge by adding counts. The exact minimum,
 * maximum and sum are kept beside the buckets.
 *
 * @module
 */

/** Sub-buckets per power of two (the precision: 1/SUB_BUCKETS). */
const SUB_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BITS;
/** Values up to 2^MAX_BITS - 1 are bucketed; larger ones land in the last bucket. */
const MAX_BITS = 40;
const BUCKETS = (MAX_BITS - SUB_BITS + 1) * SUB_BUCKETS;

/** Index of the bucket holding `value` (a non-negative integer). */
function indexOf(value: number): number {
  if (value < 2 * SUB_BUCKETS) return value;
  const magnitude = Math.floor(Math.log2(value)) - SUB_BITS;
  const index = magnitude * SUB_BUCKETS + Math.floor(value / 2 ** magnitude);
  return Math.min(index, BUCKETS - 1);
}

/** The lowest value that lands in bucket `index`. */
function lowestOf(index: number): number {
  if (index < 2 * SUB_BUCKETS) return index;
  const magnitude = Math.floor(index / SUB_BUCKETS) - 1;
  return (index - magnitude * SUB_BUCKETS) * 2 ** magnitude;
}

/** The highest value that lands in bucket `index`. */
function highestOf(index: number): number {
  return index + 1 >= BUCKETS ? Infinity : lowestOf(index + 1) - 1;
}

/** A mergeable histogram of non-negative integer values. */
export class Histogram {
  /** Count per bucket. */
  readonly counts: Float64Array;
  /** Number of values recorded. */
  total = 0;
  /** Exact smallest and largest recorded values, and their sum (for the mean). */
  min = Infinity;
  max = 0;
  sum = 0;

  /** An empty histogram, or one wrapping counts received from another thread. */
  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(BUCKETS);
  }

  /** Records `value` (rounded, clamped at 0) `count` times. */
  record(value: number, count = 1): void {
    const v = value <= 0 ? 0 : Math.round(value);
    this.counts[indexOf(v)] += count;
    this.total += count;
    this.sum += v * count;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds every count of `other` to this one. */
  merge(other: Histogram): void {
    const counts = this.counts;
    const theirs = other.counts;
    for (let i = 0; i < counts.length; i++) counts[i] += theirs[i];
    this.total += other.total;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The mean of the recorded values (0 when empty). */
  mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The value at percentile `p` (0-100): the highest value of the bucket where the cumulative
   * count reaches p% (as HdrHistogram reports it), never above the exact maximum.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const target = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= target) return Math.min(highestOf(i), this.max);
    }
    return this.max;
  }

  /** A plain copy for `postMessage` (the counts travel as a transferable buffer). */
  toJSON(): HistogramData {
    return { counts: this.counts, total: this.total, min: this.min, max: this.max, sum: this.sum };
  }

  /** Rebuilds a histogram from {@link toJSON}'s data. */
  static from(data: HistogramData): Histogram {
    const histogram = new Histogram(data.counts);
    histogram.total = data.total;
    histogram.min = data.min;
    histogram.max = data.max;
    histogram.sum = data.sum;
    return histogram;
  }
}

/** A histogram's state as plain data. */
export interface HistogramData {
  /** Count per bucket. */
  counts: Float64Array;
  /** Values recorded. */
  total: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Sum of the values. */
  sum: number;
}
