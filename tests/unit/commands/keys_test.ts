/**
 * Key commands run in-process through dispatch, on a server that is never started (no sockets),
 * seeded straight through the keyspace and driven by a fake clock, so expiry is exact.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { dispatch } from "../../../src/commands/dispatch.ts";
import { readNow } from "../../support/replies.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import {
  ErrorReply,
  OK,
  type Reply,
  SimpleString,
  VerbatimReply,
} from "../../../src/resp/reply.ts";
import { ClientState } from "../../../src/server/client.ts";
import { Server } from "../../../src/server/server.ts";
import { fromBinaryString } from "../../../src/util/bytes.ts";
import { useClock } from "../../../src/util/clock.ts";

const T0 = 1_800_000_000_000;

/** A server, a client on it and a fake clock at {@link T0}. */
function setup() {
  const server = new Server(new Config(defaultValues()));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const clock = { t: T0 };
  const restore = useClock({ now: () => clock.t });
  const run = (...args: (string | number)[]): Reply =>
    readNow(dispatch(server, client, args.map((a) => fromBinaryString(String(a)))));
  const db = server.keyspace.db(0);
  return {
    server,
    client,
    clock,
    run,
    db,
    [Symbol.dispose]: restore,
  };
}

function errorText(reply: Reply): string {
  assert.ok(reply instanceof ErrorReply, `expected an error, got ${String(reply)}`);
  return reply.message;
}

function statusText(reply: Reply): string {
  assert.ok(reply instanceof SimpleString);
  return reply.text;
}

Deno.test("DEL and UNLINK count only live keys, duplicates once", () => {
  using s = setup();
  s.db.set("a", "1");
  s.db.set("b", "2");
  s.db.set("gone", "3");
  s.db.setExpireAt("gone", T0 - 1);
  assert.equal(s.run("DEL", "a", "a", "gone", "missing"), 1);
  assert.equal(s.run("UNLINK", "b"), 1);
  assert.equal(s.db.size, 0);
});

Deno.test("EXISTS counts duplicates and TOUCH counts existing keys", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.equal(s.run("EXISTS", "a", "a", "b"), 2);
  assert.equal(s.run("TOUCH", "a", "b"), 1);
});

Deno.test("TYPE answers string or none as a status reply", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.equal(statusText(s.run("TYPE", "a")), "string");
  assert.equal(statusText(s.run("TYPE", "b")), "none");
});

Deno.test("EXPIRE sets a TTL that TTL rounds and PTTL reports exactly", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.equal(s.run("EXPIRE", "a", 10), 1);
  s.clock.t += 1_499;
  assert.equal(s.run("PTTL", "a"), 8_501);
  assert.equal(s.run("TTL", "a"), 9);
  assert.equal(s.run("PEXPIRETIME", "a"), T0 + 10_000);
  assert.equal(s.run("EXPIRETIME", "a"), T0 / 1000 + 10);
  s.clock.t = T0 + 10_000;
  assert.equal(s.run("TTL", "a"), -2);
  assert.equal(s.run("EXISTS", "a"), 0);
});

Deno.test("a time in the past deletes the key and answers 1", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.equal(s.run("PEXPIREAT", "a", T0), 1);
  assert.equal(s.db.size, 0);
  assert.equal(s.run("EXPIRE", "a", 10), 0);
});

Deno.test("EXPIRE's NX, XX, GT and LT follow Redis 7, no TTL counting as infinite", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.equal(s.run("EXPIRE", "a", 10, "XX"), 0);
  assert.equal(s.run("EXPIRE", "a", 10, "GT"), 0);
  assert.equal(s.run("EXPIRE", "a", 10, "LT"), 1);
  assert.equal(s.run("EXPIRE", "a", 20, "NX"), 0);
  assert.equal(s.run("EXPIRE", "a", 20, "GT"), 1);
  assert.equal(s.run("EXPIRE", "a", 30, "LT"), 0);
  assert.equal(s.run("EXPIRE", "a", 5, "xx", "lt"), 1);
  assert.equal(s.run("TTL", "a"), 5);
  assert.equal(
    errorText(s.run("EXPIRE", "a", 5, "NX", "GT")),
    "ERR NX and XX, GT or LT options at the same time are not compatible",
  );
  assert.equal(
    errorText(s.run("EXPIRE", "a", 5, "GT", "LT")),
    "ERR GT and LT options at the same time are not compatible",
  );
  assert.equal(errorText(s.run("EXPIRE", "a", 5, "FOO")), "ERR Unsupported option FOO");
});

