/**
 * `gocache snapshot <action>`: tools for RDB snapshot files, offline, and for taking one on a
 * running node.
 *
 * - `inspect FILE [--json] [--top N]`: version, AUX fields, keys per database, TTLs, keys
 *   already expired, value size distribution, the N largest values, file size, checksum status.
 * - `verify FILE`: reads the whole file; "OK: N keys, checksum verified" or the error.
 * - `export FILE --format resp|jsonl [-o OUT]`: the dataset as AOF commands or JSON lines.
 * - `save [--host H] [--port P] [--password PW] [--timeout SECONDS]`: BGSAVE and wait for it
 *   (by default on 127.0.0.1 and the port a node listens on by default, 7000).
 *
 * Exit codes follow the CLI contract: 0 done, 1 a failure at run time (damaged file, with the
 * reader's message and byte offset; unreachable node; error reply; timeout) as one line on
 * stderr, 2 a usage mistake. The work itself lives in snapshot_inspect.ts, snapshot_export.ts
 * and snapshot_save.ts; this file parses arguments and reports.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { printOut } from "./output.ts";
import { EXPORT_FORMATS, type ExportFormat, exportSnapshot } from "./snapshot_export.ts";
import { formatInspection, inspectionJson, inspectSnapshot } from "./snapshot_inspect.ts";
import { isIoError, readSnapshotFile, SnapshotError } from "./snapshot_read.ts";
import { saveRemote } from "./snapshot_save.ts";
import type { Subcommand } from "./subcommand.ts";
import { DEFAULT_NODE_PORT, describeParseError, failuresAsExit, UsageError } from "./usage.ts";

const DEFAULT_TOP = 10;
const DEFAULT_TIMEOUT_S = 60;

function usage(): string {
  return [
    "Usage: gocache snapshot <action> [options]",
    "",
    "Inspects, verifies and converts RDB snapshot files; takes a snapshot on a running node.",
    "",
    "Actions:",
    "  inspect FILE [--json] [--top N]",
    "      Version, AUX fields, keys per database, keys with a TTL and already expired, value",
    "      size distribution, the N largest values (default 10), file size, checksum status",
    "  verify FILE",
    '      Read the whole file: "OK: N keys, checksum verified" (exit 0) or the error (exit 1)',
    "  export FILE --format resp|jsonl [-o OUT]",
    "      The dataset (without expired keys) as AOF commands (resp) or JSON lines (jsonl),",
    "      to standard output or atomically to OUT",
    "  save [--host H] [--port P] [--password PW] [--timeout SECONDS]",
    `      BGSAVE on a running node (default 127.0.0.1:${DEFAULT_NODE_PORT}, where gocache serve`,
    "      listens) and wait until it is on disk (default timeout 60 s)",
    "",
    "Keys are printed with printable ASCII as is, a backslash as \\\\, other bytes as \\xNN.",
    "Exit codes: 0 done, 1 failure (damaged file, unreachable node, timeout), 2 usage error.",
  ].join("\n");
}

type Values = Record<string, string | boolean | undefined>;
type Options = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Parses one action's arguments; null when --help was asked for. */
function parseAction(
  action: string,
  argv: string[],
  options: Options,
  positionals: number,
): { values: Values; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    const text = describeParseError(e);
    throw new UsageError(`gocache snapshot ${action}: ${text}`);
  }
  if (parsed.values.help) return null;
  if (parsed.positionals.length > positionals) {
    const extra = parsed.positionals[positionals];
    throw new UsageError(`gocache snapshot ${action}: unexpected argument '${extra}'`);
  }
  if (parsed.positionals.length < positionals) {
    throw new UsageError(`gocache snapshot ${action}: expected a FILE (see --help)`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

/** A whole number in [min, max] from option `name`, or a UsageError naming it. */
function integerOption(
  action: string,
  name: string,
  text: string,
  min: number,
  max: number,
): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(
      `gocache snapshot ${action}: option --${name}: invalid value '${text}': ` +
        `expected a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

async function inspect(argv: string[]): Promise<number> {
  const args = parseAction("inspect", argv, {
    json: { type: "boolean" },
    top: { type: "string" },
  }, 1);
  if (args === null) return help();
  const topText = args.values.top as string | undefined;
  const top = topText === undefined
    ? DEFAULT_TOP
    : integerOption("inspect", "top", topText, 0, 1_000_000);
  const inspection = await inspectSnapshot(args.positionals[0], top);
  printOut(args.values.json ? inspectionJson(inspection) : formatInspection(inspection));
  return 0;
}

async function verify(argv: string[]): Promise<number> {
  const args = parseAction("verify", argv, {}, 1);
  if (args === null) return help();
  const summary = await readSnapshotFile(args.positionals[0], { entry() {} });
  const checksum = summary.checksum === "not-computed" ? "not computed" : summary.checksum;
  printOut(`OK: ${summary.keys} keys, checksum ${checksum}`);
  return 0;
}

async function exportAction(argv: string[]): Promise<number> {
  const args = parseAction("export", argv, {
    format: { type: "string", short: "f" },
    output: { type: "string", short: "o" },
  }, 1);
  if (args === null) return help();
  const format = args.values.format as string | undefined;
  if (format === undefined) {
    throw new UsageError("gocache snapshot export: --format resp|jsonl is required");
  }
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `gocache snapshot export: option --format: invalid value '${format}': ` +
        `expected ${EXPORT_FORMATS.join(" or ")}`,
    );
  }
  const output = (args.values.output as string | undefined) ?? null;
  const result = await exportSnapshot(args.positionals[0], format as ExportFormat, output);
  if (output !== null) {
    printOut(
      `${output}: ${result.keys} keys as ${format} (${result.bytes} bytes); ` +
        `${result.expired} expired keys skipped`,
    );
  }
  return 0;
}

async function save(argv: string[]): Promise<number> {
  const args = parseAction("save", argv, {
    host: { type: "string" },
    port: { type: "string", short: "p" },
    password: { type: "string", short: "a" },
    timeout: { type: "string" },
  }, 0);
  if (args === null) return help();
  const portText = (args.values.port as string | undefined) ?? String(DEFAULT_NODE_PORT);
  const port = integerOption("save", "port", portText, 1, 65535);
  const timeoutText = args.values.timeout as string | undefined;
  const timeout = timeoutText === undefined ? DEFAULT_TIMEOUT_S : Number(timeoutText);
  if (!/^\d+(\.\d+)?$/.test(timeoutText ?? "1") || !(timeout > 0)) {
    throw new UsageError(
      `gocache snapshot save: option --timeout: invalid value '${timeoutText}': ` +
        "expected a positive number of seconds",
    );
  }
  const savedAt = await saveRemote({
    host: (args.values.host as string | undefined) ?? "127.0.0.1",
    port,
    password: args.values.password as string | undefined,
    timeoutMs: timeout * 1000,
  });
  printOut(`Saved: ${new Date(savedAt).toISOString()}`);
  return 0;
}

function help(): number {
  printOut(usage());
  return 0;
}

const ACTIONS: Record<string, (argv: string[]) => Promise<number>> = {
  inspect,
  verify,
  export: exportAction,
  save,
};

/** The `snapshot` subcommand. */
export const snapshotCommand: Subcommand = {
  name: "snapshot",
  summary: "Inspect, verify or export an RDB file; save one from a running node",
  usage,
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    if (action === "-h" || action === "--help" || action === "help") return help();
    if (action === undefined) {
      throw new UsageError("gocache snapshot: expected an action: inspect, verify, export, save");
    }
    const run = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (run === undefined) {
      throw new UsageError(
        `gocache snapshot: unknown action '${action}' (expected inspect, verify, export or save)`,
      );
    }
    return await failuresAsExit(
      `gocache snapshot ${action}`,
      (e) => e instanceof SnapshotError || isIoError(e),
      () => run(rest),
    );
  },
};
