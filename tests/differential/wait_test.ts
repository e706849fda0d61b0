/**
 * WAIT counts the followers that acknowledged the calling client's own last write, as in Redis
 * (its `woff`): a client that wrote nothing is answered at once, another client's later write
 * does not make it wait, a transaction counts with its EXEC, and a PUBLISH (which goes down the
 * stream) counts as the publisher's. A scripted follower (PSYNC, then `REPLCONF ACK` only when the
 * test says so) is attached to redis-server and to gocache, the same script runs on both, and
 * the WAIT replies are compared.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startRedis } from "../support/redis_server.ts";
import { infoField } from "../support/replication.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

const encoder = new TextEncoder();

/** A follower driven by the test: it syncs, counts the stream's bytes, and ACKs on demand. */
class ScriptedFollower {
  readonly #conn: Deno.TcpConn;
  #pending = new Uint8Array(0);
  /** Offset of the last stream byte received. */
  offset = 0;
  #reading: Promise<void> | null = null;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `port`, takes a full copy and starts counting the stream. */
  static async attach(port: number): Promise<ScriptedFollower> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const follower = new ScriptedFollower(conn);
    try {
      await follower.#sync();
    } catch (e) {
      conn.close();
      throw e;
    }
    return follower;
  }

  async #more(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    const n = await this.#conn.read(buf);
    if (n === null) throw new Error("the leader closed the link");
    const joined = new Uint8Array(this.#pending.length + n);
    joined.set(this.#pending);
    joined.set(buf.subarray(0, n), this.#pending.length);
    this.#pending = joined;
  }

  /** The next line (without CRLF), skipping the bare newlines a leader sends as keepalives. */
  async #line(): Promise<string> {
    for (;;) {
      while (this.#pending[0] === 0x0a) this.#pending = this.#pending.subarray(1);
      const cr = this.#pending.indexOf(0x0d);
      if (cr >= 0 && cr + 1 < this.#pending.length) {
        const line = new TextDecoder().decode(this.#pending.subarray(0, cr));
        this.#pending = this.#pending.subarray(cr + 2);
        return line;
      }
      await this.#more();
    }
  }

  async #sync(): Promise<void> {
    await this.#conn.write(encoder.encode("REPLCONF listening-port 1\r\n"));
    assert.equal(await this.#line(), "+OK");
    await this.#conn.write(encoder.encode("PSYNC ? -1\r\n"));
    const full = /^\+FULLRESYNC \S+ (\d+)$/.exec(await this.#line());
    assert.ok(full, "FULLRESYNC");
    this.offset = Number(full[1]);
    const header = await this.#line();
    assert.match(header, /^\$\d+$/, "a sized copy of the dataset");
    const size = Number(header.slice(1));
    while (this.#pending.length < size) await this.#more();
    this.offset += this.#pending.length - size;
    this.#pending = new Uint8Array(0);
    this.#reading = this.#count();
  }

  async #count(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) return;
        this.offset += n;
      }
    } catch {
      // Closed by the test.
    }
  }

  /**
   * Acknowledges `offset` (default: everything received so far) and waits until the leader
   * reports it (INFO's `slave0` line), so that a WAIT sent next finds it already counted.
   */
  async ack(leaderPort: number, offset = this.offset): Promise<void> {
    await this.#conn.write(encoder.encode(`REPLCONF ACK ${offset}\r\n`));
    await waitFor(async () => {
      const line = await infoField(leaderPort, "replication", "slave0");
      return line !== undefined && line.includes(`,offset=${offset},`);
    }, { what: `the leader to record the acknowledgement of ${offset}` });
  }

  /** Waits until every byte the leader has sent so far has arrived. */
  async receiveAll(leaderPort: number): Promise<void> {
    await waitFor(async () => {
      const sent = Number(await infoField(leaderPort, "replication", "master_repl_offset"));
      return this.offset >= sent;
    }, { what: "the follower to receive the stream" });
  }

  /** Acknowledges once every byte the leader has sent so far has arrived. */
  async ackAll(leaderPort: number): Promise<void> {
    await this.receiveAll(leaderPort);
    await this.ack(leaderPort);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#conn.close();
    await this.#reading;
  }
}

/** The script: WAIT replies of a client that wrote and of one that did not, around ACKs. */
async function script(port: number): Promise<unknown[]> {
  await using writer = await RespConn.connect(port);
  await using reader = await RespConn.connect(port);
  await using follower = await ScriptedFollower.attach(port);
  await follower.ack(port);
  await waitFor(async () => {
    const line = await infoField(port, "replication", "slave0");
    return line !== undefined && line.includes("state=online");
  }, { what: "the scripted follower to be online" });
  const wait = async (conn: RespConn) => plain(await conn.call("WAIT", 1, 100));
  const replies: unknown[] = [];
  replies.push(await wait(reader));
  assert.equal(plain(await writer.call("SET", "k", "v")), "OK");
  replies.push(await wait(reader));
  replies.push(await wait(writer));
  await follower.ackAll(port);
  replies.push(await wait(writer));
  assert.equal(plain(await writer.call("MULTI")), "OK");
  await writer.call("SET", "k", "w");
  await writer.call("INCR", "n");
  assert.deepEqual(plain(await writer.call("EXEC")), ["OK", 1]);
  replies.push(await wait(writer));
  replies.push(await wait(reader));
  await follower.ackAll(port);
  replies.push(await wait(writer));
  // A transaction counts as acknowledged only with its EXEC, the last 14 bytes of the stream.
  assert.equal(plain(await writer.call("MULTI")), "OK");
  await writer.call("SET", "k", "x");
  assert.deepEqual(plain(await writer.call("EXEC")), ["OK"]);
  await follower.receiveAll(port);
  await follower.ack(port, follower.offset - "*1\r\n$4\r\nEXEC\r\n".length);
  replies.push(await wait(writer));
  await follower.ackAll(port);
  replies.push(await wait(writer));
  // PUBLISH goes down the stream too: the publisher's WAIT waits for it.
  await reader.call("PUBLISH", "channel", "message");
  replies.push(await wait(reader));
  await follower.ackAll(port);
  replies.push(await wait(reader));
  return replies;
}

Deno.test("WAIT counts acknowledgements of the caller's own last write, as redis-server does", async () => {
  await using redis = await startRedis();
  await using server = await startServer();
  const expected = [1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1];
  assert.deepEqual(await script(redis.port), expected, "redis-server");
  assert.deepEqual(await script(server.port), expected, "gocache");
});
