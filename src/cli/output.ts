/**
 * Terminal output of the CLI (help, version, usage errors). The server itself logs through the
 * logger; only the command line writes to stdout/stderr directly, and only through here.
 */

const encoder = new TextEncoder();

function writeAll(target: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text.endsWith("\n") ? text : text + "\n");
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

/** Prints a line (or lines) on standard output. */
export function printOut(text: string): void {
  writeAll(Deno.stdout, text);
}

/** Prints a line (or lines) on standard error. */
export function printErr(text: string): void {
  writeAll(Deno.stderr, text);
}

/** Writes text on standard output as is (no newline added): progress bars redraw a line. */
export function writeOut(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}
