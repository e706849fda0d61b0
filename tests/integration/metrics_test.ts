/**
 * The metrics endpoint of a real server: counters and histograms after known traffic,
 * promtool's verdict on the exposition, health and readiness (503 while a large dump loads).
 */
import assert from "node:assert/strict";
import { RdbWriter } from "../../src/persistence/rdb/mod.ts";
import { RespConn } from "../support/resp_conn.ts";
import { freePort } from "../support/redis_server.ts";
import { httpGet, parseSamples, promtoolCheck, scrape, valueOf } from "../support/prometheus.ts";
import { startServer } from "../support/server.ts";
import { PROMTOOL, requireTools } from "../support/tools.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("known traffic shows up as exact counters and histogram counts", async () => {
  const metricsPort = freePort();
  await using server = await startServer({ args: ["--metrics-port", String(metricsPort)] });
  await using conn = await RespConn.connect(server.port);
  for (let i = 0; i < 100; i++) {
    await conn.call("SET", `k${i}`, "v", ...(i < 30 ? ["EX", "100"] : []));
  }
  for (let i = 0; i < 75; i++) await conn.call("GET", i < 50 ? `k${i}` : `missing${i}`);
  let samples = parseSamples(await scrape(metricsPort));
  assert.equal(valueOf(samples, "gocache_commands_processed_total", { command: "set" }), 100);
  assert.equal(valueOf(samples, "gocache_commands_processed_total", { command: "get" }), 75);
  assert.equal(valueOf(samples, "gocache_keyspace_hits_total"), 50);
  assert.equal(valueOf(samples, "gocache_keyspace_misses_total"), 25);
  assert.equal(valueOf(samples, "gocache_keys", { db: "0" }), 100);
  assert.equal(valueOf(samples, "gocache_keys_with_ttl", { db: "0" }), 30);
  assert.equal(valueOf(samples, "gocache_keys", { db: "1" }), 0);
  assert.equal(valueOf(samples, "gocache_connected_clients"), 1);
  assert.ok(valueOf(samples, "gocache_net_input_bytes_total") > 100 * 20);
  // Every call is in the histogram: no SET takes a second, so the 1 s bucket holds them all.
  const set = { command: "set" };
  assert.equal(valueOf(samples, "gocache_command_duration_seconds_count", set), 100);
  assert.equal(
    valueOf(samples, "gocache_command_duration_seconds_bucket", { ...set, le: "+Inf" }),
    100,
  );
  assert.equal(
    valueOf(samples, "gocache_command_duration_seconds_bucket", { ...set, le: "1" }),
    100,
  );
  const buckets = samples.filter((s) =>
    s.name === "gocache_command_duration_seconds_bucket" && s.labels.command === "set"
  ).map((s) => s.value);
  assert.equal(buckets.length, 17, "16 bounds from 10 µs to 1 s, and +Inf");
  assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), "buckets are cumulative");
  assert.ok(valueOf(samples, "gocache_command_duration_seconds_sum", set) > 0);

  // Errors by code: 3 unknown commands and 2 GETs of the wrong arity (rejected), 4 INCRs of a
  // non-integer (failed), 1 write refused at maxmemory.
  for (let i = 0; i < 3; i++) await conn.call("NOSUCH");
  for (let i = 0; i < 2; i++) await conn.call("GET");
  for (let i = 0; i < 4; i++) await conn.call("INCR", "k1");
  await conn.call("CONFIG", "SET", "maxmemory", "1");
  await conn.call("SET", "over", "limit");
  await conn.call("CONFIG", "SET", "maxmemory", "0");
  samples = parseSamples(await scrape(metricsPort));
  assert.equal(valueOf(samples, "gocache_errors_total", { code: "ERR" }), 9);
  assert.equal(valueOf(samples, "gocache_errors_total", { code: "OOM" }), 1);
  assert.equal(valueOf(samples, "gocache_commands_rejected_total", { command: "get" }), 2);
  assert.equal(valueOf(samples, "gocache_commands_failed_total", { command: "incr" }), 4);
  assert.equal(valueOf(samples, "gocache_commands_rejected_total", { command: "set" }), 1);
  assert.equal(valueOf(samples, "gocache_commands_processed_total", { command: "set" }), 100);
  assert.equal(valueOf(samples, "gocache_role", { role: "master" }), 1);
  assert.ok(valueOf(samples, "process_resident_memory_bytes") > 1e6);
  assert.equal(valueOf(samples, "gocache_loading"), 0);
});

