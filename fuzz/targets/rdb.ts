/**
 * Target `rdb`: the snapshot reader, `readRdb` (src/persistence/rdb/reader.ts, records parsed
 * by _parser.ts, collections by _collections.ts and _encodings.ts, strings through lzf.ts).
 *
 * Crash: an exception other than RdbError, or a broken invariant: the file read differently
 * (records, error text, summary) when its bytes come in pieces than whole, or with `copy` than
 * with views; a summary whose byte count is not the file's length.
 *
 * @module
 */
import { RdbError } from "../../src/persistence/rdb/errors.ts";
import { type RdbHandler, readRdb } from "../../src/persistence/rdb/reader.ts";
import { dumpValue } from "../../src/persistence/rdb/dump.ts";
import {
  check,
  type FuzzTarget,
  hashBytes,
  piecesOf,
  splitPoints,
  toHex,
  utf8,
} from "../target.ts";
import { rdbFiles } from "./_rdb_seeds.ts";

/** Longest string the fuzzed reader accepts: bounds what one input can allocate. */
const MAX_STRING = 1024 * 1024;

/** What the reader reported, as lines, then how it ended. */
function recorder(lines: string[], copy: boolean): RdbHandler {
  const bytes = (b: Uint8Array) => toHex(copy ? b : b.slice());
  return {
    aux: (key, value) => {
      lines.push(`aux ${JSON.stringify(key)} ${JSON.stringify(value)}`);
    },
    selectDb: (index) => {
      lines.push(`select ${index}`);
    },
    resizeDb: (size, expires) => {
      lines.push(`resize ${size} ${expires}`);
    },
    entry: (db, key, value, expireAtMs) => {
      lines.push(`string ${db} ${bytes(key)} ${bytes(value)} ${expireAtMs}`);
    },
    collection: (db, key, value, expireAtMs) => {
      check(value.size > 0, "an empty collection handed over");
      lines.push(
        `${value.type} ${db} ${bytes(key)} ${toHex(dumpValue(value, false))} ${expireAtMs}`,
      );
    },
    functionLibrary: (code) => {
      lines.push(`function ${toHex(code)}`);
    },
  };
}

async function read(
  source: Uint8Array | Uint8Array[],
  length: number,
  copy: boolean,
): Promise<string> {
  const lines: string[] = [];
  try {
    const summary = await readRdb(source, recorder(lines, copy), {
      maxStringBytes: MAX_STRING,
      copy,
    });
    check(summary.bytes === length, () => `summary says ${summary.bytes} bytes of ${length}`);
    lines.push(`ok ${summary.version} ${summary.keys} ${summary.checksum}`);
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    check(
      e.offset >= 0 && e.offset <= length,
      () => `error offset ${e.offset} outside the file (${length} bytes)`,
    );
    lines.push(`error ${e.message}`);
  }
  return lines.join("\n");
}

let corpus: Uint8Array[] = [];

/** The rdb target. */
export const rdbTarget: FuzzTarget = {
  name: "rdb",
  description: "readRdb: RdbError only, same result in pieces and with copies",
  maxLength: 16 * 1024,
  async setup(): Promise<void> {
    if (corpus.length === 0) corpus = await rdbFiles();
  },
  corpus: () => corpus,
  dictionary: [
    "REDIS0010",
    "REDIS0007",
    "\xfa",
    "\xfe\x00",
    "\xfb\x01\x00",
    "\xfc",
    "\xfd",
    "\xf5",
    "\xf8\x01",
    "\xf9\x05",
    "\xff",
    "\xc0\x7f",
    "\xc1\x01\x02",
    "\xc2",
    "\xc3",
    "\x80",
    "\x81",
  ].map((s): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))).concat([utf8("redis-ver")]),
  async run(input: Uint8Array): Promise<void> {
    const whole = await read(input, input.length, false);
    const pieces = piecesOf(input, splitPoints(input.length, hashBytes(input)));
    const inPieces = await read(pieces, input.length, true);
    check(whole === inPieces, () => `whole:\n${whole}\nin pieces, copied:\n${inPieces}`);
  },
};
