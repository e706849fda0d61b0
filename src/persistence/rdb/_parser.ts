/**
 * The RDB record parser behind `readRdb`, folder-private: one synchronous step parses one
 * opcode or key out of the buffered input and calls the handler, or rewinds when the record is
 * not all there yet. Everything it refuses is an `RdbError` at the offset of the culprit.
 */

import { writeDecimal } from "./_int_encoding.ts";
import { ByteInput, NEED_MORE } from "./_input.ts";
import { Crc64 } from "./crc64.ts";
import { rdbErrorAt } from "./errors.ts";
import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  LEN_32BIT,
  LEN_64BIT,
  NO_EXPIRE,
  OP_AUX,
  OP_EOF,
  OP_EXPIRETIME,
  OP_EXPIRETIME_MS,
  OP_FREQ,
  OP_FUNCTION2,
  OP_FUNCTION_PRE_GA,
  OP_IDLE,
  OP_MODULE_AUX,
  OP_RESIZEDB,
  OP_SELECTDB,
  RDB_CHECKSUM_SINCE_VERSION,
  RDB_MAGIC_LENGTH,
  RDB_MIN_VERSION,
  RDB_VERSION,
  TYPE_NAMES,
  TYPE_STRING,
} from "./format.ts";
import { CollectionDecoder } from "./_collections.ts";
import { LZF_MAX_EXPANSION, lzfDecompressInto, LzfError } from "./lzf.ts";
import type { RdbHandler, RdbSummary, ReadRdbOptions } from "./reader.ts";

const DEFAULT_MAX_STRING = 512 * 1024 * 1024;
/** A 64-bit length's high word above this makes the length exceed 2^53. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
/** Decompression buffers up to this size are reused; larger values get their own. */
const KEEP_SCRATCH = 1024 * 1024;
const utf8 = new TextDecoder();

/** {@link RdbParser.step}: a record was parsed. */
export const STEP_RECORD = 0;
/** {@link RdbParser.step}: the record is cut off; more input is needed (see `input.wanted`). */
export const STEP_NEED_MORE = 1;
/** {@link RdbParser.step}: the EOF opcode and trailer were read. */
export const STEP_DONE = 2;

