/** TIME, COMMAND, INFO and SHUTDOWN: the same requests to redis-server and gocache. */
import assert from "node:assert/strict";
import { createCommandTable } from "../../src/commands/mod.ts";
import { itemsOf, type Shape, textOf, unshow, withBoth } from "./_diff.ts";

/** Every element's type, recursively, with values dropped. */
function typesOnly(shape: Shape): unknown {
  if (shape.type === "array" || shape.type === "set" || shape.type === "push") {
    return { type: shape.type, items: shape.items.map(typesOnly) };
  }
  if (shape.type === "map") {
    return { type: "map", entries: shape.entries.map(([k, v]) => [typesOnly(k), typesOnly(v)]) };
  }
  return shape.type;
}

/** The text of every member of a set or array of simple strings. */
function names(shape: Shape): string[] {
  return itemsOf(shape).map(textOf);
}

/** One COMMAND INFO entry, decomposed (Redis 7's ten-element layout). */
interface Info {
  name: string;
  arity: Shape;
  flags: string[];
  keys: Shape[];
  categories: string[];
  subcommands: Shape[];
  types: unknown;
}

/**
 * A collection's type and the distinct types of its elements, not their number: Redis gives
 * commands more flags than gocache models, and tips (cluster routing hints) gocache has none of.
 */
function collectionType(shape: Shape): unknown {
  const items = itemsOf(shape);
  return { type: shape.type, of: [...new Set(items.map((i) => i.type))].sort() };
}

function commandInfo(shape: Shape): Info {
  const items = itemsOf(shape);
  assert.equal(items.length, 10, "COMMAND INFO entries have ten elements");
  return {
    name: textOf(items[0]),
    arity: items[1],
    flags: names(items[2]),
    keys: items.slice(3, 6),
    categories: names(items[6]),
    subcommands: itemsOf(items[9]),
    types: [
      ...items.slice(0, 2).map(typesOnly),
      collectionType(items[2]),
      ...items.slice(3, 6).map(typesOnly),
      collectionType(items[6]),
      items[7].type,
      items[8].type,
      items[9].type,
    ],
  };
}

/**
 * Where gocache's COMMAND INFO deliberately differs from redis-server 7.0's, each with its
 * reason. The comparison must find exactly these: one that no longer occurs is stale.
 */
const KNOWN_COMMAND_DIFFERENCES: Record<string, string> = {
  "client|no-touch: not in Redis": "a Redis 7.2 subcommand, newer than the 7.0 reference",
  "client|setinfo: not in Redis": "a Redis 7.2 subcommand, newer than the 7.0 reference",
  "cluster|migrateslots: not in Redis":
    "gocache's atomic slot migration (Valkey 9's syntax), newer than the 7.0 reference",
  "cluster|getslotmigrations: not in Redis":
    "progress of gocache's atomic slot migrations (Valkey 9)",
  "cluster|cancelslotmigrations: not in Redis":
    "cancels gocache's atomic slot migration (Valkey 9)",
  "cluster|syncslots: not in Redis":
    "the target side of gocache's atomic slot migration (internal, sent by the source node)",
  "sentinel: not in Redis":
    "Sentinel's client API, answered by members of a gocache group (outside one: unknown command)",
};

/** The `# Section` headers and the field names of an INFO text. */
function parseInfo(text: string): { sections: string[]; fields: Map<string, string> } {
  const sections: string[] = [];
  const fields = new Map<string, string>();
  for (const line of unshow(text).split("\r\n")) {
    if (line.startsWith("# ")) sections.push(line.slice(2));
    else if (line.includes(":")) {
      fields.set(line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1));
    }
  }
  return { sections, fields };
}

/** Fields gocache claims in INFO, which Redis has under the same names. */
const INFO_FIELDS = [
  "keyspace_hits",
  "keyspace_misses",
  "expired_keys",
  "evicted_keys",
  "redis_version",
  "redis_mode",
  "process_id",
  "run_id",
  "tcp_port",
  "uptime_in_seconds",
  "hz",
  "connected_clients",
  "maxclients",
  "blocked_clients",
  "total_connections_received",
  "total_commands_processed",
  "rejected_connections",
  "total_error_replies",
  "loading",
  "rdb_changes_since_last_save",
  "rdb_bgsave_in_progress",
  "rdb_last_save_time",
  "rdb_last_bgsave_status",
  "aof_enabled",
  "aof_rewrite_in_progress",
  "aof_last_write_status",
  "pubsub_channels",
  "pubsub_patterns",
  "pubsubshard_channels",
];

