/**
 * Terminal output of the CLI (help, version, reports, exported data, usage errors). The server
 * itself logs through the logger; only the command line writes to stdout/stderr directly, and
 * only through here.
 *
 * A reader that goes away (`gocache snapshot export dump.rdb --format jsonl | head -2`) is normal
 * at a Unix command line: a write on standard output that finds the pipe closed throws
 * {@link OutputClosed}, which stops the subcommand, and `main` ends the process quietly with exit
 * code 0, as a tool killed by SIGPIPE ends without a message. On standard error a closed pipe is
 * ignored: there is nowhere left to report anything, and the exit code still tells what happened.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Standard output was closed by its reader. Not a failure: `main` turns it into exit code 0 with
 * nothing printed, so no subcommand should catch it.
 */
export class OutputClosed extends Error {
  /** Creates the error; `cause` is the `BrokenPipe` from the write. */
  constructor(options?: ErrorOptions) {
    super("Standard output was closed by its reader", options);
    this.name = "OutputClosed";
  }
}

function writeAllSync(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

function lineBytes(text: string): Uint8Array {
  return encoder.encode(text.endsWith("\n") ? text : text + "\n");
}

/** Writes to standard output; a closed pipe becomes {@link OutputClosed}. */
function stdoutSync(bytes: Uint8Array): void {
  try {
    writeAllSync(Deno.stdout, bytes);
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed({ cause: e });
    throw e;
  }
}

/** Writes to standard error; a closed pipe is ignored (see the module comment). */
function stderrSync(bytes: Uint8Array): void {
  try {
    writeAllSync(Deno.stderr, bytes);
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

/** Prints a line (or lines) on standard output. */
export function printOut(text: string): void {
  stdoutSync(lineBytes(text));
}

/** Prints a line (or lines) on standard error. */
export function printErr(text: string): void {
  stderrSync(lineBytes(text));
}

/** Writes text on standard output as is (no newline added): progress bars redraw a line. */
export function writeOut(text: string): void {
  stdoutSync(encoder.encode(text));
}

/** Writes text on standard error as is (no newline added): progress bars redraw a line. */
export function writeErr(text: string): void {
  stderrSync(encoder.encode(text));
}

/**
 * Writes raw bytes (exported data, not a message) on standard output, all of them, without
 * blocking the event loop; a closed pipe rejects with {@link OutputClosed}.
 */
export async function writeOutBytes(data: Uint8Array): Promise<void> {
  try {
    for (let at = 0; at < data.length;) at += await Deno.stdout.write(data.subarray(at));
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed({ cause: e });
    throw e;
  }
}
