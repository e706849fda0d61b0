/**
 * Seeds shared by the `rdb` and `dump` targets: values of every type, the compact encodings
 * Redis writes and gocache does not (listpack, ziplist, intset, zipmap, quicklist nodes, built
 * here byte by byte from the Redis sources' layouts), and small RDB files written by the
 * project's RdbWriter, with and without a checksum.
 *
 * @module
 */
import { RdbWriter } from "../../src/persistence/rdb/writer.ts";
import { HashValue } from "../../src/store/hash_value.ts";
import { ListValue } from "../../src/store/list_value.ts";
import { SetValue } from "../../src/store/set_value.ts";
import { SortedSetValue } from "../../src/store/sorted_set_value.ts";
import type { CollectionValue } from "../../src/store/collection.ts";
import { concat, fromHex, latin1 } from "../target.ts";

/** One hash, list, set and sorted set, small enough for quick mutation. */
export function sampleCollections(): CollectionValue[] {
  const hash = new HashValue();
  hash.set("field", "value");
  hash.set("n", "12345");
  hash.set("\x00\xff", "");
  const list = new ListValue();
  for (const item of ["a", "bb", "-7", "x".repeat(40)]) list.pushRight(item);
  const set = new SetValue();
  for (const member of ["m1", "m2", "100", "\xe9"]) set.add(member);
  const zset = new SortedSetValue();
  zset.add("one", 1);
  zset.add("pi", 3.14159);
  zset.add("neg", -Infinity);
  zset.add("big", 1e300);
  return [hash, list, set, zset];
}

/** An RDB string holding `bytes` with a plain length prefix. */
export function rdbString(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 64) return concat([Uint8Array.of(bytes.length), bytes]);
  if (bytes.length < 16384) {
    return concat([Uint8Array.of(0x40 | (bytes.length >> 8), bytes.length & 0xff), bytes]);
  }
  const head = new Uint8Array(5);
  head[0] = 0x80;
  new DataView(head.buffer).setUint32(1, bytes.length);
  return concat([head, bytes]);
}

/** Listpack ["f","v","g",1] (a hash). */
const LISTPACK_HASH = fromHex("12000000 0400 816602 817602 816702 0101 ff");
/** Listpack ["m","1.5","n",2] (a sorted set: member, score). */
const LISTPACK_ZSET = fromHex("14000000 0400 816d02 83312e3504 816e02 0201 ff");
/** Listpack ["a"] and ["b", -5], nodes of a quicklist from redis-server 7.0. */
const LISTPACK_A = fromHex("0a0000000100816102ff");
const LISTPACK_B_MINUS5 = fromHex("0d0000000200816202dffb02ff");
/** Ziplist ["a","bc",5]. */
const ZIPLIST_LIST = fromHex("14000000 11000000 0300 000161 03026263 04f6 ff");
/** Ziplist ["m","2"] (sorted set: member, score). */
const ZIPLIST_ZSET = ziplist(["m", "2"]);
/** Intset of 16-bit values [-32768, -3, 0, 5, 32767] from redis-server 7.0. */
const INTSET_16 = fromHex("02000000050000000080fdff00000500ff7f");
/** Zipmap {"f": "v"}. */
const ZIPMAP = fromHex("01 01 66 01 00 76 ff");

/** A ziplist of short strings (ziplist.c layout: header, prevlen + encoding entries, 0xFF). */
function ziplist(items: readonly string[]): Uint8Array {
  const entries: Uint8Array[] = [];
  let prev = 0;
  let tail = 10;
  let offset = 10;
  for (const item of items) {
    const bytes = latin1(item);
    const entry = concat([Uint8Array.of(prev, bytes.length), bytes]);
    entries.push(entry);
    tail = offset;
    offset += entry.length;
    prev = entry.length;
  }
  const head = new Uint8Array(10);
  const view = new DataView(head.buffer);
  view.setUint32(0, offset + 1, true);
  view.setUint32(4, tail, true);
  view.setUint16(8, items.length, true);
  return concat([head, ...entries, Uint8Array.of(0xff)]);
}

