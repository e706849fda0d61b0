/**
 * Draws ranks 1..n from a Zipf distribution (P(k) proportional to 1/k^s) in constant time and
 * memory, by rejection-inversion (Hörmann and Derflinger, 1996, as Apache Commons RNG's
 * `RejectionInversionZipfSampler` does). The benchmark uses it for skewed key access: with s
 * near 1, a few keys take most requests, as in real caches.
 *
 * @module
 */

/** Samples ranks in `[1, n]`; rank 1 is the most frequent. */
export class ZipfSampler {
  readonly #n: number;
  readonly #s: number;
  readonly #hIntegralX1: number;
  readonly #hIntegralN: number;
  readonly #threshold: number;
  readonly #random: () => number;

  /** `n` ranks, exponent `s` (> 0); `random` returns uniform numbers in [0, 1). */
  constructor(n: number, s: number, random: () => number = Math.random) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Zipf n must be >= 1, got ${n}`);
    if (!(s > 0)) throw new RangeError(`Zipf exponent must be > 0, got ${s}`);
    this.#n = n;
    this.#s = s;
    this.#random = random;
    this.#hIntegralX1 = this.#hIntegral(1.5) - 1;
    this.#hIntegralN = this.#hIntegral(n + 0.5);
    this.#threshold = 2 - this.#hIntegralInverse(this.#hIntegral(2.5) - this.#h(2));
  }

  /** The next rank. */
  next(): number {
    for (;;) {
      const u = this.#hIntegralN + this.#random() * (this.#hIntegralX1 - this.#hIntegralN);
      const x = this.#hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.#n) k = this.#n;
      if (k - x <= this.#threshold || u >= this.#hIntegral(k + 0.5) - this.#h(k)) return k;
    }
  }

  #h(x: number): number {
    return Math.exp(-this.#s * Math.log(x));
  }

  #hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.#s) * logX) * logX;
  }

  #hIntegralInverse(x: number): number {
    let t = x * (1 - this.#s);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

/** log(1 + x) / x, accurate near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** (exp(x) - 1) / x, accurate near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x));
}
