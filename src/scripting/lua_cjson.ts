/**
 * The `cjson` library of Redis scripts (lua-cjson 2.1.0 as bundled with Redis), written as
 * host functions: `cjson.encode`, `cjson.decode`, `cjson.null` and the configuration
 * functions. Strings are bytes end to end (JSON escapes decode to UTF-8), numbers are written
 * with `%.14g`, arrays are detected as lua-cjson does (positive integer keys, not excessively
 * sparse), and the error texts are lua-cjson's.
 */
import { formatDoubleG } from "../resp/double_format.ts";
import {
  addHostFunction,
  argError,
  checkBytes,
  type HostBody,
  LuaScriptError,
  typeName,
} from "./lua_host.ts";
import {
  LUA_TBOOLEAN,
  LUA_TLIGHTUSERDATA,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaApi,
  type LuaState,
} from "./lua_raw.ts";

/** lua-cjson's settings, changed by the `encode_*` / `decode_*` functions. */
interface CjsonConfig {
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  precision: number;
  sparseConvert: boolean;
  sparseRatio: number;
  sparseSafe: number;
  encodeInvalidNumbers: boolean;
}

const defaults = (): CjsonConfig => ({
  encodeMaxDepth: 1000,
  decodeMaxDepth: 1000,
  precision: 14,
  sparseConvert: false,
  sparseRatio: 2,
  sparseSafe: 10,
  encodeInvalidNumbers: false,
});

/** Pushes the `cjson` table, its functions bound to `api`. */
export function pushCjson(api: LuaApi, L: LuaState, functions: number[]): void {
  const config = defaults();
  const m = api.m;
  const add = (name: string, body: HostBody) => addHostFunction(api, L, functions, name, body);
  m._lua_createtable(L, 0, 12);
  add("encode", (S) => {
    if (m._lua_gettop(S) !== 1) argError(1, "encode", "expected 1 argument");
    const out: number[] = [];
    encodeValue(api, S, 1, config, 0, out);
    api.pushBytes(S, Uint8Array.from(out));
    return 1;
  });
  add("decode", (S) => {
    if (m._lua_gettop(S) !== 1) argError(1, "decode", "expected 1 argument");
    new JsonDecoder(api, S, checkBytes(api, S, 1, "decode"), config).decode();
    return 1;
  });
  add("encode_max_depth", (S) => setInteger(api, S, config, "encodeMaxDepth"));
  add("decode_max_depth", (S) => setInteger(api, S, config, "decodeMaxDepth"));
  add("encode_number_precision", (S) => setInteger(api, S, config, "precision"));
  add("encode_keep_buffer", (S) => {
    m._lua_pushboolean(S, 1);
    return 1;
  });
  add("encode_invalid_numbers", (S) => {
    if (m._lua_gettop(S) >= 1) config.encodeInvalidNumbers = m._lua_toboolean(S, 1) !== 0;
    m._lua_pushboolean(S, config.encodeInvalidNumbers ? 1 : 0);
    return 1;
  });
  add("decode_invalid_numbers", (S) => {
    m._lua_pushboolean(S, 1);
    return 1;
  });
  add("encode_sparse_array", (S) => {
    if (m._lua_gettop(S) >= 1) config.sparseConvert = m._lua_toboolean(S, 1) !== 0;
    if (m._lua_gettop(S) >= 2) config.sparseRatio = Number(api.integerAt(S, 2) ?? 2n);
    if (m._lua_gettop(S) >= 3) config.sparseSafe = Number(api.integerAt(S, 3) ?? 10n);
    m._lua_pushboolean(S, config.sparseConvert ? 1 : 0);
    m._lua_pushinteger(S, BigInt(config.sparseRatio));
    m._lua_pushinteger(S, BigInt(config.sparseSafe));
    return 3;
  });
  m._lua_pushlightuserdata(L, 0);
  api.setField(L, -2, "null");
  api.pushText(L, "cjson");
  api.setField(L, -2, "_NAME");
  api.pushText(L, "2.1.0");
  api.setField(L, -2, "_VERSION");
}

function setInteger(
  api: LuaApi,
  L: LuaState,
  config: CjsonConfig,
  key: "encodeMaxDepth" | "decodeMaxDepth" | "precision",
): number {
  const value = api.integerAt(L, 1);
  if (value !== null) config[key] = Number(value);
  api.m._lua_pushinteger(L, BigInt(config[key]));
  return 1;
}

const ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x2f: "\\/",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
};

function pushAscii(out: number[], text: string): void {
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

function encodeString(bytes: Uint8Array, out: number[]): void {
  out.push(0x22);
  for (const b of bytes) {
    const escape = ESCAPES[b];
    if (escape !== undefined) pushAscii(out, escape);
    else if (b < 0x20 || b === 0x7f) pushAscii(out, `\\u00${b.toString(16).padStart(2, "0")}`);
    else out.push(b);
  }
  out.push(0x22);
}

function encodeNumber(api: LuaApi, L: LuaState, idx: number, config: CjsonConfig, out: number[]) {
  const value = api.m._lua_tonumberx(L, idx, 0);
  if (!Number.isFinite(value) && !config.encodeInvalidNumbers) {
    throw new LuaScriptError("Cannot serialise number: must not be NaN or Inf");
  }
  pushAscii(out, formatDoubleG(value, config.precision));
}

function encodeValue(
  api: LuaApi,
  L: LuaState,
  idx: number,
  config: CjsonConfig,
  depth: number,
  out: number[],
): void {
  const m = api.m;
  switch (m._lua_type(L, idx)) {
    case LUA_TSTRING:
      return encodeString(api.readBytes(L, idx) ?? new Uint8Array(), out);
    case LUA_TNUMBER:
      return encodeNumber(api, L, idx, config, out);
    case LUA_TBOOLEAN:
      return pushAscii(out, m._lua_toboolean(L, idx) ? "true" : "false");
    case LUA_TNIL:
      return pushAscii(out, "null");
    case LUA_TLIGHTUSERDATA:
      if (m._lua_touserdata(L, idx) === 0) return pushAscii(out, "null");
      break;
    case LUA_TTABLE:
      return encodeTable(api, L, m._lua_absindex(L, idx), config, depth + 1, out);
  }
  throw new LuaScriptError(`Cannot serialise ${typeName(api, L, idx)}: type not supported`);
}

/** lua-cjson's array test: the array length, or -1 for an object. */
function arrayLength(api: LuaApi, L: LuaState, table: number, config: CjsonConfig): number {
  const m = api.m;
  let max = 0;
  let items = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, table)) {
    const key = m._lua_type(L, -2) === LUA_TNUMBER ? m._lua_tonumberx(L, -2, 0) : NaN;
    if (!(Number.isInteger(key) && key >= 1)) {
      api.pop(L, 2);
      return -1;
    }
    max = Math.max(max, key);
    items++;
    api.pop(L, 1);
  }
  if (config.sparseRatio > 0 && max > items * config.sparseRatio && max > config.sparseSafe) {
    if (!config.sparseConvert) {
      throw new LuaScriptError("Cannot serialise table: excessively sparse array");
    }
    return -1;
  }
  return max;
}

function encodeTable(
  api: LuaApi,
  L: LuaState,
  table: number,
  config: CjsonConfig,
  depth: number,
  out: number[],
): void {
  const m = api.m;
  if (depth > config.encodeMaxDepth || !m._lua_checkstack(L, 6)) {
    throw new LuaScriptError(`Cannot serialise, excessive nesting (${depth})`);
  }
  const length = arrayLength(api, L, table, config);
  if (length > 0) {
    out.push(0x5b);
    for (let i = 1; i <= length; i++) {
      if (i > 1) out.push(0x2c);
      m._lua_rawgeti(L, table, BigInt(i));
      encodeValue(api, L, -1, config, depth, out);
      api.pop(L, 1);
    }
    out.push(0x5d);
    return;
  }
  out.push(0x7b);
  let first = true;
  m._lua_pushnil(L);
  while (m._lua_next(L, table)) {
    if (!first) out.push(0x2c);
    first = false;
    encodeKey(api, L, config, out);
    out.push(0x3a);
    encodeValue(api, L, -1, config, depth, out);
    api.pop(L, 1);
  }
  out.push(0x7d);
}

/** Writes the key at -2 (without converting it in place, which would break lua_next). */
function encodeKey(api: LuaApi, L: LuaState, config: CjsonConfig, out: number[]): void {
  const m = api.m;
  const t = m._lua_type(L, -2);
  if (t === LUA_TSTRING) return encodeString(api.readBytes(L, -2) ?? new Uint8Array(), out);
  if (t === LUA_TNUMBER) {
    out.push(0x22);
    encodeNumber(api, L, -2, config, out);
    out.push(0x22);
    return;
  }
  throw new LuaScriptError(
    `Cannot serialise ${typeName(api, L, -2)}: table key must be a number or string`,
  );
}

