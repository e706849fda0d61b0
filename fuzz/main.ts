/**
 * The fuzzing CLI: runs every parser's fuzz target (fuzz/targets/) with seeded inputs.
 *
 *   deno task fuzz [--seconds N] [--seed S] [--target name ...] [--replay seed:index]
 *
 * Without `--replay` the targets take turns for N seconds (default 10) in a worker watched for
 * inputs that never end; the per-target inputs/s and the totals are printed. On a crash (an
 * unexpected exception, a broken invariant, an input slower than 2 s, or one that hangs) the
 * target, seed, input index, error and input (hex) are printed, with the command that replays
 * it, and the exit code is 1. `--replay seed:index` (with `--target`) feeds that one input
 * again, in this process, and prints it and its outcome.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Crash,
  type FuzzResult,
  inputFor,
  prepare,
  runInput,
  type TargetStats,
  teardown,
} from "./engine.ts";
import { selectTargets, TARGETS } from "./targets/mod.ts";
import { toHex } from "./target.ts";
import { Slot, type WorkerReply, type WorkerRequest } from "./worker.ts";

/** An input that has not finished after this long is reported as a hang. */
const HANG_MS = 15_000;
const encoder = new TextEncoder();

function print(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

function fail(text: string): never {
  Deno.stderr.writeSync(encoder.encode(text + "\n"));
  Deno.exit(2);
}

const USAGE =
  `usage: deno task fuzz [--seconds N] [--seed S] [--target name ...] [--replay seed:index]
targets: ${TARGETS.map((t) => t.name).join(", ")}`;

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        seconds: { type: "string", default: "10" },
        seed: { type: "string" },
        target: { type: "string", multiple: true, default: [] },
        replay: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    fail(`${e instanceof Error ? e.message : e}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    print(USAGE);
    Deno.exit(0);
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) fail(`--seconds must be a positive number\n${USAGE}`);
  const seed = values.seed === undefined
    ? Math.floor(Math.random() * 2 ** 32)
    : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    fail(`--seed must be an integer in [0, 2^32)\n${USAGE}`);
  }
  return { seconds, seed, names: values.target ?? [], replay: values.replay };
}

function reportCrash(crash: Crash): void {
  print(`CRASH in target ${crash.target} (${crash.kind})`);
  print(`seed ${crash.seed}, input index ${crash.index}`);
  print(`replay: deno task fuzz --target ${crash.target} --replay ${crash.seed}:${crash.index}`);
  print(`input (${crash.input.length} bytes, hex): ${toHex(crash.input)}`);
  print(crash.error);
}

function reportStats(stats: readonly TargetStats[]): void {
  const width = Math.max(6, ...stats.map((s) => s.name.length));
  print(`${"target".padEnd(width)}  ${"inputs".padStart(10)}  ${"seconds".padStart(8)}  inputs/s`);
  let inputs = 0;
  let ms = 0;
  for (const s of stats) {
    inputs += s.inputs;
    ms += s.ms;
    const rate = s.ms > 0 ? Math.round(s.inputs / (s.ms / 1000)) : 0;
    print(
      `${s.name.padEnd(width)}  ${String(s.inputs).padStart(10)}  ${
        (s.ms / 1000).toFixed(1).padStart(8)
      }  ${rate}`,
    );
  }
  const rate = ms > 0 ? Math.round(inputs / (ms / 1000)) : 0;
  print(
    `${"total".padEnd(width)}  ${String(inputs).padStart(10)}  ${
      (ms / 1000).toFixed(1).padStart(8)
    }  ${rate}`,
  );
}

async function replay(names: string[], spec: string): Promise<number> {
  const match = /^(\d+):(\d+)$/.exec(spec);
  if (match === null) fail(`--replay takes seed:index\n${USAGE}`);
  if (names.length !== 1) fail("--replay needs exactly one --target (the crash report names it)");
  const [prepared] = await prepare(selectTargets(names));
  const seed = Number(match[1]);
  const index = Number(match[2]);
  const input = inputFor(prepared, seed, index);
  print(`target ${prepared.target.name}, seed ${seed}, input index ${index}`);
  print(`input (${input.length} bytes, hex): ${toHex(input)}`);
  const started = performance.now();
  const error = await runInput(prepared.target, input);
  const ms = performance.now() - started;
  teardown([prepared]);
  if (error === null) {
    print(`ok (${ms.toFixed(1)} ms)`);
    return 0;
  }
  print(`CRASH (${ms.toFixed(1)} ms)`);
  print(error);
  return 1;
}

/** Runs the loop in a worker; a hang ends it and is reported as a crash. */
async function run(names: string[], seed: number, seconds: number): Promise<FuzzResult> {
  const selected = selectTargets(names);
  const shared = new SharedArrayBuffer(Slot.SIZE * 4);
  const slots = new Int32Array(shared);
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  const reply = new Promise<WorkerReply | "hang">((resolve) => {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      resolve({ failure: event.message });
    };
    let counter = -1;
    let since = performance.now();
    const watchdog = setInterval(() => {
      const now = performance.now();
      const current = Atomics.load(slots, Slot.COUNTER);
      if (Atomics.load(slots, Slot.RUNNING) === 0 || current !== counter) {
        counter = current;
        since = now;
      } else if (now - since > HANG_MS) {
        clearInterval(watchdog);
        resolve("hang");
      }
    }, 250);
    worker.addEventListener("message", () => clearInterval(watchdog));
  });
  const request: WorkerRequest = { names, seed, seconds, shared };
  worker.postMessage(request);
  const outcome = await reply;
  worker.terminate();
  if (outcome === "hang") {
    const target = selected[Atomics.load(slots, Slot.TARGET)];
    const index = Atomics.load(slots, Slot.INDEX);
    const [prepared] = await prepare([target]);
    const input = inputFor(prepared, seed, index);
    teardown([prepared]);
    return {
      stats: [],
      crash: {
        target: target.name,
        seed,
        index,
        input,
        kind: "hang",
        error: `the input did not finish within ${HANG_MS / 1000} s`,
      },
    };
  }
  if ("failure" in outcome) fail(`the fuzz worker failed: ${outcome.failure}`);
  return outcome.result;
}

if (import.meta.main) {
  const { seconds, seed, names, replay: spec } = parseCommandLine();
  if (spec !== undefined) Deno.exit(await replay(names, spec));
  const count = names.length === 0 ? TARGETS.length : names.length;
  print(`fuzzing ${count} targets for ${seconds} s, seed ${seed}`);
  const result = await run(names, seed, seconds);
  if (result.stats.length > 0) reportStats(result.stats);
  if (result.crash !== null) {
    reportCrash(result.crash);
    Deno.exit(1);
  }
  print("no crash");
  Deno.exit(0);
}
