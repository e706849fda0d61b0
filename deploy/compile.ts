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
import { v8FlagsArg } from "../src/cli/v8_flags.ts";

/** The V8 settings argument baked into the executable, for tests that run it the same way. */
export { v8FlagsArg };

/** The permission flags baked into the executable. */
export const PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env=LOG_TOKENS,LOG_STREAM",
];

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