type TokenType =
  | "T_OBJ_BEGIN"
  | "T_OBJ_END"
  | "T_ARR_BEGIN"
  | "T_ARR_END"
  | "T_STRING"
  | "T_NUMBER"
  | "T_BOOLEAN"
  | "T_NULL"
  | "T_COLON"
  | "T_COMMA"
  | "T_END"
  | "T_ERROR";

/** One token: its type, where it starts, and its value (string bytes, number, boolean, error text). */
interface Token {
  type: TokenType;
  index: number;
  bytes?: Uint8Array;
  number?: number;
  boolean?: boolean;
  error?: string;
}

const PUNCTUATION: Record<number, TokenType> = {
  0x7b: "T_OBJ_BEGIN",
  0x7d: "T_OBJ_END",
  0x5b: "T_ARR_BEGIN",
  0x5d: "T_ARR_END",
  0x3a: "T_COLON",
  0x2c: "T_COMMA",
};

const NUMBER_PATTERN =
  /^[-+]?(?:0[xX][0-9a-fA-F]+|inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/i;

const SIMPLE_ESCAPES: Record<number, number> = {
  0x22: 0x22,
  0x5c: 0x5c,
  0x2f: 0x2f,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
};

/** lua-cjson's recursive-descent decoder, pushing Lua values as it goes. */
class JsonDecoder {
  #pos = 0;
  #depth = 0;
  readonly #api: LuaApi;
  readonly #L: LuaState;
  readonly #data: Uint8Array;
  readonly #config: CjsonConfig;

  constructor(api: LuaApi, L: LuaState, data: Uint8Array, config: CjsonConfig) {
    this.#api = api;
    this.#L = L;
    this.#data = data;
    this.#config = config;
  }

  /** Decodes the whole text, leaving its value on the stack. */
  decode(): void {
    const data = this.#data;
    if (data.length >= 2 && (data[0] === 0 || data[1] === 0)) {
      throw new LuaScriptError("JSON parser does not support UTF-16 or UTF-32");
    }
    this.#value(this.#next());
    const end = this.#next();
    if (end.type !== "T_END") this.#fail("the end", end);
  }

  #fail(expected: string, token: Token): never {
    const found = token.type === "T_ERROR" ? token.error : token.type;
    throw new LuaScriptError(
      `Expected ${expected} but found ${found} at character ${token.index + 1}`,
    );
  }

  #value(token: Token): void {
    const api = this.#api;
    const m = api.m;
    switch (token.type) {
      case "T_STRING":
        return api.pushBytes(this.#L, token.bytes!);
      case "T_NUMBER":
        return api.pushNumber(this.#L, token.number!);
      case "T_BOOLEAN":
        return m._lua_pushboolean(this.#L, token.boolean ? 1 : 0);
      case "T_NULL":
        return m._lua_pushlightuserdata(this.#L, 0);
      case "T_OBJ_BEGIN":
        return this.#object();
      case "T_ARR_BEGIN":
        return this.#array();
      default:
        this.#fail("value", token);
    }
  }

  #descend(): void {
    this.#depth++;
    if (this.#depth > this.#config.decodeMaxDepth || !this.#api.m._lua_checkstack(this.#L, 3)) {
      throw new LuaScriptError(
        `Found too many nested data structures (${this.#depth}) at character ${this.#pos}`,
      );
    }
  }

  #object(): void {
    this.#descend();
    const api = this.#api;
    api.m._lua_createtable(this.#L, 0, 0);
    let token = this.#next();
    if (token.type === "T_OBJ_END") return void this.#depth--;
    for (;;) {
      if (token.type !== "T_STRING") this.#fail("object key string", token);
      api.pushBytes(this.#L, token.bytes!);
      token = this.#next();
      if (token.type !== "T_COLON") this.#fail("colon", token);
      this.#value(this.#next());
      api.m._lua_rawset(this.#L, -3);
      token = this.#next();
      if (token.type === "T_OBJ_END") return void this.#depth--;
      if (token.type !== "T_COMMA") this.#fail("comma or object end", token);
      token = this.#next();
    }
  }

  #array(): void {
    this.#descend();
    const m = this.#api.m;
    m._lua_createtable(this.#L, 0, 0);
    let token = this.#next();
    if (token.type === "T_ARR_END") return void this.#depth--;
    for (let i = 1n;; i++) {
      this.#value(token);
      m._lua_rawseti(this.#L, -2, i);
      token = this.#next();
      if (token.type === "T_ARR_END") return void this.#depth--;
      if (token.type !== "T_COMMA") this.#fail("comma or array end", token);
      token = this.#next();
    }
  }

  #next(): Token {
    const data = this.#data;
    while (this.#pos < data.length && " \t\n\r".includes(String.fromCharCode(data[this.#pos]))) {
      this.#pos++;
    }
    const index = this.#pos;
    if (index >= data.length) return { type: "T_END", index };
    const ch = data[index];
    const punctuation = PUNCTUATION[ch];
    if (punctuation !== undefined) {
      this.#pos++;
      return { type: punctuation, index };
    }
    if (ch === 0x22) return this.#string(index);
    for (const [word, token] of WORDS) {
      if (this.#startsWith(word)) {
        this.#pos += word.length;
        return { ...token, index };
      }
    }
    if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39) || /^(inf|nan)/i.test(this.#ascii(index, 3))) {
      return this.#number(index);
    }
    return { type: "T_ERROR", index, error: "invalid token" };
  }

  #ascii(start: number, length: number): string {
    return String.fromCharCode(...this.#data.subarray(start, start + length));
  }

  #startsWith(word: string): boolean {
    return this.#ascii(this.#pos, word.length) === word;
  }

  #number(index: number): Token {
    const match = NUMBER_PATTERN.exec(this.#ascii(index, 400));
    if (match === null) return { type: "T_ERROR", index, error: "invalid number" };
    this.#pos += match[0].length;
    const text = match[0];
    const hex = /^([-+]?)0x(.*)$/i.exec(text);
    const number = hex ? (hex[1] === "-" ? -1 : 1) * parseInt(hex[2], 16) : parseNumber(text);
    return { type: "T_NUMBER", index, number };
  }

  #string(index: number): Token {
    const data = this.#data;
    const out: number[] = [];
    let pos = index + 1;
    for (;;) {
      if (pos >= data.length) {
        this.#pos = pos;
        return { type: "T_ERROR", index: pos, error: "unexpected end of string" };
      }
      const ch = data[pos];
      if (ch === 0x22) break;
      if (ch !== 0x5c) {
        out.push(ch);
        pos++;
        continue;
      }
      const escape = data[pos + 1];
      const simple = SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        out.push(simple);
        pos += 2;
      } else if (escape === 0x75) {
        const used = this.#unicodeEscape(pos, out);
        if (used === 0) {
          return { type: "T_ERROR", index: pos, error: "invalid unicode escape code" };
        }
        pos += used;
      } else {
        return { type: "T_ERROR", index: pos, error: "invalid escape code" };
      }
    }
    this.#pos = pos + 1;
    return { type: "T_STRING", index, bytes: Uint8Array.from(out) };
  }

  /** Appends the UTF-8 of the \uXXXX escape (or surrogate pair) at `pos`; returns its length or 0. */
  #unicodeEscape(pos: number, out: number[]): number {
    const first = this.#hex4(pos + 2);
    if (first < 0) return 0;
    let code = first;
    let used = 6;
    if (first >= 0xd800 && first <= 0xdbff) {
      if (this.#data[pos + 6] !== 0x5c || this.#data[pos + 7] !== 0x75) return 0;
      const low = this.#hex4(pos + 8);
      if (low < 0xdc00 || low > 0xdfff) return 0;
      code = 0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00);
      used = 12;
    } else if (first >= 0xdc00 && first <= 0xdfff) {
      return 0;
    }
    for (const b of new TextEncoder().encode(String.fromCodePoint(code))) out.push(b);
    return used;
  }

  #hex4(pos: number): number {
    const text = this.#ascii(pos, 4);
    return /^[0-9a-fA-F]{4}$/.test(text) ? parseInt(text, 16) : -1;
  }
}

const WORDS: [string, Omit<Token, "index">][] = [
  ["true", { type: "T_BOOLEAN", boolean: true }],
  ["false", { type: "T_BOOLEAN", boolean: false }],
  ["null", { type: "T_NULL" }],
];

/** strtod for decimal text, infinity and NaN. */
function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  const sign = lower.startsWith("-") ? -1 : 1;
  if (lower.includes("inf")) return sign * Infinity;
  if (lower.includes("nan")) return NaN;
  return Number(text);
}
