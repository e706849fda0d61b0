/**
 * `gocache bench` end to end: the requests really reach the server (counted there), the JSON,
 * CSV and text outputs agree, threads and durations work, `--compare` prints a ratio per test
 * against redis-server, and usage and connection errors give exit codes 2 and 1.
 */
import assert from "node:assert/strict";
import { connect } from "../../src/client/mod.ts";
import { freePort, startRedis } from "../support/redis_server.ts";
import { MAIN, runCli, startServer } from "../support/server.ts";
import { PYTHON3, requireTools } from "../support/tools.ts";

const PTY_SESSION = new URL("../support/pty_session.py", import.meta.url).pathname;

interface JsonReport {
  results: {
    server: string;
    test: string;
    requests: number;
    errors: number;
    rps: number;
    latencyMs: Record<"avg" | "p50" | "p95" | "p99" | "p999" | "max", number>;
    timeline: { t: number; rps: number }[];
    cpuMicrosPerRequest: number;
  }[];
  comparisons: { test: string; ratio: number; a: { rps: number }; b: { rps: number } }[];
}

async function benchJson(args: string[]): Promise<JsonReport> {
  const { code, stdout, stderr } = await runCli(["bench", "--json", ...args]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

Deno.test("bench sends exactly -n requests per test and reports ordered percentiles", async () => {
  await using server = await startServer();
  const report = await benchJson([
    "-p",
    String(server.port),
    "-c",
    "4",
    "-n",
    "2000",
    "-P",
    "3",
    "-t",
    "ping,set,get,incr,mset,mixed",
  ]);
  assert.deepEqual(report.results.map((r) => r.test), [
    "ping",
    "set",
    "get",
    "incr",
    "mset",
    "mixed",
  ]);
  for (const r of report.results) {
    assert.equal(r.requests, 2000, r.test);
    assert.equal(r.errors, 0, r.test);
    assert.ok(r.rps > 0);
    assert.ok(r.cpuMicrosPerRequest > 0 && r.cpuMicrosPerRequest < 1e6, r.test);
    const l = r.latencyMs;
    assert.ok(l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, r.test);
  }
  await using client = await connect({ port: server.port });
  assert.equal(await client.get("counter:__rand_int__"), "2000", "every INCR reached the server");
  assert.equal(await client.get("key:__rand_int__"), "xxx");
});

Deno.test("bench -r spreads keys; --threads splits the work; --duration runs for a time", async () => {
  await using server = await startServer();
  const threaded = await benchJson([
    "-p",
    String(server.port),
    "-c",
    "5",
    "-n",
    "3001",
    "-t",
    "incr",
    "-r",
    "50",
    "--threads",
    "2",
  ]);
  assert.equal(threaded.results[0].requests, 3001);
  await using client = await connect({ port: server.port });
  const keys = await client.send("KEYS", "*") as Uint8Array[];
  assert.ok(keys.length > 10 && keys.length <= 50, `${keys.length} keys`);
  const values = await client.mget(...keys);
  assert.equal(values.reduce((sum, v) => sum + Number(v), 0), 3001);
  const started = performance.now();
  const timed = await benchJson([
    "-p",
    String(server.port),
    "-c",
    "2",
    "--duration",
    "0.4",
    "-t",
    "ping,get",
  ]);
  const elapsed = performance.now() - started;
  for (const r of timed.results) assert.ok(r.requests > 0 && r.errors === 0);
  assert.equal(timed.results.length, 2);
  assert.ok(elapsed > 2 * 400, "two tests of 0.4 s each");
  assert.ok(timed.results[0].timeline.length >= 2, "a throughput sample every 100 ms");
});

Deno.test("bench --csv prints a header and one row per test", async () => {
  await using server = await startServer();
  const { code, stdout } = await runCli([
    "bench",
    "-p",
    String(server.port),
    "-c",
    "2",
    "-n",
    "500",
    "-t",
    "set,get",
    "--csv",
  ]);
  assert.equal(code, 0);
  const lines = stdout.trim().split("\n");
  assert.equal(
    lines[0],
    "server,test,requests,errors,seconds,rps,avg_ms,p50_ms,p95_ms,p99_ms,p99_9_ms,max_ms,ratio",
  );
  assert.equal(lines.length, 3);
  assert.match(lines[1], new RegExp(`^127\\.0\\.0\\.1:${server.port},set,500,0,`));
  assert.match(lines[2], /,get,500,0,/);
});

Deno.test("bench --compare runs both servers and prints the throughput ratio per test", async () => {
  await using server = await startServer();
  await using redis = await startRedis();
  const args = ["-p", String(redis.port), "--compare", `127.0.0.1:${server.port}`, "-c", "4"];
  const { code, stdout, stderr } = await runCli([
    "bench",
    ...args,
    "-n",
    "3000",
    "-t",
    "set,get",
    "-q",
  ]);
  assert.equal(code, 0, stderr);
  const ratioLines = stdout.split("\n").filter((line) =>
    /^(SET|GET)\s+\d+\.\d+\s+\d+\.\d+\s+\d/.test(line)
  );
  assert.equal(ratioLines.length, 2, stdout);
  for (const line of ratioLines) {
    const [, a, b, ratio] = line.split(/\s+/).map(Number);
    assert.ok(Math.abs(ratio - b / a) < 0.002, line);
  }
  assert.match(
    stdout,
    new RegExp(`ratio = 127\\.0\\.0\\.1:${server.port} / 127\\.0\\.0\\.1:${redis.port}`),
  );
  const report = await benchJson([...args, "-n", "1000", "-t", "ping", "--rounds", "3"]);
  assert.equal(report.comparisons.length, 1);
  const c = report.comparisons[0];
  assert.ok(Math.abs(c.ratio / (c.b.rps / c.a.rps) - 1) < 1e-4, "ratio of the rounded rates");
  assert.deepEqual(report.results.map((r) => r.server), [
    `127.0.0.1:${redis.port}`,
    `127.0.0.1:${server.port}`,
  ]);
});

Deno.test("bench: usage errors exit 2, an unreachable server exits 1", async () => {
  const help = await runCli(["bench", "--help"]);
  assert.equal(help.code, 0);
  for (const flag of ["--duration", "--zipf", "--threads", "--compare", "--html", "--ratio"]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const unknown = await runCli(["bench", "-t", "hset"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown test 'hset'/);
  const zipf = await runCli(["bench", "--zipf", "1"]);
  assert.equal(zipf.code, 2);
  const refused = await runCli(["bench", "-p", String(freePort()), "-n", "10"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^gocache bench: Cannot connect to 127\.0\.0\.1:\d+/);
  const threads = await runCli(["bench", "-p", String(freePort()), "-n", "10", "--threads", "2"]);
  assert.equal(threads.code, 1);
  assert.match(threads.stderr, /Cannot connect/);
});

Deno.test({
  name: "bench draws a progress bar on a terminal and none when stdout is a pipe",
  // python3 drives the pseudo-terminal (tests/support/pty_session.py).
  ...requireTools(PYTHON3, async () => {
    await using server = await startServer();
    const args = ["bench", "-p", String(server.port), "-c", "2", "--duration", "0.3", "-t", "get"];
    const tty = await new Deno.Command("python3", {
      args: [PTY_SESSION, "60", "[]", Deno.execPath(), "run", "-A", MAIN, ...args],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const screen = new TextDecoder().decode(tty.stdout);
    assert.equal(tty.code, 0, screen);
    assert.match(screen, /\r\[#*-*\] GET 127\.0\.0\.1:\d+ \d+ requests, \d+ req\/s/);
    assert.ok(screen.includes("\r\x1b[2K"), "the bar is erased before the results");
    assert.match(screen, /GET\s+\d+\s+0\s+/);
    const piped = await runCli(args);
    assert.equal(piped.code, 0);
    assert.doesNotMatch(piped.stdout, /\[#|\r/);
    assert.match(piped.stdout, /GET\s+\d+\s+0\s+/);
  }),
});

Deno.test("bench logs in with -a and --db, counts error replies and shows the first", async () => {
  await using server = await startServer({ args: ["--requirepass", "s3cret"] });
  await using client = await connect({ port: server.port, password: "s3cret", db: 3 });
  await client.set("counter:__rand_int__", "not a number");
  const { code, stdout, stderr } = await runCli([
    "bench",
    "-p",
    String(server.port),
    "-a",
    "s3cret",
    "--db",
    "3",
    "-c",
    "3",
    "-n",
    "500",
    "-P",
    "7",
    "-t",
    "incr,get",
    "-q",
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^INCR\s+500\s+500\s/m);
  assert.match(stdout, /^GET\s+500\s+0\s/m);
  assert.match(stdout, /INCR: first error reply: ERR value is not an integer or out of range/);
  const wrong = await runCli(["bench", "-p", String(server.port), "-a", "nope", "-n", "10"]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^gocache bench: WRONGPASS/);
});
