/**
 * The serialized form of one value that DUMP produces and RESTORE consumes, as Redis 7.0 lays it
 * out: the value exactly as an RDB file stores it (type byte, then the string: integer, LZF or
 * plain), the RDB version as two bytes (little-endian), and the CRC-64 of all that (eight bytes,
 * little-endian). Payloads from redis-server restore here and ours restore there.
 *
 * Encoding goes through {@link RdbWriter} and decoding through the RDB parser, so a payload is
 * written and checked by the same code as a snapshot: a malformed one ends in an error, never a
 * crash or an allocation its bytes do not justify.
 */

import { RdbParser, STEP_DONE, STEP_NEED_MORE } from "./_parser.ts";
import { CollectionDecoder } from "./_collections.ts";
import { Crc64 } from "./crc64.ts";
import { RdbError } from "./errors.ts";
import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  LEN_32BIT,
  OP_EOF,
  OP_SELECTDB,
  RDB_VERSION,
  TYPE_STRING,
} from "./format.ts";
import { LZF_MAX_EXPANSION, lzfDecompressInto, LzfError } from "./lzf.ts";
import { RdbWriter } from "./writer.ts";
import { ByteBuffer } from "../../util/bytes.ts";
import type { CollectionValue } from "../../store/collection.ts";

/** Version and checksum bytes after the value. */
const FOOTER = 10;
const MAGIC = new TextEncoder().encode(`REDIS${String(RDB_VERSION).padStart(4, "0")}`);

/** Why a payload was refused: RESTORE answers each with its own Redis error. */
export class DumpPayloadError extends Error {
  /** `footer`: the version is too new or the checksum does not match; `format`: the value. */
  readonly kind: "footer" | "format";

  /** Creates the error. */
  constructor(kind: "footer" | "format", message: string) {
    super(message);
    this.name = "DumpPayloadError";
    this.kind = kind;
  }
}

/**
 * One writer per `rdbcompression` setting, reused for every payload, writing into one body
 * buffer that is reused too: a payload then costs one allocation, its own. A writer per DUMP
 * cost ~15 us for a 100-byte value; a new chunk and a copy per chunk, a concatenation and a
 * BigInt checksum through a DataView still cost ~5 us (each typed array allocated costs Deno
 * about 1 us, malloc and free included); now ~1.5 us.
 */
const dumpWriters = new Map<boolean, RdbWriter>();
/** The body of the payload being written. */
const dumpBody = new ByteBuffer(4096);
/** Body buffers up to this size are kept between payloads. */
const KEEP_BODY = 1024 * 1024;

/** The writer for a new payload's body, {@link dumpBody} emptied for it. */
function dumpWriter(compression: boolean): RdbWriter {
  dumpBody.reset(KEEP_BODY);
  let writer = dumpWriters.get(compression);
  if (writer === undefined) {
    writer = new RdbWriter((chunk) => dumpBody.pushBytes(chunk), {
      compression,
      checksum: false,
      chunkSize: 4096,
      sinkCopies: true,
    });
    dumpWriters.set(compression, writer);
  }
  return writer;
}

/** The payload of the body {@link dumpBody} holds (the footer added), the body buffer reset. */
function takeDumpPayload(): Uint8Array {
  const payload = withDumpFooter(dumpBody.view());
  dumpBody.reset(KEEP_BODY);
  return payload;
}

/** The DUMP payload of a string value; `compression` as `rdbcompression`. */
export function dumpString(value: Uint8Array, compression: boolean): Uint8Array {
  return dumpValue(value, compression);
}

/**
 * The DUMP payload of a value: a string's bytes (or a binary string, one character per byte,
 * as the keyspace holds it) or a collection (written in the plain encodings, see RdbWriter);
 * `compression` as `rdbcompression`.
 */
export function dumpValue(
  value: Uint8Array | string | CollectionValue,
  compression: boolean,
): Uint8Array {
  writeDumpBody(value, compression);
  return takeDumpPayload();
}

/**
 * {@link dumpValue}'s payload as a view of a buffer the next dump reuses, for a caller that
 * copies it at once (a slot migration encodes it into its stream): it saves the payload's own
 * allocation, about 1 us of the ~2 a 100-byte string's payload costs.
 */
export function dumpValueView(
  value: Uint8Array | string | CollectionValue,
  compression: boolean,
): Uint8Array {
  writeDumpBody(value, compression);
  const end = dumpBody.length;
  dumpBody.reserve(FOOTER);
  writeFooter(dumpBody.bytes, end, RDB_VERSION);
  dumpBody.length = end + FOOTER;
  return dumpBody.view();
}

/** Writes the body of `value`'s payload into {@link dumpBody}. */
function writeDumpBody(value: Uint8Array | string | CollectionValue, compression: boolean): void {
  const writer = dumpWriter(compression);
  if (value instanceof Uint8Array || typeof value === "string") writer.value(value);
  else writer.collectionValue(value);
  writer.flush();
}

