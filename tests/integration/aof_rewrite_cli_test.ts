/** `gocache aof-rewrite`: offline compaction of an append-only file. */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { runCli, startServer } from "../support/server.ts";

function command(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

/** An AOF with much redundancy: repeated SETs, INCRs, a deleted key, two databases, a TTL. */
function redundantAof(): string {
  let text = command("SELECT", "0");
  for (let i = 0; i < 200; i++) text += command("SET", "k", `v${i}`);
  for (let i = 0; i < 100; i++) text += command("INCR", "n");
  text += command("SET", "gone", "x") + command("DEL", "gone");
  text += command("SET", "ttl", "t") + command("PEXPIREAT", "ttl", String(Date.now() + 3_600_000));
  text += command("SELECT", "4") + command("SET", "bin", "\x00\r\n");
  return text;
}

async function datasetOf(aof: string): Promise<unknown> {
  const dir = await Deno.makeTempDir({ prefix: "gocache-aofcli-" });
  try {
    await Deno.copyFile(aof, `${dir}/appendonly.aof`);
    await using server = await startServer({ dir, args: ["--appendonly", "yes"] });
    const c = await RespConn.connect(server.port);
    const out: Record<string, unknown> = {};
    for (const db of [0, 4]) {
      await c.call("SELECT", db);
      for (const key of (plain(await c.call("KEYS", "*")) as string[]).sort()) {
        out[`${db}/${key}`] = [
          plain(await c.call("GET", key)),
          plain(await c.call("PEXPIRETIME", key)),
        ];
      }
    }
    c.close();
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("aof-rewrite compacts a file to the same dataset and prints a summary", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-aofcli-" });
  try {
    const input = `${dir}/in.aof`;
    const output = `${dir}/out.aof`;
    await Deno.writeTextFile(input, redundantAof());
    const result = await runCli(["aof-rewrite", input, "-o", output]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /4 keys; commands in 307, out 7; bytes \d+ -> \d+ \(saved \d+, 9\d%\)/,
    );
    assert.equal(result.stderr, "", "no progress bar when stderr is not a terminal");
    assert.ok((await Deno.stat(output)).size < (await Deno.stat(input)).size);
    assert.deepEqual(await datasetOf(output), await datasetOf(input));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aof-rewrite without -o replaces the input in place", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-aofcli-" });
  try {
    const input = `${dir}/appendonly.aof`;
    await Deno.writeTextFile(input, redundantAof());
    const before = await datasetOf(input);
    const result = await runCli(["aof-rewrite", "--quiet", input]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.deepEqual(await datasetOf(input), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["appendonly.aof"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aof-rewrite refuses a damaged file with the offset and leaves it alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-aofcli-" });
  try {
    const input = `${dir}/in.aof`;
    const text = command("SET", "a", "1") + "*2\r\n$3\r\nGET\r\n$1\r\n";
    await Deno.writeTextFile(input, text);
    const result = await runCli(["aof-rewrite", input]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /at offset 27/);
    assert.equal(await Deno.readTextFile(input), text);
    const usage = await runCli(["aof-rewrite"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected one INPUT file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `redis-check-aof FILE` succeeds (the file is whole). */
async function redisCheckAof(file: string): Promise<boolean> {
  const out = await new Deno.Command("redis-check-aof", { args: [file], stdout: "null" }).output();
  return out.success;
}

Deno.test("aof-rewrite refuses a torn file naming --truncated and redis-check-aof --fix, not a server setting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-aofcli-" });
  try {
    const input = `${dir}/torn.aof`;
    const text = command("SET", "a", "1") + "*2\r\n$3\r\nGET\r\n$1\r\n";
    await Deno.writeTextFile(input, text);
    const result = await runCli(["aof-rewrite", input, "-o", `${dir}/out.aof`]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `gocache aof-rewrite: ${input} ends in the middle of a command at offset 27 (the last 17 ` +
        `bytes). Run again with --truncated to rewrite it without that command (with -o OUTPUT, ` +
        `${input} stays as it is), or cut the command off the file in place with: ` +
        `redis-check-aof --fix ${input}\n`,
    );
    assert.doesNotMatch(result.stderr, /aof-load-truncated/);
    assert.equal(await Deno.readTextFile(input), text);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["torn.aof"]);
    const help = await runCli(["aof-rewrite", "--help"]);
    assert.match(help.stdout, /^ {6}--truncated +Accept a file whose last command is incomplete/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aof-rewrite --truncated leaves out a torn last command or an unfinished MULTI", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-aofcli-" });
  try {
    const whole = redundantAof();
    const tails = [
      ["a torn command", "*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$2\r\nv"],
      ["a MULTI without EXEC", command("MULTI") + command("SET", "lost", "v")],
    ];
    for (const [what, tail] of tails) {
      const input = `${dir}/torn.aof`;
      const output = `${dir}/fixed.aof`;
      await Deno.writeTextFile(input, whole + tail);
      const result = await runCli(["aof-rewrite", input, "-o", output, "--truncated"]);
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      assert.equal(result.stderr, "", what);
      const size = new TextEncoder().encode(whole + tail).length;
      const at = new TextEncoder().encode(whole).length;
      assert.match(
        result.stdout,
        new RegExp(
          `: 4 keys; .*; left out the incomplete last command at offset ${at} ` +
            `\\(${size - at} bytes\\)\\n$`,
        ),
        what,
      );
      assert.equal(await Deno.readTextFile(input), whole + tail, `${what}: -o leaves INPUT alone`);
      assert.ok(await redisCheckAof(output), `${what}: the output is whole`);
      await Deno.writeTextFile(`${dir}/whole.aof`, whole);
      assert.deepEqual(await datasetOf(output), await datasetOf(`${dir}/whole.aof`), what);
    }

    // In place: the rewrite replaces INPUT, so the torn tail is gone from it.
    const input = `${dir}/appendonly.aof`;
    await Deno.writeTextFile(input, whole + tails[0][1]);
    const inPlace = await runCli(["aof-rewrite", "-q", "--truncated", input]);
    assert.deepEqual(inPlace, { code: 0, stdout: "", stderr: "" });
    assert.ok(await redisCheckAof(input));
    assert.deepEqual(await datasetOf(input), await datasetOf(`${dir}/whole.aof`));

    // Damage before the end is not a torn tail: --truncated does not skip it.
    const damaged = `${dir}/damaged.aof`;
    await Deno.writeTextFile(damaged, command("SET", "a", "1") + "?bad\r\n" + whole);
    const refused = await runCli(["aof-rewrite", damaged, "-o", `${dir}/x.aof`, "--truncated"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /at offset 27: a command does not start with '\*'.*redis-check-aof --fix/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
