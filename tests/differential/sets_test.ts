/**
 * The sets family against redis-server 7.0: every command's replies (RESP2 and RESP3), error
 * texts in Redis's order of checks, OBJECT ENCODING and its one-way conversion, keyspace
 * notifications, and COMMAND INFO. Intset replies come in ascending order on both servers and
 * are compared as they are; hash table replies are compared as sets (both sorted), and random
 * replies (SPOP, SRANDMEMBER) by type, size and membership.
 */
import assert from "node:assert/strict";
import {
  type Arg,
  type ConnPair,
  infoSummary,
  intOf,
  itemsOf,
  script,
  type Shape,
  shapeOf,
  stepsFromEmpty,
  textOf,
  withBoth,
} from "./_diff.ts";

const COMMANDS = [
  "sadd",
  "srem",
  "smembers",
  "sismember",
  "smismember",
  "scard",
  "spop",
  "srandmember",
  "smove",
  "sinter",
  "sintercard",
  "sinterstore",
  "sunion",
  "sunionstore",
  "sdiff",
  "sdiffstore",
  "sscan",
];

/** Sorts the items of an array or set reply (hash table order differs between servers). */
function sorted(shape: Shape): Shape {
  if (shape.type !== "array" && shape.type !== "set") return shape;
  const items = shape.items.map(sorted);
  items.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
  return { ...shape, items };
}

/** Replaces every bulk string by a placeholder: random members differ, types and counts not. */
function blank(shape: Shape): Shape {
  if (shape.type === "bulk") return { type: "bulk", value: "?" };
  if (shape.type === "array" || shape.type === "set") {
    return { ...shape, items: shape.items.map(blank) };
  }
  return shape;
}

/** Sends each command, comparing replies as sets. */
async function unordered(c: ConnPair, commands: readonly (readonly Arg[])[]): Promise<void> {
  for (const command of commands) await c.assertSame(command, { normalize: sorted });
}

/** Every member of a full SSCAN of `key` on each server, compared as sets. */
async function fullScan(c: ConnPair, key: string, ...options: Arg[]): Promise<void> {
  const collected = { redis: [] as string[], gocache: [] as string[] };
  for (const side of ["redis", "gocache"] as const) {
    let cursor = "0";
    do {
      await c[side].send("SSCAN", key, cursor, ...options);
      const reply = itemsOf(shapeOf(await c[side].read()));
      cursor = textOf(reply[0]);
      for (const item of itemsOf(reply[1])) collected[side].push(textOf(item));
    } while (cursor !== "0");
  }
  assert.deepEqual(new Set(collected.gocache), new Set(collected.redis), `SSCAN ${key}`);
}

const ARITY_ERRORS: Arg[][] = [
  ["SADD", "s"],
  ["SREM", "s"],
  ["SMEMBERS"],
  ["SMEMBERS", "a", "b"],
  ["SISMEMBER", "s"],
  ["SISMEMBER", "s", "a", "b"],
  ["SMISMEMBER", "s"],
  ["SCARD"],
  ["SCARD", "a", "b"],
  ["SPOP"],
  ["SRANDMEMBER"],
  ["SMOVE", "a", "b"],
  ["SMOVE", "a", "b", "c", "d"],
  ["SINTER"],
  ["SINTERCARD", "1"],
  ["SINTERSTORE", "d"],
  ["SUNION"],
  ["SUNIONSTORE", "d"],
  ["SDIFF"],
  ["SDIFFSTORE", "d"],
  ["SSCAN", "s"],
];

