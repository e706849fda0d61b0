/**
 * String commands run in-process through dispatch, on a server that is never started (no
 * sockets), with a fake clock so expiry is exact, plus property tests of the integer and long
 * double arithmetic against exact bigint models.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { dispatch } from "../../../src/commands/dispatch.ts";
import { readNow } from "../../support/replies.ts";
import { parseInt64 } from "../../../src/commands/_values.ts";
import { formatLongDouble, parseLongDouble } from "../../../src/util/long_double.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import { ErrorReply, OK, type Reply } from "../../../src/resp/reply.ts";
import { ClientState } from "../../../src/server/client.ts";
import { Server } from "../../../src/server/server.ts";
import type { StoredValue } from "../../../src/store/database.ts";
import { fromBinaryString } from "../../../src/util/bytes.ts";
import { useClock } from "../../../src/util/clock.ts";
import { ArenaFullError } from "../../../src/store/arena.ts";
import type { Handler } from "../../../src/commands/registry.ts";

const T0 = 1_800_000_000_000;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/** A server, a client on it and a fake clock at {@link T0}. */
function setup() {
  const server = new Server(new Config(defaultValues()));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const clock = { t: T0 };
  const restore = useClock({ now: () => clock.t });
  const run = (...args: (string | number | bigint)[]): Reply =>
    readNow(dispatch(server, client, args.map((a) => fromBinaryString(String(a)))));
  return { clock, run, db: server.keyspace.db(0), [Symbol.dispose]: restore };
}

function errorText(reply: Reply): string {
  assert.ok(reply instanceof ErrorReply, `expected an error, got ${String(reply)}`);
  return reply.message;
}

/** A value of another type: only strings exist so far, so any non-string object stands in. */
const OTHER_TYPE = { length: 1 } as unknown as StoredValue;

Deno.test("string commands answer WRONGTYPE for a key holding another type", () => {
  using s = setup();
  const commands: (string | number)[][] = [
    ["GET", "h"],
    ["GETSET", "h", "v"],
    ["GETDEL", "h"],
    ["GETEX", "h", "PERSIST"],
    ["SET", "h", "v", "GET"],
    ["INCR", "h"],
    ["DECRBY", "h", 2],
    ["INCRBYFLOAT", "h", "1.5"],
    ["APPEND", "h", "x"],
    ["STRLEN", "h"],
    ["GETRANGE", "h", 0, -1],
    ["SETRANGE", "h", 0, "x"],
  ];
  s.db.set("h", OTHER_TYPE);
  for (const command of commands) {
    assert.equal(errorText(s.run(...command)), WRONGTYPE, command.join(" "));
    assert.equal(s.db.get("h", T0), OTHER_TYPE, `${command[0]} leaves the value alone`);
  }
  assert.deepEqual(s.run("MGET", "h", "missing"), [null, null]);
  assert.equal(s.run("SETNX", "h", "v"), 0);
  assert.equal(s.run("MSETNX", "x", "1", "h", "v"), 0);
  assert.equal(s.run("SET", "h", "v"), OK);
  assert.equal(s.run("GET", "h"), "v");
});

Deno.test("SET EX, PX and GETEX expire the key at the exact millisecond", () => {
  using s = setup();
  assert.equal(s.run("SET", "k", "v", "PX", 1500), OK);
  assert.equal(s.db.expireAt("k"), T0 + 1500);
  s.clock.t = T0 + 1499;
  assert.equal(s.run("GET", "k"), "v");
  s.clock.t = T0 + 1500;
  assert.equal(s.run("GET", "k"), null);
  assert.equal(s.run("SETEX", "k", 2, "v"), OK);
  assert.equal(s.db.expireAt("k"), T0 + 1500 + 2000);
  assert.equal(s.run("GETEX", "k", "EXAT", 1_900_000_000), "v");
  assert.equal(s.db.expireAt("k"), 1_900_000_000_000);
  assert.equal(s.run("SET", "k", "w", "KEEPTTL"), OK);
  assert.equal(s.db.expireAt("k"), 1_900_000_000_000);
  assert.equal(s.run("SET", "k", "5", "KEEPTTL"), OK);
  assert.equal(s.run("INCR", "k"), 6);
  assert.equal(s.run("INCRBYFLOAT", "k", "0.5"), "6.5");
  assert.equal(s.run("APPEND", "k", "0"), 4);
  assert.equal(s.run("SETRANGE", "k", 0, "7"), 4);
  assert.equal(s.db.expireAt("k"), 1_900_000_000_000);
  assert.equal(s.run("GETSET", "k", "x"), "7.50");
  assert.equal(s.db.expireAt("k"), undefined);
});

