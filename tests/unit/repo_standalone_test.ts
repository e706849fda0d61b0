/**
 * The repository stands alone: a fresh clone has every script its README and its tasks name.
 * No file points at the sibling `shared` checkout's benchmarks, every `deno task` the README
 * names is a task of deno.json, every path a task runs exists, and the README's quick start is
 * the two commands a machine with only Node.js runs (through `npx -y deno@<the version .ci/run
 * installs>`).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
/** Built, not written out, so that this file does not match itself. */
const SHARED_BENCH = ["..", "shared", "bench"].join("/");
/** Not the repository's own files: git's, a node's data, build output, npm installs. */
const SKIPPED_DIRS = new Set([".git", "data", "dist", "node_modules"]);

const readme = () => Deno.readTextFile(new URL("README.md", ROOT));

async function tasks(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return config.tasks;
}

/** Every file under `dir` (relative to the repository root), skipping {@link SKIPPED_DIRS}. */
async function* files(dir = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(new URL(dir || ".", ROOT))) {
    const path = dir + entry.name;
    if (entry.isDirectory && !SKIPPED_DIRS.has(entry.name)) yield* files(`${path}/`);
    else if (entry.isFile) yield path;
  }
}

Deno.test("no file of the repository refers to the shared checkout's benchmark scripts", async () => {
  const decoder = new TextDecoder();
  const offenders: string[] = [];
  for await (const path of files()) {
    const text = decoder.decode(await Deno.readFile(new URL(path, ROOT)));
    text.split("\n").forEach((line, i) => {
      if (line.includes(SHARED_BENCH)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], `these refer to ${SHARED_BENCH}:\n${offenders.join("\n")}`);
});

Deno.test("every `deno task` the README names is a task of deno.json", async () => {
  const defined = await tasks();
  const mentions = (await readme()).matchAll(/\bdeno(?:@[\w.-]+)? task ([\w-]+(?::[\w-]+)*)/g);
  const named = new Set([...mentions].map((m) => m[1]));
  assert.ok(named.has("serve") && named.has("bench:compare") && named.has("bench:memory"));
  const missing = [...named].filter((name) => !(name in defined));
  assert.deepEqual(missing, [], "tasks the README names that deno.json lacks");
});

Deno.test("every path a deno.json task runs exists in the repository", async () => {
  const missing: string[] = [];
  for (const [name, command] of Object.entries(await tasks())) {
    const words = command.split(/\s+/).map((w) => w.replace(/^["']|["']$/g, ""));
    words.forEach((word, i) => {
      // Outputs (`--output dist/gocache`) need not exist; flags, URLs and specifiers are no paths.
      if (["--output", "-o"].includes(words[i - 1] ?? "")) return;
      if (word.startsWith("-") || word.includes(":")) return;
      if (!word.includes("/") && !/\.(ts|js|sh|py|json)$/.test(word)) return;
      try {
        Deno.statSync(new URL(word, ROOT));
      } catch {
        missing.push(`${name}: ${word}`);
      }
    });
  }
  assert.deepEqual(missing, [], "paths named by tasks that do not exist");
});

Deno.test("the README's quick start is two npx commands: a node on defaults, then the tests", async () => {
  const ciRun = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const version = /^DENO_VERSION=(\S+)$/m.exec(ciRun)?.[1];
  assert.ok(version !== undefined, ".ci/run sets DENO_VERSION");
  const text = await readme();
  const start = text.indexOf("\n## Quick start\n");
  assert.ok(start >= 0, "the README has a Quick start section");
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(start))?.[1];
  assert.ok(block !== undefined, "the quick start has a sh code block");
  const commands = block.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
  assert.deepEqual(commands, [
    `npx -y deno@${version} task serve`,
    `npx -y deno@${version} task ci`,
  ]);
  const defined = await tasks();
  assert.match(defined.serve, /\bmain\.ts serve$/, "serve runs a node on its defaults");
  assert.match(defined.ci, /\.ci\/run$/, "ci runs .ci/run, which installs what the tests need");
});
