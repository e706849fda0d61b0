/**
 * `gocache aof-rewrite INPUT [-o OUTPUT]`: compacts an append-only file without a server. The
 * file is replayed into an in-memory keyspace through the same dispatch path a node uses, then
 * that dataset is written back as the minimal commands (as BGREWRITEAOF does), atomically:
 * temporary file, sync, rename. A progress bar shows on a terminal; a summary follows.
 */
import { parseArgs } from "node:util";
import { Config, defaultValues } from "../config/config.ts";
import { AofLoadError, loadAof } from "../persistence/aof_loader.ts";
import { writeSnapshotCommands } from "../persistence/aof_rewrite.ts";
import { writeAtomically } from "../persistence/atomic_file.ts";
import { Server } from "../server/server.ts";
import { Snapshot } from "../store/snapshot.ts";
import { now } from "../util/clock.ts";
import { printErr, printOut } from "./output.ts";
import type { Subcommand } from "./subcommand.ts";
import { describeParseError, EXIT_FAILURE, failuresAsExit, UsageError } from "./usage.ts";

function usage(): string {
  return [
    "Usage: gocache aof-rewrite INPUT [-o OUTPUT]",
    "",
    "Compacts an append-only file to the minimal commands that rebuild its dataset.",
    "",
    "Options:",
    "  -o, --output FILE   Where to write (default: replace INPUT atomically)",
    "  -q, --quiet         No progress bar and no summary",
    "  -h, --help          Show this help",
  ].join("\n");
}

function parse(argv: string[]): { input: string; output: string; quiet: boolean } | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        quiet: { type: "boolean", short: "q", default: false },
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
  return { input, output: parsed.values.output ?? input, quiet: parsed.values.quiet };
}

/** Redraws a one-line progress bar on standard error. */
function progressBar(done: number, total: number): void {
  const width = 30;
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  Deno.stderr.writeSync(new TextEncoder().encode(`\r[${bar}] ${done}/${total} keys`));
}

async function rewrite(input: string, output: string, quiet: boolean): Promise<number> {
  let inBytes: number;
  try {
    inBytes = (await Deno.stat(input)).size;
  } catch (e) {
    printErr(`gocache aof-rewrite: cannot read ${input}: ${e instanceof Error ? e.message : e}`);
    return EXIT_FAILURE;
  }
  const server = new Server(new Config(defaultValues()));
  const loaded = await loadAof(server, input, false);
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
  if (showProgress) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  if (!quiet) {
    const saved = inBytes - counts.bytes;
    const percent = inBytes === 0 ? 0 : Math.round((saved / inBytes) * 100);
    printOut(
      `${output}: ${keys} keys; commands in ${commandsIn}, out ${counts.commands}; ` +
        `bytes ${inBytes} -> ${counts.bytes} (saved ${saved}, ${percent}%)`,
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
      () => rewrite(options.input, options.output, options.quiet),
    );
  },
};
