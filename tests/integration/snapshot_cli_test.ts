/**
 * `gocache snapshot`: inspect, verify and export RDB files written by a real redis-server, and
 * take a snapshot on a running gocache over RESP.
 */
import assert from "node:assert/strict";
import { toBinaryString } from "../../src/util/bytes.ts";
import { RespError } from "../../src/resp/reply_decoder.ts";
import { freePort, startRedis } from "../support/redis_server.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { MAIN, runCli, startServer } from "../support/server.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

/** One key of the fixture, as redis-server held it before SAVE. */
interface Item {
  db: number;
  key: Uint8Array;
  value: Uint8Array;
  /** PEXPIRETIME: ms since the epoch, or -1. */
  expireAt: number;
  /** Expired (with active expiry off) before the save: in the file, but not in an export. */
  expired: boolean;
}

/** RDB files written by redis-server 7.0, in a temporary directory the test removes. */
interface Fixture {
  dir: string;
  /** dump.rdb with a CRC64 trailer. */
  dump: string;
  /** The same file with a zero checksum trailer, as saved with `rdbchecksum no`. */
  unchecked: string;
  items: Item[];
}

const BINARY_KEY = new Uint8Array([0x62, 0x69, 0x6e, 0x00, 0xff, 0x5c, 0x6b, 0x65, 0x79]);
const BINARY_VALUE = new Uint8Array([0xc3, 0x28, 0x0d, 0x0a, 0x00]);
const BIG_VALUE = utf8("0123456789abcdef".repeat(6250)); // 100 000 bytes

/**
 * Keys in db 0 and db 2: text, TTLs, a 100 KB value, a binary key with a non-UTF-8 value, UTF-8
 * with accents and a leading byte order mark, and a key that expired before the save.
 */
async function redisFixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "gocache-snapshot-cli-" });
  try {
    return { dir, ...await saveFixture(dir) };
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
}

/** Fills redis-server, saves, and copies the files into `dir`. */
async function saveFixture(dir: string): Promise<Omit<Fixture, "dir">> {
  await using redis = await startRedis(["--enable-debug-command", "yes"]);
  await using conn = await RespConn.connect(redis.port);
  const call = async (...args: (string | Uint8Array)[]) => {
    const reply = await conn.call(...args);
    assert.ok(!(reply instanceof RespError), `${args[0]}: ${plain(reply)}`);
    return reply;
  };
  await call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
  const setup: [number, Uint8Array | string, Uint8Array | string, ...string[]][] = [
    [0, "greeting", "hello world"],
    [0, "session:42", "token", "EX", "3600"],
    [0, "big", BIG_VALUE],
    [0, BINARY_KEY, BINARY_VALUE],
    // Long enough that PEXPIRETIME below still sees it on a loaded machine.
    [0, "gone", "expired before the save", "PX", "300"],
    [2, "café", "crème brûlée ✓"],
    [2, "counter", "12345", "EX", "86400"],
    [2, "bom", "\uFEFFstarts with a BOM"],
  ];
  const items: Item[] = [];
  for (const [db, key, value, ...options] of setup) {
    await call("SELECT", String(db));
    await call("SET", key, value, ...options);
    const expireAt = Number(await call("PEXPIRETIME", key));
    const bytes = (v: Uint8Array | string) => typeof v === "string" ? utf8(v) : v;
    items.push({ db, key: bytes(key), value: bytes(value), expireAt, expired: key === "gone" });
  }
  await new Promise((resolve) => setTimeout(resolve, 400)); // "gone" expires (PX 300).
  const redisDir = (plain(await call("CONFIG", "GET", "dir")) as string[])[1];
  await call("SAVE");
  await Deno.copyFile(`${redisDir}/dump.rdb`, `${dir}/dump.rdb`);
  // A zero trailer is what `rdbchecksum no` writes (immutable at run time in redis-server 7).
  const data = await Deno.readFile(`${dir}/dump.rdb`);
  data.fill(0, data.length - 8);
  await Deno.writeFile(`${dir}/unchecked.rdb`, data);
  return { dump: `${dir}/dump.rdb`, unchecked: `${dir}/unchecked.rdb`, items };
}

/** Runs `body` with a fresh fixture and removes it afterwards. */
async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const fixture = await redisFixture();
  try {
    await body(fixture);
  } finally {
    await Deno.remove(fixture.dir, { recursive: true });
  }
}

