/**
 * The `cmsgpack` library of Redis scripts (lua-cmsgpack 0.4.0 as bundled with Redis), written
 * as host functions: `pack`, `unpack`, `unpack_one` and `unpack_limit`, with lua-cmsgpack's
 * encoding choices (smallest integer form, float32 when exact, tables as arrays when their keys
 * are exactly 1..n, nesting beyond 16 levels packed as nil) and its error texts.
 */
import {
  addHostFunction,
  argError,
  checkBytes,
  checkInteger,
  type HostBody,
  LuaScriptError,
} from "./lua_host.ts";
import {
  LUA_TBOOLEAN,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaApi,
  type LuaState,
} from "./lua_raw.ts";

/** Tables nested deeper than this are packed as nil, as lua-cmsgpack does. */
const MAX_NESTING = 16;

/** Pushes the `cmsgpack` table, its functions bound to `api`. */
export function pushCmsgpack(api: LuaApi, L: LuaState, functions: number[]): void {
  const m = api.m;
  const add = (name: string, body: HostBody) => addHostFunction(api, L, functions, name, body);
  m._lua_createtable(L, 0, 6);
  add("pack", (S) => pack(api, S));
  add("unpack", (S) => unpack(api, S, 0, 0, "unpack"));
  add("unpack_one", (S) => {
    const offset = m._lua_gettop(S) >= 2 ? Number(checkInteger(api, S, 2, "unpack_one")) : 0;
    return unpack(api, S, 1, offset, "unpack_one");
  });
  add("unpack_limit", (S) => {
    const limit = Number(checkInteger(api, S, 2, "unpack_limit"));
    const offset = m._lua_gettop(S) >= 3 ? Number(checkInteger(api, S, 3, "unpack_limit")) : 0;
    return unpack(api, S, limit, offset, "unpack_limit");
  });
  api.pushText(L, "cmsgpack");
  api.setField(L, -2, "_NAME");
  api.pushText(L, "lua-cmsgpack 0.4.0");
  api.setField(L, -2, "_VERSION");
}

/** A growable byte buffer for packing. */
class Packer {
  bytes = new Uint8Array(64);
  length = 0;

  push(...values: number[]): void {
    this.#reserve(values.length);
    for (const v of values) this.bytes[this.length++] = v & 0xff;
  }

  pushBytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** Appends `size` bytes written by `write` into a big-endian DataView. */
  pushView(size: number, write: (view: DataView) => void): void {
    this.#reserve(size);
    write(new DataView(this.bytes.buffer, this.length, size));
    this.length += size;
  }

  #reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

function pack(api: LuaApi, L: LuaState): number {
  const argc = api.m._lua_gettop(L);
  if (argc === 0) argError(0, "pack", "MessagePack pack needs input.");
  const out = new Packer();
  for (let i = 1; i <= argc; i++) encodeValue(api, L, i, 0, out);
  api.pushBytes(L, out.bytes.subarray(0, out.length));
  return 1;
}

function encodeValue(api: LuaApi, L: LuaState, idx: number, level: number, out: Packer): void {
  const m = api.m;
  let t = m._lua_type(L, idx);
  if (t === LUA_TTABLE && level === MAX_NESTING) t = -1;
  switch (t) {
    case LUA_TSTRING:
      return encodeString(api.readBytes(L, idx)!, out);
    case LUA_TBOOLEAN:
      return out.push(m._lua_toboolean(L, idx) ? 0xc3 : 0xc2);
    case LUA_TNUMBER:
      if (m._lua_isinteger(L, idx)) return encodeInteger(m._lua_tointegerx(L, idx, 0), out);
      return encodeNumber(m._lua_tonumberx(L, idx, 0), out);
    case LUA_TTABLE:
      return encodeTable(api, L, m._lua_absindex(L, idx), level, out);
    default:
      out.push(0xc0);
  }
}

function encodeString(bytes: Uint8Array, out: Packer): void {
  const n = bytes.length;
  if (n < 32) out.push(0xa0 | n);
  else if (n <= 0xff) out.push(0xd9, n);
  else if (n <= 0xffff) out.push(0xda, n >> 8, n);
  else out.pushView(5, (v) => (v.setUint8(0, 0xdb), v.setUint32(1, n)));
  out.pushBytes(bytes);
}

function encodeNumber(value: number, out: Packer): void {
  if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
    return encodeInteger(BigInt(value), out);
  }
  if (Math.fround(value) === value || Number.isNaN(value)) {
    out.pushView(5, (v) => (v.setUint8(0, 0xca), v.setFloat32(1, value)));
  } else {
    out.pushView(9, (v) => (v.setUint8(0, 0xcb), v.setFloat64(1, value)));
  }
}

