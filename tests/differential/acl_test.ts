/**
 * ACL: the same users, rules and requests sent to redis-server and gocache, same replies. Two
 * legitimate differences are normalized: ACL LIST and GETUSER list single commands in table
 * order (Redis in its hash table's order, which changes from run to run), so runs of single
 * command rules are compared sorted; ACL LOG's age and client info depend on timing and on the
 * connection, so they are blanked.
 */
import assert from "node:assert/strict";
import {
  assertSameCommandInfo,
  type ConnPair,
  itemsOf,
  pairsOf,
  script,
  type Shape,
  textOf,
  withBoth,
} from "./_diff.ts";

/** Sorts each run of single-command rules (`+get -set`) inside a rules text. */
function sortRuleRuns(text: string): string {
  // A selector's closing parenthesis ends its run.
  const words = text.replaceAll(")", " )").split(" ");
  const out: string[] = [];
  let run: string[] = [];
  const isSingle = (w: string) => /^[+-][^@]/.test(w);
  for (const w of words) {
    if (isSingle(w)) run.push(w);
    else {
      out.push(...run.sort(), w);
      run = [];
    }
  }
  out.push(...run.sort());
  return out.join(" ").replaceAll(" )", ")");
}

/** Applies {@link sortRuleRuns} to every string of a reply. */
function rules(shape: Shape): Shape {
  switch (shape.type) {
    case "bulk":
      return { type: "bulk", value: sortRuleRuns(shape.value) };
    case "array":
    case "set":
    case "push":
      return { ...shape, items: shape.items.map(rules) };
    case "map":
      return { type: "map", entries: shape.entries.map(([k, v]) => [k, rules(v)]) };
    default:
      return shape;
  }
}

/** ACL LOG entries with age-seconds and client-info blanked. */
function logEntries(shape: Shape): Shape {
  if (shape.type !== "array") return shape;
  return {
    type: "array",
    items: shape.items.map((entry) => {
      const blank = (pairs: [Shape, Shape][]): [Shape, Shape][] =>
        pairs.map(([k, v]) => {
          const key = textOf(k);
          if (key === "age-seconds") return [k, { type: "bulk", value: "0" }];
          if (key === "client-info") return [k, { type: "bulk", value: "" }];
          return [k, v];
        });
      if (entry.type === "map") return { type: "map", entries: blank(entry.entries) };
      return { type: "array", items: blank(pairsOf(entry)).flat() };
    }),
  };
}

async function deleteUsers(c: ConnPair, ...names: string[]): Promise<void> {
  await c.assertSame(["ACL", "DELUSER", ...names], { normalize: () => ({ type: "null" }) });
}