Deno.test("expire times that overflow 64 bits are refused with the command's name", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.equal(
    errorText(s.run("EXPIRE", "a", "9223372036854775")),
    "ERR invalid expire time in 'expire' command",
  );
  assert.equal(
    errorText(s.run("PEXPIRE", "a", "9223372036854775807")),
    "ERR invalid expire time in 'pexpire' command",
  );
  assert.equal(s.run("PEXPIREAT", "a", "9223372036854775807"), 1);
  assert.equal(
    errorText(s.run("EXPIRE", "a", "1.5")),
    "ERR value is not an integer or out of range",
  );
});

Deno.test("PERSIST removes a TTL once", () => {
  using s = setup();
  s.db.set("a", "1");
  s.db.setExpireAt("a", T0 + 100);
  assert.equal(s.run("PERSIST", "a"), 1);
  assert.equal(s.run("PERSIST", "a"), 0);
  assert.equal(s.run("TTL", "a"), -1);
});

Deno.test("KEYS matches the empty key only with a lone star and skips expired keys", () => {
  using s = setup();
  s.db.set("", "empty");
  s.db.set("ab", "1");
  s.db.set("old", "1");
  s.db.setExpireAt("old", T0);
  assert.deepEqual(s.run("KEYS", "*"), ["", "ab"]);
  assert.deepEqual(s.run("KEYS", "**"), ["ab"]);
  assert.deepEqual(s.run("KEYS", ""), [""]);
  assert.deepEqual(s.run("KEYS", "a?"), ["ab"]);
});

Deno.test("RANDOMKEY never returns an expired key", () => {
  using s = setup();
  assert.equal(s.run("RANDOMKEY"), null);
  s.db.set("old", "1");
  s.db.setExpireAt("old", T0);
  s.db.set("live", "1");
  for (let i = 0; i < 20; i++) assert.equal(s.run("RANDOMKEY"), "live");
});

function scanAll(s: ReturnType<typeof setup>, ...options: (string | number)[]): string[] {
  const out: string[] = [];
  let cursor = "0";
  do {
    const reply = s.run("SCAN", cursor, ...options) as [string, string[]];
    cursor = reply[0];
    out.push(...reply[1]);
  } while (cursor !== "0");
  return out;
}

Deno.test("SCAN with MATCH, COUNT and TYPE returns every matching live key", () => {
  using s = setup();
  for (let i = 0; i < 50; i++) s.db.set(`k${i}`, "v");
  s.db.set("other", "v");
  s.db.setExpireAt("k3", T0);
  const keys = scanAll(s, "MATCH", "k*", "COUNT", 7, "TYPE", "STRING");
  assert.equal(keys.length, 49);
  assert.ok(!keys.includes("k3") && !keys.includes("other"));
  assert.deepEqual(scanAll(s, "TYPE", "hash"), []);
});

Deno.test("SCAN refuses bad cursors and options with Redis's errors", () => {
  using s = setup();
  assert.equal(errorText(s.run("SCAN", "abc")), "ERR invalid cursor");
  assert.equal(errorText(s.run("SCAN", "18446744073709551616")), "ERR invalid cursor");
  assert.equal(errorText(s.run("SCAN", "0", "COUNT", 0)), "ERR syntax error");
  assert.equal(errorText(s.run("SCAN", "0", "COUNT")), "ERR syntax error");
  assert.equal(
    errorText(s.run("SCAN", "0", "COUNT", "x")),
    "ERR value is not an integer or out of range",
  );
  assert.deepEqual(s.run("SCAN", "-1"), ["0", []]);
});

Deno.test("SCAN ignores cursor bits beyond the table size (123456 is bucket 0 of 16)", () => {
  using s = setup();
  s.db.set("a", "1");
  assert.deepEqual(s.run("SCAN", "123456"), ["0", ["a"]]);
});

Deno.test("a SCAN cursor stays usable after FLUSHALL or SWAPDB and returns only live keys", () => {
  using s = setup();
  for (let i = 0; i < 30; i++) s.db.set(`k${i}`, "v");
  const [cursor] = s.run("SCAN", "0", "COUNT", 5) as [string, string[]];
  assert.notEqual(cursor, "0");
  assert.equal(s.run("SWAPDB", 0, 1), OK);
  for (let i = 0; i < 5; i++) s.db.set(`fresh${i}`, "v");
  const seen: string[] = [];
  let next = cursor;
  do {
    const [c, keys] = s.run("SCAN", next) as [string, string[]];
    seen.push(...keys);
    next = c;
  } while (next !== "0");
  for (const k of seen) assert.match(k, /^fresh/);
  assert.equal(s.run("FLUSHALL"), OK);
  assert.deepEqual(s.run("SCAN", cursor), ["0", []]);
});