Deno.test("set commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO of every set command agrees with Redis", async () => {
      for (const name of COMMANDS) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        assert.deepEqual(infoSummary(itemsOf(gocache)[0]), infoSummary(itemsOf(redis)[0]), name);
      }
      await script(c, [["COMMAND", "GETKEYS", "SINTERCARD", 2, "a", "b", "LIMIT", 1]]);
    });

    await step("SADD, SREM, SCARD and membership on an intset, in ascending order", async () => {
      await script(c, [
        ["SADD", "s", 5, -3, 100000, 7, 5, "-9223372036854775808", "9223372036854775807"],
        ["OBJECT", "ENCODING", "s"],
        ["SMEMBERS", "s"],
        ["SCARD", "s"],
        ["SISMEMBER", "s", 7],
        ["SISMEMBER", "s", "07"],
        ["SISMEMBER", "s", "x"],
        ["SMISMEMBER", "s", 7, 8, "-3", "9223372036854775807", "x"],
        ["SMISMEMBER", "missing", 1, 2],
        ["SADD", "s", 3000000000, 40000],
        ["SMEMBERS", "s"],
        ["SREM", "s", 5, 6, "x", "9223372036854775807"],
        ["SREM", "s", 5],
        ["SMEMBERS", "s"],
        ["SCARD", "missing"],
        ["SISMEMBER", "missing", 1],
        ["SREM", "missing", 1],
        ["SREM", "s", -3, 7, 100000, 3000000000, 40000, "-9223372036854775808", "extra"],
        ["EXISTS", "s"],
        ["SMEMBERS", "s"],
      ]);
    });

    await step("non-canonical integers turn an intset into a hash table, for good", async () => {
      for (const odd of ["01", "-0", "+1", " 1", "1 ", "9223372036854775808", "1.0", ""]) {
        await script(c, [
          ["DEL", "s"],
          ["SADD", "s", 1, 2],
          ["SADD", "s", odd],
          ["OBJECT", "ENCODING", "s"],
          ["SREM", "s", odd],
          ["OBJECT", "ENCODING", "s"],
          ["SISMEMBER", "s", 1],
        ]);
        await unordered(c, [["SMEMBERS", "s"]]);
      }
      await script(c, [["SADD", "t", "a"], ["OBJECT", "ENCODING", "t"]]);
    });

    await step("set-max-intset-entries bounds the intset", async () => {
      await script(c, [
        ["CONFIG", "SET", "set-max-intset-entries", 3],
        ["SADD", "s", 1, 2, 3],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "s", 4],
        ["OBJECT", "ENCODING", "s"],
        ["SREM", "s", 4, 3],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "u", 1, 2, 3, 4],
        ["OBJECT", "ENCODING", "u"],
        ["CONFIG", "SET", "set-max-intset-entries", 0],
        ["SADD", "z", 1],
        ["OBJECT", "ENCODING", "z"],
        ["CONFIG", "SET", "set-max-intset-entries", 512],
      ]);
    });

    await step("hash table sets, binary members included", async () => {
      const members = ["a", "b", "\x00\xff", "\r\n", "12", "-5", "long".repeat(40)];
      await script(c, [
        ["SADD", "h", ...members],
        ["SADD", "h", "a", "zz"],
        ["SCARD", "h"],
        ["OBJECT", "ENCODING", "h"],
        ["SMISMEMBER", "h", "\x00\xff", "12", "nope"],
        ["SREM", "h", "a", "nope", "12"],
      ]);
      await unordered(c, [["SMEMBERS", "h"]]);
      const many = Array.from({ length: 700 }, (_, i) => `m${i}`);
      await script(c, [["SADD", "big", ...many], ["SCARD", "big"]]);
      await unordered(c, [["SMEMBERS", "big"]]);
    });

    await step("SMOVE between sets, to itself, to new keys and across encodings", async () => {
      await script(c, [
        ["SADD", "a", 1, 2, 3],
        ["SADD", "b", "x"],
        ["SMOVE", "a", "b", 1],
        ["SMOVE", "a", "b", 9],
        ["SMOVE", "a", "a", 2],
        ["SMOVE", "a", "a", 9],
        ["SMOVE", "a", "new", 2],
        ["OBJECT", "ENCODING", "new"],
        ["SMOVE", "a", "new2", 3],
        ["EXISTS", "a"],
        ["SMOVE", "b", "new", "x"],
        ["OBJECT", "ENCODING", "new"],
        ["SADD", "c", 5],
        ["SADD", "d", 5],
        ["SMOVE", "c", "d", 5],
        ["EXISTS", "c"],
        ["SMEMBERS", "d"],
        ["SMOVE", "missing", "d", 5],
        ["SET", "str", "v"],
        ["SMOVE", "missing", "str", 5],
        ["SMOVE", "d", "str", 5],
        ["SMOVE", "str", "d", 5],
        ["SMOVE", "d", "str", 99],
      ]);
      await unordered(c, [["SMEMBERS", "b"], ["SMEMBERS", "new"]]);
    });

    await step("SINTER, SUNION, SDIFF and their STORE forms", async () => {
      await script(c, [
        ["SADD", "i1", 1, 2, 3, 4, 5],
        ["SADD", "i2", 3, 4, 5, 6],
        ["SADD", "i3", 5, 4, 10],
        ["SADD", "h1", "a", "b", 3, 4],
        ["SADD", "h2", "b", 4, "c"],
        ["SET", "str", "v"],
        ["SINTER", "i1", "i2", "i3"],
        ["SINTER", "i1"],
        ["SINTER", "i1", "missing"],
        ["SINTER", "missing", "i1"],
        ["SINTER", "i1", "i1"],
        ["SUNION", "i1", "i2", "missing"],
        ["SUNION", "missing"],
        ["SDIFF", "i1", "i2"],
        ["SDIFF", "i1", "i3", "i2"],
        ["SDIFF", "i1", "i1"],
        ["SDIFF", "i1", "missing"],
        ["SDIFF", "missing", "i1"],
        ["SDIFF", "i1", "h1"],
        ["SINTERSTORE", "d", "i1", "i2"],
        ["SMEMBERS", "d"],
        ["OBJECT", "ENCODING", "d"],
        ["SINTERSTORE", "d", "h1", "h2"],
        ["OBJECT", "ENCODING", "d"],
        ["SCARD", "d"],
        ["SUNIONSTORE", "d", "i1", "i3"],
        ["SMEMBERS", "d"],
        ["SDIFFSTORE", "d", "i1", "i2"],
        ["SMEMBERS", "d"],
        ["SDIFFSTORE", "d", "h1", "h2"],
        ["OBJECT", "ENCODING", "d"],
        ["SCARD", "d"],
        ["SETEX", "ttl", 100, "v"],
        ["SUNIONSTORE", "ttl", "i1"],
        ["TTL", "ttl"],
        ["TYPE", "ttl"],
        ["SINTERSTORE", "d", "i1", "missing"],
        ["EXISTS", "d"],
        ["SINTERSTORE", "d", "i1", "missing"],
        ["SADD", "d", 1],
        ["SDIFFSTORE", "d", "i1", "i1"],
        ["EXISTS", "d"],
        ["SUNIONSTORE", "d", "missing"],
        ["SUNIONSTORE", "i1", "i1", "i2"],
        ["SMEMBERS", "i1"],
        ["SINTER", "missing", "str"],
        ["SINTER", "str", "missing"],
        ["SUNION", "i1", "str"],
        ["SDIFF", "missing", "str"],
        ["SINTERSTORE", "d", "missing", "str"],
        ["SUNIONSTORE", "d", "str"],
        ["SDIFFSTORE", "d", "i1", "str"],
        ["SINTERSTORE", "str", "i2", "i3"],
        ["TYPE", "str"],
      ]);
      await unordered(c, [
        ["SINTER", "i1", "h1"],
        ["SINTER", "h1", "h2"],
        ["SUNION", "h1", "i1"],
        ["SDIFF", "h1", "h2"],
        ["SDIFF", "h1", "i1", "h2"],
      ]);
    });

    await step("SDIFF's algorithm shows in the result's encoding", async () => {
      const big = Array.from({ length: 40 }, (_, i) => i);
      await script(c, [
        ["SADD", "first", "x", 1, 2],
        ["SADD", "other", "x", ...big],
        ["SDIFFSTORE", "r1", "first", "other"],
        ["OBJECT", "ENCODING", "r1"],
        ["SMEMBERS", "r1"],
        ["SADD", "small", "x"],
        ["SDIFFSTORE", "r2", "first", "small"],
        ["OBJECT", "ENCODING", "r2"],
        ["SMEMBERS", "r2"],
      ]);
    });

    await step("SINTERCARD with LIMIT and every error", async () => {
      await script(c, [
        ["SADD", "a", 1, 2, 3, 4],
        ["SADD", "b", 2, 3, 4, 5],
        ["SET", "str", "v"],
        ["SINTERCARD", 2, "a", "b"],
        ["SINTERCARD", 1, "a"],
        ["SINTERCARD", 2, "a", "b", "LIMIT", 2],
        ["SINTERCARD", 2, "a", "b", "limit", 0],
        ["SINTERCARD", 2, "a", "b", "LIMIT", 100],
        ["SINTERCARD", 1, "a", "LIMIT", 1, "LIMIT", 3],
        ["SINTERCARD", 2, "a", "missing"],
        ["SINTERCARD", 2, "missing", "str"],
        ["SINTERCARD", 2, "str", "missing"],
        ["SINTERCARD", 0, "a"],
        ["SINTERCARD", -1, "a"],
        ["SINTERCARD", "x", "a"],
        ["SINTERCARD", 3, "a", "b"],
        ["SINTERCARD", "9223372036854775807", "a"],
        ["SINTERCARD", "9223372036854775808", "a"],
        ["SINTERCARD", 1, "a", "LIMIT"],
        ["SINTERCARD", 1, "a", "LIMIT", -1],
        ["SINTERCARD", 1, "a", "LIMIT", "x"],
        ["SINTERCARD", 1, "a", "LIMIT", "9223372036854775808"],
        ["SINTERCARD", 1, "a", "FOO", 1],
        ["SINTERCARD", 1, "a", "b"],
      ]);
    });

    await step("SSCAN of intsets in one call, of hash tables in full, and its errors", async () => {
      const ints = Array.from({ length: 50 }, (_, i) => i * 7 - 100);
      await script(c, [
        ["SADD", "i", ...ints],
        ["SSCAN", "i", 0],
        ["SSCAN", "i", 0, "COUNT", 1],
        ["SSCAN", "i", 5],
        ["SSCAN", "i", "-1"],
        ["SSCAN", "i", "+0"],
        ["SSCAN", "i", "", "COUNT", 3],
        ["SSCAN", "i", 0, "MATCH", "1*"],
        ["SSCAN", "i", 0, "match", "-*", "count", 2],
        ["SSCAN", "i", 0, "MATCH", "*"],
        ["SSCAN", "missing", 0],
        ["SSCAN", "missing", 0, "COUNT", 0],
        ["SSCAN", "i", "x"],
        ["SSCAN", "i", "18446744073709551615"],
        ["SSCAN", "i", "18446744073709551616"],
        ["SSCAN", "i", " 1"],
        ["SSCAN", "i", 0, "COUNT", 0],
        ["SSCAN", "i", 0, "COUNT", -1],
        ["SSCAN", "i", 0, "COUNT", "x"],
        ["SSCAN", "i", 0, "COUNT"],
        ["SSCAN", "i", 0, "MATCH"],
        ["SSCAN", "i", 0, "TYPE", "set"],
        ["SSCAN", "i", 0, "NOVALUES"],
        ["SET", "str", "v"],
        ["SSCAN", "str", 0],
        ["SSCAN", "str", "x"],
      ]);
      const words = Array.from({ length: 300 }, (_, i) => `w${i}`);
      await c.assertSame(["SADD", "h", ...words]);
      await fullScan(c, "h");
      await fullScan(c, "h", "COUNT", 1);
      await fullScan(c, "h", "COUNT", 1000);
      await fullScan(c, "h", "MATCH", "w1*", "COUNT", 7);
    });

    await step("SPOP and SRANDMEMBER: types, sizes, membership and errors", async () => {
      await script(c, [
        ["SADD", "s", 1, 2, 3],
        ["SET", "str", "v"],
        ["SPOP", "missing"],
        ["SPOP", "missing", 2],
        ["SPOP", "missing", 0],
        ["SPOP", "s", 0],
        ["SPOP", "s", -1],
        ["SPOP", "s", "x"],
        ["SPOP", "str", -1],
        ["SPOP", "str", 0],
        ["SPOP", "str"],
        ["SPOP", "s", 1, 2],
        ["SPOP", "s", "9223372036854775808"],
        ["SRANDMEMBER", "missing"],
        ["SRANDMEMBER", "missing", 2],
        ["SRANDMEMBER", "missing", -2],
        ["SRANDMEMBER", "s", 0],
        ["SRANDMEMBER", "s", 3],
        ["SRANDMEMBER", "s", 100],
        ["SRANDMEMBER", "s", "x"],
        ["SRANDMEMBER", "s", "-9223372036854775808"],
        ["SRANDMEMBER", "s", "9223372036854775808"],
        ["SRANDMEMBER", "s", 1, 2],
        ["SRANDMEMBER", "str"],
        ["SRANDMEMBER", "str", 1],
        ["SRANDMEMBER", "str", "x"],
        ["SPOP", "s", 3],
        ["EXISTS", "s"],
        ["SADD", "s", 1, 2, 3],
        ["SPOP", "s", "9223372036854775807"],
      ]);
      const members = Array.from({ length: 30 }, (_, i) => `m${i}`);
      await c.assertSame(["SADD", "h", ...members]);
      for (
        const command of [
          ["SRANDMEMBER", "h"],
          ["SRANDMEMBER", "h", 5],
          ["SRANDMEMBER", "h", 25],
          ["SRANDMEMBER", "h", -50],
          ["SPOP", "h"],
          ["SPOP", "h", 3],
          ["SPOP", "h", 24],
        ]
      ) {
        const reply = await c.assertSame(command, { normalize: blank });
        const got = (await c.call("SCARD", "h")).gocache;
        assert.equal(intOf(got), intOf((await c.call("SCARD", "h")).redis));
        if (reply.type === "array" || reply.type === "set") assert.ok(reply.items.length > 0);
      }
      await c.assertSame(["SPOP", "h", 5], { normalize: blank });
      await script(c, [["EXISTS", "h"]]);
    });

    await step("random replies hold members of the set", async () => {
      const members = Array.from({ length: 20 }, (_, i) => `m${i}`);
      await c.assertSame(["SADD", "h", ...members]);
      await c.assertSame(["SADD", "i", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const [key, count] of [["h", 3], ["h", 15], ["h", -40], ["i", 2], ["i", 9], ["i", -9]]) {
        const reply = (await c.call("SRANDMEMBER", key, count)).gocache;
        const got = itemsOf(reply).map(textOf);
        assert.equal(got.length, Math.abs(Number(count)));
        if (Number(count) > 0) assert.equal(new Set(got).size, got.length);
        for (const m of got) {
          assert.equal(intOf((await c.call("SISMEMBER", key, m)).gocache), 1);
        }
      }
      const popped = itemsOf((await c.call("SPOP", "i", 8)).gocache).map(textOf);
      const left = itemsOf((await c.call("SMEMBERS", "i")).gocache).map(textOf);
      assert.equal(popped.length, 8);
      assert.deepEqual(new Set([...popped, ...left]).size, 10);
      await script(c, [["OBJECT", "ENCODING", "i"]]);
    });

    await step("SPOP keeps the TTL and picks Redis's encoding for the kept members", async () => {
      const many = Array.from({ length: 600 }, (_, i) => i);
      await script(c, [
        ["SADD", "s", ...many],
        ["EXPIRE", "s", 100],
        ["OBJECT", "ENCODING", "s"],
      ]);
      await c.call("SPOP", "s", 590);
      await script(c, [["SCARD", "s"], ["OBJECT", "ENCODING", "s"], ["TTL", "s"]]);
    });

    await step("WRONGTYPE and arity errors", async () => {
      await script(c, [
        ["SET", "str", "v"],
        ["SADD", "str", 1],
        ["SREM", "str", 1],
        ["SMEMBERS", "str"],
        ["SISMEMBER", "str", 1],
        ["SMISMEMBER", "str", 1],
        ["SCARD", "str"],
        ...ARITY_ERRORS,
      ]);
    });

    await step("RESP3 reply types", async () => {
      await c.assertSame(["HELLO", "3"], { normalize: () => ({ type: "null" }) });
      await script(c, [
        ["SADD", "s", 3, 1, 2],
        ["SMEMBERS", "s"],
        ["SMEMBERS", "missing"],
        ["SINTER", "s", "missing"],
        ["SUNION", "s"],
        ["SDIFF", "s"],
        ["SMISMEMBER", "s", 1, 9],
        ["SSCAN", "s", 0],
        ["SSCAN", "missing", 0],
        ["SINTERCARD", 1, "s"],
        ["SPOP", "s", 0],
        ["SPOP", "missing", 2],
        ["SPOP", "missing"],
        ["SRANDMEMBER", "missing"],
        ["SRANDMEMBER", "missing", 2],
        ["SRANDMEMBER", "s", 0],
        ["SRANDMEMBER", "s", 5],
      ]);
      await c.assertSame(["SRANDMEMBER", "s", -2], { normalize: blank });
      await c.assertSame(["SRANDMEMBER", "s", 2], { normalize: blank });
      await c.assertSame(["SPOP", "s", 2], { normalize: blank });
      await c.assertSame(["SPOP", "s", 5], { normalize: blank });
      await c.assertSame(["HELLO", "2"], { normalize: () => ({ type: "null" }) });
    });
  });
});

