/**
 * What a fuzz target is, and the helpers targets share to tell a crash from a refusal.
 *
 * A target feeds one input to one parser. It returns normally when the parser accepted the
 * input or refused it with its documented error type, and throws only on a crash: an exception
 * of any other type, or a broken invariant ({@link InvariantError}). Hangs are caught by the
 * runner (see engine.ts), which times every input.
 *
 * @module
 */

/** One fuzz target: a parser, its seed corpus, and how to feed it one input. */
export interface FuzzTarget {
  /** Short name, used by `--target` and in crash reports. */
  readonly name: string;
  /** One line: the parser and what counts as a crash for it. */
  readonly description: string;
  /** Longest input generated for this target (mutations are cut to it). */
  readonly maxLength: number;
  /** Valid inputs the mutator starts from (built once, on first use). */
  corpus(): readonly Uint8Array[];
  /** Byte strings the mutator may insert (keywords and separators of the format). */
  readonly dictionary?: readonly Uint8Array[];
  /** One-time preparation before the first input (an engine to load, a server to build). */
  setup?(): Promise<void>;
  /** Undoes {@link setup} (removes temporary files); a later setup() starts again. */
  teardown?(): void;
  /**
   * Feeds `input` to the parser; throws only on a crash. Returns a promise only for parsers
   * whose API is asynchronous (readRdb, loadAof, loadConfig).
   */
  run(input: Uint8Array): void | Promise<void>;
}

/** A broken invariant: the parser did not crash but returned something impossible. */
export class InvariantError extends Error {
  /** Creates the error with what was expected and what happened. */
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

/** Throws an {@link InvariantError} with `message` unless `ok`. */
export function check(ok: boolean, message: string | (() => string)): asserts ok {
  if (!ok) throw new InvariantError(typeof message === "string" ? message : message());
}

/** Text as UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A binary string (one char per byte, as Latin-1) as bytes. */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Bytes of a hex string (whitespace ignored). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new Error("not a hex string of whole bytes");
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The project's byte helpers, under the names the targets use. */
export { bytesEqual as sameBytes, concatBytes as concat } from "../src/util/bytes.ts";

/** FNV-1a over the bytes: a deterministic per-input number for target-side choices. */
export function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/**
 * Cut points that split `length` bytes into pieces, chosen from `hash` (the same input always
 * splits the same way): sometimes one byte at a time, usually a few random pieces.
 */
export function splitPoints(length: number, hash: number): number[] {
  let state = hash | 1;
  const next = () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  if (length <= 256 && next() % 4 === 0) return Array.from({ length }, (_, i) => i + 1);
  const points: number[] = [];
  let at = 0;
  while (at < length) {
    at = Math.min(length, at + 1 + (next() % Math.max(1, Math.ceil(length / 3))));
    points.push(at);
  }
  return points;
}

/** `bytes` cut at the given end points. */
export function piecesOf(bytes: Uint8Array, ends: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const end of ends) {
    out.push(bytes.slice(from, end));
    from = end;
  }
  return out;
}

/** The error's text for reports: its stack when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return `non-Error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-Error thrown: ${String(error)}`;
  }
}