Deno.test({
  name: "promtool check metrics accepts the exposition",
  ...requireTools(PROMTOOL, async () => {
    const metricsPort = freePort();
    await using server = await startServer({
      args: ["--metrics-port", String(metricsPort), "--appendonly", "yes"],
    });
    await using conn = await RespConn.connect(server.port);
    await conn.call("SET", "a", "1");
    await conn.call("SUBSCRIBE", "news");
    await using other = await RespConn.connect(server.port);
    await other.call("NOSUCH", 'quote" and \\ backslash');
    const text = await scrape(metricsPort);
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, output);
    assert.equal(output.trim(), "", "no lint warnings either");
    assert.equal(valueOf(parseSamples(text), "gocache_pubsub_channels"), 1);
  }),
});

Deno.test("/healthz answers, unknown paths are 404 and other methods 405", async () => {
  const metricsPort = freePort();
  await using server = await startServer({
    // A negative flag value is a value, not an option.
    args: ["--metrics-port", String(metricsPort), "--slowlog-log-slower-than", "-1"],
  });
  await using conn = await RespConn.connect(server.port);
  const slowlog = await conn.call("CONFIG", "GET", "slowlog-log-slower-than");
  assert.deepEqual(
    (slowlog as Uint8Array[]).map((b) => new TextDecoder().decode(b)),
    ["slowlog-log-slower-than", "-1"],
  );
  assert.deepEqual(await httpGet(metricsPort, "/healthz"), { status: 200, body: "ok\n" });
  assert.deepEqual(await httpGet(metricsPort, "/readyz"), { status: 200, body: "ready\n" });
  assert.equal((await httpGet(metricsPort, "/nope")).status, 404);
  const post = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
});

Deno.test("with metrics-token, /metrics wants the bearer token; the probes stay open", async () => {
  const metricsPort = freePort();
  await using _server = await startServer({
    args: ["--metrics-port", String(metricsPort), "--metrics-token", "t0ken"],
  });
  const url = `http://127.0.0.1:${metricsPort}/metrics`;
  const attempts: Record<string, string>[] = [
    {},
    { authorization: "Bearer wrong" },
    { authorization: "t0ken" },
  ];
  for (const headers of attempts) {
    const refused = await fetch(url, { headers });
    const body = await refused.text();
    assert.equal(refused.status, 401, JSON.stringify(headers));
    assert.equal(refused.headers.get("www-authenticate"), "Bearer");
    assert.doesNotMatch(body, /gocache_/);
  }
  const allowed = await fetch(url, { headers: { authorization: "Bearer t0ken" } });
  assert.equal(allowed.status, 200);
  assert.match(await allowed.text(), /gocache_/);
  assert.deepEqual(await httpGet(metricsPort, "/healthz"), { status: 200, body: "ok\n" });
  assert.equal((await httpGet(metricsPort, "/readyz")).status, 200);
});

/** Writes an RDB dump of `keys` string keys to `dir/dump.rdb`. */
async function writeDump(dir: string, keys: number): Promise<void> {
  const file = await Deno.open(`${dir}/dump.rdb`, { write: true, create: true });
  const chunks: Uint8Array[] = [];
  const writer = new RdbWriter((chunk) => void chunks.push(chunk.slice()));
  void writer.header();
  void writer.selectDb(0, keys, 0);
  const encoder = new TextEncoder();
  const value = encoder.encode("v".repeat(32));
  for (let i = 0; i < keys; i++) void writer.entry(encoder.encode(`key:${i}`), value);
  await writer.end();
  for (const chunk of chunks) await file.write(chunk);
  file.close();
}

Deno.test("/readyz is 503 while a large dump loads and 200 once it is loaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-readyz-" });
  try {
    await writeDump(dir, 500_000);
    const metricsPort = freePort();
    await using server = await startServer({
      dir,
      untilMetrics: true,
      args: ["--metrics-port", String(metricsPort), "--save", ""],
    });
    assert.equal(server.port, -1);
    const seen: number[] = [];
    let loadingSeen = false;
    await waitFor(async () => {
      const { status, body } = await httpGet(metricsPort, "/readyz");
      seen.push(status);
      if (status === 503) {
        assert.match(body, /not ready: dataset-loaded/);
        const samples = parseSamples(await scrape(metricsPort));
        loadingSeen ||= valueOf(samples, "gocache_loading") === 1;
      }
      return status === 200;
    }, { timeoutMs: 30_000, intervalMs: 10, what: "/readyz to become 200" });
    assert.equal(seen[0], 503, `the first answer is 503 (saw ${seen.join(" ")})`);
    assert.ok(loadingSeen, "gocache_loading was 1 during the load");
    const samples = parseSamples(await scrape(metricsPort));
    assert.equal(valueOf(samples, "gocache_keys", { db: "0" }), 500_000);
    assert.equal(valueOf(samples, "gocache_loading"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
