/**
 * FLUSHDB, SAVE, LASTSAVE, BGSAVE, BGREWRITEAOF, REPLICAOF and SLAVEOF: the same requests to
 * redis-server and gocache must get the same replies, types included. LASTSAVE is a clock, so
 * its type and plausibility are compared rather than its value; background jobs are awaited on
 * each server (INFO persistence) before the next step.
 */
import assert from "node:assert/strict";
import { freePort } from "../support/redis_server.ts";
import { plain, type RespConn } from "../support/resp_conn.ts";
import { waitFor } from "../support/wait_for.ts";
import { encodeCommand } from "../../src/resp/reply_decoder.ts";
import {
  type Arg,
  type Both,
  concat,
  type ConnPair,
  describeArgs,
  intOf,
  script,
  type Shape,
  withBoth,
} from "./_diff.ts";

/** INFO persistence fields of one server, as numbers where they are. */
async function persistenceInfo(conn: RespConn): Promise<Map<string, number>> {
  const info = plain(await conn.call("INFO", "persistence")) as string;
  const fields = new Map<string, number>();
  for (const line of info.split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0) fields.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return fields;
}

/** How many more background saves and rewrites a step waits for. */
interface MoreJobs {
  saves?: number;
  rewrites?: number;
}

/**
 * Reads both servers' counts of finished saves and rewrites (`rdb_saves`, `aof_rewrites`) and
 * returns a function that waits until each server has finished that many more and neither runs
 * nor schedules a job. A job scheduled inside EXEC has not started when EXEC answers, so
 * waiting for the counts, not only for "no job in progress", is what makes it deterministic.
 */
async function jobsFrom(both: Both): Promise<(more?: MoreJobs) => Promise<void>> {
  const watch = await both.connect();
  try {
    const sides = [
      { name: "redis-server", conn: watch.redis, start: await persistenceInfo(watch.redis) },
      { name: "gocache", conn: watch.gocache, start: await persistenceInfo(watch.gocache) },
    ];
    return async (more = {}) => {
      try {
        await Promise.all(sides.map(({ name, conn, start }) =>
          waitFor(async () => {
            const now = await persistenceInfo(conn);
            return now.get("rdb_saves")! >= start.get("rdb_saves")! + (more.saves ?? 0) &&
              now.get("aof_rewrites")! >= start.get("aof_rewrites")! + (more.rewrites ?? 0) &&
              ["rdb_bgsave_in_progress", "aof_rewrite_in_progress", "aof_rewrite_scheduled"]
                .every((field) => now.get(field) === 0);
          }, { what: `${name} to finish its background saves and rewrites` })
        ));
      } finally {
        watch.close();
      }
    };
  } catch (e) {
    watch.close();
    throw e;
  }
}

/** Unix time in whole seconds, as LASTSAVE counts. */
function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Resolves once the Unix time in seconds is past `seconds`, so that a save made from now on has
 * a later time. 50 ms past the turn of the second: redis-server reads `time(NULL)`, which Linux
 * serves from a coarse clock that can lag the precise one by a few milliseconds.
 */
