/**
 * RDB snapshots end to end: SAVE, BGSAVE, save rules and shutdown saves of the real server,
 * interop with redis-server and redis-check-rdb in both directions, the recovery order, and
 * the fixture files in tests/fixtures that must be refused.
 */
import assert from "node:assert/strict";
import { readRdb } from "../../src/persistence/rdb/mod.ts";
import { toBinaryString } from "../../src/util/bytes.ts";
import { startRedis } from "../support/redis_server.ts";
import { waitFor } from "../support/wait_for.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { runCli, startServer } from "../support/server.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "gocache-rdb-" });
}

/** Every key of the given databases with value and PEXPIRETIME. */
async function dump(c: RespConn, dbs: number[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const db of dbs) {
    await c.call("SELECT", db);
    for (const key of (plain(await c.call("KEYS", "*")) as string[]).sort()) {
      out[`${db}/${key}`] = [
        plain(await c.call("GET", key)),
        plain(await c.call("PEXPIRETIME", key)),
      ];
    }
  }
  await c.call("SELECT", 0);
  return out;
}

async function waitForSaves(c: RespConn, count: number): Promise<void> {
  await waitFor(async () => {
    const info = String(plain(await c.call("INFO", "persistence")));
    return info.includes(`rdb_saves:${count}\r`) && info.includes("rdb_bgsave_in_progress:0");
  }, { what: `background save number ${count} to finish` });
}

