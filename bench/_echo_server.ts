/**
 * The least a Deno TCP server can do per request, for bench/runtime_floor.ts: one read, count
 * the requests in it (each starts with `*`), one write of as many `+PONG` replies. No parsing,
 * no dispatch, no bookkeeping: what is left is the runtime's cost of waking up, reading and
 * writing, the floor under any server written on Deno's socket API.
 *
 *   deno run --allow-net bench/_echo_server.ts <port>
 */
const port = Number(Deno.args[0]);
const PONG = new TextEncoder().encode("+PONG\r\n");
const listener = Deno.listen({ hostname: "127.0.0.1", port });

/** Answers every request on `conn` with +PONG until the peer closes. */
async function serve(conn: Deno.Conn): Promise<void> {
  const input = new Uint8Array(64 * 1024);
  let output = new Uint8Array(16 * PONG.length);
  try {
    while (true) {
      const n = await conn.read(input);
      if (n === null) break;
      let count = 0;
      for (let i = 0; i < n; i++) if (input[i] === 42) count++;
      if (count * PONG.length > output.length) output = new Uint8Array(count * PONG.length);
      for (let k = 0; k < count; k++) output.set(PONG, k * PONG.length);
      const reply = output.subarray(0, count * PONG.length);
      for (let w = 0; w < reply.length;) w += await conn.write(reply.subarray(w));
    }
  } catch {
    // The peer went away mid-write: nothing to do but close.
  }
  conn.close();
}

for await (const conn of listener) void serve(conn);