Deno.test("ACL behaves exactly like redis-server's", async (t) => {
  await withBoth({}, async (both) => {
    const c = await both.connect();
    try {
      await t.step("ACL's command info", async () => {
        await assertSameCommandInfo(c, [
          "acl",
          "acl|setuser",
          "acl|getuser",
          "acl|deluser",
          "acl|list",
          "acl|users",
          "acl|whoami",
          "acl|cat",
          "acl|genpass",
          "acl|log",
          "acl|dryrun",
          "acl|load",
          "acl|save",
          "acl|help",
        ]);
      });

      await t.step("SETUSER rules, GETUSER and LIST", async () => {
        const normalize = rules;
        const same = (args: (string | number)[]) => c.assertSame(args, { normalize });
        await same(["ACL", "LIST"]);
        await same(["ACL", "SETUSER", "bob"]);
        await same([
          "ACL",
          "SETUSER",
          "alice",
          "on",
          ">secret",
          "~app:*",
          "%R~r:*",
          "%W~w:*",
          "&ch*",
          "+@read",
          "-get",
          "+client|id",
          "(+set ~x*)",
        ]);
        await same(["ACL", "SETUSER", "t", "reset", "-@all", "+get", "+set", "+del"]);
        await same(["ACL", "SETUSER", "t2", "on", "nopass", "+@all", "-@dangerous", "allkeys"]);
        await same(["ACL", "SETUSER", "t3", "on", ">p", "~k*", "+get", "+select|0", "+config|get"]);
        await same(["ACL", "SETUSER", "t3", "%RW~z*", "%WR~y", "%R~k*", "(~x +get", "+set)"]);
        await same(["ACL", "SETUSER", "w", "+@all", "-get", "+get|x", "&c", "&c", "~a", "~a"]);
        await same([
          "ACL",
          "SETUSER",
          "w2",
          "nocommands",
          "+@hash",
          "+get",
          "allcommands",
          "-hset",
        ]);
        await same([
          "ACL",
          "SETUSER",
          "w3",
          "#148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940",
          ">p",
          "<p",
          "allchannels",
          "skip-sanitize-payload",
        ]);
        await same(["ACL", "SETUSER", "w4", "on", "nopass", "resetpass", "()", "clearselectors"]);
        for (const name of ["alice", "bob", "t", "t2", "t3", "w", "w2", "w3", "w4", "default"]) {
          await same(["ACL", "GETUSER", name]);
        }
        await same(["ACL", "GETUSER", "nosuch"]);
        await same(["ACL", "LIST"]);
        await same(["ACL", "USERS"]);
        await c.assertSame(["HELLO", "3"], { normalize: () => ({ type: "null" }) });
        for (const name of ["alice", "t3", "default"]) await same(["ACL", "GETUSER", name]);
        await same(["ACL", "LIST"]);
        await c.assertSame(["HELLO", "2"], { normalize: () => ({ type: "null" }) });
        await c.assertSame(["ACL", "DELUSER", "default"]);
        await c.assertSame(["ACL", "DELUSER", "t", "nosuch", "t2"]);
        await deleteUsers(c, "alice", "bob", "t3", "w", "w2", "w3", "w4");
        await same(["ACL", "LIST"]);
      });

      await t.step("refused rules answer Redis's errors and change nothing", async () => {
        await script(c, [
          ["ACL", "SETUSER", "x", "foo"],
          ["ACL", "SETUSER", "x", ">a", "foo"],
          ["ACL", "SETUSER", "x", "(+get"],
          ["ACL", "SETUSER", "x", "(~x +get", "+set)", "("],
          ["ACL", "SETUSER", "x", "%X~a"],
          ["ACL", "SETUSER", "x", "+nosuch"],
          ["ACL", "SETUSER", "x", "-@nosuch"],
          ["ACL", "SETUSER", "x", "#abc"],
          ["ACL", "SETUSER", "x", "+config|get|x"],
          ["ACL", "SETUSER", "x", "+config|"],
          ["ACL", "SETUSER", "x", "+config|nosuch"],
          ["ACL", "SETUSER", "x", "-get|x"],
          ["ACL", "SETUSER", "x", "allkeys", "~x"],
          ["ACL", "SETUSER", "x", "allchannels", "&x"],
          ["ACL", "SETUSER", "x", "<nosuch"],
          ["ACL", "SETUSER", "x", "!" + "a".repeat(64)],
          ["ACL", "SETUSER", "x", "~a b"],
          ["ACL", "SETUSER", "a b"],
          ["ACL", "SETUSER", "x", "(~x +nosuch)"],
          ["ACL", "SETUSER", "x", "(on)"],
          ["ACL", "USERS"],
          ["ACL", "SETUSER"],
          ["ACL", "GETUSER"],
          ["ACL"],
          ["ACL", "NOSUCH"],
        ]);
      });

      await t.step(
        "CAT, GENPASS, WHOAMI, HELP, LOG arguments, LOAD/SAVE without a file",
        async () => {
          await script(c, [
            ["ACL", "CAT"],
            ["ACL", "CAT", "nosuch"],
            ["ACL", "CAT", "a", "b"],
            ["ACL", "GENPASS", "0"],
            ["ACL", "GENPASS", "x"],
            ["ACL", "GENPASS", "4097"],
            ["ACL", "WHOAMI"],
            ["ACL", "HELP"],
            ["ACL", "LOG", "x"],
            ["ACL", "LOG", "1", "2"],
            ["ACL", "LOG", "RESET"],
            ["ACL", "LOG"],
            ["ACL", "LOAD"],
            ["ACL", "SAVE"],
          ]);
          for (const cat of ["string", "write", "pubsub", "connection"]) {
            const { redis, gocache } = await c.call("ACL", "CAT", cat);
            // Every command of the category that gocache has and Redis 7.0 knows, Redis lists too.
            const redisNames = new Set(itemsOf(redis).map(textOf));
            for (const name of itemsOf(gocache).map(textOf)) {
              // Commands newer than the reference redis-server (CLIENT SETINFO) are left out.
              await c.redis.send("COMMAND", "INFO", name);
              const known = await c.redis.read();
              if (Array.isArray(known) && known[0] !== null) assert.ok(redisNames.has(name), name);
            }
          }
          for (const bits of [undefined, 5, 100]) {
            const args = bits === undefined ? ["ACL", "GENPASS"] : ["ACL", "GENPASS", bits];
            const { redis, gocache } = await c.call(...args);
            assert.equal(textOf(gocache).length, textOf(redis).length);
            assert.match(textOf(gocache), /^[0-9a-f]+$/);
          }
        },
      );

      await t.step("DRYRUN", async () => {
        await c.assertSame([
          "ACL",
          "SETUSER",
          "d",
          "on",
          "nopass",
          "~k*",
          "&ch*",
          "+get",
          "+publish",
          "+select|0",
          "+config|get",
          "(~x +set +get)",
        ]);
        await script(c, [
          ["ACL", "DRYRUN", "d", "get", "k1"],
          ["ACL", "DRYRUN", "d", "get", "zz"],
          ["ACL", "DRYRUN", "d", "set", "k1", "v"],
          ["ACL", "DRYRUN", "d", "set", "x1", "v"],
          ["ACL", "DRYRUN", "d", "hset", "z1", "v"],
          ["ACL", "DRYRUN", "nosuch", "get", "x"],
          ["ACL", "DRYRUN", "d", "nosuchcmd", "x"],
          ["ACL", "DRYRUN", "d", "get"],
          ["ACL", "DRYRUN", "d", "publish", "ch1", "m"],
          ["ACL", "DRYRUN", "d", "publish", "other", "m"],
          ["ACL", "DRYRUN", "d", "config", "get", "x"],
          ["ACL", "DRYRUN", "d", "config", "set", "x", "y"],
          ["ACL", "DRYRUN", "d", "config", "nosuch"],
          ["ACL", "DRYRUN", "d", "select", "0"],
          ["ACL", "DRYRUN", "d", "select", "1"],
        ]);
        await deleteUsers(c, "d");
      });

      await t.step("AUTH, HELLO AUTH, NOPERM, MULTI, scripts and the ACL LOG", async () => {
        await c.assertSame(["ACL", "LOG", "RESET"]);
        await c.assertSame([
          "ACL",
          "SETUSER",
          "u",
          "reset",
          "on",
          ">pw",
          "~k*",
          "&ch*",
          "%R~r*",
          "+get",
          "+set",
          "+publish",
          "+subscribe",
          "+psubscribe",
          "+eval",
          "+multi",
          "+acl|whoami",
          "+client|id",
        ]);
        await c.assertSame(["ACL", "SETUSER", "off", "off", ">pw", "+@all"]);
        await using u = await both.connect();
        await script(u, [
          ["AUTH", "u", "bad"],
          ["AUTH", "nouser", "pw"],
          ["AUTH", "off", "pw"],
          ["AUTH", "bad"],
          ["ACL", "WHOAMI"],
          ["AUTH", "u", "pw"],
          ["ACL", "WHOAMI"],
          ["GET", "x"],
          ["GET", "k1"],
          ["SET", "r1", "v"],
          ["GET", "r1"],
          ["DEL", "k1"],
          ["CONFIG", "GET", "x"],
          ["ACL", "LIST"],
          ["PUBLISH", "x", "m"],
          ["PUBLISH", "ch1", "m"],
          ["EVAL", "return redis.call('get','x')", "0"],
          ["EVAL", "return redis.call('del','k1')", "0"],
          ["EVAL", "return redis.pcall('get','x')", "0"],
          ["EVAL", "return redis.pcall('publish','x','m')", "0"],
          ["MULTI"],
          ["DEL", "k"],
          ["GET", "x"],
          ["GET", "k"],
          ["EXEC"],
          ["MULTI"],
          ["GET", "k"],
          ["EXEC"],
          ["SUBSCRIBE", "ch1", "nope"],
        ]);
        await c.assertSame(["ACL", "LOG"], { normalize: logEntries });
        await c.assertSame(["ACL", "LOG", "2"], { normalize: logEntries });
        await c.assertSame(["ACL", "LOG", "-1"]);
        await using h = await both.connect();
        await script(h, [
          ["HELLO", "3", "AUTH", "u", "bad"],
        ]);
        await h.assertSame(["HELLO", "2", "AUTH", "u", "pw", "SETNAME", "n"], {
          normalize: (s) => s.type === "error" ? s : { type: "null" },
        });
        await script(h, [
          ["ACL", "WHOAMI"],
          ["CLIENT", "ID", "x"],
        ]);
        await c.assertSame(["ACL", "LOG", "1"], { normalize: logEntries });
      });

      await t.step("EXEC checks queued commands again when the user's rules changed", async () => {
        await c.assertSame(["ACL", "LOG", "RESET"]);
        await c.assertSame(["ACL", "SETUSER", "q", "reset", "on", ">pw", "~*", "&*", "+@all"]);
        await using q = await both.connect();
        await script(q, [
          ["AUTH", "q", "pw"],
          ["MULTI"],
          ["SET", "k", "1"],
          ["GET", "k"],
          ["PUBLISH", "ch", "m"],
        ]);
        // Between the queuing and the EXEC, another client takes SET and the keys away.
        await c.assertSame([
          "ACL",
          "SETUSER",
          "q",
          "-set",
          "resetkeys",
          "~other*",
          "resetchannels",
        ]);
        const exec = await q.assertSame(["EXEC"]);
        assert.equal(
          exec.type,
          "array",
          "EXEC ran: the commands were queued, then refused one by one",
        );
        await c.assertSame(["ACL", "LOG", "2"], { normalize: logEntries });
        await c.assertSame(["ACL", "DELUSER", "q"]);
      });

      await t.step(
        "SETUSER that takes a subscribed channel away closes the subscriber",
        async () => {
          await c.assertSame(
            ["ACL", "SETUSER", "p", "reset", "on", ">pw", "&news*", "&other*", "+@all"],
          );
          await using sub = await both.connect();
          await using kept = await both.connect();
          await script(sub, [["AUTH", "p", "pw"], ["SUBSCRIBE", "news1"]]);
          await script(kept, [["AUTH", "p", "pw"], ["SUBSCRIBE", "other1"]]);
          // A channel added: nobody is closed.
          await c.assertSame(["ACL", "SETUSER", "p", "&more*"]);
          await c.assertSame(["PUBLISH", "news1", "still"]);
          await sub.assertSameRead("the message on news1");
          // news* taken away: the news1 subscriber is closed, the other1 one stays.
          await c.assertSame(["ACL", "SETUSER", "p", "resetchannels", "&other*"]);
          assert.deepEqual(await sub.closedByServer(), { redis: true, gocache: true });
          await c.assertSame(["PUBLISH", "other1", "hello"]);
          await kept.assertSameRead("the message on other1");
          await c.assertSame(["ACL", "DELUSER", "p"]);
        },
      );

      await t.step("DELUSER disconnects the user's clients", async () => {
        await using u = await both.connect();
        await u.assertSame(["AUTH", "u", "pw"]);
        await c.assertSame(["ACL", "DELUSER", "u", "off"]);
        const closed = await u.closedByServer();
        assert.deepEqual(closed, { redis: true, gocache: true });
        await c.assertSame(["ACL", "USERS"]);
      });
    } finally {
      c.close();
    }
  });
});
