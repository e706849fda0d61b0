import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

Deno.test("a server started on port 0 answers PING and ECHO and stops with exit code 0 on SIGTERM", async () => {
  const server = await startServer();
  try {
    await using conn = await RespConn.connect(server.port);
    assert.deepEqual(plain(await conn.call("PING")), "PONG");
    assert.deepEqual(plain(await conn.call("ECHO", "hello")), "hello");
  } finally {
    const status = await server.stop("SIGTERM");
    assert.deepEqual(status.code, 0);
    await server.checkExit();
  }
});

Deno.test("SIGINT stops the server gracefully with exit code 0", async () => {
  const server = await startServer();
  const status = await server.stop("SIGINT");
  assert.deepEqual(status.code, 0);
  await server.checkExit();
  assert.ok(server.logs.some((l) => l.includes("Server stopped")), server.logs.join("\n"));
});

Deno.test("SHUTDOWN closes the connection without a reply and the process exits 0", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  await conn.send("SHUTDOWN");
  assert.ok(await conn.closedByServer());
  assert.deepEqual((await server.status).code, 0);
});

Deno.test("replies produced before SHUTDOWN in the same batch still reach the client", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  await conn.sendRaw("PING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nbye\r\nSHUTDOWN\r\nPING\r\n");
  assert.equal(plain(await conn.read()), "PONG");
  assert.equal(plain(await conn.read()), "bye");
  assert.ok(await conn.closedByServer(), "nothing after SHUTDOWN is answered");
  assert.equal((await server.status).code, 0);
});