async function nextSecondAfter(seconds: number): Promise<void> {
  const wait = (seconds + 1) * 1000 + 50 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/**
 * Asserts that LASTSAVE answers an integer on both servers, within [`from`, now] seconds, and
 * returns the larger of the two.
 */
async function lastSaveBetween(c: ConnPair, from: number, what: string): Promise<number> {
  const { redis, gocache } = await c.call("LASTSAVE");
  const to = unixSeconds();
  for (const [side, reply] of [["redis-server", redis], ["gocache", gocache]] as const) {
    assert.equal(reply.type, "integer", `${side}'s LASTSAVE ${what}: ${JSON.stringify(reply)}`);
    const at = intOf(reply);
    assert.ok(
      at >= from && at <= to,
      `${side}'s LASTSAVE ${what} is ${at}, not in [${from}, ${to}]`,
    );
  }
  return Math.max(intOf(redis), intOf(gocache));
}

/** A simple-string reply. */
function simple(value: string): Shape {
  return { type: "simple", value };
}

Deno.test("persistence and role commands answer exactly like redis-server", async (t) => {
  // A second early: redis-server's coarse clock may still show the previous second.
  const startedBefore = unixSeconds() - 1;
  await withBoth({ args: ["--appendonly", "no"] }, async (both) => {
    await using c = await both.connect();
    await using other = await both.connect();
    const step = (name: string, body: () => Promise<void>) =>
      t.step(name, async () => {
        await c.assertSame(["FLUSHALL"]);
        await body();
      });

    await step("FLUSHDB empties the selected database only and answers OK", async () => {
      await script(c, [
        ["SET", "a", "1"],
        ["SET", "b", "2", "EX", 100],
        ["SELECT", 1],
        ["SET", "c", "3"],
        ["SELECT", 0],
        ["FLUSHDB"],
        ["DBSIZE"],
        ["EXISTS", "a", "b"],
        ["TTL", "b"],
        ["SELECT", 1],
        ["DBSIZE"],
        ["GET", "c"],
        ["FLUSHDB"],
        ["DBSIZE"],
        ["FLUSHDB"],
        ["SELECT", 0],
      ]);
    });

    await step("FLUSHDB takes ASYNC or SYNC in any case and refuses other arguments", async () => {
      await script(c, [
        ["SET", "a", "1"],
        ["FLUSHDB", "ASYNC"],
        ["DBSIZE"],
        ["SET", "a", "1"],
        ["FLUSHDB", "sync"],
        ["DBSIZE"],
        ["SET", "a", "1"],
        ["FLUSHDB", "Async"],
        ["DBSIZE"],
        ["SET", "a", "1"],
        ["FLUSHDB", "foo"],
        ["FLUSHDB", "ASYNC", "SYNC"],
        ["FLUSHDB", "SYNC", "SYNC"],
        ["FLUSHDB", ""],
        ["DBSIZE"],
      ]);
    });

    await step("FLUSHDB queued in MULTI runs at EXEC and answers inside its array", async () => {
      await script(c, [
        ["SET", "a", "1"],
        ["MULTI"],
        ["SET", "b", "2"],
        ["FLUSHDB"],
        ["DBSIZE"],
        ["FLUSHDB", "nonsense"],
        ["EXEC"],
        ["DBSIZE"],
      ]);
    });

    await step("FLUSHDB fails a transaction watching a key of that database only", async () => {
      await script(c, [["SET", "k", "1"], ["WATCH", "k"]]);
      await other.assertSame(["SELECT", 1]);
      await other.assertSame(["FLUSHDB"]);
      await script(c, [["MULTI"], ["SET", "x", "1"], ["EXEC"], ["WATCH", "k"]]);
      await other.assertSame(["SELECT", 0]);
      await other.assertSame(["FLUSHDB"]);
      await script(c, [["MULTI"], ["SET", "x", "1"], ["EXEC"], ["DBSIZE"]]);
    });

    await step("LASTSAVE is an integer Unix time, the server's start until a save", async () => {
      await lastSaveBetween(c, startedBefore, "after startup");
      await script(c, [["LASTSAVE", "x"]]);
    });

    await step("SAVE answers OK and moves LASTSAVE to its time", async () => {
      await nextSecondAfter(await lastSaveBetween(c, startedBefore, "before SAVE"));
      const before = unixSeconds();
      await script(c, [["SET", "k", "v"], ["SAVE"], ["SAVE", "x"]]);
      await lastSaveBetween(c, before, "after SAVE");
      await script(c, [["MULTI"], ["SAVE"], ["EXEC"]]);
    });

    await step("BGSAVE answers that saving started; LASTSAVE moves when it ends", async () => {
      await nextSecondAfter(await lastSaveBetween(c, startedBefore, "before BGSAVE"));
      const before = unixSeconds();
      const done = await jobsFrom(both);
      await script(c, [["SET", "k", "v"], ["BGSAVE"]]);
      await done({ saves: 1 });
      await lastSaveBetween(c, before, "after BGSAVE");
    });

    await step("BGSAVE takes SCHEDULE and refuses other arguments", async () => {
      for (const schedule of ["SCHEDULE", "schedule"]) {
        // Nothing else runs, so SCHEDULE starts the save at once.
        const done = await jobsFrom(both);
        await script(c, [["BGSAVE", schedule]]);
        await done({ saves: 1 });
      }
      await script(c, [
        ["BGSAVE", "x"],
        ["BGSAVE", "SCHEDULE", "x"],
        ["BGSAVE", "SCHEDULE", "SCHEDULE"],
      ]);
    });

    await step(
      "BGSAVE inside EXEC is scheduled, as Redis never forks inside a transaction",
      async () => {
        const done = await jobsFrom(both);
        await script(c, [["MULTI"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["EXEC"]]);
        // One save for the two requests, once EXEC is over.
        await done({ saves: 1 });
        await script(c, [["LASTSAVE", "x"]]);
      },
    );

    await step("BGREWRITEAOF refuses arguments", async () => {
      await script(c, [["BGREWRITEAOF", "x"]]);
    });

    await step("BGREWRITEAOF with appendonly no: a known difference", async () => {
      // redis-server 7.0 writes a rewritten base file into appendonlydir even with the AOF off
      // and answers that the rewrite started. gocache has one single-file AOF and refuses, with
      // an error naming the setting (tests/integration/aof_test.ts asserts that refusal).
      const done = await jobsFrom(both);
      const { redis, gocache } = await c.call("BGREWRITEAOF");
      assert.deepEqual(redis, simple("Background append only file rewriting started"));
      assert.equal(gocache.type, "error");
      assert.match(JSON.stringify(gocache), /appendonly no/);
      // redis-server's rewrite runs (no count for it: gocache's does not).
      await done();
    });

    await step("REPLICAOF NO ONE and SLAVEOF NO ONE on a leader answer OK", async () => {
      await script(c, [
        ["REPLICAOF", "NO", "ONE"],
        ["replicaof", "no", "one"],
        ["SLAVEOF", "No", "One"],
        ["SET", "k", "v"],
      ]);
    });

    await step("REPLICAOF and SLAVEOF refuse a port that is not an integer 0-65535", async () => {
      const host = "127.0.0.1";
      const ports = ["abc", "", "-1", "65536", "99999999999999999999", " 5", "5 ", "+5", "007"];
      await script(c, ports.map((port) => ["REPLICAOF", host, port]));
      await script(c, ports.map((port) => ["SLAVEOF", host, port]));
      await script(c, [["REPLICAOF"], ["REPLICAOF", host], ["SLAVEOF", host, "1", "2"]]);
      await script(c, [["SET", "still", "leader"]]);
    });

    await step("REPLICAOF a leader answers OK, then that it is already connected", async () => {
      // Nothing listens there: both keep trying to connect, which is all this step needs.
      const port = freePort();
      await script(c, [
        ["SET", "k", "v"],
        ["REPLICAOF", "127.0.0.1", port],
        ["REPLICAOF", "127.0.0.1", port],
        ["SLAVEOF", "127.0.0.1", port],
        ["SET", "k", "w"],
        ["GET", "k"],
        ["REPLICAOF", "127.0.0.1", port + 1],
        ["REPLICAOF", "NO", "ONE"],
        ["SET", "k", "w"],
        ["GET", "k"],
        ["SLAVEOF", "127.0.0.1", port],
        ["SLAVEOF", "127.0.0.1", port],
        ["SLAVEOF", "NO", "ONE"],
        ["SET", "k", "x"],
      ]);
    });
  });
});

Deno.test("BGREWRITEAOF with appendonly yes answers exactly like redis-server", async (t) => {
  await withBoth({ args: ["--appendonly", "yes"] }, async (both) => {
    await using c = await both.connect();

    await t.step("BGREWRITEAOF answers that the rewrite started", async () => {
      const done = await jobsFrom(both);
      await script(c, [["SET", "k", "v"], ["BGREWRITEAOF"]]);
      await done({ rewrites: 1 });
      await script(c, [["BGREWRITEAOF", "x"], ["GET", "k"]]);
    });

    await t.step("BGREWRITEAOF inside EXEC is scheduled", async () => {
      const done = await jobsFrom(both);
      await script(c, [["MULTI"], ["BGREWRITEAOF"], ["BGREWRITEAOF"], ["SET", "k", "w"], [
        "EXEC",
      ]]);
      await done({ rewrites: 1 });
      await script(c, [["GET", "k"]]);
    });

    await t.step("a job asked for while another runs is scheduled or refused", async () => {
      // Each sequence in one write, so that each server handles it in one go while the first
      // job runs (redis-server's child counts as running until its cron reaps it).
      const sequences: [Arg[][], MoreJobs][] = [
        [[["BGSAVE"], ["BGREWRITEAOF"]], { saves: 1, rewrites: 1 }],
        [[["BGREWRITEAOF"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["BGREWRITEAOF"]], {
          saves: 1,
          rewrites: 1,
        }],
        [[["BGSAVE"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"]], { saves: 1 }],
      ];
      for (const [commands, more] of sequences) {
        const done = await jobsFrom(both);
        await c.sendRaw(concat(commands.map((command) => encodeCommand(command))));
        for (const command of commands) await c.assertSameRead(describeArgs(command));
        await done(more);
      }
    });

    await t.step("FLUSHDB answers OK with the AOF on", async () => {
      await script(c, [["FLUSHDB"], ["DBSIZE"]]);
    });
  });
});
