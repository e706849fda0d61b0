/**
 * Builds the `gocache` executable with `deno compile` (`deno task compile`), for this machine or
 * for another platform (`deno task compile --target aarch64-apple-darwin`).
 *
 * {@link PERMISSIONS} is the one definition of what the executable may do: the Dockerfile and the
 * release workflow build through `deno task compile`, and tests/integration/deploy_test.ts runs
 * `gocache serve` under exactly these flags (PING, SAVE, AOF, CONFIG REWRITE, /metrics, /healthz).
 * The server needs the network (client, bus, replication and metrics sockets, DNS), files (the
 * data directory, the config file, the log file, /proc/self for the process metrics) and two
 * environment variables the `yaml` package reads (`LOG_TOKENS`, `LOG_STREAM`); nothing else: no
 * subprocesses, no FFI, no system information.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The permission flags baked into the executable. */
export const PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env=LOG_TOKENS,LOG_STREAM",
];

/**
 * The V8 settings baked into the executable, which `deno task serve` and the benchmarks pass too.
 * `--max-semi-space-size=8` caps V8's young generation at two 8 MB halves. This Deno sizes it
 * larger on its own, and the young generation stays committed under a store that keeps
 * allocating. `deno task bench:memory-types` (2026-12-07) measured 368-388 MB of RSS without the
 * cap against 324-343 MB with 4-8 MB halves: redis-server holds 262 MB, so the ratio is
 * 1.40-1.48 without the cap and 1.24-1.31 with it. Speed did not change: `-P 16` server CPU per
 * request, SET/GET/LPUSH/HSET/ZADD, was within the run-to-run noise, and so was `bench:path`.
 * 2 MB halves and `--optimize-for-size` save as much memory but slow commands by 10-40%.
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/** {@link V8_FLAGS} as the one `deno run`/`deno compile` argument that passes them. */
export function v8FlagsArg(): string {
  return `--v8-flags=${V8_FLAGS.join(",")}`;
}

/** The platforms a release is built for (`deno compile --target`). */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** Modules loaded at run time that the module graph of main.ts does not show (bench workers). */
export const INCLUDES: readonly string[] = ["src/cli/bench_worker.ts"];

/**
 * Where the executable goes: `dist/gocache` for this machine, `dist/gocache-<target>` (with
 * `.exe` for Windows) for a release target.
 */
export function outputPath(target?: string): string {
  if (target === undefined) return "dist/gocache";
  return `dist/gocache-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** The arguments of `deno` that compile main.ts for `target` (this machine when omitted). */
export function compileArgs(target?: string): string[] {
  return [
    "compile",
    ...PERMISSIONS,
    v8FlagsArg(),
    ...INCLUDES.flatMap((file) => ["--include", file]),
    ...(target === undefined ? [] : ["--target", target]),
    "--output",
    outputPath(target),
    "main.ts",
  ];
}

function say(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { target: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    say("Usage: deno task compile [--target TARGET]\nTargets: " + TARGETS.join(", "));
    return 0;
  }
  const target = values.target;
  if (target !== undefined && !TARGETS.includes(target)) {
    say(`compile: unknown target '${target}' (one of ${TARGETS.join(", ")})`);
    return 2;
  }
  const args = compileArgs(target);
  say(`deno ${args.join(" ")}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("..", import.meta.url),
    stdin: "null",
  }).spawn().status;
  return status.code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
