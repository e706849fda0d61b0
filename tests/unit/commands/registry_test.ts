import assert from "node:assert/strict";
import { createCommandTable } from "../../../src/commands/mod.ts";
import { type Command, CommandTable } from "../../../src/commands/registry.ts";

const table = createCommandTable();

function everyCommand(): Command[] {
  const out: Command[] = [];
  for (const cmd of table.all()) out.push(cmd, ...(cmd.subcommands ?? []));
  return out;
}

Deno.test("every command name is lower case and resolvable from bytes in any case", () => {
  for (const cmd of table.all()) {
    assert.equal(cmd.name, cmd.name.toLowerCase());
    assert.equal(table.lookup(new TextEncoder().encode(cmd.name.toUpperCase())), cmd);
    assert.equal(table.get(cmd.name.toUpperCase()), cmd);
  }
  assert.equal(table.lookup(new TextEncoder().encode("nosuchcommand")), undefined);
});

Deno.test("every arity is non-zero and counts the command name (and subcommand)", () => {
  for (const cmd of everyCommand()) {
    assert.notEqual(cmd.arity, 0, cmd.fullName);
    const minimum = Math.abs(cmd.arity);
    assert.ok(minimum >= (cmd.fullName.includes("|") ? 2 : 1), cmd.fullName);
  }
});

Deno.test("every runnable command has a handler and containers have a HELP subcommand", () => {
  for (const cmd of everyCommand()) {
    if (cmd.subcommands) {
      assert.ok(cmd.subcommands.some((s) => s.name === "help"), `${cmd.name} has HELP`);
      assert.ok(cmd.subcommandIndex !== null);
    } else assert.ok(cmd.handler !== null, `${cmd.fullName} has a handler`);
  }
});

Deno.test("key positions lie within the arity", () => {
  for (const cmd of everyCommand()) {
    const keys = cmd.def.keys;
    if (!keys) continue;
    // Redis's "0 0 0" for commands whose keys follow a count (LMPOP, SINTERCARD, ZUNION, ...):
    // only with `movablekeys`, where the positions come from keysOf.
    if (keys.first === 0 && keys.last === 0 && keys.step === 0) {
      assert.ok(cmd.def.flags.includes("movablekeys") && cmd.def.keysOf, cmd.fullName);
      continue;
    }
    assert.ok(keys.first >= 1 && keys.step >= 1, cmd.fullName);
    if (keys.last > 0) assert.ok(keys.last >= keys.first, cmd.fullName);
    if (cmd.arity > 0) assert.ok(keys.first < cmd.arity, cmd.fullName);
  }
});

Deno.test("every command is documented with a summary, a group and a since version", () => {
  for (const cmd of everyCommand()) {
    assert.ok(cmd.def.summary.length > 0, cmd.fullName);
    assert.ok(cmd.def.group.length > 0, cmd.fullName);
    assert.match(cmd.def.since, /^\d+\.\d+\.\d+$/, cmd.fullName);
  }
});

Deno.test("a command declared twice is refused", () => {
  const def = table.get("ping")!.def;
  assert.throws(() => new CommandTable([def, def]), /Command 'ping' is declared twice/);
});

Deno.test("the commands the foundation promises are all present", () => {
  for (
    const name of [
      "ping",
      "echo",
      "quit",
      "reset",
      "hello",
      "auth",
      "time",
      "command",
      "client",
      "config",
      "info",
      "shutdown",
    ]
  ) {
    assert.ok(table.get(name), name);
  }
  const subs = (name: string) => table.get(name)!.subcommands!.map((s) => s.name).sort();
  assert.deepEqual(subs("client"), [
    "getname",
    "help",
    "id",
    "info",
    "kill",
    "list",
    "no-evict",
    "no-touch",
    "reply",
    "setinfo",
    "setname",
    "unblock",
  ]);
  assert.deepEqual(subs("config"), ["get", "help", "resetstat", "rewrite", "set"]);
  assert.deepEqual(subs("command"), ["count", "docs", "getkeys", "help", "info", "list"]);
});
