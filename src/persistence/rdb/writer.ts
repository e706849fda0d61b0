/**
 * A streaming RDB writer (version 10), byte-compatible in structure with
 * what redis-server 7.0 writes: `redis-check-rdb` accepts it and redis-server loads it.
 *
 * The output goes to a sink in chunks of about `chunkSize` bytes, never as one whole file, so a
 * snapshot of any size can be written in slices across event-loop turns: every method returns
 * the sink's promise when it handed over a chunk and the sink is asynchronous (await it to get
 * backpressure), and nothing otherwise, so a synchronous sink costs no promise per key.
 */

import { now } from "../../util/clock.ts";
import { REDIS_COMPAT_VERSION } from "../../version.ts";
import { canonicalInt32 } from "./_int_encoding.ts";
import { ChunkedOutput, type ChunkSink } from "./_output.ts";
import { Crc64 } from "./crc64.ts";
import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  LEN_32BIT,
  LEN_64BIT,
  LZF_MIN_LENGTH,
  NO_EXPIRE,
  OP_AUX,
  OP_EOF,
  OP_EXPIRETIME_MS,
  OP_FUNCTION2,
  OP_RESIZEDB,
  OP_SELECTDB,
  RDB_VERSION,
  TYPE_HASH,
  TYPE_LIST,
  TYPE_SET,
  TYPE_STRING,
  TYPE_ZSET_2,
} from "./format.ts";
import type { CollectionValue } from "../../store/collection.ts";
import type { HashValue } from "../../store/hash_value.ts";
import type { ListValue } from "../../store/list_value.ts";
import type { SetValue } from "../../store/set_value.ts";
import type { SortedSetValue } from "../../store/sorted_set_value.ts";
import { lzfCompressInto } from "./lzf.ts";

/**
 * Receives the file's bytes in order. It may keep the chunk: the writer never reuses a chunk it
 * handed over (unless told the sink copies, see {@link RdbWriterOptions.sinkCopies}). A returned
 * promise is waited for before the next chunk is handed over.
 */
export type RdbSink = ChunkSink;

/** Options of {@link RdbWriter}. */
export interface RdbWriterOptions {
  /** LZF-compress strings longer than 20 bytes when that saves at least 4 bytes (default true). */
  compression?: boolean;
  /** Compute the CRC-64 trailer (default true); false writes 0, meaning "not computed". */
  checksum?: boolean;
  /** Approximate size of the chunks handed to the sink (default 64 KiB). */
  chunkSize?: number;
  /**
   * The sink is synchronous and copies each chunk before returning (default false): the writer
   * then reuses its chunk and hands values over without copying them first.
   */
  sinkCopies?: boolean;
}

/** The auxiliary fields written after the magic, as Redis's `rdbSaveInfoAuxFields`. */
export interface RdbHeaderFields {
  /** `redis-ver` (default: the Redis version gocache reports). */
  redisVer?: string;
  /** `ctime`, seconds since the epoch (default: now). */
  ctimeSec?: number;
  /** `used-mem`, bytes (default 0). */
  usedMem?: number;
  /** `aof-base`: whether this RDB is the base of an AOF (default false). */
  aofBase?: boolean;
  /** More fields (e.g. `repl-id`, `repl-offset`), written before `aof-base` as Redis does. */
  extra?: ReadonlyArray<readonly [string, string | Uint8Array]>;
}

const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Compression scratch buffers up to this size are kept between values. */
const KEEP_SCRATCH = 1024 * 1024;
const MAGIC = `REDIS${String(RDB_VERSION).padStart(4, "0")}`;
const textEncoder = new TextEncoder();

type State = "new" | "header" | "db" | "ended";

/**
 * Writes one RDB file: {@link header}, then for each database {@link selectDb} and its
 * {@link entry} calls, then {@link end}. Values of at least `chunkSize` bytes are handed to the
 * sink without a copy; do not change them until the call's promise (if any) settles.
 */
export class RdbWriter {
  readonly #out: ChunkedOutput;
  readonly #compression: boolean;
  #scratch = new Uint8Array(0);
  /** Bytes of the binary string being written (see {@link #putBinary}). */
  #text = new Uint8Array(256);
  #state: State = "new";