Deno.test("GETEX with an absolute time in the past deletes the key but returns its value", () => {
  using s = setup();
  s.run("SET", "k", "v");
  assert.equal(s.run("GETEX", "k", "PXAT", T0), "v");
  assert.equal(s.db.get("k", T0), undefined);
});

Deno.test("expire times that overflow 64 bits once made absolute are invalid", () => {
  using s = setup();
  const invalid = "ERR invalid expire time in 'set' command";
  assert.equal(errorText(s.run("SET", "k", "v", "PX", INT64_MAX - BigInt(T0) + 1n)), invalid);
  assert.equal(s.run("SET", "k", "v", "PX", INT64_MAX - BigInt(T0)), OK);
  assert.equal(errorText(s.run("SET", "k", "v", "EX", INT64_MAX / 1000n + 1n)), invalid);
  assert.equal(s.run("SET", "k", "v", "EXAT", INT64_MAX / 1000n), OK);
  assert.equal(
    errorText(s.run("PSETEX", "k", 0, "v")),
    "ERR invalid expire time in 'psetex' command",
  );
});

Deno.test("parseInt64 accepts exactly Redis's string2ll integers", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (n) => {
      const parsed = parseInt64(n.toString());
      const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
      assert.equal(parsed, safe ? Number(n) : n);
    }),
  );
  for (const bad of ["", "-", "+1", "01", "-0", " 1", "1 ", "1.0", "9223372036854775808"]) {
    assert.equal(parseInt64(bad), null, JSON.stringify(bad));
  }
  assert.equal(parseInt64("-9223372036854775808"), INT64_MIN);
  assert.equal(parseInt64("0"), 0);
});

Deno.test("INCRBY is exact over int64 and refuses exactly the overflowing sums", () => {
  using s = setup();
  const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
  fc.assert(
    fc.property(int64, int64, (a, b) => {
      s.run("SET", "n", a);
      const reply = s.run("INCRBY", "n", b);
      const sum = a + b;
      if (sum > INT64_MAX || sum < INT64_MIN) {
        assert.equal(errorText(reply), "ERR increment or decrement would overflow");
        assert.equal(s.run("GET", "n"), a.toString());
      } else {
        assert.equal(BigInt(reply as number | bigint), sum);
        assert.equal(s.run("GET", "n"), sum.toString());
      }
    }),
  );
});

Deno.test("long doubles parse and print as Redis's strtold and %.17Lf do", () => {
  const print = (text: string) => {
    const value = parseLongDouble(text);
    assert.ok(value !== null && value !== "infinite", text);
    return formatLongDouble(value);
  };
  assert.equal(print("10.6"), "10.6");
  assert.equal(print("12345678.9"), "12345678.8999999999996362");
  assert.equal(print("0.33333333333333333"), "0.33333333333333333");
  assert.equal(print("1e20"), "100000000000000000000");
  assert.equal(print("0x10"), "16");
  assert.equal(print("-0.0"), "0");
  assert.equal(print("1e-18"), "0");
  assert.equal(parseLongDouble("inf"), "infinite");
  for (const bad of ["nan", " 1", "1e", "0x", "1e5000", "1e-5000", "abc", ""]) {
    assert.equal(parseLongDouble(bad), null, JSON.stringify(bad));
  }
});

Deno.test("a write the arena cannot hold answers -OOM and the client goes on", () => {
  // 16 GiB of keys and values in one database is more than a test can allocate: the SET
  // handler stands in for one whose block would not fit.
  const server = new Server(new Config(defaultValues()));
  // Commands are read-only to the server; the test swaps the handler for this one check.
  const set = server.commands.get("set") as { handler?: Handler } | undefined;
  assert.ok(set?.handler !== undefined);
  const handler = set.handler;
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const run = (...args: string[]) =>
    readNow(dispatch(server, client, args.map((a) => fromBinaryString(a))));
  set.handler = () => {
    throw new ArenaFullError();
  };
  try {
    assert.equal(
      errorText(run("SET", "k", "v")),
      "OOM keys and values of one database cannot take more than 16 GiB",
    );
  } finally {
    set.handler = handler;
  }
  assert.equal(run("SET", "k", "v"), OK);
  assert.equal(run("GET", "k"), "v");
});
