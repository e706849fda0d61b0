/**
 * The append-only file end to end: the real server writes it, is killed, and starts again from
 * it; redis-check-aof judges the file; truncated and corrupt files behave as documented.
 */
import assert from "node:assert/strict";
import { RespError } from "../../src/resp/reply_decoder.ts";
import { waitFor } from "../support/wait_for.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { runCli, startServer } from "../support/server.ts";

const AOF = "appendonly.aof";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "gocache-aof-" });
}

function aofArgs(fsync: string): string[] {
  return ["--appendonly", "yes", "--appendfsync", fsync];
}

Deno.test("with appendfsync always every acknowledged write survives SIGKILL", async () => {
  const dir = await tempDir();
  try {
    const acknowledged = new Map<string, string>();
    {
      await using server = await startServer({ dir, args: aofArgs("always") });
      const conn = await RespConn.connect(server.port);
      // Two writers race the kill: every write that got its OK must be on disk.
      const writer = async (c: RespConn, prefix: string) => {
        for (let i = 0; i < 100_000; i++) {
          const key = `${prefix}${i}`;
          const value = `v${i}\r\n\x00\xff`;
          try {
            if (plain(await c.call("SET", key, value)) === "OK") acknowledged.set(key, value);
          } catch {
            return;
          }
        }
      };
      const other = await RespConn.connect(server.port);
      const done = Promise.all([writer(conn, "a:"), writer(other, "b:")]);
      await waitFor(() => acknowledged.size >= 300, { intervalMs: 5, what: "300 writes" });
      const status = await server.stop("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
      await done;
      conn.close();
      other.close();
    }
    await using server = await startServer({ dir, args: aofArgs("always") });
    const conn = await RespConn.connect(server.port);
    const size = Number(plain(await conn.call("DBSIZE")));
    assert.ok(size >= acknowledged.size, `${size} keys, ${acknowledged.size} acknowledged`);
    for (const [key, value] of acknowledged) {
      assert.equal(plain(await conn.call("GET", key)), value, key);
    }
    conn.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with appendfsync everysec at most the last ~2 s of writes are lost on SIGKILL", async () => {
  const dir = await tempDir();
  try {
    const acknowledged: [string, number][] = [];
    let killedAt = 0;
    {
      await using server = await startServer({ dir, args: aofArgs("everysec") });
      const conn = await RespConn.connect(server.port);
      const deadline = performance.now() + 2500;
      for (let i = 0; performance.now() < deadline; i++) {
        if (plain(await conn.call("SET", `k${i}`, String(i))) === "OK") {
          acknowledged.push([`k${i}`, performance.now()]);
        }
      }
      killedAt = performance.now();
      await server.stop("SIGKILL");
      conn.close();
    }
    await using server = await startServer({ dir, args: aofArgs("everysec") });
    const conn = await RespConn.connect(server.port);
    for (const [key, at] of acknowledged) {
      if (killedAt - at < 2000) continue;
      assert.equal(
        plain(await conn.call("EXISTS", key)),
        1,
        `${key}, acknowledged ${killedAt - at} ms before`,
      );
    }
    assert.ok(acknowledged.some(([, at]) => killedAt - at >= 2000), "some writes are old enough");
    conn.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a restart replays TTLs as absolute times, databases, counters and deletions", async () => {
  const dir = await tempDir();
  try {
    {
      await using server = await startServer({ dir, args: aofArgs("everysec") });
      const c = await RespConn.connect(server.port);
      for (
        const cmd of [
          ["SET", "ttl", "v", "EX", 1000],
          ["SET", "gone", "v", "PX", 50],
          ["INCRBY", "n", 41],
          ["INCR", "n"],
          ["INCRBYFLOAT", "f", "0.1"],
          ["SELECT", 5],
          ["SET", "in5", "five"],
          ["SELECT", 0],
          ["SET", "del", "x"],
          ["DEL", "del"],
          ["SET", "bin", "\x00\r\n\xff"],
        ]
      ) await c.call(...cmd);
      c.close();
    }
    await using server = await startServer({ dir, args: aofArgs("everysec") });
    const c = await RespConn.connect(server.port);
    const ttl = Number(plain(await c.call("PTTL", "ttl")));
    assert.ok(ttl > 990_000 && ttl <= 1_000_000, `ttl ${ttl}`);
    assert.equal(plain(await c.call("EXISTS", "gone")), 0);
    assert.equal(plain(await c.call("GET", "n")), "42");
    assert.equal(plain(await c.call("GET", "f")), "0.1");
    assert.equal(plain(await c.call("EXISTS", "del")), 0);
    assert.equal(plain(await c.call("GET", "bin")), "\x00\r\n\xff");
    await c.call("SELECT", 5);
    assert.equal(plain(await c.call("GET", "in5")), "five");
    const info = String(plain(await c.call("INFO", "persistence")));
    assert.match(info, /aof_enabled:1/);
    assert.match(info, /aof_last_write_status:ok/);
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("redis-check-aof accepts the file gocache writes", async () => {
  const dir = await tempDir();
  try {
    {
      await using server = await startServer({ dir, args: aofArgs("no") });
      const c = await RespConn.connect(server.port);
      await c.call("MSET", "a", "1", "b", "\x00\xff\r\n");
      await c.call("SET", "c", "x", "EX", 100);
      await c.call("EXPIRE", "a", 50);
      await c.call("SELECT", 3);
      await c.call("APPEND", "d", "tail");
      c.close();
    }
    const out = await new Deno.Command("redis-check-aof", {
      args: [`${dir}/${AOF}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /is valid/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** An AOF of `n` SETs written by hand, with the byte offset where each command ends. */
function handWrittenAof(n: number): { data: Uint8Array; ends: number[] } {
  let text = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
  const ends: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = `key${i}`;
    const value = "v".repeat(i % 7) + String(i);
    text += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
    ends.push(text.length);
  }
  return { data: new TextEncoder().encode(text), ends };
}

Deno.test("a truncated AOF loads every command before the cut and is cut back", async () => {
  const { data, ends } = handWrittenAof(40);
  // Cut points inside commands chosen to hit headers, lengths and payloads, and random ones
  // (each failure message names its cut).
  const span = data.length - ends[0] - 1;
  const random = Array.from({ length: 5 }, () => ends[0] + 1 + Math.floor(Math.random() * span))
    .filter((cut) => !ends.includes(cut));
  const fixed = [ends[0] + 1, ends[9] + 7, ends[20] + 15, ends[38] + 20, data.length - 1];
  for (const cut of [...fixed, ...random]) {
    const dir = await tempDir();
    try {
      await Deno.writeFile(`${dir}/${AOF}`, data.subarray(0, cut));
      const whole = ends.filter((end) => end <= cut).length;
      await using server = await startServer({ dir, args: aofArgs("everysec") });
      const c = await RespConn.connect(server.port);
      assert.equal(plain(await c.call("DBSIZE")), whole, `cut at ${cut}`);
      assert.equal(
        plain(await c.call("GET", `key${whole - 1}`)),
        "v".repeat((whole - 1) % 7) + String(whole - 1),
      );
      c.close();
      assert.equal(
        (await Deno.stat(`${dir}/${AOF}`)).size,
        ends[whole - 1],
        "cut back to a whole command",
      );
      assert.ok(server.logs.some((l) => l.includes("ends in the middle of a command")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a truncated AOF stops the start when aof-load-truncated is off", async () => {
  const { data, ends } = handWrittenAof(5);
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/${AOF}`, data.subarray(0, ends[2] + 4));
    const result = await runCli([
      "serve",
      "--port",
      "0",
      "--dir",
      dir,
      ...aofArgs("everysec"),
      "--aof-load-truncated",
      "no",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`at offset ${ends[2]}`));
    assert.equal((await Deno.stat(`${dir}/${AOF}`)).size, ends[2] + 4, "the file is left alone");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("corruption before the tail stops the start with the offset and the repair tool", async () => {
  const { data, ends } = handWrittenAof(10);
  const cases: [string, (bytes: Uint8Array) => void, number][] = [
    ["bad framing", (b) => (b[ends[3]] = 0x3f), ends[3]],
    ["bad length", (b) => (b[ends[5] + 1] = 0x78), ends[5]],
    [
      "unknown command",
      (b) => b.set(new TextEncoder().encode("XYZ"), ends[6] + 8),
      ends[6],
    ],
  ];
  for (const [name, damage, offset] of cases) {
    const dir = await tempDir();
    try {
      const bytes = data.slice();
      damage(bytes);
      await Deno.writeFile(`${dir}/${AOF}`, bytes);
      const result = await runCli(["serve", "--port", "0", "--dir", dir, ...aofArgs("everysec")]);
      assert.equal(result.code, 1, name);
      assert.match(result.stderr, new RegExp(`at offset ${offset}`), name);
      assert.match(result.stderr, /redis-check-aof --fix/, name);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

/** Every key of db 0 with its value and absolute expiry (PEXPIRETIME), for comparisons. */
async function dump(c: RespConn): Promise<Map<string, [unknown, unknown]>> {
  const out = new Map<string, [unknown, unknown]>();
  const keys = plain(await c.call("KEYS", "*")) as string[];
  for (const key of keys) {
    out.set(key, [plain(await c.call("GET", key)), plain(await c.call("PEXPIRETIME", key))]);
  }
  return out;
}

/** Number of finished rewrites in an INFO persistence text. */
function rewritesIn(info: string): number {
  return Number(/aof_rewrites:(\d+)/.exec(info)?.[1] ?? -1);
}

/** Waits until at least `count` rewrites have finished and none is running; returns INFO. */
async function waitForRewrites(c: RespConn, count: number): Promise<string> {
  return await waitFor(async () => {
    const info = String(plain(await c.call("INFO", "persistence")));
    const done = rewritesIn(info) >= count && info.includes("aof_rewrite_in_progress:0");
    return done ? info : null;
  }, { what: `AOF rewrite number ${count} to finish` });
}

Deno.test("BGREWRITEAOF compacts the file while writes continue, and a restart agrees", async () => {
  const dir = await tempDir();
  try {
    let before: Map<string, [unknown, unknown]>;
    let sizeBefore: number;
    {
      await using server = await startServer({ dir, args: aofArgs("everysec") });
      const c = await RespConn.connect(server.port);
      for (let i = 0; i < 3000; i++) await c.send("INCR", `counter:${i % 30}`);
      for (let i = 0; i < 3000; i++) await c.read();
      await c.call("SET", "ttl", "v", "EX", 5000);
      await c.call("SET", "bin", "\x00\r\n\xff");
      sizeBefore = (await Deno.stat(`${dir}/${AOF}`)).size;
      // A second client keeps writing during the rewrite.
      const w = await RespConn.connect(server.port);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await w.call("INCR", `counter:${i % 30}`);
          await w.call("SET", `during:${i % 50}`, String(i));
        }
      })();
      assert.equal(
        plain(await c.call("BGREWRITEAOF")),
        "Background append only file rewriting started",
      );
      await waitForRewrites(c, 1);
      writing = false;
      await writer;
      assert.equal(plain(await c.call("INCR", "after")), 1);
      before = await dump(c);
      c.close();
      w.close();
    }
    const sizeAfter = (await Deno.stat(`${dir}/${AOF}`)).size;
    assert.ok(sizeAfter < sizeBefore, `${sizeAfter} < ${sizeBefore} bytes`);
    const check = await new Deno.Command("redis-check-aof", {
      args: [`${dir}/${AOF}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stdout));
    await using server = await startServer({ dir, args: aofArgs("everysec") });
    const c = await RespConn.connect(server.port);
    assert.deepEqual(await dump(c), before);
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the AOF is rewritten automatically once it doubles past the minimum size", async () => {
  const dir = await tempDir();
  try {
    await using server = await startServer({
      dir,
      args: [...aofArgs("no"), "--auto-aof-rewrite-min-size", "4kb"],
    });
    const c = await RespConn.connect(server.port);
    for (let i = 0; i < 400; i++) await c.call("SET", "same-key", `value-${i}`);
    // At least one: when the SETs are slow, the cron may see the file pass the threshold
    // mid-loop, rewrite it, and see the compacted file double again before the loop ends.
    assert.match(await waitForRewrites(c, 1), /aof_last_bgrewrite_status:ok/);
    // No further automatic rewrite may start between the check and the BGREWRITEAOF below (the
    // file can double again right after one ends, and then the manual one would be refused).
    assert.equal(
      plain(await c.call("CONFIG", "SET", "auto-aof-rewrite-percentage", "0")),
      "OK",
    );
    const info = await waitForRewrites(c, 1);
    const automatic = rewritesIn(info);
    assert.equal(
      plain(await c.call("BGREWRITEAOF")),
      "Background append only file rewriting started",
    );
    await waitForRewrites(c, automatic + 1);
    assert.equal(plain(await c.call("GET", "same-key")), "value-399");
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BGREWRITEAOF without appendonly is refused with a clear error", async () => {
  await using server = await startServer();
  const c = await RespConn.connect(server.port);
  const reply = await c.call("BGREWRITEAOF");
  assert.ok(reply instanceof RespError, "an error reply");
  assert.match(reply.message, /appendonly no/);
  c.close();
});

Deno.test("CONFIG SET appendonly yes writes the dataset to a new AOF, and no stops appending", async () => {
  const dir = await tempDir();
  try {
    {
      await using server = await startServer({ dir, args: ["--save", ""] });
      const c = await RespConn.connect(server.port);
      await c.call("MSET", "a", "1", "b", "2");
      await c.call("SET", "t", "v", "PX", 100_000);
      assert.equal(plain(await c.call("CONFIG", "SET", "appendonly", "yes")), "OK");
      await c.call("SET", "during", "x");
      await waitForRewrites(c, 1);
      await c.call("INCR", "a");
      assert.match(String(plain(await c.call("INFO", "persistence"))), /aof_enabled:1/);
      assert.equal(plain(await c.call("CONFIG", "SET", "appendonly", "no")), "OK");
      // Turning it off closes the file in the background.
      await waitFor(async () => /aof_enabled:0/.test(String(plain(await c.call("INFO")))), {
        what: "the AOF to be off",
      });
      const size = (await Deno.stat(`${dir}/${AOF}`)).size;
      await c.call("SET", "after", "off");
      // An AOF write happens at the end of the SET's turn, before the server reads the PING.
      await c.call("PING");
      assert.equal((await Deno.stat(`${dir}/${AOF}`)).size, size, "nothing appended once off");
      c.close();
    }
    await using server = await startServer({ dir, args: ["--appendonly", "yes", "--save", ""] });
    const c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("GET", "a")), "2");
    assert.equal(plain(await c.call("GET", "b")), "2");
    assert.equal(plain(await c.call("GET", "during")), "x");
    assert.ok(Number(plain(await c.call("PTTL", "t"))) > 90_000);
    assert.equal(plain(await c.call("EXISTS", "after")), 0);
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a MULTI/EXEC block is one block in the AOF and a restart applies all of it or none", async () => {
  const dir = await tempDir();
  try {
    {
      await using server = await startServer({ dir, args: aofArgs("always") });
      const c = await RespConn.connect(server.port);
      await c.call("SET", "before", "1");
      await c.call("MULTI");
      await c.call("SET", "a", "1");
      await c.call("INCR", "n");
      await c.call("SET", "b", "2");
      assert.deepEqual(plain(await c.call("EXEC")), ["OK", 1, "OK"]);
      c.close();
    }
    const text = new TextDecoder().decode(await Deno.readFile(`${dir}/${AOF}`));
    const block = text.indexOf("*1\r\n$5\r\nMULTI\r\n");
    const exec = text.indexOf("*1\r\n$4\r\nEXEC\r\n");
    assert.ok(block > 0 && exec > block, "MULTI ... EXEC in the file");
    const inside = text.slice(block, exec);
    for (const part of ["$1\r\na\r\n", "$4\r\nINCR\r\n", "$1\r\nb\r\n"]) {
      assert.ok(inside.includes(part), `${JSON.stringify(part)} inside the block`);
    }
    // Cut the file inside the block, after its first SET: the restart applies none of it.
    await Deno.writeTextFile(`${dir}/${AOF}`, text.slice(0, text.indexOf("$4\r\nINCR", block)));
    await using server = await startServer({ dir, args: aofArgs("always") });
    const c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("GET", "before")), "1");
    assert.equal(plain(await c.call("EXISTS", "a", "n", "b")), 0, "no half transaction");
    assert.ok(server.logs.some((l) => l.includes("ends in the middle of a command")));
    assert.equal((await Deno.stat(`${dir}/${AOF}`)).size, block, "cut back to before MULTI");
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RESTORE reaches the AOF as SET with an absolute expiry and survives a restart", async () => {
  const dir = await tempDir();
  try {
    let expireAt: number;
    const value = "restored\r\n\x00\xff".repeat(10);
    {
      await using server = await startServer({ dir, args: aofArgs("always") });
      await using c = await RespConn.connect(server.port);
      await c.call("SET", "source", value);
      const payload = await c.call("DUMP", "source") as Uint8Array;
      assert.equal(plain(await c.call("RESTORE", "copy", 100_000, payload)), "OK");
      expireAt = Number(plain(await c.call("PEXPIRETIME", "copy")));
      // The largest absolute expiry: held as a double, written back as INT64_MAX.
      const max = "9223372036854775807";
      assert.equal(plain(await c.call("RESTORE", "far", max, payload, "ABSTTL")), "OK");
      assert.equal(plain(await c.call("SET", "far2", "v", "PXAT", max)), "OK");
      // Already past with REPLACE: the old key is deleted, and only the DEL is written.
      assert.equal(plain(await c.call("RESTORE", "source", 1, payload, "REPLACE", "ABSTTL")), "OK");
    }
    const text = new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${AOF}`));
    assert.ok(!text.includes("RESTORE"), "no RESTORE in the file");
    assert.ok(text.includes(`$4\r\nPXAT\r\n$${String(expireAt).length}\r\n${expireAt}\r\n`));
    assert.ok(text.includes("*2\r\n$3\r\nDEL\r\n$6\r\nsource\r\n"));
    await using server = await startServer({ dir, args: aofArgs("always") });
    await using c = await RespConn.connect(server.port);
    assert.equal(plain(await c.call("GET", "copy")), value);
    assert.equal(plain(await c.call("PEXPIRETIME", "copy")), expireAt);
    assert.equal(plain(await c.call("EXISTS", "source")), 0);
    for (const key of ["far", "far2"]) {
      assert.equal(String(plain(await c.call("PEXPIRETIME", key))), "9223372036854775807", key);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
