/**
 * The list commands against redis-server: every command's normal cases, options, edge indexes,
 * missing keys, WRONGTYPE, syntax and range errors, in RESP2 and RESP3, COMMAND INFO, keyspace
 * events, and the blocking commands' immediate answers (served at once, and inside MULTI).
 */
import assert from "node:assert/strict";
import {
  type Arg,
  type ConnPair,
  infoSummary,
  itemsOf,
  script,
  stepsFromEmpty,
  withBoth,
} from "./_diff.ts";

const NON_BLOCKING = [
  "lpush",
  "rpush",
  "lpushx",
  "rpushx",
  "lpop",
  "rpop",
  "llen",
  "lrange",
  "lindex",
  "lset",
  "linsert",
  "lrem",
  "ltrim",
  "lpos",
  "lmove",
  "rpoplpush",
  "lmpop",
];
const BLOCKING = ["blpop", "brpop", "blmove", "brpoplpush", "blmpop"];
const INDEXES = [
  -100,
  -7,
  -6,
  -5,
  -1,
  0,
  1,
  4,
  5,
  6,
  100,
  "9223372036854775807",
  "-9223372036854775808",
];

/** Runs the same commands in RESP2 and, after HELLO 3, in RESP3 (HELLO's own replies differ). */
async function bothProtocols(c: ConnPair, commands: Arg[][]): Promise<void> {
  await script(c, commands);
  await c.call("HELLO", "3");
  await script(c, commands);
  await c.call("HELLO", "2");
}