function encodeInteger(n: bigint, out: Packer): void {
  if (n >= 0n) {
    if (n <= 127n) return out.push(Number(n));
    if (n <= 0xffn) return out.push(0xcc, Number(n));
    if (n <= 0xffffn) return out.push(0xcd, Number(n >> 8n), Number(n));
    if (n <= 0xffffffffn) {
      return out.pushView(5, (v) => (v.setUint8(0, 0xce), v.setUint32(1, Number(n))));
    }
    return out.pushView(9, (v) => (v.setUint8(0, 0xcf), v.setBigUint64(1, n)));
  }
  if (n >= -32n) return out.push(Number(n));
  if (n >= -128n) return out.push(0xd0, Number(n));
  if (n >= -32768n) return out.pushView(3, (v) => (v.setUint8(0, 0xd1), v.setInt16(1, Number(n))));
  if (n >= -2147483648n) {
    return out.pushView(5, (v) => (v.setUint8(0, 0xd2), v.setInt32(1, Number(n))));
  }
  out.pushView(9, (v) => (v.setUint8(0, 0xd3), v.setBigInt64(1, n)));
}

/** lua-cmsgpack's test: every key a positive integer and the largest equal to the count. */
function isArray(api: LuaApi, L: LuaState, table: number): number {
  const m = api.m;
  let count = 0;
  let max = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, table)) {
    api.pop(L, 1);
    const key = m._lua_isinteger(L, -1) ? Number(m._lua_tointegerx(L, -1, 0)) : 0;
    if (key <= 0) {
      api.pop(L, 1);
      return -1;
    }
    max = Math.max(max, key);
    count++;
  }
  return max === count ? count : -1;
}

function encodeTable(api: LuaApi, L: LuaState, table: number, level: number, out: Packer): void {
  const m = api.m;
  if (!m._lua_checkstack(L, 4)) throw new LuaScriptError("stack overflow");
  const length = isArray(api, L, table);
  if (length >= 0) {
    encodeHeader(length, 0x90, 0xdc, out);
    for (let i = 1; i <= length; i++) {
      m._lua_rawgeti(L, table, BigInt(i));
      encodeValue(api, L, -1, level + 1, out);
      api.pop(L, 1);
    }
    return;
  }
  let pairs = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, table)) {
    pairs++;
    api.pop(L, 1);
  }
  encodeHeader(pairs, 0x80, 0xde, out);
  m._lua_pushnil(L);
  while (m._lua_next(L, table)) {
    encodeValue(api, L, -2, level + 1, out);
    encodeValue(api, L, -1, level + 1, out);
    api.pop(L, 1);
  }
}

/** A fixarray/fixmap header (`fix`), or the 16-bit (`wide`) or 32-bit (`wide + 1`) form. */
function encodeHeader(n: number, fix: number, wide: number, out: Packer): void {
  if (n < 16) out.push(fix | n);
  else if (n <= 0xffff) out.push(wide, n >> 8, n);
  else out.pushView(5, (v) => (v.setUint8(0, wide + 1), v.setUint32(1, n)));
}

/** lua-cmsgpack's mp_unpack_full: decodes up to `limit` values (0 = all) from `offset`. */
function unpack(api: LuaApi, L: LuaState, limit: number, offset: number, fname: string): number {
  const data = checkBytes(api, L, 1, fname);
  const all = limit === 0 && offset === 0;
  if (offset < 0 || limit < 0) {
    throw new LuaScriptError(
      `Invalid request to unpack with offset of ${offset} and limit of ${limit}.`,
    );
  }
  if (offset > data.length) {
    throw new LuaScriptError(`Start offset ${offset} greater than input length ${data.length}.`);
  }
  api.m._lua_settop(L, 0);
  const reader = new Unpacker(api, L, data, offset);
  let count = 0;
  for (; reader.pos < data.length && (all || count < limit); count++) reader.value();
  if (all) return count;
  api.m._lua_pushinteger(L, BigInt(reader.pos >= data.length ? -1 : reader.pos));
  api.m._lua_rotate(L, 1, 1);
  return count + 1;
}

