/**
 * `gocache serve`: runs a node. Configuration comes from the embedded defaults, then
 * `--config FILE`, then flags named after the parameters (`--port 7001`); SIGINT/SIGTERM and the
 * SHUTDOWN command stop it gracefully with exit code 0.
 */
import { parseArgs } from "node:util";
import { ConfigLoadError, loadConfig } from "../config/load.ts";
import { PARAMS } from "../config/schema.ts";
import { Server } from "../server/server.ts";
import { closeLogging, configureLogging, logger } from "../util/logger.ts";
import { describeParseError, EXIT_FAILURE, UsageError } from "./usage.ts";
import { printErr, printOut } from "./output.ts";
import type { Subcommand } from "./subcommand.ts";

function usage(): string {
  const width = Math.max(...PARAMS.map((p) => p.name.length)) + 10;
  const lines = PARAMS.map((p) =>
    `  --${p.name} <value>`.padEnd(width + 4) + `${p.doc} (default: ${p.default || '""'})`
  );
  return [
    "Usage: gocache serve [--config FILE] [--<parameter> <value> ...]",
    "",
    "Runs a gocache node. Parameters use Redis's names; flags override the YAML file.",
    "",
    "Options:",
    "  --config <file>".padEnd(width + 4) + "YAML configuration file (see config/node.yaml)",
    ...lines,
    "  -h, --help".padEnd(width + 4) + "Show this help",
  ].join("\n");
}

/** Joins `--name -1` into `--name=-1`: parseArgs would read a negative value as an option. */
function attachNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (arg.startsWith("--") && !arg.includes("=") && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function parseFlags(
  argv: string[],
): { help: boolean; file?: string; overrides: Record<string, string> } {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
  };
  for (const p of PARAMS) options[p.name] = { type: "string", multiple: p.repeatable === true };
  const args = attachNegativeValues(argv);
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError(`gocache serve: ${describeParseError(e)}`);
  }
  const overrides: Record<string, string> = {};
  let file: string | undefined;
  for (const [key, value] of Object.entries(parsed.values)) {
    if (key === "help") continue;
    if (key === "config") file = value as string;
    else overrides[key] = Array.isArray(value) ? value.join("\n") : value as string;
  }
  return { help: parsed.values.help === true, file, overrides };
}

async function serve(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags.help) {
    printOut(usage());
    return 0;
  }
  let config;
  try {
    config = await loadConfig({ file: flags.file, overrides: flags.overrides });
  } catch (e) {
    if (e instanceof ConfigLoadError) throw new UsageError(`gocache serve: ${e.message}`);
    throw e;
  }
  const v = config.values;
  const logSettings = () => ({ level: v.loglevel, format: v["log-format"], file: v.logfile });
  configureLogging(logSettings());
  config.onChange((names) => {
    if (names.includes("loglevel") || names.includes("log-format")) configureLogging(logSettings());
  });
  const log = logger("serve");
  log.info("Configuration loaded from {source}", {
    source: config.file === "" ? "embedded defaults" : config.file,
    overrides: Object.keys(flags.overrides),
  });
  let server: Server;
  try {
    server = new Server(config);
  } catch (e) {
    // A rename-command naming no command, or a new name already taken (Redis's errors).
    throw new UsageError(`gocache serve: ${e instanceof Error ? e.message : e}`);
  }
  const stop = (signal: Deno.Signal) => () => {
    log.info("Received {signal}, shutting down", { signal });
    void server.shutdown();
  };
  const onInt = stop("SIGINT");
  const onTerm = stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  let code = 0;
  try {
    await Deno.mkdir(v.dir, { recursive: true });
    server.startMetrics();
    await server.openPersistence();
    await server.start();
    await server.stopped;
  } catch (e) {
    log.error("Cannot start: {error}", { error: e instanceof Error ? e.message : String(e) });
    printErr(`gocache serve: cannot start: ${e instanceof Error ? e.message : e}`);
    code = EXIT_FAILURE;
    // Never save on a failed start: the dataset may be a partly loaded file, and saving it
    // would overwrite the very file that could not be read.
    await server.persistence.close(false);
    await server.metrics.close();
  }
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  closeLogging();
  return code;
}

/** The `serve` subcommand. */
export const serveCommand: Subcommand = {
  name: "serve",
  summary: "Run a gocache node (RESP server)",
  usage,
  run: serve,
};