/** Type byte and body of every compact encoding the readers decode. */
export function compactBodies(): [number, Uint8Array][] {
  return [
    [16, rdbString(LISTPACK_HASH)],
    [17, rdbString(LISTPACK_ZSET)],
    [
      18,
      concat([
        Uint8Array.of(3),
        Uint8Array.of(2),
        rdbString(LISTPACK_A),
        Uint8Array.of(1),
        rdbString(latin1("plain node")),
        Uint8Array.of(2),
        rdbString(LISTPACK_B_MINUS5),
      ]),
    ],
    [14, concat([Uint8Array.of(1), rdbString(ZIPLIST_LIST)])],
    [10, rdbString(ZIPLIST_LIST)],
    [12, rdbString(ZIPLIST_ZSET)],
    [13, rdbString(ziplist(["f", "v"]))],
    [11, rdbString(INTSET_16)],
    [9, rdbString(ZIPMAP)],
    // RDB_TYPE_ZSET: scores as text (253 nan, 254 +inf, 255 -inf).
    [
      3,
      concat([
        Uint8Array.of(2),
        rdbString(latin1("a")),
        latin1("\x031.5"),
        rdbString(latin1("b")),
        Uint8Array.of(254),
      ]),
    ],
  ];
}

/** Writes an RDB file with `write` between header and end; `checksum` as RdbWriter's. */
async function rdbFile(
  checksum: boolean,
  write: (writer: RdbWriter) => Promise<void>,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const writer = new RdbWriter((chunk) => {
    chunks.push(chunk.slice());
  }, { checksum, chunkSize: 64 });
  await writer.header({ redisVer: "7.0.15", ctimeSec: 1_700_000_000, usedMem: 1024 });
  await write(writer);
  await writer.end();
  return concat(chunks);
}

/** A small RDB file from redis-server 7.0.15 (tests/fixtures/redis-7.0.15.rdb). */
const REDIS_7_RDB = fromHex(
  "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa0563" +
    "74696d65c24b25066bfa08757365642d6d656dc2087c0f00fa08616f662d62617365c000fe00fb0701fc00d8" +
    "c32cbb030000000374746c01760003696e74c139300005706c61696e0568656c6c6f00046c6f6e67c3164320" +
    "08616263646566676861e0ff07e1ff07e1fc0701676800066e6567696e74c0f9000662696e76616c0762696e" +
    "006b657900036269670a34323934393637323936fe02fb020100066462326b657909696e2064622074776ffc" +
    "7bd8c32cbb030000000664623274746c0178ff55b374b59b3cc07f",
);

/** RDB files: writer-made (with CRC, and with a zero "not computed" trailer) and Redis's. */
export async function rdbFiles(): Promise<Uint8Array[]> {
  const [hash, list, set, zset] = sampleCollections();
  const files: Uint8Array[] = [];
  for (const checksum of [true, false]) {
    files.push(
      await rdbFile(checksum, async (w) => {
        await w.functionLibrary(
          latin1("#!lua name=lib\nredis.register_function('f', function() return 1 end)"),
        );
        await w.selectDb(0, 7, 1);
        await w.entry(latin1("k"), latin1("v"));
        await w.entry(latin1("n"), latin1("12345"));
        await w.entry(latin1("long"), latin1("abc".repeat(30)));
        await w.entry(latin1("ttl"), latin1(""), 1_900_000_000_000);
        await w.collectionEntry(latin1("h"), hash);
        await w.collectionEntry(latin1("l"), list);
        await w.collectionEntry(latin1("s"), set, 2_000_000_000_000);
        await w.selectDb(3, 1, 0);
        await w.collectionEntry(latin1("z"), zset);
      }),
    );
  }
  // Compact encodings as keyed records, in a file without a checksum.
  const head = await rdbFile(false, async (w) => {
    await w.selectDb(0, 10, 0);
  });
  const records = compactBodies().map(([type, body], i) =>
    concat([Uint8Array.of(type), rdbString(latin1(`c${i}`)), body])
  );
  files.push(
    concat([head.subarray(0, head.length - 9), ...records, head.subarray(head.length - 9)]),
  );
  files.push(REDIS_7_RDB);
  return files;
}