Deno.test("pipelined commands sent in one write all get their replies in order", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  let batch = "";
  for (let i = 0; i < 2000; i++) batch += `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
  await conn.sendRaw(batch);
  for (let i = 0; i < 2000; i++) assert.deepEqual(plain(await conn.read()), String(i));
});

Deno.test("batches larger than the read buffer, then small ones, keep every byte in order", async () => {
  // The connection's read buffer doubles after reads that fill it and shrinks after small ones:
  // batches of 16.7 KB, of 120 KB (past the buffer's greedy limit), PINGs, a command sent in
  // pieces, then everything read back.
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const values = new Map<string, Uint8Array>();
  let seed = 7;
  const bytes = (n: number) =>
    Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
  const encoder = new TextEncoder();
  const frame = (...args: (string | Uint8Array)[]) => {
    const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
    for (const arg of args) {
      const b = typeof arg === "string" ? encoder.encode(arg) : arg;
      parts.push(encoder.encode(`$${b.length}\r\n`), b, encoder.encode("\r\n"));
    }
    return parts;
  };
  const send = async (frames: Uint8Array[][]) => {
    const all = frames.flat();
    const out = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of all) {
      out.set(b, at);
      at += b.length;
    }
    await conn.sendRaw(out);
  };
  const batches = async (shapes: number[][]) => {
    for (const [count, size] of shapes) {
      const frames: Uint8Array[][] = [];
      for (let i = 0; i < count; i++) {
        const key = `k${values.size}`;
        const value = bytes(size);
        values.set(key, value);
        frames.push(frame("SET", key, value));
      }
      frames.push(frame("PING"));
      await send(frames);
      for (let i = 0; i < count; i++) assert.deepEqual(plain(await conn.read()), "OK");
      assert.deepEqual(plain(await conn.read()), "PONG");
    }
  };
  await batches([[16, 1000], [16, 1000], [40, 3000], [16, 1000]]);
  // After the large batches, a command that trickles in: small reads while bytes are pending.
  const trickled = bytes(2000);
  values.set("trickled", trickled);
  const pieces = frame("SET", "trickled", trickled).flat();
  const whole = new Uint8Array(pieces.reduce((n, b) => n + b.length, 0));
  pieces.reduce((at, b) => (whole.set(b, at), at + b.length), 0);
  for (let at = 0; at < whole.length; at += 300) {
    await conn.sendRaw(whole.subarray(at, at + 300));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(plain(await conn.read()), "OK");
  await batches([[3, 10], [3, 10], [16, 1000]]);
  await send([...values.keys()].map((key) => frame("GET", key)));
  for (const [key, value] of values) {
    const reply = await conn.read();
    assert.ok(reply instanceof Uint8Array, `${key}: a bulk string`);
    assert.deepEqual(reply, value, key);
  }
});

Deno.test("maxclients refuses the extra connection with Redis's error while others keep working", async () => {
  await using server = await startServer({ args: ["--maxclients", "2"] });
  await using a = await RespConn.connect(server.port);
  await using b = await RespConn.connect(server.port);
  assert.deepEqual(plain(await a.call("PING")), "PONG");
  assert.deepEqual(plain(await b.call("PING")), "PONG");
  await using c = await RespConn.connect(server.port);
  assert.deepEqual(plain(await c.read()), "-ERR max number of clients reached");
  assert.ok(await c.closedByServer());
  assert.deepEqual(plain(await a.call("PING")), "PONG");
});

Deno.test("an idle client is disconnected after timeout seconds", async () => {
  await using server = await startServer({ args: ["--timeout", "1"] });
  await using idle = await RespConn.connect(server.port);
  assert.deepEqual(plain(await idle.call("PING")), "PONG");
  assert.ok(await idle.closedByServer(5000));
});

Deno.test("a protocol error is answered and closes only that connection", async () => {
  await using server = await startServer();
  await using healthy = await RespConn.connect(server.port);
  await using bad = await RespConn.connect(server.port);
  await bad.sendRaw("*1\r\n$abc\r\n");
  assert.deepEqual(plain(await bad.read()), "-ERR Protocol error: invalid bulk length");
  assert.ok(await bad.closedByServer());
  assert.deepEqual(plain(await healthy.call("PING")), "PONG");
});

/** Sends ECHO commands with 10 KB payloads without ever reading a reply, until `total` bytes. */
async function floodWithoutReading(conn: RespConn, total: number): Promise<void> {
  const big = "x".repeat(10_000);
  const one = `*2\r\n$4\r\nECHO\r\n$${big.length}\r\n${big}\r\n`;
  const chunk = one.repeat(50);
  try {
    for (let sent = 0; sent < total; sent += chunk.length) await conn.sendRaw(chunk);
  } catch {
    // The server closed the connection while we were still writing: that is the point.
  }
}

Deno.test("a client that never reads is disconnected at the output buffer hard limit", async () => {
  await using server = await startServer({
    args: ["--client-output-buffer-limit", "normal 256kb 0 0"],
  });
  await using greedy = await RespConn.connect(server.port);
  await using other = await RespConn.connect(server.port);
  await floodWithoutReading(greedy, 64 * 1024 * 1024);
  assert.ok(await greedy.closedByServer());
  const info = plain(await other.call("INFO", "stats")) as string;
  assert.ok(info.includes("client_output_buffer_limit_disconnections:1"), info);
  assert.equal(plain(await other.call("PING")), "PONG");
});

Deno.test("a client over the output buffer soft limit for soft-seconds is disconnected", async () => {
  await using server = await startServer({
    args: ["--client-output-buffer-limit", "normal 0 128kb 1"],
  });
  await using greedy = await RespConn.connect(server.port);
  await floodWithoutReading(greedy, 32 * 1024 * 1024);
  assert.ok(await greedy.closedByServer(10_000));
  await using other = await RespConn.connect(server.port);
  const info = plain(await other.call("INFO", "stats")) as string;
  assert.ok(info.includes("client_output_buffer_limit_disconnections:1"), info);
});

Deno.test("a client that never reads under the default limits stays connected and memory stays bounded", async () => {
  await using server = await startServer();
  await using greedy = await RespConn.connect(server.port);
  await using other = await RespConn.connect(server.port);
  const greedyId = await greedy.call("CLIENT", "ID") as number;
  const greedyOmem = async () => {
    const line = plain(await other.call("CLIENT", "LIST", "ID", greedyId)) as string;
    const omem = / omem=(\d+)/.exec(line)?.[1];
    assert.ok(omem !== undefined, `the client is gone from CLIENT LIST: ${line}`);
    return Number(omem);
  };
  const rss = () => {
    const status = Deno.readTextFileSync(`/proc/${server.pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  };
  const baseline = rss();
  let peak = baseline;
  const flood = new Flood(greedy, 256 * 1024 * 1024);
  // Until the server stops taking input (no write has completed for a second while it holds
  // unsent replies for the client), or the whole flood went in; RSS sampled all along.
  await waitFor(async () => {
    peak = Math.max(peak, rss());
    if (flood.finished) return true;
    if (Date.now() - flood.lastProgress < 1000) return false;
    return await greedyOmem() > 0;
  }, { what: "the flood to stall or end", timeoutMs: 120_000, intervalMs: 50 });
  peak = Math.max(peak, rss());
  assert.equal(flood.error, undefined, `writing to the server failed after ${flood.sent} bytes`);
  assert.ok(!flood.finished, `the server took all ${flood.sent} bytes without the client reading`);
  const omem = await greedyOmem();
  assert.ok(omem > 0 && omem < 4 * 1024 * 1024, `unsent output ${omem} bytes`);
  const growth = peak - baseline;
  assert.ok(growth < 64 * 1024 * 1024, `server RSS grew by ${growth} bytes during the flood`);
  assert.equal(plain(await other.call("PING")), "PONG");
  // Still connected: once it reads, the client gets every reply, in order, and the flood ends.
  flood.stop();
  let replies = 0;
  while (!flood.finished || replies < flood.commands) {
    assert.equal(plain(await greedy.read()), FLOOD_PAYLOAD, `reply ${replies}`);
    replies++;
  }
  await flood.done;
  assert.equal(flood.error, undefined, `writing to the server failed after ${flood.sent} bytes`);
  assert.equal(replies, flood.commands);
  assert.equal(plain(await greedy.call("PING")), "PONG");
});

