/**
 * The `struct` library of Redis scripts (Roberto Ierusalimschy's struct.c 0.2 as bundled with
 * Redis), written as host functions: `struct.pack`, `struct.unpack` and `struct.size`, with the
 * same format language (`<` `>` `!n` `x` `b` `B` `h` `H` `l` `L` `T` `in` `In` `cn` `s` `f`
 * `d`, spaces ignored; sizes as on 64-bit Linux) and error texts.
 */
import {
  addHostFunction,
  argError,
  checkBytes,
  checkInteger,
  checkNumber,
  type HostBody,
  LuaScriptError,
} from "./lua_host.ts";
import { LUA_TNUMBER, type LuaApi, type LuaState } from "./lua_raw.ts";

const MAX_INT_SIZE = 32;
const MAX_ALIGN = 8;

/** The current byte order and alignment while reading a format. */
interface Header {
  little: boolean;
  align: number;
}

/** A cursor over a format string. */
class Format {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  next(): string {
    return this.text[this.pos++];
  }
  /** The decimal number at the cursor, or `fallback` when there is none. */
  number(fallback: number): number {
    const match = /^\d+/.exec(this.text.slice(this.pos));
    if (match === null) return fallback;
    this.pos += match[0].length;
    return Number(match[0]);
  }
}

/** Pushes the `struct` table, its functions bound to `api`. */
export function pushStruct(api: LuaApi, L: LuaState, functions: number[]): void {
  const m = api.m;
  const add = (name: string, body: HostBody) => addHostFunction(api, L, functions, name, body);
  m._lua_createtable(L, 0, 3);
  add("pack", (S) => pack(api, S));
  add("unpack", (S) => unpack(api, S));
  add("size", (S) => size(api, S));
}

function formatArg(api: LuaApi, L: LuaState, fname: string): Format {
  return new Format(String.fromCharCode(...checkBytes(api, L, 1, fname)));
}

/** The size of option `opt` (reading its number from the format), 0 for control options. */
function optionSize(opt: string, format: Format): number {
  switch (opt) {
    case "b":
    case "B":
    case "x":
      return 1;
    case "h":
    case "H":
      return 2;
    case "f":
      return 4;
    case "l":
    case "L":
    case "T":
    case "d":
      return 8;
    case "c":
      return format.number(1);
    case "i":
    case "I": {
      const size = format.number(4);
      if (size > MAX_INT_SIZE) {
        throw new LuaScriptError(
          `integral size ${size} is larger than limit of ${MAX_INT_SIZE}`,
        );
      }
      return size;
    }
    default:
      return 0;
  }
}

function padding(length: number, header: Header, opt: string, size: number): number {
  if (size === 0 || opt === "c") return 0;
  const align = Math.min(size, header.align);
  return (align - (length & (align - 1))) & (align - 1);
}

function controlOption(opt: string, format: Format, header: Header, fname: string): void {
  switch (opt) {
    case " ":
      return;
    case ">":
      header.little = false;
      return;
    case "<":
      header.little = true;
      return;
    case "!": {
      const align = format.number(MAX_ALIGN);
      if ((align & (align - 1)) !== 0 || align === 0) {
        throw new LuaScriptError(`alignment ${align} is not a power of 2`);
      }
      header.align = align;
      return;
    }
    default:
      argError(1, fname, `invalid format option '${opt}'`);
  }
}

const isInteger = (opt: string) => "bBhHlLTiI".includes(opt);

function pack(api: LuaApi, L: LuaState): number {
  const format = formatArg(api, L, "pack");
  const header: Header = { little: true, align: 1 };
  const out: number[] = [];
  let arg = 2;
  while (!format.done) {
    const opt = format.next();
    let size = optionSize(opt, format);
    for (let pad = padding(out.length, header, opt, size); pad > 0; pad--) out.push(0);
    if (isInteger(opt)) {
      putInteger(checkInteger(api, L, arg++, "pack"), size, header.little, out);
    } else if (opt === "x") {
      out.push(0);
    } else if (opt === "f" || opt === "d") {
      putFloat(checkNumber(api, L, arg++, "pack"), size, header.little, out);
    } else if (opt === "c" || opt === "s") {
      const bytes = checkBytes(api, L, arg++, "pack");
      if (size === 0) size = bytes.length;
      if (bytes.length < size) argError(arg, "pack", "string too short");
      for (let i = 0; i < size; i++) out.push(bytes[i]);
      if (opt === "s") out.push(0);
    } else {
      controlOption(opt, format, header, "pack");
    }
  }
  api.pushBytes(L, Uint8Array.from(out));
  return 1;
}

