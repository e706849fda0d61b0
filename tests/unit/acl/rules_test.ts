/**
 * ACL rules on users and selectors, in-process: parsing, Redis's error codes, ACL LIST's
 * description (Redis 7.0's category approximation), permission checks by key, channel and
 * first argument, and a property test that a user described by ACL LIST and read back is the
 * same user.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Acl, mergeSelectorArgs } from "../../../src/acl/acl.ts";
import { DENIED_CHANNEL, DENIED_CMD, DENIED_KEY } from "../../../src/acl/check.ts";
import { hashPassword, splitArgs, User } from "../../../src/acl/user.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import { createCommandTable } from "../../../src/commands/mod.ts";
import { fromBinaryString } from "../../../src/util/bytes.ts";

function newAcl(values: Partial<ReturnType<typeof defaultValues>> = {}): Acl {
  return new Acl(createCommandTable(), new Config({ ...defaultValues(), ...values }));
}

const acl = newAcl();

function user(...rules: string[]): User {
  const u = new User("u", acl.table);
  for (const rule of mergeSelectorArgs(rules) as string[]) {
    assert.equal(u.apply(rule), null, rule);
  }
  return u;
}

function check(u: User, ...argv: string[]) {
  const cmdName = argv[0].toLowerCase();
  let cmd = acl.table.lookup(cmdName)!;
  if (cmd.subcommands !== null && argv.length > 1) cmd = acl.table.lookup(`${cmdName}|${argv[1]}`)!;
  return acl.check(u, cmd, argv.map((a) => fromBinaryString(a)));
}

Deno.test("a new user is off with no permissions; the default user may do anything", () => {
  assert.equal(new User("bob", acl.table).describe(), "off resetchannels -@all");
  assert.equal(acl.default.describe(), "on nopass ~* &* +@all");
  assert.ok(acl.default.unrestricted);
  assert.ok(!user("+@all", "~*").unrestricted);
  assert.ok(user("+@all", "~*", "&*").unrestricted);
  assert.ok(!user("+@all", "~*", "&*", "-get").unrestricted);
});

Deno.test("rules are described as Redis 7.0 describes them", () => {
  assert.equal(
    user("on", "nopass", "+@all", "-@dangerous", "allkeys").describe(),
    "on nopass ~* resetchannels +@all -@dangerous",
  );
  assert.equal(user("+@all", "-get", "+get|x").describe(), "off resetchannels +@all -get +get|x");
  assert.equal(
    user("%RW~z*", "%WR~y", "~k*", "%R~k*", "%R~r*", "%W~w").describe(),
    "off ~z* ~y ~k* %R~r* %W~w resetchannels -@all",
  );
  assert.equal(user("&a", "&a", "&b").describe(), "off resetchannels &a &b -@all");
  assert.equal(user("reset").describe(), "off sanitize-payload resetchannels -@all");
  assert.equal(
    user(">p", "(~x +get", "+set)").describe(),
    `off #${hashPassword("p")} resetchannels -@all (~x resetchannels -@all +get +set)`,
  );
  assert.equal(
    user("+@read", "-get").describe().split(" ").slice(0, 4).join(" "),
    "off resetchannels -@all +@read",
  );
});

Deno.test("refused rules name Redis's errno", () => {
  const u = new User("u", acl.table);
  assert.equal(u.apply("foo"), "EINVAL");
  assert.equal(u.apply("+nosuch"), "ENOENT");
  assert.equal(u.apply("-@nosuch"), "ENOENT");
  assert.equal(u.apply("+config|get|x"), "ECHILD");
  assert.equal(u.apply("+config|"), "EINVAL");
  assert.equal(u.apply("+config|nosuch"), "ENOENT");
  assert.equal(u.apply("-get|x"), "ENOENT");
  assert.equal(u.apply("#abc"), "EBADMSG");
  assert.equal(u.apply("<nosuch"), "ENODEV");
  assert.equal(u.apply("~a b"), "EINVAL");
  assert.equal(u.apply("%X~a"), "EINVAL");
  assert.equal(u.apply("(on)"), "EINVAL");
  assert.equal(u.apply(""), null);
  u.apply("allkeys");
  assert.equal(u.apply("~x"), "EEXIST");
  u.apply("allchannels");
  assert.equal(u.apply("&x"), "EISDIR");
  assert.deepEqual(mergeSelectorArgs(["(~x", "+get"]), { unmatched: 0 });
});

Deno.test("ACL SETUSER applies all rules or none", () => {
  const a = newAcl();
  assert.ok("user" in a.setUser("alice", ["on", ">pw", "~k*"]));
  const refused = a.setUser("alice", ["+get", "nosuchrule"]);
  assert.deepEqual(refused, { error: "Error in ACL SETUSER modifier 'nosuchrule': Syntax error" });
  assert.equal(a.user("alice")!.describe(), `on #${hashPassword("pw")} ~k* resetchannels -@all`);
  assert.ok(a.authenticate("alice", "pw") !== null);
  assert.equal(a.authenticate("alice", "bad"), null);
  assert.equal(a.authenticate("nobody", "pw"), null);
  a.setUser("alice", ["off"]);
  assert.equal(a.authenticate("alice", "pw"), null);
});

Deno.test("requirepass is the default user's password", () => {
  const a = newAcl({ requirepass: "secret" });
  assert.equal(a.default.describe(), `on #${hashPassword("secret")} ~* &* +@all`);
  assert.ok(!a.defaultAuthenticates);
  assert.ok(a.authenticate("default", "secret") !== null);
});

Deno.test("keys: read and write access by the command's write flag", () => {
  const u = user("+@all", "%R~r*", "%W~w*", "~k*");
  assert.equal(check(u, "GET", "r1"), null);
  assert.deepEqual(check(u, "SET", "r1", "v"), { reason: DENIED_KEY, index: 1 });
  assert.equal(check(u, "SET", "w1", "v"), null);
  assert.deepEqual(check(u, "GET", "w1"), { reason: DENIED_KEY, index: 1 });
  // INCR reads what it writes: Redis asks for both.
  assert.deepEqual(check(u, "INCR", "w1"), { reason: DENIED_KEY, index: 1 });
  assert.equal(check(u, "MSET", "k1", "a", "w2", "b"), null);
  assert.deepEqual(check(u, "MSET", "k1", "a", "x", "b"), { reason: DENIED_KEY, index: 3 });
  assert.deepEqual(check(u, "EVAL", "return 1", "1", "zz"), { reason: DENIED_KEY, index: 3 });
});

Deno.test("commands, subcommands and first arguments", () => {
  const u = user("allkeys", "+get", "+config|get", "+select|0");
  assert.equal(check(u, "GET", "a"), null);
  assert.deepEqual(check(u, "SET", "a", "b"), { reason: DENIED_CMD, index: 0 });
  assert.equal(check(u, "CONFIG", "GET", "x"), null);
  assert.deepEqual(check(u, "CONFIG", "SET", "x", "y"), { reason: DENIED_CMD, index: 0 });
  assert.equal(check(u, "SELECT", "0"), null);
  assert.deepEqual(check(u, "SELECT", "1"), { reason: DENIED_CMD, index: 0 });
  // Commands that run before authentication are never refused by their bit.
  assert.equal(check(u, "AUTH", "x"), null);
});

Deno.test("channels: publish matches patterns, PSUBSCRIBE needs an equal pattern", () => {
  const u = user("+@all", "&news.*");
  assert.equal(check(u, "PUBLISH", "news.a", "m"), null);
  assert.deepEqual(check(u, "PUBLISH", "other", "m"), { reason: DENIED_CHANNEL, index: 1 });
  assert.deepEqual(check(u, "SUBSCRIBE", "news.a", "x"), { reason: DENIED_CHANNEL, index: 2 });
  assert.equal(check(u, "PSUBSCRIBE", "news.*"), null);
  assert.deepEqual(check(u, "PSUBSCRIBE", "news.a*"), { reason: DENIED_CHANNEL, index: 1 });
});

Deno.test("selectors: any selector may allow; the refusal reported is Redis's pick", () => {
  const u = user("~k*", "+get", "(~x* +set)");
  assert.equal(check(u, "GET", "k1"), null);
  assert.equal(check(u, "SET", "x1", "v"), null);
  assert.deepEqual(check(u, "SET", "k1", "v"), { reason: DENIED_KEY, index: 1 });
  assert.deepEqual(check(u, "DEL", "k1"), { reason: DENIED_CMD, index: 0 });
});

Deno.test("splitArgs reads quotes as Redis's sdssplitargs", () => {
  assert.deepEqual(splitArgs(`a "b c" 'd e' "\\x41\\n"`), ["a", "b c", "d e", "A\n"]);
  assert.equal(splitArgs(`"abc`), null);
  assert.deepEqual(splitArgs("   "), []);
});

/**
 * Key patterns for `%R~` and `%W~`. Not `*`: `%R~*` plus `%W~*` is described as `~*`, which
 * reads back as `allkeys` (Redis's description has the same quirk).
 */