  constructor(sink: RdbSink, options: RdbWriterOptions = {}) {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < 16) {
      throw new RangeError(`Chunk size must be an integer of at least 16, got ${chunkSize}`);
    }
    const crc = (options.checksum ?? true) ? new Crc64() : null;
    this.#out = new ChunkedOutput(sink, chunkSize, crc, options.sinkCopies ?? false);
    this.#compression = options.compression ?? true;
  }

  /** Bytes produced so far (handed to the sink or still buffered). */
  get bytesWritten(): number {
    return this.#out.total;
  }

  /** Writes the magic `REDIS0010` and the auxiliary fields Redis 7.0 writes. */
  header(fields: RdbHeaderFields = {}): void | Promise<void> {
    this.#expect("new", "header()");
    this.#out.begin();
    this.#state = "header";
    this.#out.bytes(textEncoder.encode(MAGIC), false);
    this.#aux("redis-ver", fields.redisVer ?? REDIS_COMPAT_VERSION);
    this.#aux("redis-bits", "64");
    this.#aux("ctime", String(fields.ctimeSec ?? Math.floor(now() / 1000)));
    this.#aux("used-mem", String(fields.usedMem ?? 0));
    for (const [key, value] of fields.extra ?? []) this.#aux(key, value);
    this.#aux("aof-base", fields.aofBase ? "1" : "0");
    return this.#out.result();
  }

  /** Writes one more auxiliary field (allowed anywhere between the header and the end). */
  aux(key: string | Uint8Array, value: string | Uint8Array): void | Promise<void> {
    this.#expectStarted("aux()");
    this.#out.begin();
    this.#aux(key, value);
    return this.#out.result();
  }

  /**
   * Writes one function library's code (RDB_OPCODE_FUNCTION2 and the code as a string), as
   * Redis 7.0 writes each library after the header's AUX fields, before the first database; it
   * also makes the body of a FUNCTION DUMP payload. Allowed in any state before {@link end}.
   */
  functionLibrary(code: Uint8Array): void | Promise<void> {
    if (this.#state === "ended") this.#expect("new", "functionLibrary()");
    this.#out.begin();
    this.#out.byte(OP_FUNCTION2);
    this.#putString(code, true);
    return this.#out.result();
  }

  /**
   * Starts database `index`; `size` and `expiresSize` are its key count and how many of those
   * keys have an expire time (hints a loader uses to size its tables).
   */
  selectDb(index: number, size: number, expiresSize: number): void | Promise<void> {
    this.#expectStarted("selectDb()");
    checkCount("Database index", index);
    checkCount("Database size", size);
    checkCount("Database expires size", expiresSize);
    this.#out.begin();
    this.#state = "db";
    this.#out.byte(OP_SELECTDB);
    this.#putLength(index);
    this.#out.byte(OP_RESIZEDB);
    this.#putLength(size);
    this.#putLength(expiresSize);
    return this.#out.result();
  }

  /**
   * Writes one string key of the selected database; `expireAtMs` is its expire time in
   * milliseconds since the epoch, or -1 for none.
   */
  entry(key: Uint8Array, value: Uint8Array, expireAtMs: number = NO_EXPIRE): void | Promise<void> {
    const out = this.#beginKey("entry()", expireAtMs);
    out.byte(TYPE_STRING);
    this.#putString(key, true);
    this.#putString(value, true);
    return out.result();
  }

  /**
   * Writes one key of the selected database holding a collection, in the plain encodings every
   * Redis version reads (see {@link #putCollectionKeyed}); `expireAtMs` as for {@link entry}.
   */
  collectionEntry(
    key: Uint8Array,
    value: CollectionValue,
    expireAtMs: number = NO_EXPIRE,
  ): void | Promise<void> {
    const out = this.#beginKey("collectionEntry()", expireAtMs);
    this.#putCollectionKeyed(key, value);
    return out.result();
  }

  /**
   * Starts a key record of the selected database (checked by `what`): the output's next chunk,
   * and the key's expire time opcode unless `expireAtMs` is -1.
   */
  #beginKey(what: string, expireAtMs: number): ChunkedOutput {
    if (this.#state !== "db") this.#expect("db", what);
    if (expireAtMs !== NO_EXPIRE && (!Number.isSafeInteger(expireAtMs) || expireAtMs < 0)) {
      throw new RangeError(`Expire time must be -1 or a non-negative integer, got ${expireAtMs}`);
    }
    const out = this.#out;
    out.begin();
    if (expireAtMs !== NO_EXPIRE) {
      out.reserve(9);
      const buf = out.buf;
      let p = out.len;
      buf[p++] = OP_EXPIRETIME_MS;
      const lo = expireAtMs % 0x1_0000_0000;
      p = putUint32LE(buf, p, lo);
      out.len = putUint32LE(buf, p, (expireAtMs - lo) / 0x1_0000_0000);
    }
    return out;
  }

  /**
   * Writes a collection value alone, its type byte and body without a key: the body of a DUMP
   * payload (see dump.ts). Allowed in any state before {@link end}.
   */
  collectionValue(value: CollectionValue): void | Promise<void> {
    if (this.#state === "ended") this.#expect("new", "collectionValue()");
    this.#out.begin();
    this.#putCollectionKeyed(null, value);
    return this.#out.result();
  }

  /**
   * The type byte, the key (unless null) and the body of a collection. gocache writes the plain
   * encodings (Redis's RDB_TYPE_LIST, _SET, _HASH and _ZSET_2: a count, then each element as an
   * RDB string, scores as binary doubles) rather than listpacks: every Redis version loads them
   * and converts small ones to its compact encodings as it goes, and writing them needs no
   * second pass to build a blob.
   */
  #putCollectionKeyed(key: Uint8Array | null, value: CollectionValue): void {
    const out = this.#out;
    switch (value.type) {
      case "hash": {
        out.byte(TYPE_HASH);
        if (key !== null) this.#putString(key, true);
        this.#putLength(value.size);
        for (const [field, v] of (value as HashValue).entries()) {
          this.#putBinary(field);
          this.#putBinary(v);
        }
        return;
      }
      case "list": {
        out.byte(TYPE_LIST);
        if (key !== null) this.#putString(key, true);
        this.#putLength(value.size);
        for (const item of (value as ListValue).items()) this.#putBinary(item);
        return;
      }
      case "set": {
        out.byte(TYPE_SET);
        if (key !== null) this.#putString(key, true);
        this.#putLength(value.size);
        for (const member of (value as SetValue).members()) this.#putBinary(member);
        return;
      }
      case "zset": {
        out.byte(TYPE_ZSET_2);
        if (key !== null) this.#putString(key, true);
        this.#putLength(value.size);
        for (const [member, score] of (value as SortedSetValue).entries()) {
          this.#putBinary(member);
          out.reserve(8);
          new DataView(out.buf.buffer, out.buf.byteOffset).setFloat64(out.len, score, true);
          out.len += 8;
        }
        return;
      }
    }
  }

  /** Writes a binary string (one byte per character) as {@link #putString} does. */
  #putBinary(text: string): void {
    const len = text.length;
    if (this.#text.length < len) this.#text = new Uint8Array(Math.max(len, this.#text.length * 2));
    const bytes = this.#text;
    for (let i = 0; i < len; i++) bytes[i] = text.charCodeAt(i);
    this.#putString(bytes.subarray(0, len), false);
    if (bytes.length > KEEP_SCRATCH) this.#text = new Uint8Array(256);
  }

  /**
   * Writes a string value alone (its bytes, or a binary string as the keyspace holds it, one
   * byte per character), its type byte and encoding without a key: the body of a DUMP payload
   * (see dump.ts). Allowed in any state before {@link end}.
   */
  value(bytes: Uint8Array | string): void | Promise<void> {
    if (this.#state === "ended") this.#expect("new", "value()");
    this.#out.begin();
    this.#out.byte(TYPE_STRING);
    if (typeof bytes === "string") this.#putBinary(bytes);
    else this.#putString(bytes, true);
    return this.#out.result();
  }

  /** Hands the bytes written so far to the sink (the end of a DUMP payload's body). */
  flush(): void {
    this.#out.flush();
  }

  /**
   * Writes the EOF opcode and the checksum trailer, hands over the last chunk and resolves when
   * the sink has taken everything; rejects with the sink's error if one failed.
   */
  async end(): Promise<void> {
    this.#expectStarted("end()");
    const out = this.#out;
    out.begin();
    this.#state = "ended";
    out.byte(OP_EOF);
    out.flush();
    out.deliver(out.crc ? out.crc.toBytesLE() : new Uint8Array(8), false);
    await out.drain();
  }

  #expect(state: State, what: string): void {
    if (this.#state === state) return;
    if (this.#state === "ended") throw new Error(`RDB writer: ${what} called after end()`);
    if (this.#state === "new") throw new Error(`RDB writer: ${what} called before header()`);
    if (state === "db") throw new Error(`RDB writer: ${what} called before selectDb()`);
    throw new Error(`RDB writer: ${what} called twice`);
  }

  #expectStarted(what: string): void {
    if (this.#state === "new" || this.#state === "ended") this.#expect("header", what);
  }

  #aux(key: string | Uint8Array, value: string | Uint8Array): void {
    this.#out.byte(OP_AUX);
    this.#putString(typeof key === "string" ? textEncoder.encode(key) : key, false);
    this.#putString(typeof value === "string" ? textEncoder.encode(value) : value, false);
  }

  /** Writes a string as Redis's `rdbSaveRawString`: integer, LZF or plain. */
  #putString(bytes: Uint8Array, stable: boolean): void {
    const out = this.#out;
    const len = bytes.length;
    const int = canonicalInt32(bytes);
    if (int !== null) {
      out.reserve(5);
      const buf = out.buf;
      let p = out.len;
      if (int >= -0x80 && int <= 0x7f) {
        buf[p++] = ENC_INT8;
        buf[p++] = int & 0xff;
      } else if (int >= -0x8000 && int <= 0x7fff) {
        buf[p++] = ENC_INT16;
        buf[p++] = int & 0xff;
        buf[p++] = (int >> 8) & 0xff;
      } else {
        buf[p++] = ENC_INT32;
        p = putUint32LE(buf, p, int >>> 0);
      }
      out.len = p;
      return;
    }
    if (this.#compression && len > LZF_MIN_LENGTH) {
      // As rdbSaveLzfStringObject: keep the compressed form only if it saves 4 bytes or more.
      const limit = len - 4;
      if (this.#scratch.length < limit) this.#scratch = new Uint8Array(limit);
      const scratch = this.#scratch;
      const clen = lzfCompressInto(bytes, scratch, limit);
      if (scratch.length > KEEP_SCRATCH) this.#scratch = new Uint8Array(0);
      if (clen > 0) {
        out.byte(ENC_LZF);
        this.#putLength(clen);
        this.#putLength(len);
        out.bytes(scratch.subarray(0, clen), false);
        return;
      }
    }
    this.#putLength(len);
    out.bytes(bytes, stable);
  }

  #putLength(n: number): void {
    const out = this.#out;
    out.reserve(9);
    const buf = out.buf;
    let p = out.len;
    if (n < 0x40) {
      buf[p++] = n;
    } else if (n < 0x4000) {
      buf[p++] = 0x40 | (n >>> 8);
      buf[p++] = n & 0xff;
    } else if (n <= 0xffff_ffff) {
      buf[p++] = LEN_32BIT;
      p = putUint32BE(buf, p, n);
    } else {
      buf[p++] = LEN_64BIT;
      const lo = n % 0x1_0000_0000;
      p = putUint32BE(buf, p, (n - lo) / 0x1_0000_0000);
      p = putUint32BE(buf, p, lo);
    }
    out.len = p;
  }
}

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
  }
}

function putUint32LE(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v & 0xff;
  buf[p + 1] = (v >>> 8) & 0xff;
  buf[p + 2] = (v >>> 16) & 0xff;
  buf[p + 3] = (v >>> 24) & 0xff;
  return p + 4;
}

function putUint32BE(buf: Uint8Array, p: number, v: number): number {
  buf[p] = (v >>> 24) & 0xff;
  buf[p + 1] = (v >>> 16) & 0xff;
  buf[p + 2] = (v >>> 8) & 0xff;
  buf[p + 3] = v & 0xff;
  return p + 4;
}
