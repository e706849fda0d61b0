import assert from "node:assert/strict";
import { escapeLabelValue, Exposition, formatValue } from "../../../src/metrics/exposition.ts";
import { LATENCY_BOUNDS_US, LatencyHistograms } from "../../../src/metrics/latency.ts";
import { MetricsRegistry, Readiness } from "../../../src/metrics/mod.ts";
import { parseSamples, valueOf } from "../../support/prometheus.ts";

Deno.test("durations land in the first bucket whose bound is not below them", () => {
  const h = new LatencyHistograms(2);
  for (const us of [5, 10, 10.5, 25, 99, 1_000_000, 2_000_000]) h.record(1, us);
  const out = new Exposition().family("d_seconds", "histogram", "Durations.");
  out.histogram(
    { command: "get" },
    LATENCY_BOUNDS_US.map((us) => us / 1e6),
    (slot) => h.bucket(1, slot),
    h.sums[1] / 1e6,
  );
  const samples = parseSamples(out.text());
  const bucket = (le: string) => valueOf(samples, "d_seconds_bucket", { command: "get", le });
  assert.equal(bucket("0.00001"), 2, "5 and 10 µs (a bound is inclusive)");
  assert.equal(bucket("0.000025"), 4, "10.5 and 25 µs added");
  assert.equal(bucket("0.00005"), 4);
  assert.equal(bucket("0.0001"), 5, "99 µs added");
  assert.equal(bucket("0.5"), 5);
  assert.equal(bucket("1"), 6, "1 s added");
  assert.equal(bucket("+Inf"), 7, "2 s only in +Inf");
  assert.equal(valueOf(samples, "d_seconds_count", { command: "get" }), 7);
  assert.ok(Math.abs(valueOf(samples, "d_seconds_sum", { command: "get" }) - 3.0001495) < 1e-9);
  assert.equal(h.counts[0], 0, "other commands untouched");
});

Deno.test("label values and help texts are escaped as the text format requires", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const text = new Exposition().family("x", "gauge", "Line one\nback\\slash")
    .sample(1, { code: 'A"B' }).text();
  assert.equal(
    text,
    '# HELP x Line one\\nback\\\\slash\n# TYPE x gauge\nx{code="A\\"B"} 1\n',
  );
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
});

Deno.test("a family written twice, a bad name or a sample without a family is refused", () => {
  const out = new Exposition().family("a_total", "counter", "A.");
  assert.throws(() => out.family("a_total", "counter", "A."), /written twice/);
  assert.throws(() => new Exposition().family("bad-name", "gauge", "B."), /Invalid metric name/);
  assert.throws(() => new Exposition().sample(1), /needs a family/);
  assert.throws(
    () => new Exposition().family("g", "gauge", "G.").histogram({}, [1], () => 0, 0),
    /not a histogram/,
  );
});

Deno.test("a collector that throws is left out of the scrape, the others stay", () => {
  const registry = new MetricsRegistry();
  registry.addCollector((out) => out.single("first", "gauge", "First.", 1));
  registry.addCollector((out) => {
    out.single("half_written", "gauge", "Half.", 2);
    throw new Error("boom");
  });
  const remove = registry.addCollector((out) => out.single("last", "gauge", "Last.", 3));
  assert.deepEqual(parseSamples(registry.render()).map((s) => s.name), ["first", "last"]);
  remove();
  assert.deepEqual(parseSamples(registry.render()).map((s) => s.name), ["first"]);
});

Deno.test("readiness names every check that does not hold, a throwing one included", () => {
  const readiness = new Readiness();
  let loaded = false;
  readiness.add("dataset-loaded", () => loaded);
  const remove = readiness.add("synced", () => {
    throw new Error("no link");
  });
  assert.deepEqual(readiness.failing(), ["dataset-loaded", "synced"]);
  loaded = true;
  remove();
  assert.deepEqual(readiness.failing(), []);
});
