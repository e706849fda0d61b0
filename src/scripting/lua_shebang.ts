/**
 * The `#!` first lines of Redis 7 scripts: `#!lua name=<lib>` heads a FUNCTION LOAD library
 * (functionExtractLibMetaData), `#!lua flags=no-writes,...` may head an EVAL script
 * (evalExtractShebangFlags). Both parsers return Redis 7.0's error texts, "ERR " included, and
 * the body to compile: the code after the shebang line, starting with its newline so that line
 * numbers in error messages count the shebang line as Redis's do.
 */

/** The flags a script or function can declare, by their Redis names. */
export const SCRIPT_FLAGS = [
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
] as const;

/** One of {@link SCRIPT_FLAGS}. */
export type ScriptFlag = typeof SCRIPT_FLAGS[number];

/** A parsed library header. */
export interface LibraryShebang {
  /** The engine named after `#!`, as written (Redis compares it case-insensitively). */
  engine: string;
  /** The library name from `name=`. */
  name: string;
  /** The code to compile: everything from the end of the shebang line. */
  body: Uint8Array;
}

/** A parsed EVAL header. */
export interface EvalShebang {
  /** Whether the script had a shebang (it then runs outside EVAL's compatibility mode). */
  hasShebang: boolean;
  /** The declared flags. */
  flags: ScriptFlag[];
  /** The code to compile (the whole script when there is no shebang). */
  body: Uint8Array;
}

const LIBRARY_NAME = /^[A-Za-z0-9_]+$/;

/** The shebang line split into words, or null when the code has no complete first line. */
function shebangWords(code: Uint8Array): { words: string[]; end: number } | null {
  const end = code.indexOf(0x0a);
  if (end < 0) return null;
  const line = String.fromCharCode(...code.subarray(0, end));
  return { words: line.split(/[ \t\r\v\f]+/).filter((w) => w !== ""), end };
}

/**
 * Parses a FUNCTION LOAD library header; checks the engine is Lua ("ERR Engine 'x' not found")
 * and the library name's characters.
 */
export function parseLibraryShebang(code: Uint8Array): { ok: LibraryShebang } | { error: string } {
  if (code[0] !== 0x23 || code[1] !== 0x21) return { error: "ERR Missing library metadata" };
  const parsed = shebangWords(code);
  if (parsed === null || parsed.words.length === 0) {
    return { error: "ERR Invalid library metadata" };
  }
  const engine = parsed.words[0].slice(2);
  let name: string | null = null;
  for (const part of parsed.words.slice(1)) {
    if (part.slice(0, 5).toLowerCase() !== "name=") {
      return { error: `ERR Invalid metadata value given: ${part}` };
    }
    if (name !== null) {
      return { error: "ERR Invalid metadata value, name argument was given multiple times" };
    }
    name = part.slice(5);
  }
  if (name === null) return { error: "ERR Library name was not given" };
  if (engine.toLowerCase() !== "lua") return { error: `ERR Engine '${engine}' not found` };
  if (!LIBRARY_NAME.test(name)) {
    return {
      error:
        "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
    };
  }
  return { ok: { engine, name, body: code.subarray(parsed.end) } };
}

/** Parses an EVAL script's optional `#!lua flags=...` header. */
export function parseEvalShebang(code: Uint8Array): { ok: EvalShebang } | { error: string } {
  if (code[0] !== 0x23 || code[1] !== 0x21) {
    return { ok: { hasShebang: false, flags: [], body: code } };
  }
  const parsed = shebangWords(code);
  if (parsed === null) return { error: "ERR Invalid script shebang" };
  if (parsed.words.length === 0) return { error: "ERR Invalid engine in script shebang" };
  if (parsed.words[0] !== "#!lua") {
    return { error: `ERR Unexpected engine in script shebang: ${parsed.words[0]}` };
  }
  const flags: ScriptFlag[] = [];
  for (const part of parsed.words.slice(1)) {
    if (!part.startsWith("flags=")) return { error: `ERR Unknown lua shebang option: ${part}` };
    // An empty list is no flag, an empty name in a list is an unknown flag (sdssplitlen).
    const list = part.slice(6);
    for (const flag of list === "" ? [] : list.split(",")) {
      if (!(SCRIPT_FLAGS as readonly string[]).includes(flag)) {
        return { error: `ERR Unexpected flag in script shebang: ${flag}` };
      }
      flags.push(flag as ScriptFlag);
    }
  }
  return { ok: { hasShebang: true, flags, body: code.subarray(parsed.end) } };
}
