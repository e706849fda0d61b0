/**
 * RDB interoperability with the real thing: files gocache writes pass redis-check-rdb and load
 * into redis-server 7.0, and files redis-server saves read back key for key.
 */
import assert from "node:assert/strict";
import { readRdb } from "../../src/persistence/rdb/reader.ts";
import { RdbWriter } from "../../src/persistence/rdb/writer.ts";
import { toBinaryString } from "../../src/util/bytes.ts";
import { type RedisProcess, startRedis } from "../support/redis_server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { RespError } from "../../src/resp/reply_decoder.ts";
import { waitFor } from "../support/wait_for.ts";

const text = (s: string) => new TextEncoder().encode(s);

interface Item {
  key: Uint8Array;
  value: Uint8Array;
  expireAtMs: number;
}

/** A deterministic mix: integers at the encoding boundaries, binary, long compressible, empty. */
function dataset(prefix: string, count: number, expireBase: number): Item[] {
  const ints = ["0", "-1", "127", "128", "-129", "32767", "-32769", "2147483647", "2147483648"];
  const items: Item[] = [];
  let seed = prefix.length * 7919 + count;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  };
  for (let i = 0; i < count; i++) {
    let key = text(`${prefix}:${i}`);
    let value: Uint8Array;
    switch (i % 6) {
      case 0:
        value = text(ints[i % ints.length]);
        break;
      case 1:
        value = new Uint8Array(5 + (i % 40)).map(random);
        value[0] = 0x0d;
        value[1] = 0x0a;
        value[2] = 0x00;
        break;
      case 2:
        value = text(`${prefix}-value-${i};`.repeat(20 + i));
        break;
      case 3:
        value = new Uint8Array(0);
        break;
      case 4:
        key = new Uint8Array([0x00, 0xff, 0x0d, 0x0a, ...text(`${prefix}${i}`)]);
        value = text(`binary key ${i}`);
        break;
      default:
        key = text(String(i * 1000 + prefix.length));
        value = text(`-${i}`);
    }
    const expireAtMs = i % 7 === 0 ? expireBase + i : -1;
    items.push({ key, value, expireAtMs });
  }
  return items;
}

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
}

/** Waits until the server has finished loading its RDB (commands get -LOADING until then). */
async function loaded(conn: RespConn): Promise<void> {
  await waitFor(async () => !((await conn.call("DBSIZE")) instanceof RespError), {
    what: "redis-server to load the RDB",
  });
}

