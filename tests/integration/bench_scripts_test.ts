/**
 * The side-by-side benchmark scripts run end to end with tiny counts: bench/compare.ts prints its
 * summary table and one RATIO line per test and mode, bench/memory.ts one MEM line for the keys
 * it filled; a bad flag exits 2 with the usage, a gocache command that does not start exits 1
 * with one message naming it; bench/runtime_floor.ts prints a row of CPU times and ratios per
 * shape of load.
 */
import assert from "node:assert/strict";

const COMPARE = new URL("../../bench/compare.ts", import.meta.url).pathname;
const MEMORY = new URL("../../bench/memory.ts", import.meta.url).pathname;
const FLOOR = new URL("../../bench/runtime_floor.ts", import.meta.url).pathname;

/** Runs `deno run -A script args...`, killed after `limitMs`; its exit code and output. */
async function runScript(
  script: string,
  args: string[],
  limitMs = 120_000,
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const result = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  const out = dec.decode(result.stdout);
  const err = dec.decode(result.stderr);
  assert.ok(!killed, `${script} was still running after ${limitMs} ms:\n${out}\n${err}`);
  return { code: result.code, out, err };
}

const NUMBER = String.raw`\d+(?:\.\d+)?`;

Deno.test("bench/compare.ts prints a table row and a RATIO line per test and mode", async () => {
  const { code, out, err } = await runScript(COMPARE, [
    "--quick",
    "--tests",
    "ping,set",
    "--requests",
    "2000",
  ]);
  assert.equal(code, 0, err);
  const lines = out.trimEnd().split("\n");
  assert.match(lines[0], /^test\s+mode\s+gocache_rps\s+redis_rps\s+ratio$/);
  const rows = lines.slice(1, 5).map((l) => l.split(/\s+/));
  assert.deepEqual(rows.map((r) => r.slice(0, 2)), [
    ["ping", "P16"],
    ["ping", "P1"],
    ["set", "P16"],
    ["set", "P1"],
  ]);
  const ratios = lines.slice(5);
  assert.equal(ratios.length, 4, out);
  ratios.forEach((line, i) => {
    const m = new RegExp(`^RATIO (\\w+) (P\\d+) (${NUMBER}) (${NUMBER}) (${NUMBER})$`).exec(line);
    assert.ok(m !== null, `a RATIO line: ${line}`);
    const [, test, mode, g, r, ratio] = m;
    // The RATIO lines repeat the table's numbers.
    assert.deepEqual([test, mode, g, r, ratio], rows[i]);
    assert.ok(Number(g) > 0 && Number(r) > 0, line);
    assert.ok(Math.abs(Number(ratio) - Number(g) / Number(r)) <= 0.006, line);
  });
});

Deno.test("bench/compare.ts: a bad flag exits 2 with the usage, a gocache that fails exits 1", async () => {
  const bad = await runScript(COMPARE, ["--requets", "10"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--requets/);
  assert.match(bad.err, /usage: deno task bench:compare/);
  const notNumber = await runScript(COMPARE, ["--requests", "many"]);
  assert.equal(notNumber.code, 2);
  assert.match(notNumber.err, /--requests wants a positive integer: many/);

  const failing = await runScript(COMPARE, [
    "--quick",
    "--tests",
    "ping",
    "--requests",
    "1000",
    "--gocache",
    "sh -c 'echo cannot start on {port}; exit 3'",
  ]);
  assert.equal(failing.code, 1, failing.err);
  assert.equal(failing.out, "");
  assert.match(failing.err, /^bench\/compare\.ts: gocache on port \d+ exited with code 3:/);
  assert.match(failing.err, /cannot start on \d+/);
});

Deno.test("bench/memory.ts fills both servers and prints their RSS", async () => {
  const { code, out, err } = await runScript(MEMORY, ["--keys", "10000", "--settle", "0"]);
  assert.equal(code, 0, err);
  const m = new RegExp(
    `^MEM redis_keys=(\\d+) gocache_keys=(\\d+) value_bytes=32 ` +
      `gocache_rss_mb=(${NUMBER}) redis_rss_mb=(${NUMBER}) ratio=(${NUMBER})\\n$`,
  ).exec(out);
  assert.ok(m !== null, `one MEM line: ${out}`);
  const [rk, gk, g, r, ratio] = m.slice(1).map(Number);
  assert.ok(rk >= 10_000 && gk >= 10_000, out);
  // redis-benchmark's keys are random out of 100x more: a few may be drawn twice, never many.
  assert.ok(rk < 12_000 && gk < 12_000, out);
  assert.ok(g > 0 && r > 0, out);
  // The ratio is of the unrounded sizes; the sizes are printed to 0.1 MB: allow for that.
  const slack = 0.005 + (0.05 / r) * (1 + g / r);
  assert.ok(Math.abs(ratio - g / r) <= slack, out);
});

Deno.test("bench/runtime_floor.ts prints CPU per request and ratios for each shape", async () => {
  const { code, out, err } = await runScript(FLOOR, ["--requests", "1000", "--rounds", "1"]);
  assert.equal(code, 0, err);
  const cell = String.raw`${NUMBER} \+ +${NUMBER}`;
  // A ratio over a CPU time of 0 (too few requests for the clock's 10 ms ticks) reads n/a.
  const ratio = String.raw`(?:${NUMBER}|n/a)`;
  for (const shape of ["seq", "c50", "P16"]) {
    const row = new RegExp(
      String.raw`^${shape} +${cell} +${cell} +${cell} +${ratio} +${ratio} +${ratio}$`,
      "m",
    );
    assert.match(out, row, `no ${shape} row in:\n${out}`);
  }
  const bad = await runScript(FLOOR, ["--requests", "none"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^bench:floor: --requests wants a positive integer: none$/m);
});