Deno.test("a client over client-query-buffer-limit is disconnected", async () => {
  await using server = await startServer({ args: ["--client-query-buffer-limit", "1mb"] });
  await using greedy = await RespConn.connect(server.port);
  await greedy.sendRaw(`*2\r\n$4\r\nECHO\r\n$${4 * 1024 * 1024}\r\n`);
  const chunk = new Uint8Array(256 * 1024).fill(120);
  try {
    for (let i = 0; i < 16; i++) await greedy.sendRaw(chunk);
  } catch {
    // The server may close while we are still writing.
  }
  assert.ok(await greedy.closedByServer());
  await using other = await RespConn.connect(server.port);
  await waitFor(async () =>
    (plain(await other.call("INFO", "stats")) as string).includes(
      "client_query_buffer_limit_disconnections:1",
    )
  );
});

const FLOOD_PAYLOAD = "x".repeat(10_000);
const FLOOD_COMMAND = new TextEncoder().encode(
  `*2\r\n$4\r\nECHO\r\n$${FLOOD_PAYLOAD.length}\r\n${FLOOD_PAYLOAD}\r\n`,
);
const FLOOD_CHUNK = new TextEncoder().encode(
  new TextDecoder().decode(FLOOD_COMMAND).repeat(50),
);

/**
 * Sends ECHO commands with 10 KB payloads without reading a reply, until `limit` bytes or
 * {@link stop}, and records its progress and any write error (nothing is swallowed).
 */
class Flood {
  /** Bytes written so far (whole chunks of 50 commands). */
  sent = 0;
  /** When the last chunk was written (`Date.now()`). */
  lastProgress = Date.now();
  /** The error a write failed with, if any. */
  error: unknown = undefined;
  /** True once the writer has ended. */
  finished = false;
  /** Settles when the writer ends. */
  readonly done: Promise<void>;
  #stop = false;

  constructor(conn: RespConn, limit: number) {
    this.done = this.#run(conn, limit);
  }

  /** Number of commands written so far. */
  get commands(): number {
    return this.sent / FLOOD_COMMAND.length;
  }

  /** Ends the writer after the chunk being written. */
  stop(): void {
    this.#stop = true;
  }

  async #run(conn: RespConn, limit: number): Promise<void> {
    try {
      while (!this.#stop && this.sent < limit) {
        await conn.sendRaw(FLOOD_CHUNK);
        this.sent += FLOOD_CHUNK.length;
        this.lastProgress = Date.now();
      }
    } catch (e) {
      this.error = e;
    } finally {
      this.finished = true;
    }
  }
}
