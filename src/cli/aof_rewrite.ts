/**
 * `gocache aof-rewrite INPUT [-o OUTPUT] [--truncated]`: compacts an append-only file without a
 * server. The file is replayed into an in-memory keyspace through the same dispatch path a node
 * uses, then that dataset is written back as the minimal commands (as BGREWRITEAOF does),
 * atomically: temporary file, sync, rename. A progress bar shows on a terminal; a summary
 * follows.
 *
 * A file whose last command is incomplete (a torn last write) is refused with what this tool can
 * do about it: `--truncated` leaves that command out, as a node with `aof-load-truncated yes`
 * does on start; the input is then changed only when it is also the output. Any other damage is
 * refused with the offset and `redis-check-aof --fix` as the repair.
 */
import { parseArgs } from "node:util";
import { Config, defaultValues } from "../config/config.ts";
import { AofLoadError, type AofLoadResult, loadAof } from "../persistence/aof_loader.ts";
import { writeSnapshotCommands } from "../persistence/aof_rewrite.ts";
import { writeAtomically } from "../persistence/atomic_file.ts";
import { Server } from "../server/server.ts";
import { Snapshot } from "../store/snapshot.ts";
import { now } from "../util/clock.ts";
import { printErr, printOut, writeErr } from "./output.ts";
import type { Subcommand } from "./subcommand.ts";
import { describeParseError, EXIT_FAILURE, failuresAsExit, UsageError } from "./usage.ts";

function usage(): string {
  return [
    "Usage: gocache aof-rewrite INPUT [-o OUTPUT] [--truncated]",
    "",
    "Compacts an append-only file to the minimal commands that rebuild its dataset.",
    "",
    "Options:",
    "  -o, --output FILE   Where to write (default: replace INPUT atomically)",
    "      --truncated     Accept a file whose last command is incomplete (a torn write) and",
    "                      leave that command out, as aof-load-truncated yes does on start",
    "  -q, --quiet         No progress bar and no summary",
    "  -h, --help          Show this help",
  ].join("\n");
}

/** What the command line asked for. */
interface RewriteOptions {
  input: string;
  output: string;
  quiet: boolean;
  truncated: boolean;
}

function parse(argv: string[]): RewriteOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        quiet: { type: "boolean", short: "q", default: false },
        truncated: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`gocache aof-rewrite: ${describeParseError(e)}`);
  }
  if (parsed.values.help) return null;
  if (parsed.positionals.length !== 1) {
    throw new UsageError("gocache aof-rewrite: expected one INPUT file (see --help)");
  }
  const input = parsed.positionals[0];
  const { quiet, truncated } = parsed.values;
  return { input, output: parsed.values.output ?? input, quiet, truncated };
}

/** Redraws a one-line progress bar on standard error. */
function progressBar(done: number, total: number): void {
  const width = 30;
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  writeErr(`\r[${bar}] ${done}/${total} keys`);
}

/** The refusal of a torn file: where it tears, and what to run instead. */
function tornMessage(input: string, e: AofLoadError, size: number): string {
  return `gocache aof-rewrite: ${input} ends in the middle of a command at offset ${e.offset} ` +
    `(the last ${size - e.offset} bytes). Run again with --truncated to rewrite it without ` +
    `that command (with -o OUTPUT, ${input} stays as it is), or cut the command off the file ` +
    `in place with: redis-check-aof --fix ${input}`;
}

async function rewrite(options: RewriteOptions): Promise<number> {
  const { input, output, quiet } = options;
  let inBytes: number;
  try {
    inBytes = (await Deno.stat(input)).size;
  } catch (e) {
    printErr(`gocache aof-rewrite: cannot read ${input}: ${e instanceof Error ? e.message : e}`);
    return EXIT_FAILURE;
  }
  const server = new Server(new Config(defaultValues()));
  let loaded: AofLoadResult | null;
  try {
    loaded = await loadAof(server, input, options.truncated ? "skip" : "refuse");
  } catch (e) {
    if (!(e instanceof AofLoadError && e.torn)) throw e;
    printErr(tornMessage(input, e, inBytes));
    return EXIT_FAILURE;
  }
  const commandsIn = loaded?.commands ?? 0;
  const keys = server.keyspace.totalKeys;
  const showProgress = !quiet && Deno.stderr.isTerminal();
  const counts = await writeAtomically(
    output,
    (file) =>
      writeSnapshotCommands(new Snapshot(server.keyspace, now()), file, (done) => {
        if (showProgress) progressBar(done, keys);
      }),
  );
  if (showProgress) writeErr("\n");
  if (!quiet) {
    const saved = inBytes - counts.bytes;
    const percent = inBytes === 0 ? 0 : Math.round((saved / inBytes) * 100);
    const torn = loaded?.truncatedAt ?? null;
    const leftOut = loaded === null || torn === null
      ? ""
      : `; left out the incomplete last command at offset ${torn} (${loaded.size - torn} bytes)`;
    printOut(
      `${output}: ${keys} keys; commands in ${commandsIn}, out ${counts.commands}; ` +
        `bytes ${inBytes} -> ${counts.bytes} (saved ${saved}, ${percent}%)${leftOut}`,
    );
  }
  return 0;
}

/** The `aof-rewrite` subcommand. */
export const aofRewriteCommand: Subcommand = {
  name: "aof-rewrite",
  summary: "Compact an append-only file offline",
  usage,
  async run(argv: string[]): Promise<number> {
    const options = parse(argv);
    if (options === null) {
      printOut(usage());
      return 0;
    }
    return await failuresAsExit(
      "gocache aof-rewrite",
      (e) => e instanceof AofLoadError || e instanceof Deno.errors.NotFound,
      () => rewrite(options),
    );
  },
};
