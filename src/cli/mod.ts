/**
 * The `gocache` command line: picks a subcommand from the table, prints help and version, and
 * maps usage errors to exit code 2 and a standard output closed by its reader (`| head`) to a
 * quiet exit code 0. Only subcommands that work are listed.
 */
import { VERSION } from "../version.ts";
import { OutputClosed, printErr, printOut } from "./output.ts";
import { aofRewriteCommand } from "./aof_rewrite.ts";
import { benchCommand } from "./bench.ts";
import { serveCommand } from "./serve.ts";
import { snapshotCommand } from "./snapshot.ts";
import { clusterInitCommand } from "./cluster_init.ts";
import { clusterCommand } from "./cluster.ts";
import type { Subcommand } from "./subcommand.ts";
import { EXIT_USAGE, UsageError } from "./usage.ts";

/** Every available subcommand. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  serveCommand,
  clusterInitCommand,
  clusterCommand,
  aofRewriteCommand,
  snapshotCommand,
  benchCommand,
];

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.name.length)) + 4;
  return [
    `gocache ${VERSION}: a Redis-compatible in-memory cache`,
    "",
    "Usage: gocache <subcommand> [options]",
    "",
    "Subcommands:",
    ...SUBCOMMANDS.map((s) => `  ${s.name.padEnd(width)}${s.summary}`),
    "",
    "Options:",
    `  ${"-h, --help".padEnd(width)}Show this help (gocache <subcommand> --help for its options)`,
    `  ${"-V, --version".padEnd(width)}Print the version`,
  ].join("\n");
}

/** Runs the command line and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    // The reader has all it wanted (`| head -2`): stop quietly, as Unix tools do on SIGPIPE.
    if (e instanceof OutputClosed) return 0;
    throw e;
  }
}

async function run(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    printErr(usage());
    return EXIT_USAGE;
  }
  if (first === "-h" || first === "--help" || first === "help") {
    printOut(usage());
    return 0;
  }
  if (first === "-V" || first === "--version") {
    printOut(`gocache ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const sub = SUBCOMMANDS.find((s) => s.name === first);
  try {
    if (sub === undefined) {
      throw new UsageError(
        first.startsWith("-")
          ? `gocache: unknown option '${first}' (see gocache --help)`
          : `gocache: unknown subcommand '${first}' (see gocache --help)`,
      );
    }
    return await sub.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      printErr(e.message);
      return EXIT_USAGE;
    }
    throw e;
  }
}