Deno.test("set commands send Redis's keyspace notifications", async () => {
  await withBoth({ args: ["--notify-keyspace-events", "KEA"] }, async (both) => {
    await using c = await both.connect();
    await using sub = await both.connect();
    await sub.assertSame(["PSUBSCRIBE", "__key*__:*"]);
    const commands: Arg[][] = [
      ["SADD", "a", 1, 2, 3],
      ["SADD", "a", 1],
      ["SREM", "a", 9],
      ["SREM", "a", 1],
      ["SMOVE", "a", "b", 2],
      ["SMOVE", "a", "b", 3],
      ["SADD", "c", 1],
      ["SMOVE", "c", "b", 1],
      ["SADD", "d", 5],
      ["SPOP", "d"],
      ["SADD", "e", 5, 6],
      ["SPOP", "e", 0],
      ["SPOP", "e", 5],
      ["SINTERSTORE", "f", "b", "b"],
      ["SUNIONSTORE", "f", "b"],
      ["SDIFFSTORE", "f", "b", "b"],
      ["SINTERSTORE", "f", "b", "missing"],
      ["SADD", "f", 1],
      ["SINTERSTORE", "f", "b", "missing"],
      ["SREM", "b", 1, 2, 3],
      ["SET", "done", 1],
    ];
    for (const command of commands) await c.assertSame(command);
    for (;;) {
      const message = await sub.assertSameRead("a notification");
      const items = itemsOf(message);
      if (textOf(items[items.length - 1]) === "done") break;
    }
  });
});

