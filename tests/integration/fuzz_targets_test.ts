/**
 * The fuzz targets of fuzz/ (one per parser: RESP and inline requests, RESP replies, RDB, DUMP
 * payloads, AOF, cluster bus frames, YAML config, Lua scripts, glob patterns, ACL rules), each
 * fed 2,000 seeded inputs: none may crash. Also: `deno task fuzz --replay seed:index` rebuilds
 * the very input the run fed, and every input in KNOWN_CRASHES still crashes its target (an
 * entry is removed when the parser is fixed).
 */
import assert from "node:assert/strict";
import { fuzz, inputFor, prepare, runInput, teardown } from "../../fuzz/engine.ts";
import { fromHex, toHex } from "../../fuzz/target.ts";
import { selectTargets, TARGETS } from "../../fuzz/targets/mod.ts";

const SEED = 20_240_601;
const INPUTS = 2000;

/**
 * Inputs that crash a parser, found by the fuzzer and not fixed yet: target, the input (hex),
 * and the start of the error it raises. Each must keep crashing until its parser is fixed,
 * then be deleted from here. Empty: no open crash.
 */
const KNOWN_CRASHES: readonly { target: string; hex: string; error: string }[] = [];

for (const target of TARGETS) {
  Deno.test(`fuzz target ${target.name}: ${INPUTS} inputs of seed ${SEED} without a crash`, async () => {
    const prepared = await prepare([target]);
    const { stats, crash } = await fuzz(prepared, { seed: SEED, inputsPerTarget: INPUTS });
    teardown(prepared);
    assert.equal(
      crash,
      null,
      crash === null ? "" : `${crash.kind} at input ${crash.index} (hex ${toHex(crash.input)}):\n` +
        `${crash.error}\nreplay: deno task fuzz --target ${crash.target} --replay ${SEED}:${crash.index}`,
    );
    assert.equal(stats[0].inputs, INPUTS);
  });
}

for (const known of KNOWN_CRASHES) {
  Deno.test(`known crash of ${known.target} still crashes: ${known.error}`, async () => {
    const [prepared] = await prepare(selectTargets([known.target]));
    const error = await runInput(prepared.target, fromHex(known.hex));
    teardown([prepared]);
    assert.ok(error !== null && error.includes(known.error), `now: ${error ?? "no crash"}`);
  });
}

/** Runs the CLI; returns its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  const main = new URL("../../fuzz/main.ts", import.meta.url).pathname;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout) };
}

Deno.test("--replay seed:index feeds the same input as the run, every time", async () => {
  for (const [name, index] of [["rdb", 123], ["resp-request", 4567]] as const) {
    const [prepared] = await prepare(selectTargets([name]));
    const expected = toHex(inputFor(prepared, SEED, index));
    teardown([prepared]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const { code, stdout } = await cli("--target", name, "--replay", `${SEED}:${index}`);
      assert.equal(code, 0, stdout);
      const hex = /input \(\d+ bytes, hex\): ([0-9a-f]*)/.exec(stdout)?.[1];
      assert.equal(hex, expected, stdout);
      assert.match(stdout, /^ok \(/m);
    }
  }
});

Deno.test("the CLI runs the targets for a short time and reports rates and no crash", async () => {
  const { code, stdout } = await cli("--seconds", "1", "--seed", String(SEED), "--target", "glob");
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^glob +\d+ +[\d.]+ +\d+$/m);
  assert.match(stdout, /^total +\d+/m);
  assert.match(stdout, /^no crash$/m);
});
