/**
 * Pub/Sub delivery, gocache next to redis-server in one run. Two cases:
 * - fan-out: 1 publisher, 50 subscribers of one channel;
 * - patterns: 1 publisher over 1,000 channels, 50 subscribers of the pattern `ch:*`.
 * The publisher pipelines PUBLISH in batches of 100; a case ends when every subscriber has
 * received every message. Prints delivered messages per second and the ratio gocache/redis.
 *
 *   deno task bench:pubsub [--messages 20000] [--subscribers 50]
 */
import { parseArgs } from "node:util";
import { freePort, spawnServer, waitForPing } from "./_support.ts";
import { concatBytes } from "../src/util/bytes.ts";
import { encodeCommand, ReplyDecoder } from "../src/resp/reply_decoder.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    subscribers: { type: "string", default: "50" },
  },
});
const MESSAGES = Number(values.messages);
const SUBSCRIBERS = Number(values.subscribers);
const BATCH = 100;

/** Subscribes, then resolves once `expected` messages (not confirmations) have arrived. */
async function subscriber(
  port: number,
  command: string[],
  expected: number,
  ready: () => void,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new ReplyDecoder();
  const buf = new Uint8Array(256 * 1024);
  await conn.write(encodeCommand(command));
  let confirmed = false;
  let received = 0;
  try {
    while (received < expected) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("subscriber closed");
      decoder.push(buf.subarray(0, n));
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
        if (!confirmed) {
          confirmed = true;
          ready();
        } else received++;
      }
    }
  } finally {
    conn.close();
  }
}

async function publisher(port: number, channel: (i: number) => string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new ReplyDecoder();
  const buf = new Uint8Array(64 * 1024);
  const payload = "m".repeat(32);
  try {
    for (let sent = 0; sent < MESSAGES; sent += BATCH) {
      const parts = [];
      for (let i = sent; i < Math.min(MESSAGES, sent + BATCH); i++) {
        parts.push(encodeCommand(["PUBLISH", channel(i), payload]));
      }
      await conn.write(concatBytes(parts));
      for (let replies = 0; replies < parts.length;) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("publisher closed");
        decoder.push(buf.subarray(0, n));
        while (decoder.next() !== undefined) replies++;
      }
    }
  } finally {
    conn.close();
  }
}

/** Delivered messages per second for one case on one server. */
async function run(
  port: number,
  subscribe: string[],
  channel: (i: number) => string,
): Promise<number> {
  let ready = 0;
  let allReady!: () => void;
  const readyPromise = new Promise<void>((r) => (allReady = r));
  const subs = Array.from(
    { length: SUBSCRIBERS },
    () => subscriber(port, subscribe, MESSAGES, () => ++ready === SUBSCRIBERS && allReady()),
  );
  await readyPromise;
  const t0 = performance.now();
  await publisher(port, channel);
  await Promise.all(subs);
  return (MESSAGES * SUBSCRIBERS) / ((performance.now() - t0) / 1000);
}

const rport = freePort();
const gport = freePort();
const dir = Deno.makeTempDirSync({ prefix: "bench-pubsub-" });
const servers = [
  spawnServer("redis", rport, dir, ["--appendonly", "no"]),
  spawnServer("gocache", gport, dir),
];
try {
  await waitForPing(rport);
  await waitForPing(gport);
  const cases: [string, string[], (i: number) => string][] = [
    ["fan-out: 1 channel", ["SUBSCRIBE", "news"], () => "news"],
    ["patterns: 1000 channels, ch:*", ["PSUBSCRIBE", "ch:*"], (i) => `ch:${i % 1000}`],
  ];
  const lines = [`${MESSAGES} messages, ${SUBSCRIBERS} subscribers`];
  for (const [name, subscribe, channel] of cases) {
    const r = await run(rport, subscribe, channel);
    const g = await run(gport, subscribe, channel);
    lines.push(
      `${name.padEnd(32)} gocache ${g.toFixed(0).padStart(9)} msg/s  redis ${
        r.toFixed(0).padStart(9)
      } msg/s  ratio ${(g / r).toFixed(2)}`,
    );
  }
  Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
} finally {
  for (const server of servers) server.kill("SIGTERM");
  await Promise.all(servers.map((s) => s.status));
  Deno.removeSync(dir, { recursive: true });
}
