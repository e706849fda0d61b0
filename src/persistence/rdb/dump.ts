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
import { crc64 } from "./crc64.ts";
import { RdbError } from "./errors.ts";
import { OP_SELECTDB, RDB_VERSION, TYPE_STRING } from "./format.ts";
import { RdbWriter } from "./writer.ts";
import { concatBytes } from "../../util/bytes.ts";

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

/** The DUMP payload of a string value; `compression` as `rdbcompression`. */
export function dumpString(value: Uint8Array, compression: boolean): Uint8Array {
  const chunks: Uint8Array[] = [];
  // One value: a chunk of about its size, not the file writer's 64 KiB (MIGRATE dumps many keys).
  const writer = new RdbWriter((chunk) => {
    chunks.push(chunk);
  }, { compression, checksum: false, chunkSize: Math.max(64, value.length + 32) });
  writer.value(value);
  writer.flush();
  const body = concatBytes(chunks);
  const out = new Uint8Array(body.length + FOOTER);
  out.set(body);
  let at = body.length;
  out[at++] = RDB_VERSION & 0xff;
  out[at++] = RDB_VERSION >> 8;
  const crc = crc64(out.subarray(0, at));
  new DataView(out.buffer).setBigUint64(at, crc, true);
  return out;
}

/**
 * The string value of a DUMP payload. Throws {@link DumpPayloadError}: `footer` when the payload
 * is shorter than its footer, names a newer RDB version or fails its checksum (Redis's
 * `verifyDumpPayload`); `format` when the value is not a well-formed string (other types
 * included: gocache holds strings only) or is longer than `maxStringBytes`. Bytes after the
 * value are ignored, as Redis ignores them.
 */
export function restoreString(payload: Uint8Array, maxStringBytes: number): Uint8Array {
  if (payload.length < FOOTER) throw new DumpPayloadError("footer", "Payload too short");
  const end = payload.length - FOOTER;
  const version = payload[end] | (payload[end + 1] << 8);
  if (version > RDB_VERSION) {
    throw new DumpPayloadError("footer", `Payload of RDB version ${version}`);
  }
  const stored = new DataView(payload.buffer, payload.byteOffset + end + 2, 8).getBigUint64(
    0,
    true,
  );
  if (crc64(payload.subarray(0, end + 2)) !== stored) {
    throw new DumpPayloadError("footer", "Payload checksum mismatch");
  }
  if (end === 0 || payload[0] !== TYPE_STRING) {
    throw new DumpPayloadError("format", "Payload holds no string value");
  }
  // The value as the first key of an RDB image (empty key), parsed by the snapshot reader and
  // left at that key. Like Redis's loader, it may read into the footer and ignores what follows
  // the value; a value that runs past the footer is truncated.
  const body = payload.subarray(1);
  const image = new Uint8Array(MAGIC.length + 2 + 1 + 1 + body.length);
  let at = 0;
  image.set(MAGIC, at);
  at += MAGIC.length;
  image[at++] = OP_SELECTDB;
  image[at++] = 0;
  image[at++] = TYPE_STRING;
  image[at++] = 0;
  image.set(body, at);
  const found: { value: Uint8Array | null } = { value: null };
  const parser = new RdbParser({
    entry(_db, _key, value) {
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
