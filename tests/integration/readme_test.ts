/**
 * What the README tells a new user holds: its TypeScript client example runs to its end against a
 * node, a node loading its AOF logs the keys it loaded (the Logs section's "data loaded (file,
 * keys, time)"), and the Python client's section warns that its tests run FLUSHALL before it
 * gives a port to run them on.
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";

const README = new URL("../../README.md", import.meta.url);
const CLIENT_MOD = new URL("../../src/client/mod.ts", import.meta.url);
const PYTHON_TESTS = new URL("../../clients/python/test_gocache_client.py", import.meta.url);

/** The text of the README section that starts with `heading`, up to the next `## `. */
async function section(heading: string): Promise<string> {
  const text = await Deno.readTextFile(README);
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the README has a section "${heading}"`);
  const end = text.indexOf("\n## ", start + heading.length + 2);
  return text.slice(start, end < 0 ? undefined : end);
}

Deno.test("the README's TypeScript client example runs to its end against a node", async () => {
  const block = /```ts\n([\s\S]*?)```/.exec(await section("## Client library (TypeScript)"))?.[1];
  assert.ok(block !== undefined, "the section has a ts code block");
  assert.match(block, /from "\.\/src\/client\/mod\.ts"/);
  assert.match(block, /port: 7000\b/);
  await using server = await startServer({ args: ["--save", ""] });
  const dir = await Deno.makeTempDir({ prefix: "gocache-readme-" });
  try {
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(
      file,
      block.replace('"./src/client/mod.ts"', JSON.stringify(CLIENT_MOD.href))
        .replace(/port: 7000\b/, `port: ${server.port}`),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--check", "--allow-net", file],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    // Generous: type-checking the example on a loaded machine takes seconds; waiting forever for
    // a message (what the example used to do) is stopped here.
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 60_000);
    const out = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(!killed, `the example was still running after 60 s:\n${stderr}`);
    assert.equal(out.code, 0, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function command(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

Deno.test("a node loading its append-only file logs the keys it loaded, not only the commands", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-readme-" });
  try {
    // 3 keys from 104 commands: the two counts cannot be mistaken for each other.
    let aof = "";
    for (let i = 0; i < 100; i++) aof += command("SET", "k", `v${i}`);
    aof += command("SET", "gone", "x") + command("DEL", "gone");
    aof += command("SET", "a", "1") + command("SET", "b", "2");
    await Deno.writeTextFile(`${dir}/appendonly.aof`, aof);
    await using server = await startServer({ dir, args: ["--appendonly", "yes", "--save", ""] });
    const records = server.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const loaded = records.find((r) => /^DB loaded from append only file/.test(r.message));
    assert.ok(loaded, `a load record in:\n${server.logs.join("\n")}`);
    assert.match(loaded.message, /: 3 keys in \d+ ms \(104 commands\)$/);
    assert.equal(loaded.properties.keys, 3);
    assert.equal(loaded.properties.commands, 104);
    assert.equal(loaded.properties.path, `${dir}/appendonly.aof`);
    assert.equal(typeof loaded.properties.ms, "number");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README warns that the Python tests run FLUSHALL before it gives a port for them", async () => {
  assert.match(await Deno.readTextFile(PYTHON_TESTS), /execute_command\("FLUSHALL"\)/);
  const text = await section("## Python client");
  const warning = text.indexOf("FLUSHALL");
  const port = text.indexOf("GOCACHE_PORT=");
  assert.ok(port >= 0, "the section says how to run the tests by hand");
  assert.ok(warning >= 0 && warning < port, "FLUSHALL is named before the command with a port");
  assert.doesNotMatch(
    text,
    /GOCACHE_PORT=7000\b/,
    "not the port of the node `deno task serve` runs",
  );
});