Deno.test("server commands answer exactly like redis-server", async (t) => {
  await withBoth({}, async (both) => {
    await using c = await both.connect();

    await t.step("TIME returns two bulk strings of digits", async () => {
      const { redis, gocache } = await c.call("TIME");
      assert.deepEqual(typesOnly(gocache), typesOnly(redis));
      for (const item of itemsOf(gocache)) assert.match(textOf(item), /^\d+$/);
      const [seconds, micros] = itemsOf(gocache).map((s) => Number(textOf(s)));
      assert.ok(micros < 1_000_000);
      const redisSeconds = Number(textOf(itemsOf(redis)[0]));
      assert.ok(Math.abs(seconds - redisSeconds) <= 2, "both clocks agree");
      await c.assertSame(["TIME", "x"]);
    });

    await t.step("COMMAND COUNT is an integer", async () => {
      const { redis, gocache } = await c.call("COMMAND", "COUNT");
      assert.equal(gocache.type, redis.type);
      assert.equal(gocache.type, "integer");
    });

    await t.step("COMMAND INFO of each command gocache has agrees with Redis", async () => {
      const table = [...createCommandTable().all()];
      // COMMAND LIST names the same commands and subcommands as the table.
      const { gocache: listed } = await c.call("COMMAND", "LIST");
      assert.deepEqual(
        names(listed).sort(),
        table.flatMap((cmd) => [cmd, ...cmd.subcommands ?? []]).map((cmd) => cmd.fullName).sort(),
        "COMMAND LIST is gocache's command table",
      );
      const differences: string[] = [];
      const differ = (what: string, g: unknown, r: unknown) => {
        try {
          assert.deepEqual(g, r);
        } catch {
          differences.push(`${what}: gocache ${JSON.stringify(g)}, Redis ${JSON.stringify(r)}`);
        }
      };
      for (const { name } of table) {
        const { redis, gocache } = await c.call("COMMAND", "INFO", name);
        const redisEntry = itemsOf(redis)[0];
        if (redisEntry.type === "null") {
          differences.push(`${name}: not in Redis`);
          continue;
        }
        const r = commandInfo(redisEntry);
        const g = commandInfo(itemsOf(gocache)[0]);
        differ(`${name} element types`, g.types, r.types);
        differ(`${name} name`, g.name, r.name);
        differ(`${name} arity`, g.arity, r.arity);
        differ(`${name} first/last/step`, g.keys, r.keys);
        // Exactly Redis's flags (hidden ones such as `sentinel` are printed by neither).
        differ(`${name} flags`, g.flags, r.flags);
        differ(`${name} ACL categories`, g.categories, r.categories);
        const redisSubs = new Map(r.subcommands.map((s) => {
          const info = commandInfo(s);
          return [info.name, info];
        }));
        for (const sub of g.subcommands.map(commandInfo)) {
          const ref = redisSubs.get(sub.name);
          if (ref === undefined) {
            differences.push(`${sub.name}: not in Redis`);
            continue;
          }
          differ(`${sub.name} arity`, sub.arity, ref.arity);
          differ(`${sub.name} first/last/step`, sub.keys, ref.keys);
          differ(`${sub.name} flags`, sub.flags, ref.flags);
          differ(`${sub.name} ACL categories`, sub.categories, ref.categories);
        }
      }
      assert.deepEqual(differences.sort(), Object.keys(KNOWN_COMMAND_DIFFERENCES).sort());
    });

    await t.step("COMMAND INFO of an unknown command is a null entry", async () => {
      await c.assertSame(["COMMAND", "INFO", "nosuchcommand"]);
      await c.assertSame(["COMMAND", "INFO", "nosuch1", "nosuch2"]);
    });

    await t.step("COMMAND INFO accepts names in any case and subcommands as a|b", async () => {
      const { redis, gocache } = await c.call("COMMAND", "INFO", "PING", "client|id");
      assert.equal(itemsOf(gocache).length, 2);
      const pairs = itemsOf(gocache).map((g, i) => [g, itemsOf(redis)[i]] as const);
      for (const [g, r] of pairs) {
        assert.equal(g.type, r.type);
        if (r.type !== "null") {
          assert.equal(commandInfo(g).name, commandInfo(r).name);
          assert.deepEqual(commandInfo(g).arity, commandInfo(r).arity);
        }
      }
    });

    await t.step("COMMAND INFO in RESP3 uses sets for flags and ACL categories", async () => {
      await using p = await both.connect();
      await p.call("HELLO", "3");
      const { redis, gocache } = await p.call("COMMAND", "INFO", "echo");
      assert.deepEqual(
        commandInfo(itemsOf(gocache)[0]).types,
        commandInfo(itemsOf(redis)[0]).types,
      );
    });

    await t.step("COMMAND GETKEYS errors have Redis's texts", async () => {
      await c.assertSame(["COMMAND", "GETKEYS", "nosuchcommand", "x"]);
      await c.assertSame(["COMMAND", "GETKEYS", "ping"]);
      await c.assertSame(["COMMAND", "GETKEYS", "echo"]);
      await c.assertSame(["COMMAND", "GETKEYS", "echo", "a", "b"]);
      await c.assertSame(["COMMAND", "GETKEYS", "client", "nosuch"]);
      await c.assertSame(["COMMAND", "GETKEYS", "client", "id"]);
      await c.assertSame(["COMMAND", "GETKEYS"]);
    });

    await t.step("COMMAND LIST FILTERBY PATTERN matches the same commands", async () => {
      // Sorted: Redis lists commands in hash-table order.
      const sorted = (s: Shape): Shape =>
        s.type === "array"
          ? {
            type: "array",
            items: [...s.items].sort((a, b) => textOf(a).localeCompare(textOf(b))),
          }
          : s;
      for (const pattern of ["ping", "ech?", "PING", "quit", "shutdow*", "rese[t]"]) {
        await c.assertSame(["COMMAND", "LIST", "FILTERBY", "PATTERN", pattern], {
          normalize: sorted,
        });
      }
      await c.assertSame(["COMMAND", "LIST", "FILTERBY", "PATTERN", "nosuch*"]);
      // Subcommand names gocache has must be listed by both.
      for (const pattern of ["client|id", "config|get", "command|count"]) {
        await c.assertSame(["COMMAND", "LIST", "FILTERBY", "PATTERN", pattern]);
      }
    });

    await t.step("COMMAND LIST with bad filters is a syntax error", async () => {
      await c.assertSame(["COMMAND", "LIST", "FILTERBY"]);
      await c.assertSame(["COMMAND", "LIST", "FILTERBY", "BOGUS", "x"]);
      await c.assertSame(["COMMAND", "LIST", "FILTERBY", "PATTERN"]);
      await c.assertSame(["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"]);
      await c.assertSame(["COMMAND", "LIST", "BOGUS"]);
    });

    await t.step("COMMAND with an unknown subcommand suggests COMMAND HELP", async () => {
      await c.assertSame(["COMMAND", "NOSUCH"]);
    });

    await t.step(
      "INFO has the same section headers for the sections gocache has",
      async () => {
        const cases = [
          [],
          ["server"],
          ["clients"],
          ["persistence"],
          ["stats"],
          ["replication"],
          [
            "SERVER",
            "clients",
          ],
          ["default"],
          ["all"],
          ["everything"],
          ["default", "commandstats"],
          [
            "keyspace",
            "cpu",
            "server",
          ],
          ["errorstats", "cluster"],
          ["commandstats", "nosuch"],
        ];
        // Keyspace is left out when empty: both servers get a key first.
        await c.assertSame(["SET", "info:key", "1"]);
        for (const args of cases) {
          const { redis, gocache } = await c.call("INFO", ...args);
          assert.equal(gocache.type, redis.type, `INFO ${args.join(" ")}: reply type`);
          const r = parseInfo(textOf(redis)).sections.filter((s) =>
            [
              "Server",
              "Clients",
              "Memory",
              "Persistence",
              "Stats",
              "Replication",
              "CPU",
              "Commandstats",
              "Errorstats",
              "Cluster",
              "Keyspace",
            ].includes(s)
          );
          // gocache has no modules or latencystats sections yet.
          assert.deepEqual(parseInfo(textOf(gocache)).sections, r, `INFO ${args.join(" ")}`);
        }
        await c.assertSame(["DEL", "info:key"]);
      },
    );

    await t.step("INFO replication of a leader without followers has Redis's fields", async () => {
      const { redis, gocache } = await c.call("INFO", "replication");
      const fields = (reply: typeof redis) => [...parseInfo(textOf(reply)).fields.keys()];
      assert.deepEqual(fields(gocache), fields(redis));
      const values = (reply: typeof redis) => parseInfo(textOf(reply)).fields;
      for (
        const field of ["role", "connected_slaves", "repl_backlog_active", "second_repl_offset"]
      ) {
        assert.equal(values(gocache).get(field), values(redis).get(field), field);
      }
    });

    await t.step("INFO has the fields gocache claims, under Redis's names", async () => {
      const { redis, gocache } = await c.call("INFO");
      const r = parseInfo(textOf(redis)).fields;
      const g = parseInfo(textOf(gocache)).fields;
      for (const field of INFO_FIELDS) {
        assert.ok(r.has(field), `redis-server has ${field}`);
        assert.ok(g.has(field), `gocache has ${field}`);
      }
    });

    await t.step("after CONFIG RESETSTAT the same commands give the same counters", async () => {
      await using p = await both.connect();
      await p.assertSame(["CONFIG", "RESETSTAT"]);
      for (
        const args of [
          ["PING"],
          ["ECHO", "x"],
          ["NOSUCH"],
          ["ECHO"],
          ["CLIENT", "NOSUCH"],
          ["CONFIG", "SET", "hz", "abc"],
          ["CLIENT", "SETNAME", "a b"],
          ["PING"],
        ]
      ) await p.assertSame(args);
      const counters = async (section: string, names: string[]) => {
        const { redis, gocache } = await p.call("INFO", section);
        const pick = (s: Shape) => {
          const lines = unshow(textOf(s)).split("\r\n");
          return names.map((n) => lines.find((l) => l.startsWith(`${n}:`)) ?? `${n}: missing`);
        };
        assert.deepEqual(pick(gocache), pick(redis), `INFO ${section}`);
      };
      await counters("stats", ["total_commands_processed", "total_error_replies"]);
      await counters("errorstats", ["errorstat_ERR"]);
      // Redis also reports usec and usec_per_call, which depend on timing.
      const calls = (line: string) => line.replace(/usec=\d+,usec_per_call=[\d.]+,/, "");
      const { redis, gocache } = await p.call("INFO", "commandstats");
      const stats = (s: Shape) =>
        unshow(textOf(s)).split("\r\n").filter((l) =>
          /^cmdstat_(ping|echo|client\|setname|config\|set|config\|resetstat):/.test(l)
        ).map(calls).sort();
      assert.deepEqual(stats(gocache), stats(redis), "INFO commandstats");
    });

    await t.step("INFO of an unknown section is empty", async () => {
      await c.assertSame(["INFO", "nosuchsection"]);
    });

    await t.step("INFO in RESP3 is a verbatim string", async () => {
      await using p = await both.connect();
      await p.call("HELLO", "3");
      const { redis, gocache } = await p.call("INFO", "server");
      assert.equal(gocache.type, redis.type);
      assert.equal(gocache.type === "verbatim" && gocache.format, "txt");
    });

    await t.step("SHUTDOWN ABORT without a shutdown in progress is refused", async () => {
      await c.assertSame(["SHUTDOWN", "ABORT"]);
    });

    await t.step("SHUTDOWN with contradictory or unknown options is a syntax error", async () => {
      await c.assertSame(["SHUTDOWN", "ABORT", "NOW"]);
      await c.assertSame(["SHUTDOWN", "NOW", "ABORT"]);
      await c.assertSame(["SHUTDOWN", "SAVE", "NOSAVE"]);
      await c.assertSame(["SHUTDOWN", "NOSAVE", "SAVE"]);
      await c.assertSame(["SHUTDOWN", "BOGUS"]);
      await c.assertSame(["PING"]);
    });
  });
});