/** Where {@link readStringValue} decompresses LZF strings (under 16 KiB: 14-bit lengths). */
let inflated = new Uint8Array(256);

/**
 * The string value of a well-formed payload's body `payload[1, end)` read directly, or null
 * when it needs the general parser (a form not handled here, a length over `maxStringBytes`,
 * anything that does not end within the body): the common payloads (plain, integer and LZF
 * strings) restore in about 1 us instead of ~15 us through a parser built per payload. A plain
 * string is a view of `payload` and an LZF one a view of {@link inflated}, not a copy: RESTORE
 * turns it into the stored string at once, and a typed array allocated costs ~1 us here.
 */
function readStringValue(payload: Uint8Array, end: number, maxStringBytes: number) {
  if (end < 2) return null;
  const first = payload[1];
  let at = 2;
  const kind = first >> 6;
  if (kind === 0 || kind === 1 || first === LEN_32BIT) {
    let length: number;
    if (kind === 0) length = first & 0x3f;
    else if (kind === 1) length = ((first & 0x3f) << 8) | payload[at++];
    else {
      if (at + 4 > end) return null;
      length = new DataView(payload.buffer, payload.byteOffset + at, 4).getUint32(0);
      at += 4;
    }
    if (length > maxStringBytes || at + length > end) return null;
    return payload.subarray(at, at + length);
  }
  if (first === ENC_INT8 || first === ENC_INT16 || first === ENC_INT32) {
    const size = first === ENC_INT8 ? 1 : first === ENC_INT16 ? 2 : 4;
    if (at + size > end) return null;
    const view = new DataView(payload.buffer, payload.byteOffset + at, size);
    const int = size === 1
      ? view.getInt8(0)
      : size === 2
      ? view.getInt16(0, true)
      : view.getInt32(0, true);
    return new TextEncoder().encode(String(int));
  }
  if (first === ENC_LZF) {
    const lengths: number[] = [];
    for (let i = 0; i < 2; i++) {
      if (at >= end) return null;
      const b = payload[at++];
      if (b >> 6 === 0) lengths.push(b & 0x3f);
      else if (b >> 6 === 1 && at < end) lengths.push(((b & 0x3f) << 8) | payload[at++]);
      else return null;
    }
    const [compressed, length] = lengths;
    if (length > maxStringBytes || compressed === 0 || at + compressed > end) return null;
    if (length > compressed * LZF_MAX_EXPANSION) return null;
    if (inflated.length < length) inflated = new Uint8Array(Math.max(length, 2 * inflated.length));
    const out = inflated.subarray(0, length);
    try {
      return lzfDecompressInto(payload, out, at, at + compressed) === length ? out : null;
    } catch (e) {
      if (e instanceof LzfError) return null;
      throw e;
    }
  }
  return null;
}

/**
 * The value of a DUMP payload: a string's bytes or a collection. Throws
 * {@link DumpPayloadError}: `footer` when the payload is shorter than its footer, names a newer
 * RDB version or fails its checksum (Redis's `verifyDumpPayload`); `format` when the value is
 * not well-formed (an unknown type included) or holds a string longer than `maxStringBytes`.
 * Bytes after the value are ignored, as Redis ignores them. A string may be a view of `payload`
 * or of a buffer the next call reuses: copy it to keep it.
 */
export function restoreValue(
  payload: Uint8Array,
  maxStringBytes: number,
): Uint8Array | CollectionValue {
  const end = verifiedBodyEnd(payload);
  if (end === 0) throw new DumpPayloadError("format", "Payload holds no value");
  // The first byte must name a value type, as Redis's rdbLoadObjectType checks (an opcode there
  // would make the parser read a record of another kind).
  if (payload[0] !== TYPE_STRING && !CollectionDecoder.decodes(payload[0])) {
    throw new DumpPayloadError("format", `Payload of unknown value type ${payload[0]}`);
  }
  if (payload[0] === TYPE_STRING) {
    const direct = readStringValue(payload, end, maxStringBytes);
    if (direct !== null) return direct;
  }
  return parsePayloadValue(payload, maxStringBytes);
}

/**
 * The string value of a DUMP payload: {@link restoreValue}, refusing other types with a
 * `format` error.
 */
export function restoreString(payload: Uint8Array, maxStringBytes: number): Uint8Array {
  const value = restoreValue(payload, maxStringBytes);
  if (!(value instanceof Uint8Array)) {
    throw new DumpPayloadError("format", "Payload holds no string value");
  }
  return value;
}

/**
 * The value of a payload parsed as the first key of an RDB image (empty key) by the snapshot
 * reader, and left at that key. Like Redis's loader, it may read into the footer and ignores
 * what follows the value; a value that runs past the footer is truncated.
 */