Deno.test("an RDB written by gocache passes redis-check-rdb and loads into redis-server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-rdb-interop-" });
  try {
    const expireBase = Date.now() + 3_600_000;
    const dbs = new Map<number, Item[]>([
      [0, dataset("zero", 240, expireBase)],
      [3, dataset("three", 120, expireBase)],
    ]);
    const path = `${dir}/dump.rdb`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      const writer = new RdbWriter((chunk) => writeAll(file, chunk), { chunkSize: 4096 });
      await writer.header({ usedMem: 1_000_000 });
      for (const [db, items] of dbs) {
        const expires = items.filter((item) => item.expireAtMs !== -1).length;
        await writer.selectDb(db, items.length, expires);
        for (const item of items) await writer.entry(item.key, item.value, item.expireAtMs);
      }
      await writer.end();
    } finally {
      file.close();
    }

    const check = await new Deno.Command("redis-check-rdb", {
      args: [path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = new TextDecoder().decode(check.stdout) + new TextDecoder().decode(check.stderr);
    assert.ok(check.success, report);
    assert.match(report, /RDB looks OK/);
    assert.match(report, /Checksum OK/);
    assert.match(report, /\[info\] 360 keys read/);
    const expiring = [...dbs.values()].flat().filter((item) => item.expireAtMs !== -1).length;
    assert.match(report, new RegExp(`\\[info\\] ${expiring} expires`));

    // Later --dir/--dbfilename arguments override startRedis's own temporary directory.
    await using redis: RedisProcess = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
    await using conn = await RespConn.connect(redis.port);
    await loaded(conn);
    for (const [db, items] of dbs) {
      assert.equal(plain(await conn.call("SELECT", db)), "OK");
      assert.equal(Number(await conn.call("DBSIZE")), items.length, `DBSIZE of db ${db}`);
      for (const item of items) {
        const got = await conn.call("GET", item.key);
        assert.ok(got instanceof Uint8Array, `GET ${toBinaryString(item.key)}`);
        assert.deepEqual(Uint8Array.from(got), item.value, `GET ${toBinaryString(item.key)}`);
        assert.equal(Number(await conn.call("PEXPIRETIME", item.key)), item.expireAtMs);
        if (item.expireAtMs !== -1) {
          const ttl = Number(await conn.call("PTTL", item.key));
          assert.ok(ttl > 0 && ttl <= item.expireAtMs - Date.now() + 1000, `PTTL ${ttl}`);
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an RDB saved by redis-server reads back with every key, value and expire time", async () => {
  await using redis = await startRedis(["--rdbcompression", "yes", "--rdbchecksum", "yes"]);
  await using conn = await RespConn.connect(redis.port);
  const all = new Uint8Array(256).map((_, i) => i);
  const setup: (string | Uint8Array | number)[][] = [
    ["SET", "int:small", "7"],
    ["SET", "int:neg", "-129"],
    ["SET", "int:16", "32767"],
    ["SET", "int:32", "-2147483648"],
    ["SET", "int:big", "2147483648"],
    ["SET", "int:minus-zero", "-0"],
    ["SET", "int:padded", "007"],
    ["SET", "12345", "key is an integer"],
    ["SET", "long", "compress me please; ".repeat(500)],
    ["SET", all, all],
    ["SET", "empty", ""],
    ["SET", "ex", "expires", "EX", "1000"],
    ["SET", "px", "expires", "PX", "123456789"],
    ["SET", "at", "expires", "PXAT", String(Date.now() + 86_400_000)],
    [
      "MSET",
      ...Array.from({ length: 1500 }, (_, i) => [`bulk:${i}`, `v${i}`.repeat(i % 50)]).flat(),
    ],
    ["SELECT", "3"],
    ["SET", "three", "db three"],
    ["SET", "three:long", "x".repeat(100_000)],
    ["SET", "three:ttl", "1", "EX", "5000"],
  ];
  for (const command of setup) {
    const reply = plain(await conn.call(...command));
    assert.equal(reply, "OK", command.slice(0, 2).join(" "));
  }

  // What redis-server holds, read back through its own commands.
  const expected = new Map<string, [string, number]>();
  for (const db of [0, 3]) {
    await conn.call("SELECT", db);
    const keys = await conn.call("KEYS", "*");
    assert.ok(Array.isArray(keys));
    for (const key of keys) {
      assert.ok(key instanceof Uint8Array);
      const value = await conn.call("GET", key);
      assert.ok(value instanceof Uint8Array);
      const expire = Number(await conn.call("PEXPIRETIME", key));
      expected.set(`${db}/${toBinaryString(key)}`, [toBinaryString(value), expire]);
    }
  }
  assert.equal(expected.size, 1517);
  assert.equal(plain(await conn.call("SAVE")), "OK");
  const dir = plain(await conn.call("CONFIG", "GET", "dir")) as string[];

  const found = new Map<string, [string, number]>();
  const aux = new Map<string, string>();
  const file = await Deno.open(`${dir[1]}/dump.rdb`);
  // The readable stream closes the file when it ends or is cancelled.
  const summary = await readRdb(file.readable, {
    aux: (key, value) => void aux.set(key, value),
    entry: (db, key, value, expireAtMs) => {
      found.set(`${db}/${toBinaryString(key)}`, [toBinaryString(value), expireAtMs]);
    },
  });
  assert.equal(summary.version, 10);
  assert.equal(summary.checksum, "verified");
  assert.equal(summary.keys, expected.size);
  assert.match(aux.get("redis-ver") ?? "", /^7\./);
  assert.equal(found.size, expected.size);
  for (const [key, want] of expected) assert.deepEqual(found.get(key), want, key);
});
