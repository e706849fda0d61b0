import assert from "node:assert/strict";
import { Config, ConfigSetError, defaultValues } from "../../../src/config/config.ts";
import { ConfigLoadError, loadConfig, parseConfigYaml } from "../../../src/config/load.ts";
import { PARAMS, parseOutputBufferLimits } from "../../../src/config/schema.ts";
import { parseInteger, parseMemory } from "../../../src/config/units.ts";

Deno.test("memory values accept Redis's units with k = 1000 and kb = 1024", () => {
  assert.equal(parseMemory("100"), 100);
  assert.equal(parseMemory("1k"), 1000);
  assert.equal(parseMemory("1kb"), 1024);
  assert.equal(parseMemory("100mb"), 100 * 1024 * 1024);
  assert.equal(parseMemory("1GB"), 1024 ** 3);
  assert.equal(parseMemory("2g"), 2e9);
  assert.equal(parseMemory("1b"), 1);
  for (const bad of ["", "-1", "1tb", "1.5mb", "mb", "1 mb x", "0x10"]) {
    assert.equal(parseMemory(bad), null, bad);
  }
});

Deno.test("integers are plain decimal numbers", () => {
  assert.equal(parseInteger("42"), 42);
  assert.equal(parseInteger("-7"), -7);
  for (const bad of ["", "4.2", "1e3", "abc", "12abc"]) assert.equal(parseInteger(bad), null, bad);
});

Deno.test("every parameter's default parses and prints back as CONFIG GET shows it", () => {
  const values = defaultValues();
  assert.equal(values.port, 7000);
  assert.equal(values.bind, "127.0.0.1");
  assert.equal(values.dir, "./data");
  const config = new Config(values);
  for (const p of PARAMS) {
    const text = config.text(p.name);
    assert.deepEqual(p.parse(text), values[p.name], p.name);
  }
});

Deno.test("config/node.yaml documents every parameter with its default", async () => {
  const text = await Deno.readTextFile(new URL("../../../config/node.yaml", import.meta.url));
  const entries = parseConfigYaml(text, "config/node.yaml");
  assert.deepEqual(entries.map((e) => e.key), PARAMS.map((p) => p.name));
  for (const { key, value } of entries) {
    const spec = PARAMS.find((p) => p.name === key)!;
    assert.equal(value, spec.default, key);
  }
  const config = await loadConfig({
    file: new URL("../../../config/node.yaml", import.meta.url).pathname,
  });
  assert.deepEqual(config.values, defaultValues());
});