function parsePayloadValue(
  payload: Uint8Array,
  maxStringBytes: number,
): Uint8Array | CollectionValue {
  const body = payload.subarray(1);
  const image = new Uint8Array(MAGIC.length + 2 + 1 + 1 + body.length);
  let at = 0;
  image.set(MAGIC, at);
  at += MAGIC.length;
  image[at++] = OP_SELECTDB;
  image[at++] = 0;
  image[at++] = payload[0];
  image[at++] = 0;
  image.set(body, at);
  const found: { value: Uint8Array | CollectionValue | null } = { value: null };
  const parser = new RdbParser({
    entry(_db, _key, value) {
      found.value = value;
    },
    collection(_db, _key, value) {
      found.value = value;
    },
  }, { maxStringBytes, copy: true });
  parser.input.push(image);
  try {
    while (found.value === null) {
      const step = parser.step();
      if (step === STEP_NEED_MORE) throw new DumpPayloadError("format", "Truncated value");
      if (step === STEP_DONE) break;
    }
  } catch (e) {
    if (e instanceof RdbError) throw new DumpPayloadError("format", e.message);
    throw e;
  }
  if (found.value === null) throw new DumpPayloadError("format", "Payload holds no value");
  return found.value;
}

/**
 * The FUNCTION DUMP payload of function libraries (their code): each library as an RDB file
 * stores it (RDB_OPCODE_FUNCTION2 and the code as a string), then the version and CRC-64
 * footer of a DUMP payload; `compression` as `rdbcompression`.
 */
export function dumpFunctionLibraries(
  codes: readonly Uint8Array[],
  compression: boolean,
): Uint8Array {
  const writer = dumpWriter(compression);
  for (const code of codes) writer.functionLibrary(code);
  writer.flush();
  return takeDumpPayload();
}

/**
 * Where the body of `payload` ends once its footer is checked (Redis's verifyDumpPayload);
 * throws a `footer` DumpPayloadError when it is too short, of a newer RDB version or fails its
 * checksum.
 */
function verifiedBodyEnd(payload: Uint8Array): number {
  if (payload.length < FOOTER) throw new DumpPayloadError("footer", "Payload too short");
  const end = payload.length - FOOTER;
  const version = payload[end] | (payload[end + 1] << 8);
  if (version > RDB_VERSION) {
    throw new DumpPayloadError("footer", `Payload of RDB version ${version}`);
  }
  if (!new Crc64().update(payload, 0, end + 2).equalsBytesLE(payload, end + 2)) {
    throw new DumpPayloadError("footer", "Payload checksum mismatch");
  }
  return end;
}

/**
 * `body` followed by the DUMP footer: the RDB version (2 bytes, little-endian; Redis 7.0's
 * unless `version` says otherwise, as tests and fuzz seeds of other versions need) and the
 * CRC-64 of both.
 */
export function withDumpFooter(body: Uint8Array, version = RDB_VERSION): Uint8Array {
  const out = new Uint8Array(body.length + FOOTER);
  out.set(body);
  writeFooter(out, body.length, version);
  return out;
}

/** Writes the footer after the body `out[0, end)`: the version, then the CRC-64 of both. */
function writeFooter(out: Uint8Array, end: number, version: number): void {
  out[end] = version & 0xff;
  out[end + 1] = version >> 8;
  new Crc64().update(out, 0, end + 2).writeLE(out, end + 2);
}

/**
 * The library codes of a FUNCTION DUMP payload (FUNCTION RESTORE). Throws DumpPayloadError:
 * `footer` for a payload too short, of a newer version or with a wrong checksum; `format` for
 * anything but function records, or a truncated one.
 */
export function restoreFunctionLibraries(
  payload: Uint8Array,
  maxStringBytes: number,
): Uint8Array[] {
  const end = verifiedBodyEnd(payload);
  // The records as an RDB file without a checksum: magic, the body, EOF and a zero trailer.
  const image = new Uint8Array(MAGIC.length + end + 1 + 8);
  image.set(MAGIC, 0);
  image.set(payload.subarray(0, end), MAGIC.length);
  image[MAGIC.length + end] = OP_EOF;
  const codes: Uint8Array[] = [];
  const notFunction = () => {
    throw new DumpPayloadError("format", "given type is not a function");
  };
  const parser = new RdbParser({
    functionLibrary(code) {
      codes.push(code);
    },
    entry: notFunction,
    collection: notFunction,
    selectDb: notFunction,
    aux: notFunction,
  }, { maxStringBytes, copy: true, verifyChecksum: false });
  parser.input.push(image);
  try {
    for (;;) {
      const step = parser.step();
      if (step === STEP_NEED_MORE) throw new DumpPayloadError("format", "Truncated payload");
      if (step === STEP_DONE) break;
    }
  } catch (e) {
    if (e instanceof RdbError) throw new DumpPayloadError("format", e.message);
    throw e;
  }
  return codes;
}