function putInteger(value: bigint, size: number, little: boolean, out: number[]): void {
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) {
    bytes.push(Number(v & 0xffn));
    v >>= 8n;
  }
  out.push(...(little ? bytes : bytes.reverse()));
}

function putFloat(value: number, size: number, little: boolean, out: number[]): void {
  const view = new DataView(new ArrayBuffer(size));
  if (size === 4) view.setFloat32(0, value, little);
  else view.setFloat64(0, value, little);
  out.push(...new Uint8Array(view.buffer));
}

function getInteger(data: Uint8Array, pos: number, size: number, little: boolean, signed: boolean) {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    v = (v << 8n) | BigInt(data[little ? pos + size - 1 - i : pos + i]);
  }
  v = BigInt.asUintN(64, v);
  if (signed && size > 0 && size <= 8) return BigInt.asIntN(size * 8, v);
  return signed ? BigInt.asIntN(64, v) : v;
}

function unpack(api: LuaApi, L: LuaState): number {
  const m = api.m;
  const format = formatArg(api, L, "unpack");
  const data = checkBytes(api, L, 2, "unpack");
  let pos = m._lua_gettop(L) >= 3 ? Number(checkInteger(api, L, 3, "unpack")) - 1 : 0;
  if (pos < 0 || pos > data.length) argError(3, "unpack", "offset must be 1 or greater");
  m._lua_settop(L, 0);
  const header: Header = { little: true, align: 1 };
  let results = 0;
  while (!format.done) {
    const opt = format.next();
    let size = optionSize(opt, format);
    pos += padding(pos, header, opt, size);
    if (pos + size > data.length) argError(2, "unpack", "data string too short");
    if (!m._lua_checkstack(L, 2)) throw new LuaScriptError("too many results");
    if (isInteger(opt)) {
      pushInteger(api, L, getInteger(data, pos, size, header.little, opt === opt.toLowerCase()));
      results++;
    } else if (opt === "f" || opt === "d") {
      const view = new DataView(data.buffer, data.byteOffset + pos, size);
      api.pushNumber(
        L,
        size === 4 ? view.getFloat32(0, header.little) : view.getFloat64(0, header.little),
      );
      results++;
    } else if (opt === "c") {
      if (size === 0) {
        if (results === 0 || m._lua_type(L, -1) !== LUA_TNUMBER) {
          throw new LuaScriptError("format 'c0' needs a previous size");
        }
        size = Number(api.integerAt(L, -1) ?? 0n);
        api.pop(L, 1);
        results--;
        if (size < 0 || pos + size > data.length) argError(2, "unpack", "data string too short");
      }
      api.pushBytes(L, data.subarray(pos, pos + size));
      results++;
    } else if (opt === "s") {
      const end = data.indexOf(0, pos);
      if (end < 0) throw new LuaScriptError("unfinished string in data");
      api.pushBytes(L, data.subarray(pos, end));
      size = end - pos + 1;
      results++;
    } else if (opt !== "x") {
      controlOption(opt, format, header, "unpack");
    }
    pos += size;
  }
  m._lua_pushinteger(L, BigInt(pos + 1));
  return results + 1;
}

/** An unpacked integer: a Lua integer when it fits in 64 bits signed, else a float. */
function pushInteger(api: LuaApi, L: LuaState, value: bigint): void {
  if (value > 9223372036854775807n) api.m._lua_pushnumber(L, Number(value));
  else api.m._lua_pushinteger(L, value);
}

function size(api: LuaApi, L: LuaState): number {
  const format = formatArg(api, L, "size");
  const header: Header = { little: true, align: 1 };
  let pos = 0;
  while (!format.done) {
    const opt = format.next();
    const optSize = optionSize(opt, format);
    pos += padding(pos, header, opt, optSize);
    if (opt === "s") argError(1, "size", "options 's' has no fixed size");
    if (opt === "c" && optSize === 0) argError(1, "size", "option 'c0' has no fixed size");
    if (!/[A-Za-z0-9]/.test(opt)) controlOption(opt, format, header, "size");
    pos += optSize;
  }
  api.m._lua_pushinteger(L, BigInt(pos));
  return 1;
}