const partialPattern = fc.stringMatching(/^[a-z*?:]{1,6}$/).filter((p) => p !== "*");

const ruleArb = fc.oneof(
  fc.constantFrom(
    "on",
    "off",
    "nopass",
    "resetpass",
    "allkeys",
    "resetkeys",
    "allchannels",
    "resetchannels",
    "allcommands",
    "nocommands",
    "+@read",
    "-@write",
    "+@all",
    "-@dangerous",
    "+@string",
    "-@hash",
    "+get",
    "-get",
    "+config|get",
    "-config",
    "+client",
    "-client|kill",
    "+select|0",
    "skip-sanitize-payload",
    "sanitize-payload",
    "clearselectors",
    "(~x* +get)",
    "(%R~r* -@all +@list &c)",
  ),
  fc.stringMatching(/^[a-z*?:]{1,6}$/).map((p) => `~${p}`),
  partialPattern.map((p) => `%R~${p}`),
  partialPattern.map((p) => `%W~${p}`),
  fc.stringMatching(/^[a-z*.]{1,6}$/).map((p) => `&${p}`),
  fc.stringMatching(/^[a-z0-9]{1,8}$/).map((p) => `>${p}`),
);

Deno.test("property: a user read back from its ACL LIST description is the same user", () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 25 }), (rules) => {
      const original = new User("p", acl.table);
      for (const rule of rules) original.apply(rule);
      const described = original.describe();
      const copy = new User("p", acl.table);
      const args = mergeSelectorArgs(described.split(" ")) as string[];
      for (const rule of args) assert.equal(copy.apply(rule), null, rule);
      assert.equal(copy.describe(), described);
      assert.deepEqual([...copy.root.allowed], [...original.root.allowed]);
      assert.deepEqual(copy.selectors.length, original.selectors.length);
    }),
    { numRuns: 300 },
  );
});