Deno.test("list commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();
    const step = stepsFromEmpty(t, c);

    await step("COMMAND INFO of every list command agrees with Redis", async () => {
      for (const name of NON_BLOCKING) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        assert.deepEqual(infoSummary(itemsOf(gocache)[0]), infoSummary(itemsOf(redis)[0]), name);
      }
      for (const name of BLOCKING) {
        // Flags aside: COMMAND INFO does not print "blocking" yet (commands/command.ts).
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        const [mine, theirs] = [gocache, redis].map((s) => {
          const summary = infoSummary(itemsOf(s)[0]) as { flags: string[] };
          return { ...summary, flags: summary.flags.filter((f) => f !== "blocking") };
        });
        assert.deepEqual(mine, theirs, name);
      }
      await script(c, [
        ["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"],
        ["COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "RIGHT", "COUNT", "2"],
        ["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"],
        ["COMMAND", "GETKEYS", "LMOVE", "a", "b", "LEFT", "RIGHT"],
      ]);
    });

    await step("pushes create, grow and report the length; the X forms need the key", async () => {
      await script(c, [
        ["LPUSH", "l", "a"],
        ["LPUSH", "l", "b", "c"],
        ["RPUSH", "l", "d", "e", "f"],
        ["LRANGE", "l", 0, -1],
        ["LPUSHX", "l", "x", "y"],
        ["RPUSHX", "l", "z"],
        ["LRANGE", "l", 0, -1],
        ["LPUSHX", "missing", "x"],
        ["RPUSHX", "missing", "x", "y"],
        ["EXISTS", "missing"],
        ["TYPE", "l"],
        ["OBJECT", "ENCODING", "l"],
        ["RPUSH", "bin", "\x00\xff\r\n", ""],
        ["LRANGE", "bin", 0, -1],
        ["LPUSH", "l"],
        ["RPUSHX", "l"],
        ["SET", "s", "v"],
        ["LPUSH", "s", "a"],
        ["RPUSH", "s", "a"],
        ["LPUSHX", "s", "a"],
        ["RPUSHX", "s", "a"],
        ["SET", "big", "x"],
        ["DEL", "big"],
      ]);
      const many: Arg[] = ["RPUSH", "big"];
      for (let i = 0; i < 1000; i++) many.push(`item-${i}`);
      await script(c, [many, ["LLEN", "big"], ["OBJECT", "ENCODING", "big"], [
        "LINDEX",
        "big",
        517,
      ]]);
    });

    await step("LPOP and RPOP with and without a count, in RESP2 and RESP3", async () => {
      await bothProtocols(c, [
        ["DEL", "l"],
        ["RPUSH", "l", "a", "b", "c", "d", "e", "f"],
        ["LPOP", "l"],
        ["RPOP", "l"],
        ["LPOP", "l", 2],
        ["RPOP", "l", 1],
        ["LPOP", "l", 0],
        ["RPOP", "l", 100],
        ["EXISTS", "l"],
        ["LPOP", "l"],
        ["RPOP", "l"],
        ["LPOP", "l", 0],
        ["RPOP", "l", 3],
        ["LPOP", "l", -1],
        ["LPOP", "l", "x"],
        ["RPOP", "l", "9223372036854775808"],
        ["LPOP", "l", 1, 2],
        ["RPOP"],
        ["SET", "s", "v"],
        ["LPOP", "s"],
        ["RPOP", "s", 2],
        ["LPOP", "s", -1],
        ["RPUSH", "l", "x"],
        ["RPOP", "l", "9223372036854775807"],
      ]);
    });

    await step("LLEN, LINDEX and LRANGE over a grid of indexes", async () => {
      await c.assertSame(["RPUSH", "l", "a", "b", "c", "d", "e"]);
      const commands: Arg[][] = [["LLEN", "l"], ["LLEN", "missing"]];
      for (const start of INDEXES) {
        commands.push(["LINDEX", "l", start]);
        for (const end of INDEXES) commands.push(["LRANGE", "l", start, end]);
      }
      await script(c, commands);
      await bothProtocols(c, [
        ["LINDEX", "missing", 0],
        ["LINDEX", "l", 10],
        ["LRANGE", "missing", 0, -1],
        ["LINDEX", "l", "x"],
        ["LINDEX", "missing", "x"],
        ["LRANGE", "l", "x", 1],
        ["LRANGE", "l", 0, "1.5"],
        ["LRANGE", "missing", "x", 1],
        ["SET", "s", "v"],
        ["LLEN", "s"],
        ["LINDEX", "s", 0],
        ["LINDEX", "s", "x"],
        ["LRANGE", "s", 0, 1],
        ["LRANGE", "s", "x", 1],
        ["LLEN"],
        ["LINDEX", "l"],
        ["LRANGE", "l", 0],
      ]);
    });

    await step(
      "LRANGE over packed nodes, binary items, and inside MULTI around changes",
      async () => {
        const items: Arg[] = [];
        for (let i = 0; i < 700; i++) {
          items.push(i % 3 === 0 ? `item-${i}-${"x".repeat(i % 40)}` : `b\xe9\u00ff\r\n${i}`);
        }
        await c.assertSame(["RPUSH", "big", ...items]);
        await c.assertSame(["LPUSH", "big", "head-1", "head-2", "\x00\x80"]);
        await bothProtocols(c, [
          ["LRANGE", "big", 0, -1],
          ["LRANGE", "big", 1, 600],
          ["LRANGE", "big", -300, -2],
          ["LRANGE", "big", 250, 251],
        ]);
        await script(c, [
          ["MULTI"],
          ["LRANGE", "big", 0, 99],
          ["LSET", "big", 5, "replaced"],
          ["LPOP", "big", 3],
          ["RPOP", "big"],
          ["LINSERT", "big", "BEFORE", "replaced", "inserted"],
          ["LTRIM", "big", 0, 50],
          ["LRANGE", "big", 0, 99],
          ["EXEC"],
          ["DEL", "big"],
        ]);
      },
    );

    await step("LSET replaces by index and reports missing keys and bad indexes", async () => {
      await script(c, [
        ["RPUSH", "l", "a", "b", "c"],
        ["LSET", "l", 0, "x"],
        ["LSET", "l", -1, "z"],
        ["LSET", "l", 1, "a longer value than before"],
        ["LRANGE", "l", 0, -1],
        ["LSET", "l", 3, "v"],
        ["LSET", "l", -4, "v"],
        ["LSET", "l", "x", "v"],
        ["LSET", "missing", 0, "v"],
        ["LSET", "missing", "x", "v"],
        ["SET", "s", "v"],
        ["LSET", "s", 0, "v"],
        ["LSET", "s", "x", "v"],
        ["LSET", "l", 0],
      ]);
    });

    await step("LINSERT before and after the first pivot", async () => {
      await script(c, [
        ["RPUSH", "l", "a", "b", "a", "c"],
        ["LINSERT", "l", "BEFORE", "a", "x"],
        ["LINSERT", "l", "after", "a", "y"],
        ["LINSERT", "l", "AFTER", "c", "z"],
        ["LINSERT", "l", "before", "x", "w"],
        ["LINSERT", "l", "Before", "b", "v"],
        ["LRANGE", "l", 0, -1],
        ["LINSERT", "l", "before", "nope", "v"],
        ["LINSERT", "l", "middle", "a", "v"],
        ["LINSERT", "missing", "before", "a", "v"],
        ["LINSERT", "missing", "middle", "a", "v"],
        ["SET", "s", "v"],
        ["LINSERT", "s", "before", "a", "v"],
        ["LINSERT", "s", "middle", "a", "v"],
        ["LINSERT", "l", "before", "a"],
      ]);
      const many: Arg[] = ["RPUSH", "long"];
      for (let i = 0; i < 300; i++) many.push(i % 7 === 0 ? "p" : `i${i}`);
      await script(c, [
        many,
        ["LINSERT", "long", "after", "i290", "near-tail"],
        ["LINSERT", "long", "before", "i5", "near-head"],
        ["LINSERT", "long", "before", "i150", "middle"],
        ["LRANGE", "long", 0, -1],
      ]);
    });

    await step("LREM removes from the head, the tail or everywhere", async () => {
      for (const count of [0, 1, 2, -1, -2, 100, -100, "-9223372036854775808"]) {
        await script(c, [
          ["DEL", "l"],
          ["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"],
          ["LREM", "l", count, "a"],
          ["LRANGE", "l", 0, -1],
        ]);
      }
      await script(c, [
        ["LREM", "l", 0, "nope"],
        ["RPUSH", "only", "a", "a"],
        ["LREM", "only", 0, "a"],
        ["EXISTS", "only"],
        ["LREM", "missing", 0, "a"],
        ["LREM", "l", "x", "a"],
        ["LREM", "missing", "x", "a"],
        ["SET", "s", "v"],
        ["LREM", "s", 0, "a"],
        ["LREM", "s", "x", "a"],
        ["LREM", "l", 0],
      ]);
    });

    await step("LTRIM keeps a range and deletes an emptied list", async () => {
      for (
        const [start, end] of [[0, -1], [1, -2], [2, 2], [-3, -1], [5, 10], [3, 1], [-100, 100], [
          0,
          0,
        ], [-1, -1]]
      ) {
        await script(c, [
          ["DEL", "l"],
          ["RPUSH", "l", "a", "b", "c", "d", "e"],
          ["LTRIM", "l", start, end],
          ["LRANGE", "l", 0, -1],
          ["EXISTS", "l"],
        ]);
      }
      await script(c, [
        ["LTRIM", "missing", 0, 1],
        ["LTRIM", "missing", "x", 1],
        ["LTRIM", "l", 0, "x"],
        ["SET", "s", "v"],
        ["LTRIM", "s", 0, 1],
        ["LTRIM", "s", "x", 1],
        ["LTRIM", "l", 0],
      ]);
    });

    await step("LPOS with RANK, COUNT and MAXLEN, and its errors", async () => {
      await c.assertSame(["RPUSH", "l", "a", "b", "c", "a", "b", "a", "d", "a"]);
      const commands: Arg[][] = [];
      for (
        const rank of [
          [],
          ["RANK", 1],
          ["RANK", 2],
          ["RANK", 4],
          ["RANK", 5],
          ["RANK", -1],
          ["RANK", -3],
          ["RANK", -9],
          ["RANK", "-9223372036854775808"],
          ["RANK", "9223372036854775807"],
        ]
      ) {
        for (const count of [[], ["COUNT", 0], ["COUNT", 1], ["COUNT", 2], ["COUNT", 10]]) {
          for (const maxlen of [[], ["MAXLEN", 0], ["MAXLEN", 1], ["MAXLEN", 4], ["MAXLEN", 100]]) {
            commands.push(["LPOS", "l", "a", ...rank, ...count, ...maxlen]);
          }
        }
      }
      commands.push(["LPOS", "l", "zz"], ["LPOS", "l", "zz", "COUNT", 0], [
        "LPOS",
        "l",
        "b",
        "maxlen",
        1,
        "rank",
        1,
      ]);
      await script(c, commands);
      await bothProtocols(c, [
        ["LPOS", "l", "zz"],
        ["LPOS", "missing", "a"],
        ["LPOS", "missing", "a", "COUNT", 2],
        ["LPOS", "missing", "a", "RANK", 0],
        ["LPOS", "l", "a", "RANK", 0],
        ["LPOS", "l", "a", "RANK", "x"],
        ["LPOS", "l", "a", "COUNT", -1],
        ["LPOS", "l", "a", "COUNT", "x"],
        ["LPOS", "l", "a", "MAXLEN", -1],
        ["LPOS", "l", "a", "MAXLEN", "x"],
        ["LPOS", "l", "a", "RANK"],
        ["LPOS", "l", "a", "BOGUS", 1],
        ["LPOS", "l", "a", "COUNT", 1, "RANK", 0],
        ["LPOS", "l", "a", "RANK", 0, "COUNT", -1],
        ["SET", "s", "v"],
        ["LPOS", "s", "a"],
        ["LPOS", "s", "a", "RANK", 0],
        ["LPOS", "l"],
      ]);
    });

    await step("LMOVE and RPOPLPUSH between lists, onto themselves and new keys", async () => {
      await script(c, [
        ["RPUSH", "src", "a", "b", "c"],
        ["LMOVE", "src", "dst", "LEFT", "RIGHT"],
        ["LMOVE", "src", "dst", "right", "left"],
        ["LMOVE", "src", "dst", "Left", "Left"],
        ["LRANGE", "dst", 0, -1],
        ["EXISTS", "src"],
        ["RPOPLPUSH", "dst", "dst"],
        ["LMOVE", "dst", "dst", "LEFT", "RIGHT"],
        ["LRANGE", "dst", 0, -1],
        ["RPUSH", "one", "x"],
        ["LMOVE", "one", "one", "LEFT", "LEFT"],
        ["LRANGE", "one", 0, -1],
        ["RPOPLPUSH", "one", "other"],
        ["EXISTS", "one"],
        ["RPOPLPUSH", "missing", "dst"],
        ["LMOVE", "missing", "dst", "LEFT", "LEFT"],
        ["LMOVE", "missing", "dst", "UP", "LEFT"],
        ["LMOVE", "dst", "x", "LEFT", "DOWN"],
        ["SET", "s", "v"],
        ["LMOVE", "s", "dst", "LEFT", "LEFT"],
        ["LMOVE", "dst", "s", "LEFT", "LEFT"],
        ["RPOPLPUSH", "dst", "s"],
        ["RPOPLPUSH", "missing", "s"],
        ["LRANGE", "dst", 0, -1],
        ["LMOVE", "dst", "x", "LEFT"],
        ["RPOPLPUSH", "dst"],
      ]);
      await bothProtocols(c, [["LMOVE", "missing", "dst", "LEFT", "LEFT"], [
        "RPOPLPUSH",
        "missing",
        "d",
      ]]);
    });

    await step("LMPOP pops from the first non-empty list, with its errors", async () => {
      await bothProtocols(c, [
        ["DEL", "a", "b"],
        ["RPUSH", "b", "1", "2", "3", "4"],
        ["LMPOP", 2, "a", "b", "LEFT"],
        ["LMPOP", 2, "a", "b", "right", "COUNT", 2],
        ["LMPOP", 1, "b", "LEFT", "count", 10],
        ["EXISTS", "b"],
        ["LMPOP", 2, "a", "b", "LEFT"],
        ["LMPOP", 0, "a", "LEFT"],
        ["LMPOP", -1, "a", "LEFT"],
        ["LMPOP", "x", "a", "LEFT"],
        ["LMPOP", 2, "a", "LEFT"],
        ["LMPOP", 3, "a", "LEFT"],
        ["LMPOP", "9223372036854775807", "a", "LEFT"],
        ["LMPOP", 1, "a", "MIDDLE"],
        ["LMPOP", 1, "a", "LEFT", "COUNT", 0],
        ["LMPOP", 1, "a", "LEFT", "COUNT", -1],
        ["LMPOP", 1, "a", "LEFT", "COUNT", "x"],
        ["LMPOP", 1, "a", "LEFT", "COUNT", 1, "COUNT", 1],
        ["LMPOP", 1, "a", "LEFT", "COUNT"],
        ["LMPOP", 1, "a", "LEFT", "BOGUS"],
        ["SET", "s", "v"],
        ["LMPOP", 2, "a", "s", "LEFT"],
        ["RPUSH", "a", "x"],
        ["LMPOP", 2, "a", "s", "LEFT"],
        ["LMPOP", 1, "a"],
      ]);
    });

    await step("blocking commands with items answer at once like their plain forms", async () => {
      await bothProtocols(c, [
        ["DEL", "a", "b", "d"],
        ["RPUSH", "b", "1", "2", "3", "4", "5"],
        ["BLPOP", "a", "b", 0],
        ["BRPOP", "a", "b", "0.5"],
        ["BLMOVE", "b", "d", "LEFT", "RIGHT", 0],
        ["BRPOPLPUSH", "b", "d", 0],
        ["BLMPOP", 0, 2, "a", "b", "LEFT", "COUNT", 5],
        ["LRANGE", "d", 0, -1],
        ["EXISTS", "b"],
        ["SET", "s", "v"],
        ["BLPOP", "a", "s", 0],
        ["BRPOP", "s", 0],
        ["BLMOVE", "s", "d", "LEFT", "LEFT", 0],
        ["BLMOVE", "d", "s", "LEFT", "LEFT", 0],
        ["BRPOPLPUSH", "s", "d", 0],
        ["BLMPOP", 0, 1, "s", "LEFT"],
      ]);
    });

    await step("blocking commands check their arguments like Redis", async () => {
      await script(c, [
        ["BLPOP", "a", -1],
        ["BLPOP", "a", "x"],
        ["BLPOP", "a", "inf"],
        ["BLPOP", "a", "-inf"],
        ["BLPOP", "a", "nan"],
        ["BLPOP", "a", " 1"],
        ["BLPOP", "a", "1e30"],
        ["BLPOP", "a", "1e5000"],
        ["BLPOP", "a", ""],
        ["BLMOVE", "a", "b", "UP", "LEFT", 0],
        ["BLMOVE", "a", "b", "LEFT", "DOWN", "x"],
        ["BLMOVE", "a", "b", "LEFT", "LEFT", "x"],
        ["BLMOVE", "a", "b", "LEFT", "LEFT", -1],
        ["BRPOPLPUSH", "a", "b", "x"],
        ["BRPOPLPUSH", "a", "b", -1],
        ["BLMPOP", "x", 1, "a", "LEFT"],
        ["BLMPOP", 0, 0, "a", "LEFT"],
        ["BLMPOP", 0, "x", "a", "LEFT"],
        ["BLMPOP", 0, 2, "a", "LEFT"],
        ["BLMPOP", 0, 1, "a", "MIDDLE"],
        ["BLMPOP", 0, 1, "a", "LEFT", "COUNT", 0],
        ["BLMPOP", -1, 1, "a", "LEFT"],
        ["BLPOP", "a"],
        ["BLMOVE", "a", "b", "LEFT", "LEFT"],
        ["BLMPOP", 0, 1, "a"],
      ]);
    });

    await step(
      "inside MULTI the blocking commands answer at once, in RESP2 and RESP3",
      async () => {
        const block: Arg[][] = [
          ["MULTI"],
          ["BLPOP", "a", 0],
          ["BRPOP", "a", "b", 1],
          ["BLMOVE", "a", "b", "LEFT", "LEFT", 0],
          ["BRPOPLPUSH", "a", "b", 0],
          ["BLMPOP", 0, 1, "a", "LEFT"],
          ["RPUSH", "a", "x", "y"],
          ["BLPOP", "a", 0],
          ["BLMOVE", "a", "b", "LEFT", "LEFT", 0],
          ["EXEC"],
        ];
        await bothProtocols(c, [["DEL", "a", "b"], ...block, ["DEL", "a", "b"]]);
      },
    );

    await step("keyspace events are those of Redis, in its order", async () => {
      await using sub = await both.connect();
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
      await sub.assertSame(["PSUBSCRIBE", "__key*__:*"]);
      const commands: Arg[][] = [
        ["RPUSH", "l", "a", "b", "c", "d"],
        ["LPUSH", "l", "z"],
        ["LPUSHX", "l", "y"],
        ["RPUSHX", "l", "x"],
        ["LPOP", "l"],
        ["RPOP", "l", 2],
        ["LSET", "l", 0, "q"],
        ["LINSERT", "l", "BEFORE", "q", "p"],
        ["LINSERT", "l", "BEFORE", "nope", "p"],
        ["LREM", "l", 0, "nope"],
        ["LREM", "l", 1, "p"],
        ["LTRIM", "l", 0, -1],
        ["LMOVE", "l", "m", "LEFT", "RIGHT"],
        ["RPOPLPUSH", "m", "m"],
        ["LMPOP", 1, "l", "RIGHT", "COUNT", 9],
        ["LTRIM", "m", 5, 1],
        ["RPUSH", "n", "1", "2"],
        ["LREM", "n", 0, "1"],
        ["LREM", "n", 0, "2"],
        ["RPUSH", "n", "1"],
        ["BLPOP", "n", 0],
        ["RPUSH", "n", "1"],
        ["BLMOVE", "n", "o", "LEFT", "LEFT", 0],
        ["SET", "done", "1"],
      ];
      await script(c, commands);
      // Every event up to the SET that ends the script, in order.
      for (let i = 0; i < 200; i++) {
        const event = await sub.assertSameRead("the next keyspace event");
        const items = itemsOf(event);
        if (items[2].type === "bulk" && items[2].value === "__keyevent@0__:set") break;
      }
      await c.assertSame(["CONFIG", "SET", "notify-keyspace-events", ""]);
    });

    await step("the change counter moves as in Redis", async () => {
      const changes = async (command: Arg[]) => {
        await c.assertSame(command);
        await c.assertSame(["INFO", "persistence"], {
          normalize: (shape) => {
            const text = shape.type === "verbatim" || shape.type === "bulk" ? shape.value : "";
            const line = text.split("\\r\\n").find((l) =>
              l.startsWith("rdb_changes_since_last_save")
            );
            return { type: "bulk", value: line ?? "" };
          },
        });
      };
      await c.assertSame(["SAVE"]);
      for (
        const command of [
          ["RPUSH", "l", "a", "b", "c", "d", "e"],
          ["LPUSH", "l", "x", "y"],
          ["LPOP", "l", 3],
          ["LTRIM", "l", 0, -1],
          ["LTRIM", "l", 1, -2],
          ["LREM", "l", 0, "c"],
          ["LMOVE", "l", "new", "LEFT", "LEFT"],
          ["LMPOP", 1, "new", "LEFT"],
          ["RPOPLPUSH", "l", "l"],
        ] as Arg[][]
      ) await changes(command);
    });
  });
});