/** A replica's view of a leader's replication stream: the commands after the full copy. */
class StreamTap {
  readonly #conn: Deno.TcpConn;
  #bytes = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `port` as a replica and skips the full copy. */
  static async attach(port: number): Promise<StreamTap> {
    const tap = new StreamTap(await Deno.connect({ hostname: "127.0.0.1", port }));
    await tap.#conn.write(new TextEncoder().encode("PSYNC ? -1\r\n"));
    assert.match(await tap.#line(), /^\+FULLRESYNC /);
    let header = await tap.#line();
    while (header === "") header = await tap.#line();
    const size = Number(header.slice(1));
    await tap.#need(size);
    tap.#bytes = tap.#bytes.subarray(size);
    return tap;
  }

  async #more(): Promise<void> {
    const buf = new Uint8Array(65536);
    const n = await this.#conn.read(buf);
    if (n === null) throw new Error("the leader closed the stream");
    const joined = new Uint8Array(this.#bytes.length + n);
    joined.set(this.#bytes);
    joined.set(buf.subarray(0, n), this.#bytes.length);
    this.#bytes = joined;
  }

  async #need(n: number): Promise<void> {
    while (this.#bytes.length < n) await this.#more();
  }

  async #line(): Promise<string> {
    let end: number;
    while ((end = this.#bytes.indexOf(10)) < 0) await this.#more();
    const text = String.fromCharCode(...this.#bytes.subarray(0, end)).replace(/\r$/, "");
    this.#bytes = this.#bytes.subarray(end + 1);
    return text;
  }

  /** The next command of the stream (PING and SELECT skipped), as text arguments. */
  async next(): Promise<string[]> {
    for (;;) {
      const count = Number((await this.#line()).slice(1));
      const args: string[] = [];
      for (let i = 0; i < count; i++) {
        const length = Number((await this.#line()).slice(1));
        await this.#need(length + 2);
        args.push(String.fromCharCode(...this.#bytes.subarray(0, length)));
        this.#bytes = this.#bytes.subarray(length + 2);
      }
      const name = args[0].toUpperCase();
      if (name !== "PING" && name !== "SELECT") return args;
    }
  }

  close(): void {
    this.#conn.close();
  }
}

/** The next commands up to and including the marker SET, with SREM members blanked. */
async function streamUntilMarker(tap: StreamTap): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const args = await tap.next();
    if (args[0].toUpperCase() === "SET") return out;
    const name = args[0].toUpperCase();
    out.push(name === "SREM" ? `SREM ${args[1]} ${args.length - 2}` : args.join(" "));
  }
}

Deno.test("SPOP and the set writes propagate as Redis propagates them", async () => {
  await withBoth({}, async (both) => {
    const redisTap = await StreamTap.attach(both.redis.port);
    const gocacheTap = await StreamTap.attach(both.gocache.port);
    await using c = await both.connect();
    try {
      const members = Array.from({ length: 20 }, (_, i) => `m${i}`);
      const cases: Arg[][][] = [
        [["SADD", "s", ...members], ["SADD", "s", "m1"], ["SREM", "s", "nope"]],
        [["SPOP", "s"]],
        [["SPOP", "s", 3]],
        [["SPOP", "s", 14]],
        [["SPOP", "s", 0], ["SPOP", "missing", 3], ["SPOP", "s", 5]],
        [["SADD", "i", 1, 2, 3], ["SPOP", "i", 1], ["SPOP", "i", 1], ["SPOP", "i"]],
        [["SADD", "a", 1, 2], ["SINTERSTORE", "d", "a", "missing"], ["SUNIONSTORE", "d", "a"]],
        [["SMOVE", "a", "b", 1], ["SMOVE", "a", "b", 9]],
        // Two writes, so that Redis wraps the transaction too (it leaves a single write bare).
        [["SADD", "b", 1, 2, 3], ["MULTI"], ["SPOP", "b", 2], ["SADD", "c", 1], ["EXEC"]],
      ];
      for (const commands of cases) {
        for (const command of commands) await c.call(...command);
        await c.call("SET", "marker", 1);
        const [redis, gocache] = await Promise.all([
          streamUntilMarker(redisTap),
          streamUntilMarker(gocacheTap),
        ]);
        assert.deepEqual(gocache, redis, JSON.stringify(commands));
      }
    } finally {
      redisTap.close();
      gocacheTap.close();
    }
  });
});