/** Decodes MessagePack values, pushing each onto the Lua stack. */
class Unpacker {
  pos: number;
  readonly #api: LuaApi;
  readonly #L: LuaState;
  readonly #data: Uint8Array;
  readonly #view: DataView;

  constructor(api: LuaApi, L: LuaState, data: Uint8Array, offset: number) {
    this.#api = api;
    this.#L = L;
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.pos = offset;
  }

  #need(n: number): number {
    if (this.pos + n > this.#data.length) throw new LuaScriptError("Missing bytes in input.");
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Decodes one value and pushes it. */
  value(): void {
    const api = this.#api;
    const m = api.m;
    const L = this.#L;
    if (!m._lua_checkstack(L, 4)) throw new LuaScriptError("stack overflow");
    const b = this.#data[this.#need(1)];
    const view = this.#view;
    if (b <= 0x7f) return m._lua_pushinteger(L, BigInt(b));
    if (b >= 0xe0) return m._lua_pushinteger(L, BigInt(b - 256));
    if ((b & 0xe0) === 0xa0) return this.#string(b & 0x1f);
    if ((b & 0xf0) === 0x90) return this.#array(b & 0x0f);
    if ((b & 0xf0) === 0x80) return this.#map(b & 0x0f);
    switch (b) {
      case 0xc0:
        return m._lua_pushnil(L);
      case 0xc2:
      case 0xc3:
        return m._lua_pushboolean(L, b === 0xc3 ? 1 : 0);
      case 0xcc:
        return m._lua_pushinteger(L, BigInt(view.getUint8(this.#need(1))));
      case 0xcd:
        return m._lua_pushinteger(L, BigInt(view.getUint16(this.#need(2))));
      case 0xce:
        return m._lua_pushinteger(L, BigInt(view.getUint32(this.#need(4))));
      case 0xcf:
        return m._lua_pushinteger(L, view.getBigInt64(this.#need(8)));
      case 0xd0:
        return m._lua_pushinteger(L, BigInt(view.getInt8(this.#need(1))));
      case 0xd1:
        return m._lua_pushinteger(L, BigInt(view.getInt16(this.#need(2))));
      case 0xd2:
        return m._lua_pushinteger(L, BigInt(view.getInt32(this.#need(4))));
      case 0xd3:
        return m._lua_pushinteger(L, view.getBigInt64(this.#need(8)));
      case 0xca:
        return api.pushNumber(L, view.getFloat32(this.#need(4)));
      case 0xcb:
        return api.pushNumber(L, view.getFloat64(this.#need(8)));
      case 0xd9:
      case 0xc4:
        return this.#string(view.getUint8(this.#need(1)));
      case 0xda:
      case 0xc5:
        return this.#string(view.getUint16(this.#need(2)));
      case 0xdb:
      case 0xc6:
        return this.#string(view.getUint32(this.#need(4)));
      case 0xdc:
        return this.#array(view.getUint16(this.#need(2)));
      case 0xdd:
        return this.#array(view.getUint32(this.#need(4)));
      case 0xde:
        return this.#map(view.getUint16(this.#need(2)));
      case 0xdf:
        return this.#map(view.getUint32(this.#need(4)));
    }
    throw new LuaScriptError("Bad data format in input.");
  }

  #string(length: number): void {
    const at = this.#need(length);
    this.#api.pushBytes(this.#L, this.#data.subarray(at, at + length));
  }

  #array(length: number): void {
    const m = this.#api.m;
    m._lua_createtable(this.#L, Math.min(length, 1024), 0);
    for (let i = 1; i <= length; i++) {
      this.value();
      m._lua_rawseti(this.#L, -2, BigInt(i));
    }
  }

  #map(length: number): void {
    const m = this.#api.m;
    m._lua_createtable(this.#L, 0, Math.min(length, 1024));
    for (let i = 0; i < length; i++) {
      this.value();
      this.value();
      if (m._lua_type(this.#L, -2) === 0) this.#api.pop(this.#L, 2);
      else m._lua_rawset(this.#L, -3);
    }
  }
}