Deno.test("snapshot inspect reports version, AUX fields, keys, TTLs, sizes and largest keys", async () => {
  await withFixture(async ({ dump }) => {
    const { code, stdout, stderr } = await runCli(["snapshot", "inspect", dump]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const size = (await Deno.stat(dump)).size;
    assert.match(stdout, new RegExp(`^File size: +${size} bytes`, "m"));
    assert.match(stdout, /^RDB version: +10$/m);
    assert.match(stdout, /^Checksum: +verified/m);
    assert.match(stdout, /^ {2}redis-ver +7\.0\.\d+$/m);
    assert.match(stdout, /^ {2}redis-bits +64$/m);
    assert.match(stdout, /^ {2}ctime +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(\d+\)$/m);
    assert.match(stdout, /^ {2}used-mem +\d+ \(/m);
    assert.match(stdout, /^ {2}aof-base +0$/m);
    assert.match(stdout, /^ {2}db 0 +5$/m);
    assert.match(stdout, /^ {2}db 2 +3$/m);
    assert.match(stdout, /^ {2}total +8$/m);
    assert.match(stdout, /^ {2}with TTL +3$/m);
    assert.match(stdout, /^ {2}expired-on-load +1 \(as of /m);
    assert.match(stdout, /^ {2}<=16 +4$/m);
    assert.match(stdout, /^ {2}<=64 +3$/m);
    assert.match(stdout, /^ {2}>64K +1$/m);
    assert.match(stdout, /^Largest values \(top 8\):\n +bytes +db +key\n +100000 +0 +big\n/m);
    assert.match(stdout, /^ +5 +0 +bin\\x00\\xff\\\\key$/m, "binary key escaped");
    assert.match(stdout, /^ +19 +2 +caf\\xc3\\xa9$/m, "UTF-8 key escaped byte by byte");
  });
});

Deno.test("snapshot inspect --json prints one object with the same data", async () => {
  await withFixture(async ({ dump }) => {
    const { code, stdout, stderr } = await runCli(["snapshot", "inspect", dump, "--json"]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout);
    assert.equal(report.version, 10);
    assert.equal(report.checksum, "verified");
    assert.equal(report.bytes, (await Deno.stat(dump)).size);
    assert.match(report.aux["redis-ver"], /^7\.0\./);
    assert.equal(report.aux["aof-base"], "0");
    assert.equal(report.createdAt, new Date(Number(report.aux.ctime) * 1000).toISOString());
    assert.equal(report.keys, 8);
    assert.deepEqual(report.databases, { "0": 5, "2": 3 });
    assert.equal(report.keysWithTtl, 3);
    assert.equal(report.expiredOnLoad, 1);
    assert.deepEqual(report.valueSizes, {
      "<=16": 4,
      "<=64": 3,
      "<=256": 0,
      "<=1K": 0,
      "<=4K": 0,
      "<=64K": 0,
      ">64K": 1,
    });
    assert.equal(report.largest.length, 8);
    assert.deepEqual(report.largest[0], { db: 0, key: "big", bytes: 100_000 });
    assert.ok(
      report.largest.some((k: { key: string }) => k.key === "bin\\x00\\xff\\\\key"),
      "binary key escaped",
    );

    const top = await runCli(["snapshot", "inspect", "--top", "2", "--json", dump]);
    assert.equal(top.code, 0, top.stderr);
    assert.deepEqual(
      JSON.parse(top.stdout).largest.map((k: { key: string }) => k.key),
      ["big", "gone"],
    );
  });
});

Deno.test("snapshot verify accepts a whole file and rejects truncated and altered copies with the offset", async () => {
  await withFixture(async ({ dir, dump, unchecked }) => {
    const ok = await runCli(["snapshot", "verify", dump]);
    assert.deepEqual(ok, { code: 0, stdout: "OK: 8 keys, checksum verified\n", stderr: "" });
    const noSum = await runCli(["snapshot", "verify", unchecked]);
    assert.deepEqual(noSum, { code: 0, stdout: "OK: 8 keys, checksum not computed\n", stderr: "" });

    const data = await Deno.readFile(dump);
    const truncated = `${dir}/truncated.rdb`;
    await Deno.writeFile(truncated, data.subarray(0, data.length - 40));
    const cut = await runCli(["snapshot", "verify", truncated]);
    assert.equal(cut.code, 1);
    assert.equal(cut.stdout, "");
    assert.match(
      cut.stderr,
      new RegExp(`^gocache snapshot verify: ${truncated}: .* at offset \\d+\\n$`),
    );

    // Flip one byte inside the value "hello world": it still parses, so the checksum catches it.
    const flipped = `${dir}/flipped.rdb`;
    const at = toBinaryString(data).indexOf("hello world");
    assert.ok(at > 0);
    const altered = data.slice();
    altered[at] ^= 0x20;
    await Deno.writeFile(flipped, altered);
    const bad = await runCli(["snapshot", "verify", flipped]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /: Checksum mismatch: .* at offset \d+\n$/);
    const inspected = await runCli(["snapshot", "inspect", "--json", flipped]);
    assert.equal(inspected.code, 1);
    assert.equal(inspected.stdout, "");
    assert.match(inspected.stderr, /^gocache snapshot inspect: .*at offset \d+\n$/);

    const missing = await runCli(["snapshot", "verify", `${dir}/missing.rdb`]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^gocache snapshot verify: cannot read .*missing\.rdb: No such file/,
    );
  });
});

Deno.test("snapshot export resp writes a valid AOF that gocache loads with the same keys and TTLs", async () => {
  await withFixture(async ({ dir, dump, items }) => {
    const aofDir = `${dir}/node`;
    await Deno.mkdir(aofDir);
    const aof = `${aofDir}/appendonly.aof`;
    const result = await runCli(["snapshot", "export", dump, "--format", "resp", "-o", aof]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /: 7 keys as resp \(\d+ bytes\); 1 expired keys skipped\n$/);
    assert.deepEqual([...Deno.readDirSync(aofDir)].map((e) => e.name), ["appendonly.aof"]);

    const check = await new Deno.Command("redis-check-aof", { args: [aof], stdout: "piped" })
      .output();
    const report = new TextDecoder().decode(check.stdout);
    assert.ok(check.success, report);
    assert.match(report, /is valid/);

    await using server = await startServer({ dir: aofDir, args: ["--appendonly", "yes"] });
    await using conn = await RespConn.connect(server.port);
    for (const db of [0, 2]) {
      await conn.call("SELECT", db);
      const live = items.filter((i) => i.db === db && !i.expired);
      assert.equal(await conn.call("DBSIZE"), live.length, `DBSIZE of db ${db}`);
      for (const item of live) {
        const value = await conn.call("GET", item.key);
        assert.ok(value instanceof Uint8Array, toBinaryString(item.key));
        assert.deepEqual(value.slice(), item.value, toBinaryString(item.key));
        assert.equal(await conn.call("PEXPIRETIME", item.key), item.expireAt);
      }
    }
    assert.equal(await conn.call("EXISTS", "gone"), 0);
  });
});

/** Bytes of a JSONL field pair: the text field as UTF-8, or the base64 one decoded. */
function field(record: Record<string, unknown>, name: string): Uint8Array {
  const text = record[name];
  const base64 = record[`${name}Base64`];
  assert.ok((text === undefined) !== (base64 === undefined), `exactly one ${name} field`);
  if (typeof text === "string") return utf8(text);
  assert.equal(typeof base64, "string");
  return Uint8Array.from(atob(base64 as string), (c) => c.charCodeAt(0));
}

Deno.test("snapshot export jsonl round-trips binary and UTF-8 keys and values", async () => {
  await withFixture(async ({ dir, dump, items }) => {
    const { code, stdout, stderr } = await runCli(["snapshot", "export", dump, "--format=jsonl"]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const records = stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    const live = items.filter((i) => !i.expired);
    assert.equal(records.length, live.length);
    for (const item of live) {
      const record = records.find((r) =>
        r.db === item.db && toBinaryString(field(r, "key")) === toBinaryString(item.key)
      );
      assert.ok(record, `record for ${toBinaryString(item.key)}`);
      assert.deepEqual(field(record, "value"), item.value);
      assert.equal(record.expireAt, item.expireAt === -1 ? null : item.expireAt);
      assert.deepEqual(Object.keys(record)[0], "db");
    }
    const binary = records.find((r) => "keyBase64" in r);
    assert.deepEqual(Object.keys(binary), ["db", "keyBase64", "valueBase64", "expireAt"]);
    const text = records.find((r) => r.key === "café");
    assert.deepEqual(text, { db: 2, key: "café", value: "crème brûlée ✓", expireAt: null });
    assert.equal(records.find((r) => r.key === "bom")?.value, "\uFEFFstarts with a BOM");

    // A damaged input leaves -o's target untouched and no temporary file behind.
    const data = await Deno.readFile(dump);
    await Deno.writeFile(`${dir}/cut.rdb`, data.subarray(0, data.length - 100));
    const out = `${dir}/out.jsonl`;
    await Deno.writeTextFile(out, "previous\n");
    const failed = await runCli(["snapshot", "export", `${dir}/cut.rdb`, "-f", "jsonl", "-o", out]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /at offset \d+\n$/);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["cut.rdb", "dump.rdb", "out.jsonl", "unchecked.rdb"]);
    assert.equal(await Deno.readTextFile(out), "previous\n");
  });
});

/** Runs `gocache ARGS | filter` in bash with pipefail: the exit code is gocache's unless 0. */
async function pipeInto(args: string[], filter: string) {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; "$@" | ${filter}`,
      "bash",
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("snapshot export piped into head ends quietly with exit 0 when head has its lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-snapshot-cli-" });
  try {
    {
      // 50 000 keys: megabytes of output, far more than a pipe holds once head has gone.
      await using redis = await startRedis(["--enable-debug-command", "yes"]);
      await using conn = await RespConn.connect(redis.port);
      assert.equal(plain(await conn.call("DEBUG", "POPULATE", "50000")), "OK");
      assert.equal(plain(await conn.call("SAVE")), "OK");
      const redisDir = (plain(await conn.call("CONFIG", "GET", "dir")) as string[])[1];
      await Deno.copyFile(`${redisDir}/dump.rdb`, `${dir}/dump.rdb`);
    }
    const dump = `${dir}/dump.rdb`;
    const jsonl = await pipeInto(["snapshot", "export", dump, "--format", "jsonl"], "head -2");
    assert.equal(jsonl.stderr, "");
    assert.equal(jsonl.code, 0);
    const lines = jsonl.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(JSON.parse(line).key, /^key:\d+$/);

    const resp = await pipeInto(["snapshot", "export", dump, "--format", "resp"], "head -c 100");
    assert.deepEqual([resp.code, resp.stderr, resp.stdout.length], [0, "", 100]);
    const inspect = await pipeInto(["snapshot", "inspect", dump], "head -1");
    assert.deepEqual([inspect.code, inspect.stderr], [0, ""]);
    assert.equal(inspect.stdout, `File:              ${dump}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `rdb_saves` from INFO persistence. */
async function rdbSaves(conn: RespConn): Promise<number> {
  const info = plain(await conn.call("INFO", "persistence")) as string;
  return Number(/^rdb_saves:(\d+)/m.exec(info)?.[1]);
}

Deno.test("snapshot save runs BGSAVE on a running gocache and waits until it is written", async () => {
  await using server = await startServer({ args: ["--requirepass", "s3cret"] });
  await using conn = await RespConn.connect(server.port);
  assert.equal(plain(await conn.call("AUTH", "s3cret")), "OK");
  await conn.call("SET", "k", "v");
  await conn.call("SET", "t", "x", "EX", "100");
  const before = await rdbSaves(conn);
  const port = String(server.port);
  // Two saves in a row usually end within the same second: LASTSAVE alone would not move.
  for (let i = 1; i <= 2; i++) {
    const saved = await runCli(["snapshot", "save", "--port", port, "--password", "s3cret"]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /^Saved: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z\n$/);
    assert.equal(await rdbSaves(conn), before + i);
  }
  const verified = await runCli(["snapshot", "verify", `${server.dir}/dump.rdb`]);
  assert.equal(verified.stdout, "OK: 2 keys, checksum verified\n");

  const noAuth = await runCli(["snapshot", "save", "--host", "127.0.0.1", "--port", port]);
  assert.equal(noAuth.code, 1);
  assert.match(noAuth.stderr, /^gocache snapshot save: LASTSAVE failed: NOAUTH .*\n$/);
  const wrong = await runCli(["snapshot", "save", "--port", port, "--password", "nope"]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^gocache snapshot save: AUTH failed: WRONGPASS/);
});

Deno.test("snapshot save exits 1 when nobody listens or the node never answers", async () => {
  const port = String(freePort());
  const refused = await runCli(["snapshot", "save", "--port", port, "--timeout", "5"]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^gocache snapshot save: cannot connect to 127\.0\.0\.1:\d+: .*\n$/);

  // A listener that accepts and stays silent: the deadline ends the wait.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const silent = runCli([
    "snapshot",
    "save",
    "--port",
    String(listener.addr.port),
    "--timeout",
    "0.5",
  ]);
  const conn = await accepted;
  const result = await silent;
  conn.close();
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "gocache snapshot save: timed out after 0.5 s waiting for the reply to LASTSAVE\n",
  );
});

Deno.test("snapshot usage errors exit 2 with one line naming the mistake", async () => {
  const cases: [string[], RegExp][] = [
    [["snapshot"], /^gocache snapshot: expected an action/],
    [["snapshot", "frob"], /^gocache snapshot: unknown action 'frob'/],
    [["snapshot", "inspect"], /^gocache snapshot inspect: expected a FILE/],
    [["snapshot", "inspect", "a", "b"], /^gocache snapshot inspect: unexpected argument 'b'/],
    [["snapshot", "inspect", "a", "--top", "x"], /option --top: invalid value 'x'/],
    [["snapshot", "verify", "a", "--json"], /^gocache snapshot verify: unknown option '--json'/],
    [["snapshot", "export", "a"], /--format resp\|jsonl is required/],
    [["snapshot", "export", "a", "--format", "xml"], /option --format: invalid value 'xml'/],
    [["snapshot", "export", "a", "-o"], /option '-o' needs a value/],
    [["snapshot", "save", "--port", "0"], /option --port: invalid value '0'/],
    [["snapshot", "save", "--timeout", "soon"], /option --timeout: invalid value 'soon'/],
    [["snapshot", "save", "extra"], /unexpected argument 'extra'/],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  results.forEach((result, i) => {
    const [args, expected] = cases[i];
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stdout, "", args.join(" "));
    assert.match(result.stderr, expected, args.join(" "));
    assert.equal(result.stderr.split("\n").length, 2, `one line: ${args.join(" ")}`);
  });
  const help = await runCli(["snapshot", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: gocache snapshot <action>/);
  const top = await runCli(["--help"]);
  assert.match(top.stdout, /^ {2}snapshot +Inspect, verify or export an RDB file/m);
});

Deno.test("snapshot export writes collections: jsonl elements, and resp that redis-check-aof accepts and a server loads", async () => {
  const fixture = new URL("../fixtures/redis-7.0-types.rdb", import.meta.url).pathname;
  const jsonl = await runCli(["snapshot", "export", fixture, "--format", "jsonl"]);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const records = jsonl.stdout.trim().split("\n").map((line) => JSON.parse(line));
  const byKey = new Map(records.map((r) => [r.key, r]));
  assert.deepEqual(byKey.get("hash:small")?.type, "hash");
  assert.ok(Array.isArray(byKey.get("zset:big")?.elements));
  assert.equal(byKey.get("list:big")?.elements.length, 10001);
  assert.equal(byKey.get("set:ints")?.type, "set");
  const dir = await Deno.makeTempDir({ prefix: "gocache-export-types-" });
  try {
    const aof = `${dir}/appendonly.aof`;
    const resp = await runCli(["snapshot", "export", fixture, "--format", "resp", "-o", aof]);
    assert.equal(resp.code, 0, resp.stderr);
    const check = await new Deno.Command("redis-check-aof", { args: [aof], stdout: "piped" })
      .output();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stdout));
    await using server = await startServer({ dir, args: ["--appendonly", "yes", "--save", ""] });
    await using c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("DBSIZE")), records.length);
    assert.equal(plain(await c.call("LLEN", "list:big")), 10001);
    assert.equal(plain(await c.call("TYPE", "zset:big")), "zset");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("snapshot inspect, verify and export read a dump holding function libraries", async () => {
  const redis = await startRedis();
  const dir = await Deno.makeTempDir({ prefix: "gocache-snapshot-functions-" });
  try {
    await using c = await RespConn.connect(redis.port);
    await c.call(
      "FUNCTION",
      "LOAD",
      "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    );
    await c.call("SET", "k", "v");
    assert.equal(plain(await c.call("SAVE")), "OK");
    const dump = `${dir}/dump.rdb`;
    await Deno.copyFile(`${redis.dir}/dump.rdb`, dump);
    const verify = await runCli(["snapshot", "verify", dump]);
    assert.equal(verify.code, 0, verify.stderr);
    const inspect = await runCli(["snapshot", "inspect", "--json", dump]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout).keys, 1);
    const jsonl = await runCli(["snapshot", "export", dump, "--format", "jsonl"]);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    assert.deepEqual(jsonl.stdout.trim().split("\n").map((line) => JSON.parse(line).key), ["k"]);
  } finally {
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
