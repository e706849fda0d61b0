/**
 * A client that streams pipelined `SET`s of 100-byte values as fast as the server takes them,
 * never waiting for replies (as `redis-cli --pipe`, a replication stream or a slot migration
 * does), while draining the replies; for tests of fairness between connections. It runs as a
 * process of its own so that its eager loop cannot slow the test's own client.
 *
 *   deno run --allow-net tests/support/flood_client.ts <port> <milliseconds>
 *
 * Stops after the given time and prints the number of replies it received.
 */
const [port, ms] = Deno.args.map(Number);
const conn = await Deno.connect({ hostname: "127.0.0.1", port });
const value = "v".repeat(100);
const chunk = new TextEncoder().encode(
  Array.from(
    { length: 500 },
    (_, i) => `*3\r\n$3\r\nSET\r\n$8\r\nk${String(i).padStart(7, "0")}\r\n$100\r\n${value}\r\n`,
  ).join(""),
);
const deadline = Date.now() + ms;
let replies = 0;
const draining = (async () => {
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return;
    for (let i = 0; i < n; i++) if (buf[i] === 0x0a) replies++;
  }
})();
while (Date.now() < deadline) {
  for (let w = 0; w < chunk.length;) w += await conn.write(chunk.subarray(w));
}
conn.closeWrite();
await draining;
conn.close();
Deno.stdout.writeSync(new TextEncoder().encode(`${replies}\n`));