/** Parses an RDB file one record at a time out of its {@link ByteInput}. */
export class RdbParser {
  /** The buffered input; the caller pushes chunks into it. */
  readonly input: ByteInput;
  /** The handler's promise for the record just parsed, if it returned one. */
  pending: Promise<void> | null = null;
  readonly #handler: RdbHandler;
  readonly #databases: number;
  readonly #maxString: number;
  readonly #verify: boolean;
  #version = 0;
  #db = 0;
  #expireAtMs = NO_EXPIRE;
  #keys = 0;
  #checksum: RdbSummary["checksum"] = "absent";
  readonly #copy: boolean;
  /**
   * Strings come out as views into the input or into these buffers, reused record after record
   * (a fresh Uint8Array costs about 1 µs in Deno, more than parsing a key). A record has two
   * strings, so two of each alternate: `#slot` picks the one for the next string.
   */
  #slot = 0;
  readonly #digits = new Uint8Array(32);
  readonly #scratch = [new Uint8Array(256), new Uint8Array(256)];
  /** Reads the bodies of collection records, with this parser's string reader. */
  readonly #collections = new CollectionDecoder(
    () => this.#string(),
    () => this.#length(),
    () => this.input,
  );

  constructor(handler: RdbHandler, options: ReadRdbOptions) {
    this.#handler = handler;
    this.#databases = options.databases ?? 16;
    this.#maxString = options.maxStringBytes ?? DEFAULT_MAX_STRING;
    this.#verify = options.verifyChecksum ?? true;
    this.#copy = options.copy ?? false;
    this.input = new ByteInput(this.#verify ? new Crc64() : null);
  }

  /** What was read, once the file is done. */
  summary(bytes: number): RdbSummary {
    return { version: this.#version, keys: this.#keys, bytes, checksum: this.#checksum };
  }

  /** Parses one record; on running out of data rewinds to its start and says so. */
  step(): number {
    const input = this.input;
    try {
      const done = this.#version === 0 ? this.#magic() : this.#record();
      input.commit();
      return done ? STEP_DONE : STEP_RECORD;
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      input.rewind();
      return STEP_NEED_MORE;
    }
  }

  #magic(): boolean {
    const input = this.input;
    const at = input.take(RDB_MAGIC_LENGTH);
    const b = input.buf;
    const signature = String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4]);
    if (signature !== "REDIS") throw rdbErrorAt("Not an RDB file (no REDIS signature)", 0);
    let version = 0;
    for (let i = 5; i < RDB_MAGIC_LENGTH; i++) {
      const digit = b[at + i] - 0x30;
      if (digit < 0 || digit > 9) throw rdbErrorAt("Malformed RDB version number", 5);
      version = version * 10 + digit;
    }
    if (version < RDB_MIN_VERSION) throw rdbErrorAt(`Invalid RDB format version ${version}`, 5);
    if (version > RDB_VERSION) {
      throw rdbErrorAt(
        `RDB format version ${version} is newer than the newest supported version ${RDB_VERSION}`,
        5,
      );
    }
    this.#version = version;
    return false;
  }

  /** Parses one opcode or key; returns true at the end of the file. */
  #record(): boolean {
    const input = this.input;
    const at = input.offset;
    const type = input.u8();
    if (type === TYPE_STRING) {
      let key = this.#string();
      let value = this.#string();
      const expireAtMs = this.#expireAtMs;
      this.#expireAtMs = NO_EXPIRE;
      this.#keys++;
      if (this.#copy) {
        key = key.slice();
        value = value.slice();
      }
      this.#settle(this.#handler.entry(this.#db, key, value, expireAtMs));
      return false;
    }
    if (CollectionDecoder.decodes(type)) {
      this.#collectionRecord(type, at);
      return false;
    }
    switch (type) {
      case OP_EXPIRETIME_MS: {
        const lo = input.u32le();
        const hi = input.u32le() | 0;
        const ms = hi * 0x1_0000_0000 + lo;
        if (!Number.isSafeInteger(ms)) throw rdbErrorAt("Expire time out of range", at);
        this.#expireAtMs = ms;
        return false;
      }
      case OP_EXPIRETIME:
        this.#expireAtMs = (input.u32le() | 0) * 1000;
        return false;
      case OP_IDLE:
        this.#length();
        return false;
      case OP_FREQ:
        input.u8();
        return false;
      case OP_SELECTDB: {
        const db = this.#length();
        if (db >= this.#databases) {
          throw rdbErrorAt(
            `Database ${db} does not exist (there are ${this.#databases} databases)`,
            at,
          );
        }
        this.#db = db;
        this.#settle(this.#handler.selectDb?.(db));
        return false;
      }
      case OP_RESIZEDB: {
        const size = this.#length();
        const expires = this.#length();
        this.#settle(this.#handler.resizeDb?.(size, expires));
        return false;
      }
      case OP_AUX: {
        const key = utf8.decode(this.#string());
        const value = utf8.decode(this.#string());
        this.#settle(this.#handler.aux?.(key, value));
        return false;
      }
      case OP_EOF:
        this.#trailer();
        return true;
      case OP_MODULE_AUX:
        throw rdbErrorAt("Module data (opcode 0xF7) is not supported", at);
      case OP_FUNCTION2: {
        if (this.#handler.functionLibrary === undefined) {
          throw rdbErrorAt("Function libraries (opcode 0xF5) are not supported here", at);
        }
        const code = this.#string().slice();
        this.#settle(this.#handler.functionLibrary(code));
        return false;
      }
      case OP_FUNCTION_PRE_GA:
        throw rdbErrorAt(
          `Function libraries (opcode 0x${type.toString(16).toUpperCase()}) are not supported`,
          at,
        );
      default:
        if (type < TYPE_NAMES.length) {
          throw rdbErrorAt(`Value type ${type} (${TYPE_NAMES[type]}) is not supported`, at);
        }
        throw rdbErrorAt(`Unknown value type or opcode ${type}`, at);
    }
  }

  /**
   * A key holding a collection (type `type`, record starting at file offset `at`). A record cut
   * off by the end of the buffered input is parsed again from its start once more arrives, so
   * each retry asks for twice the bytes the last attempt had: a large collection costs a few
   * passes, not one per chunk.
   */
  #collectionRecord(type: number, at: number): void {
    const handler = this.#handler;
    try {
      const key = this.#string().slice();
      const value = this.#collections.decode(type, at);
      const expireAtMs = this.#expireAtMs;
      this.#expireAtMs = NO_EXPIRE;
      // Redis skips a collection left empty (by a sanitized or truncated dump) rather than
      // keeping an empty key.
      if (value === null) return;
      this.#keys++;
      if (handler.collection === undefined) {
        throw rdbErrorAt(`Value type ${type} (${TYPE_NAMES[type]}) is not supported here`, at);
      }
      this.#settle(handler.collection(this.#db, key, value, expireAtMs));
    } catch (e) {
      if (e === NEED_MORE) {
        const input = this.input;
        input.preferred = Math.max(input.wanted, at + 2 * (input.wanted - at));
      }
      throw e;
    }
  }

  #settle(result: void | Promise<void>): void {
    if (result instanceof Promise) this.pending = result;
  }

  #trailer(): void {
    const input = this.input;
    if (this.#version < RDB_CHECKSUM_SINCE_VERSION) {
      this.#checksum = "absent";
      return;
    }
    const at = input.offset;
    const p = input.take(8);
    const b = input.buf;
    const isZero = (b[p] | b[p + 1] | b[p + 2] | b[p + 3] | b[p + 4] | b[p + 5] | b[p + 6] |
      b[p + 7]) === 0;
    if (isZero) {
      this.#checksum = "not-computed";
      return;
    }
    const crc = input.crc;
    if (!crc) {
      this.#checksum = "skipped";
      return;
    }
    // The checksum covers everything before the trailer, the EOF opcode included.
    input.mark = p;
    input.checksumConsumed();
    if (!crc.equalsBytesLE(b, p)) {
      let file = "";
      for (let i = 7; i >= 0; i--) file += b[p + i].toString(16).padStart(2, "0");
      throw rdbErrorAt(`Checksum mismatch: file says ${file}, computed ${crc.hex()}`, at);
    }
    this.#checksum = "verified";
  }

  /** Reads a plain length (not a string encoding). */
  #length(): number {
    const input = this.input;
    const at = input.offset;
    const first = input.u8();
    switch (first >>> 6) {
      case 0:
        return first;
      case 1:
        return ((first & 0x3f) << 8) | input.u8();
      case 2:
        return this.#wideLength(first, at);
      default:
        throw rdbErrorAt(`Encoded value 0x${first.toString(16)} where a length belongs`, at);
    }
  }

  #wideLength(first: number, at: number): number {
    const input = this.input;
    if (first === LEN_32BIT) return input.u32be();
    if (first === LEN_64BIT) {
      const hi = input.u32be();
      const lo = input.u32be();
      if (hi > MAX_SAFE_HIGH_WORD) throw rdbErrorAt("Length larger than 2^53", at);
      return hi * 0x1_0000_0000 + lo;
    }
    throw rdbErrorAt(`Unknown length encoding 0x${first.toString(16)}`, at);
  }

  /** Reads a string in any of its encodings, as a view valid until the next record. */
  #string(): Uint8Array {
    this.#slot ^= 1;
    const input = this.input;
    const at = input.offset;
    const first = input.u8();
    let len: number;
    switch (first >>> 6) {
      case 0:
        len = first;
        break;
      case 1:
        len = ((first & 0x3f) << 8) | input.u8();
        break;
      case 2:
        len = this.#wideLength(first, at);
        break;
      default:
        return this.#encodedString(first, at);
    }
    this.#checkStringLength(len, at);
    const p = input.take(len);
    return input.buf.subarray(p, p + len);
  }

  #encodedString(first: number, at: number): Uint8Array {
    const input = this.input;
    switch (first) {
      case ENC_INT8:
        return this.#decimal((input.u8() << 24) >> 24);
      case ENC_INT16: {
        const lo = input.u8();
        return this.#decimal(((input.u8() << 24) >> 16) | lo);
      }
      case ENC_INT32:
        return this.#decimal(input.u32le() | 0);
      case ENC_LZF:
        return this.#lzfString(at);
      default:
        throw rdbErrorAt(`Unknown string encoding ${first & 0x3f}`, at);
    }
  }

  #lzfString(at: number): Uint8Array {
    const input = this.input;
    const clen = this.#length();
    const len = this.#length();
    this.#checkStringLength(len, at);
    if (clen === 0 || len === 0) throw rdbErrorAt("Empty LZF-compressed string", at);
    if (len > clen * LZF_MAX_EXPANSION) {
      throw rdbErrorAt(`LZF string claims ${len} bytes from ${clen} compressed bytes`, at);
    }
    const dataAt = input.offset;
    const p = input.take(clen);
    const out = this.#scratchFor(len);
    let n: number;
    try {
      n = lzfDecompressInto(input.buf, out, p, p + clen);
    } catch (e) {
      if (e instanceof LzfError) {
        throw rdbErrorAt(`Invalid LZF-compressed string (${e.message})`, dataAt + e.offset);
      }
      throw e;
    }
    if (n !== len) {
      throw rdbErrorAt(`Invalid LZF-compressed string (${n} bytes, expected ${len})`, dataAt);
    }
    return out;
  }

  /** A buffer of exactly `len` bytes for the current slot's decompressed string. */
  #scratchFor(len: number): Uint8Array {
    if (len > KEEP_SCRATCH) return new Uint8Array(len);
    let scratch = this.#scratch[this.#slot];
    if (scratch.length < len) {
      scratch = new Uint8Array(Math.min(KEEP_SCRATCH, Math.max(len, scratch.length * 2)));
      this.#scratch[this.#slot] = scratch;
    }
    return scratch.subarray(0, len);
  }

  #decimal(value: number): Uint8Array {
    const at = this.#slot * 16;
    return this.#digits.subarray(at, writeDecimal(value, this.#digits, at));
  }

  #checkStringLength(len: number, at: number): void {
    if (len > this.#maxString) {
      throw rdbErrorAt(`String length ${len} exceeds the limit of ${this.#maxString} bytes`, at);
    }
  }
}
