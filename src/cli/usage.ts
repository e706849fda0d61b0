/**
 * Command-line usage errors: one line on stderr and exit code 2, as the CLI contract says; the
 * exit codes; and the defaults the subcommands share.
 */
import { defaultValues } from "../config/config.ts";
import { OutputClosed, printErr } from "./output.ts";

/**
 * The port `gocache serve` listens on by default (the `port` parameter's default, 7000). The
 * subcommands that talk to a running node (`bench`, `snapshot save`) connect to it unless given
 * `--port`, so that they work bare next to a node started with `deno task serve`.
 */
export const DEFAULT_NODE_PORT: number = defaultValues().port;

/** A mistake in how the command line was written (unknown flag, bad value, missing argument). */
export class UsageError extends Error {
  /** Creates the error with a one-line message naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit code for usage and configuration errors. */
export const EXIT_USAGE = 2;
/** Exit code for failures at run time (e.g. the port is taken). */
export const EXIT_FAILURE = 1;

/** Rewrites an error from `node:util` parseArgs into a short message naming the offending word. */
export function describeParseError(e: unknown): string {
  const code = (e as { code?: string }).code ?? "";
  const message = e instanceof Error ? e.message : String(e);
  const word = /'([^']+)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${word}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // Node names the option as "-o, --output <value>" or "--output <value>".
      return `option '${word.split(" ")[0].replace(/,$/, "")}' needs a value`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${word}'`;
    default:
      return message.split("\n")[0];
  }
}

/**
 * Runs a subcommand's work; an error `expected` recognises (a bad file, a server that does not
 * answer) is printed as one line after `prefix` and exits {@link EXIT_FAILURE}, anything else
 * is a bug and propagates, and so does {@link OutputClosed} (`main` ends quietly on it).
 */
export async function failuresAsExit(
  prefix: string,
  expected: (e: unknown) => boolean,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof OutputClosed || !expected(e)) throw e;
    printErr(`${prefix}: ${(e as Error).message}`);
    return EXIT_FAILURE;
  }
}