Deno.test("gocache serves the dataset of a dump written by redis-server", async () => {
  const dir = await tempDir();
  try {
    await Deno.copyFile(`${FIXTURES}redis-7.0.15.rdb`, `${dir}/dump.rdb`);
    await using server = await startServer({ dir, args: ["--save", ""] });
    const c = await RespConn.connect(server.port);
    assert.deepEqual(await dump(c, [0, 2]), {
      "0/big": ["4294967296", -1],
      "0/binval": ["bin\x00key", -1],
      "0/int": ["12345", -1],
      "0/long": ["abcdefgh".repeat(100), -1],
      "0/negint": ["-7", -1],
      "0/plain": ["hello", -1],
      "0/ttl": ["v", 4102444800000],
      "2/db2key": ["in db two", -1],
      "2/db2ttl": ["x", 4102444800123],
    });
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SAVE writes a dump redis-check-rdb accepts and redis-server loads identically", async () => {
  const dir = await tempDir();
  try {
    let expected: Record<string, unknown>;
    {
      await using server = await startServer({ dir, args: ["--save", ""] });
      const c = await RespConn.connect(server.port);
      await c.call(
        "MSET",
        "a",
        "1",
        "b",
        "-200000",
        "c",
        "\x00\xff\r\n",
        "long",
        "xy".repeat(5000),
      );
      await c.call("SET", "t", "v", "PXAT", 4102444800123);
      await c.call("SELECT", 7);
      await c.call("SET", "in7", "seven");
      await c.call("SELECT", 0);
      assert.equal(plain(await c.call("SAVE")), "OK");
      expected = await dump(c, [0, 7]);
      c.close();
    }
    const check = await new Deno.Command("redis-check-rdb", {
      args: [`${dir}/dump.rdb`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(check.stdout);
    assert.equal(check.code, 0, text);
    assert.match(text, /RDB looks OK/);
    await using redis = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
    const r = await RespConn.connect(redis.port);
    assert.deepEqual(await dump(r, [0, 7]), expected);
    r.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BGSAVE writes the dataset of its start while writes go on", async () => {
  const dir = await tempDir();
  try {
    await using server = await startServer({ dir, args: ["--save", ""] });
    const c = await RespConn.connect(server.port);
    const n = 30_000;
    for (let i = 0; i < n; i++) await c.send("SET", `k${i}`, "old");
    for (let i = 0; i < n; i++) await c.read();
    // One batch: BGSAVE writes its first slice, then these writes run before the next one.
    await c.send("BGSAVE");
    for (let i = 0; i < n; i += 3) await c.send("SET", `k${i}`, "new");
    for (let i = 1; i < n; i += 7) await c.send("DEL", `k${i}`);
    for (let i = 0; i < 100; i++) await c.send("SET", `created${i}`, "x");
    assert.equal(plain(await c.read()), "Background saving started");
    const replies = Math.ceil(n / 3) + Math.ceil((n - 1) / 7) + 100;
    for (let i = 0; i < replies; i++) await c.read();
    await waitForSaves(c, 1);
    let keys = 0;
    await readRdb(await Deno.readFile(`${dir}/dump.rdb`), {
      entry(_db, key, value) {
        keys++;
        assert.match(toBinaryString(key), /^k\d+$/);
        assert.equal(toBinaryString(value), "old", toBinaryString(key));
      },
    });
    assert.equal(keys, n);
    assert.equal(plain(await c.call("GET", "k0")), "new", "the server itself has the new value");
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recovery prefers the AOF, and a dump alone seeds a new AOF", async () => {
  const dir = await tempDir();
  try {
    const aofArgs = ["--appendonly", "yes", "--save", ""];
    {
      await using server = await startServer({ dir, args: ["--save", ""] });
      const c = await RespConn.connect(server.port);
      await c.call("SET", "from", "dump");
      await c.call("SAVE");
      c.close();
    }
    {
      await using server = await startServer({ dir, args: aofArgs });
      const c = await RespConn.connect(server.port);
      assert.equal(plain(await c.call("GET", "from")), "dump", "the dump, as there is no AOF");
      await c.call("SET", "later", "aof");
      c.close();
    }
    await Deno.remove(`${dir}/dump.rdb`);
    {
      await using server = await startServer({ dir, args: aofArgs });
      const c = await RespConn.connect(server.port);
      assert.equal(plain(await c.call("GET", "from")), "dump", "the AOF was seeded from the dump");
      assert.equal(plain(await c.call("GET", "later")), "aof");
      await c.call("SET", "from", "changed");
      await c.call("SAVE");
      await c.call("SET", "from", "aof wins");
      c.close();
    }
    await using server = await startServer({ dir, args: aofArgs });
    const c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("GET", "from")), "aof wins");
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SHUTDOWN SAVE saves without save rules, SHUTDOWN NOSAVE does not", async () => {
  const dir = await tempDir();
  try {
    {
      await using server = await startServer({ dir, args: ["--save", ""] });
      const c = await RespConn.connect(server.port);
      await c.call("SET", "k", "1");
      await c.send("SHUTDOWN", "SAVE");
      assert.equal((await server.status).code, 0);
      c.close();
    }
    {
      await using server = await startServer({ dir, args: ["--save", ""] });
      const c = await RespConn.connect(server.port);
      assert.equal(plain(await c.call("GET", "k")), "1");
      await c.call("SET", "k", "2");
      await c.send("SHUTDOWN", "NOSAVE");
      assert.equal((await server.status).code, 0);
      c.close();
    }
    await using server = await startServer({ dir, args: ["--save", ""] });
    const c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("GET", "k")), "1");
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a save rule triggers BGSAVE once its changes and seconds are reached", async () => {
  const dir = await tempDir();
  try {
    await using server = await startServer({ dir, args: ["--save", "1 2"] });
    const c = await RespConn.connect(server.port);
    await c.call("SET", "a", "1");
    await new Promise((r) => setTimeout(r, 1300));
    assert.match(String(plain(await c.call("INFO", "persistence"))), /rdb_saves:0\r/);
    await c.call("SET", "b", "2");
    await waitForSaves(c, 1);
    assert.match(
      String(plain(await c.call("INFO", "persistence"))),
      /rdb_changes_since_last_save:0/,
    );
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("damaged fixture files stop the start with the offset, never a partial dataset", async () => {
  const cases: [string, string, string[], RegExp][] = [
    ["truncated.rdb", "dump.rdb", [], /Unexpected end of file at offset 150/],
    ["bad-checksum.rdb", "dump.rdb", [], /Checksum mismatch/],
    ["corrupt.aof", "appendonly.aof", ["--appendonly", "yes"], /at offset 50/],
  ];
  for (const [fixture, name, args, message] of cases) {
    // With save rules too: a failed start must not save the part it loaded over the file.
    for (const save of [[], ["--save", ""]]) {
      const dir = await tempDir();
      try {
        await Deno.copyFile(`${FIXTURES}${fixture}`, `${dir}/${name}`);
        const result = await runCli(["serve", "--port", "0", "--dir", dir, ...save, ...args]);
        assert.equal(result.code, 1, fixture);
        assert.match(result.stderr, message, fixture);
        assert.deepEqual(
          await Deno.readFile(`${dir}/${name}`),
          await Deno.readFile(`${FIXTURES}${fixture}`),
          `${fixture}: the damaged file is left as it was`,
        );
        assert.deepEqual(
          [...Deno.readDirSync(dir)].map((e) => e.name),
          [name],
          `${fixture}: no other file written`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  }
});

Deno.test("the truncated AOF fixture loads its whole commands", async () => {
  const dir = await tempDir();
  try {
    await Deno.copyFile(`${FIXTURES}truncated.aof`, `${dir}/appendonly.aof`);
    await using server = await startServer({ dir, args: ["--appendonly", "yes", "--save", ""] });
    const c = await RespConn.connect(server.port);
    assert.deepEqual(await dump(c, [0]), { "0/a": ["2", -1], "0/b": ["2", -1] });
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