Deno.test("SCAN returns every key present for the whole scan while keys come and go", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ maxLength: 4 }), { maxLength: 60 }),
      fc.array(
        fc.record({
          add: fc.array(fc.string({ maxLength: 4 }), { maxLength: 5 }),
          del: fc.array(fc.nat(), { maxLength: 5 }),
          count: fc.integer({ min: 1, max: 12 }),
        }),
        { maxLength: 40 },
      ),
      (initial, steps) => {
        using s = setup();
        for (const k of initial) s.db.set(k, "v");
        const stable = new Set(initial);
        const seen = new Set<string>();
        let cursor = "0";
        let i = 0;
        do {
          const step = steps[i++ % Math.max(1, steps.length)] ??
            { add: [], del: [], count: 10 };
          const reply = s.run("SCAN", cursor, "COUNT", step.count) as [string, string[]];
          cursor = reply[0];
          for (const k of reply[1]) seen.add(k);
          for (const k of step.add) s.db.set(k, "v");
          const present = [...s.db.keys()];
          for (const n of step.del) {
            if (present.length === 0) break;
            const k = present[n % present.length];
            s.db.delete(k);
            stable.delete(k);
          }
        } while (cursor !== "0");
        for (const k of stable) assert.ok(seen.has(k), `key ${JSON.stringify(k)} was returned`);
      },
    ),
  );
});

Deno.test("SCAN ends while keys are added faster than it reads them", () => {
  using s = setup();
  for (let i = 0; i < 20; i++) s.db.set(`old${i}`, "v");
  const seen = new Set<string>();
  let cursor = "0";
  let calls = 0;
  do {
    const reply = s.run("SCAN", cursor, "COUNT", 1) as [string, string[]];
    cursor = reply[0];
    for (const k of reply[1]) seen.add(k);
    for (let i = 0; i < 5; i++) s.db.set(`new${calls}-${i}`, "v");
    // Each call covers a bucket of a table that keeps doubling, as in Redis: the scan ends
    // once the cursor has swept the hash space, after a few hundred calls here.
    assert.ok(++calls <= 5000, "the scan ends");
  } while (cursor !== "0");
  for (let i = 0; i < 20; i++) assert.ok(seen.has(`old${i}`));
});

Deno.test("RENAME moves the TTL and RENAMENX refuses an existing destination", () => {
  using s = setup();
  s.db.set("a", "1");
  s.db.setExpireAt("a", T0 + 5_000);
  s.db.set("b", "2");
  s.db.setExpireAt("b", T0 + 9_000);
  assert.equal(s.run("RENAMENX", "a", "b"), 0);
  assert.equal(s.run("RENAME", "a", "b"), OK);
  assert.equal(s.run("PTTL", "b"), 5_000);
  assert.equal(errorText(s.run("RENAME", "a", "c")), "ERR no such key");
  assert.equal(s.run("RENAME", "b", "b"), OK);
  assert.equal(s.run("RENAMENX", "b", "b"), 0);
  s.db.set("c", "3");
  assert.equal(s.run("RENAME", "c", "b"), OK);
  assert.equal(s.run("PTTL", "b"), -1);
});

Deno.test("COPY copies the TTL, to another database with DB, over a key with REPLACE", () => {
  using s = setup();
  s.db.set("a", "1");
  s.db.setExpireAt("a", T0 + 5_000);
  s.db.set("b", "2");
  assert.equal(s.run("COPY", "a", "b"), 0);
  assert.equal(s.run("COPY", "a", "b", "REPLACE"), 1);
  assert.equal(s.db.get("b", T0), "1");
  assert.equal(s.db.expireAt("b"), T0 + 5_000);
  assert.equal(s.run("COPY", "a", "a", "DB", 1), 1);
  assert.equal(s.server.keyspace.db(1).expireAt("a"), T0 + 5_000);
  assert.equal(
    errorText(s.run("COPY", "a", "a")),
    "ERR source and destination objects are the same",
  );
  assert.equal(errorText(s.run("COPY", "a", "x", "DB", 16)), "ERR DB index is out of range");
  assert.equal(
    errorText(s.run("COPY", "a", "x", "DB", 2 ** 32)),
    "ERR value is out of range, value must between -2147483648 and 2147483647",
  );
});

Deno.test("MOVE transfers the key and its TTL unless the target has it", () => {
  using s = setup();
  s.db.set("a", "1");
  s.db.setExpireAt("a", T0 + 5_000);
  assert.equal(s.run("MOVE", "a", 1), 1);
  assert.equal(s.db.size, 0);
  assert.equal(s.server.keyspace.db(1).expireAt("a"), T0 + 5_000);
  s.db.set("a", "2");
  assert.equal(s.run("MOVE", "a", 1), 0);
  assert.equal(
    errorText(s.run("MOVE", "a", 0)),
    "ERR source and destination objects are the same",
  );
});