async function withYaml(text: string, fn: (file: string) => Promise<void>): Promise<void> {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(file, text);
    await fn(file);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("a YAML file overrides defaults and flags override the file", async () => {
  await withYaml(
    "port: 7100\nmaxclients: 50\n",
    async (file) => {
      const config = await loadConfig({ file, overrides: { maxclients: "60" } });
      assert.equal(config.values.port, 7100);
      assert.equal(config.values.maxclients, 60);
      assert.equal(config.file, file);
    },
  );
});

Deno.test("an unknown YAML key is an error naming the key and its line", async () => {
  await withYaml("port: 7100\n\nmaxclient: 5\n", async (file) => {
    await assert.rejects(loadConfig({ file }), (e: Error) => {
      assert.ok(e instanceof ConfigLoadError);
      assert.equal(e.message, `${file}:3: unknown key 'maxclient'`);
      return true;
    });
  });
});

Deno.test("a bad YAML value is an error naming the key, the line and the reason", async () => {
  await withYaml("port: 99999\n", async (file) => {
    await assert.rejects(
      loadConfig({ file }),
      new RegExp(
        `^ConfigLoadError: ${file}:1: key 'port': invalid value '99999': argument must be between 0 and 65535 inclusive$`,
      ),
    );
  });
  await withYaml("maxclients: lots\n", async (file) => {
    await assert.rejects(
      loadConfig({ file }),
      /key 'maxclients'.*couldn't be parsed into an integer/,
    );
  });
  await withYaml("proto-max-bulk-len: 12zb\n", async (file) => {
    await assert.rejects(loadConfig({ file }), /key 'proto-max-bulk-len'.*memory value/);
  });
  await withYaml("loglevel: loud\n", async (file) => {
    await assert.rejects(loadConfig({ file }), /key 'loglevel'.*one of the following/);
  });
});

Deno.test("malformed YAML, a non-mapping document and repeated keys are errors with a line", async () => {
  await withYaml("port: [1, 2\n", async (file) => {
    await assert.rejects(loadConfig({ file }), new RegExp(`${file}:\\d+: invalid YAML`));
  });
  await withYaml("- port\n- 7000\n", async (file) => {
    await assert.rejects(loadConfig({ file }), /top level must be a mapping/);
  });
  await withYaml("port: 1\nport: 2\n", async (file) => {
    await assert.rejects(loadConfig({ file }), /:2: invalid YAML: Map keys must be unique/);
  });
  await withYaml("port:\n  nested: 1\n", async (file) => {
    await assert.rejects(loadConfig({ file }), /key 'port' must have a single value/);
  });
});

Deno.test("an empty YAML file means all defaults and a missing file is an error naming it", async () => {
  await withYaml("", async (file) => {
    const config = await loadConfig({ file });
    assert.deepEqual(config.values, defaultValues());
  });
  await assert.rejects(
    loadConfig({ file: "/nonexistent/node.yaml" }),
    /cannot read config file \/nonexistent\/node.yaml/,
  );
});

Deno.test("YAML booleans and nulls are read as Redis's yes/no and empty text", () => {
  const entries = parseConfigYaml("a: true\nb: false\nc:\nd: 10\n", "x.yaml");
  assert.deepEqual(entries.map((e) => [e.key, e.value, e.line]), [
    ["a", "yes", 1],
    ["b", "no", 2],
    ["c", "", 3],
    ["d", "10", 4],
  ]);
});

Deno.test("an unknown or badly valued flag override is an error naming the option", async () => {
  await assert.rejects(
    loadConfig({ overrides: { "no-such-option": "1" } }),
    /unknown option --no-such-option/,
  );
  await assert.rejects(
    loadConfig({ overrides: { port: "x" } }),
    /option --port: invalid value 'x'/,
  );
});

Deno.test("CONFIG SET applies all pairs or none and tells listeners once", () => {
  const config = new Config(defaultValues());
  const seen: string[][] = [];
  config.onChange((names) => seen.push([...names]));
  config.set([["maxclients", "10"], ["timeout", "5"]]);
  assert.equal(config.values.maxclients, 10);
  assert.equal(config.values.timeout, 5);
  assert.deepEqual(seen, [["maxclients", "timeout"]]);
  assert.throws(() => config.set([["maxclients", "20"], ["timeout", "x"]]), (e: Error) => {
    assert.ok(e instanceof ConfigSetError);
    assert.equal(e.param, "timeout");
    return true;
  });
  assert.equal(config.values.maxclients, 10, "the valid pair was not applied either");
  assert.throws(() => config.set([["port", "1"]]), /can't set immutable config/);
  assert.throws(() => config.set([["hz", "1"], ["HZ", "2"]]), /duplicate parameter/);
  assert.throws(
    () => config.set([["nope", "1"]]),
    (e: Error) => e instanceof ConfigSetError && e.message === "unknown",
  );
});

Deno.test("CONFIG GET patterns are globs matched case-insensitively", () => {
  const config = new Config(defaultValues());
  assert.deepEqual(config.matching(["max*"]), [
    ["maxclients", "10000"],
    ["maxmemory", "0"],
    ["maxmemory-policy", "noeviction"],
    ["maxmemory-samples", "5"],
    ["maxkeys", "0"],
  ]);
  assert.deepEqual(config.matching(["PORT"]), [["port", "7000"]]);
  assert.deepEqual(config.matching(["nothing-matches"]), []);
  assert.equal(config.matching(["*"]).length, PARAMS.length);
});

Deno.test("client-output-buffer-limit parses Redis's syntax and keeps classes not named", () => {
  const limits = parseOutputBufferLimits("normal 1mb 512kb 10 slave 0 0 0");
  assert.deepEqual(limits.normal, { hard: 1024 * 1024, soft: 512 * 1024, softSeconds: 10 });
  assert.deepEqual(limits.replica, { hard: 0, soft: 0, softSeconds: 0 });
  assert.equal(limits.pubsub.hard, 32 * 1024 * 1024);
  assert.throws(() => parseOutputBufferLimits("normal 1mb 1mb"), /Wrong number of arguments/);
  assert.throws(() => parseOutputBufferLimits("admin 0 0 0"), /Invalid client class/);
  assert.throws(() => parseOutputBufferLimits("normal x 0 0"), /hard, soft or soft_seconds/);
});

Deno.test('rename-command: a YAML mapping, repeated lines, "" to disable; bad lines refused', async () => {
  await withYaml('rename-command: {FLUSHALL: "", CONFIG: cfg-8a1f}\n', async (file) => {
    const config = await loadConfig({ file });
    assert.deepEqual(config.values["rename-command"], [
      { from: "flushall", to: "" },
      { from: "config", to: "cfg-8a1f" },
    ]);
    assert.equal(config.text("rename-command"), 'flushall ""\nconfig cfg-8a1f');
  });
  const flags = await loadConfig({ overrides: { "rename-command": 'DEBUG ""\nKEYS k2' } });
  assert.deepEqual(flags.values["rename-command"], [
    { from: "debug", to: "" },
    { from: "keys", to: "k2" },
  ]);
  await assert.rejects(
    loadConfig({ overrides: { "rename-command": "A B C" } }),
    /must be a command name and its new name/,
  );
});
