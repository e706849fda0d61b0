/** The latency histogram and the Zipf sampler the benchmark relies on. */
import assert from "node:assert/strict";
import { Histogram } from "../../../src/util/histogram.ts";
import { ZipfSampler } from "../../../src/util/zipf.ts";

Deno.test("histogram percentiles are within 1/128 of the exact ones at every magnitude", () => {
  for (const scale of [1, 37, 1000, 123_457, 9_000_000]) {
    const histogram = new Histogram();
    const values: number[] = [];
    for (let i = 1; i <= 10_000; i++) {
      const v = Math.round(scale * (1 + ((i * 7919) % 10_000) / 1000));
      values.push(v);
      histogram.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 95, 99, 99.9, 100]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1];
      const got = histogram.percentile(p);
      assert.ok(got >= exact && got <= exact * (1 + 1 / 128) + 1, `p${p} ${got} vs ${exact}`);
    }
    assert.equal(histogram.max, values[values.length - 1]);
    assert.equal(histogram.min, values[0]);
    assert.equal(histogram.total, 10_000);
  }
});

Deno.test("merged histograms equal one that recorded everything, also after toJSON/from", () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 0; i < 5000; i++) {
    const v = (i * 31) % 4000;
    (i % 2 === 0 ? a : b).record(v);
    all.record(v);
  }
  const merged = Histogram.from(structuredClone(a.toJSON()));
  merged.merge(b);
  assert.deepEqual(merged.counts, all.counts);
  assert.equal(merged.mean(), all.mean());
  assert.equal(merged.percentile(99), all.percentile(99));
  assert.equal(new Histogram().percentile(50), 0);
});

Deno.test("Zipf ranks stay in range and rank k is drawn about k^s times less than rank 1", () => {
  let seed = 42;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const sampler = new ZipfSampler(1000, 1.0, random);
  const counts = new Array(1001).fill(0);
  for (let i = 0; i < 200_000; i++) {
    const k = sampler.next();
    assert.ok(k >= 1 && k <= 1000);
    counts[k]++;
  }
  assert.ok(Math.abs(counts[1] / counts[2] - 2) < 0.15, `${counts[1] / counts[2]}`);
  assert.ok(Math.abs(counts[1] / counts[10] - 10) < 1.5, `${counts[1] / counts[10]}`);
  assert.throws(() => new ZipfSampler(0, 1), RangeError);
  assert.throws(() => new ZipfSampler(10, 0), RangeError);
});