Deno.test("OBJECT ENCODING and REFCOUNT follow Redis's string encodings", () => {
  using s = setup();
  const cases: [string, string, number][] = [
    ["123", "int", 2147483647],
    ["10000", "int", 1],
    ["-5", "int", 1],
    ["9223372036854775807", "int", 1],
    ["9223372036854775808", "embstr", 1],
    ["01", "embstr", 1],
    ["-0", "embstr", 1],
    ["x".repeat(44), "embstr", 1],
    ["x".repeat(45), "raw", 1],
  ];
  for (const [value, encoding, refcount] of cases) {
    s.db.set("k", value);
    assert.equal(s.run("OBJECT", "ENCODING", "k"), encoding, value);
    assert.equal(s.run("OBJECT", "REFCOUNT", "k"), refcount, value);
  }
  assert.equal(s.run("OBJECT", "ENCODING", "missing"), null);
  assert.equal(s.run("OBJECT", "IDLETIME", "k"), 0);
  assert.match(errorText(s.run("OBJECT", "FREQ", "k")), /^ERR An LFU maxmemory policy/);
});

Deno.test("OBJECT FREQ reads the LFU counter only under an LFU policy", () => {
  using s = setup();
  s.db.set("k", "v");
  s.server.keyspace.configureEviction({
    maxmemory: 0,
    maxkeys: 0,
    policy: "volatile-lfu",
    samples: 5,
  });
  assert.equal(s.run("OBJECT", "FREQ", "k"), 5);
  assert.equal(s.run("TOUCH", "k"), 1);
  assert.equal(s.run("OBJECT", "FREQ", "k"), 6);
  assert.equal(s.run("EXISTS", "k"), 1);
  assert.equal(s.run("OBJECT", "FREQ", "k"), 6);
  assert.match(errorText(s.run("OBJECT", "IDLETIME", "k")), /^ERR An LFU maxmemory policy is sel/);
});

Deno.test("SCAN with TYPE under an LRU policy still ends", () => {
  using s = setup();
  s.server.keyspace.configureEviction({
    maxmemory: 0,
    maxkeys: 0,
    policy: "allkeys-lru",
    samples: 5,
  });
  for (let i = 0; i < 25; i++) s.db.set(`k${i}`, "v");
  assert.equal(scanAll(s, "TYPE", "string").length, 25);
});

Deno.test("MEMORY USAGE grows with the key, the value and a TTL", () => {
  using s = setup();
  s.db.set("k", "v");
  const small = s.run("MEMORY", "USAGE", "k") as number;
  assert.ok(small > 0);
  s.db.set("k", "v".repeat(1000));
  const large = s.run("MEMORY", "USAGE", "k", "SAMPLES", 0) as number;
  assert.ok(large >= small + 990);
  s.db.setExpireAt("k", T0 + 1000);
  assert.ok((s.run("MEMORY", "USAGE", "k") as number) > large);
  assert.equal(s.run("MEMORY", "USAGE", "missing"), null);
  assert.equal(errorText(s.run("MEMORY", "USAGE", "k", "SAMPLES", -1)), "ERR syntax error");
});

Deno.test("MEMORY DOCTOR declines below 5 MB of data and reports no issue above", () => {
  using s = setup();
  const doctor = () => (s.run("MEMORY", "DOCTOR") as VerbatimReply).text;
  assert.match(doctor(), /^Hi Sam, this instance is empty or is using very little memory/);
  const value = "v".repeat(200);
  for (let i = 0; i < 30_000; i++) s.db.set(`key:${i}`, value);
  assert.equal(
    doctor(),
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n",
  );
  assert.equal(s.run("MEMORY", "PURGE"), OK);
});

Deno.test("OBJECT IDLETIME counts whole seconds since the last access and does not touch the key", () => {
  using s = setup();
  s.db.set("k", "v", false, T0);
  s.clock.t = T0 + 2_500;
  assert.equal(s.run("OBJECT", "IDLETIME", "k"), 2);
  assert.equal(s.run("GET", "k"), "v");
  assert.equal(s.run("OBJECT", "IDLETIME", "k"), 0);
  s.clock.t = T0 + 9_000;
  assert.equal(s.run("OBJECT", "IDLETIME", "k"), 6, "OBJECT itself does not touch the key");
  assert.equal(s.run("OBJECT", "IDLETIME", "missing"), null);
});
