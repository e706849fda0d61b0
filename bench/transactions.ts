/**
 * Transaction throughput, gocache next to redis-server in one run: each of `--clients`
 * connections pipelines `--pipeline` blocks of MULTI / SET / INCR / EXEC at a time (random keys
 * out of `--keys`), for `--blocks` blocks per client, alternating servers for `--reps` rounds.
 * Prints blocks per second and each server's CPU time per block, and the median ratio
 * gocache/redis.
 *
 * `--warmup` rounds run first on both servers and are not counted.
 * Rounds are long (800k blocks) and many: on a shared two-core machine, short rounds moved the
 * median by ±0.15 from one run to the next.
 *
 *   deno task bench:transactions [--clients 50] [--pipeline 16] [--blocks 16000] [--reps 7]
 *                                [--warmup 1]
 */
import { parseArgs } from "node:util";
import { cpuSeconds, freePort, median, spawnServer, waitForPing } from "./_support.ts";
import { concatBytes } from "../src/util/bytes.ts";
import { encodeCommand, ReplyDecoder } from "../src/resp/reply_decoder.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "50" },
    pipeline: { type: "string", default: "16" },
    blocks: { type: "string", default: "16000" },
    reps: { type: "string", default: "7" },
    warmup: { type: "string", default: "1" },
    keys: { type: "string", default: "100000" },
  },
});
const CLIENTS = Number(values.clients);
const PIPELINE = Number(values.pipeline);
const BLOCKS = Number(values.blocks);
const REPS = Number(values.reps);
const WARMUP = Number(values.warmup);
const KEYS = Number(values.keys);

/** One batch: PIPELINE blocks of MULTI/SET/INCR/EXEC, i.e. 4 * PIPELINE replies. */
function batch(): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < PIPELINE; i++) {
    const k = Math.floor(Math.random() * KEYS);
    parts.push(
      encodeCommand(["MULTI"]),
      encodeCommand(["SET", `key:${k}`, "x".repeat(32)]),
      encodeCommand(["INCR", `counter:${k}`]),
      encodeCommand(["EXEC"]),
    );
  }
  return concatBytes(parts);
}

async function client(port: number, batches: Uint8Array[]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new ReplyDecoder();
  const buf = new Uint8Array(64 * 1024);
  try {
    for (const data of batches) {
      await conn.write(data);
      let replies = 0;
      while (replies < 4 * PIPELINE) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("connection closed");
        decoder.push(buf.subarray(0, n));
        while (decoder.next() !== undefined) replies++;
      }
    }
  } finally {
    conn.close();
  }
}

/** Blocks per second, and the server's CPU microseconds per block. */
async function measure(port: number, pid: number): Promise<[number, number]> {
  const perClient = Math.ceil(BLOCKS / PIPELINE);
  const blocks = CLIENTS * perClient * PIPELINE;
  const work = Array.from({ length: CLIENTS }, () => Array.from({ length: perClient }, batch));
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await Promise.all(work.map((batches) => client(port, batches)));
  const seconds = (performance.now() - t0) / 1000;
  return [blocks / seconds, (cpuSeconds(pid) - cpu0) * 1e6 / blocks];
}

const rport = freePort();
const gport = freePort();
const dir = Deno.makeTempDirSync({ prefix: "bench-tx-" });
const redis = spawnServer("redis", rport, dir, ["--appendonly", "no"]);
const gocache = spawnServer("gocache", gport, dir);
try {
  await waitForPing(rport);
  await waitForPing(gport);
  // Uncounted rounds first: both servers insert the key space and gocache's JIT warms up, so
  // the counted rounds measure a server that has been running, as a cache is.
  for (let rep = 0; rep < WARMUP; rep++) {
    await measure(rport, redis.pid);
    await measure(gport, gocache.pid);
  }
  const ratios: number[] = [];
  const lines: string[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const [r, rCpu] = await measure(rport, redis.pid);
    const [g, gCpu] = await measure(gport, gocache.pid);
    ratios.push(g / r);
    lines.push(
      `round ${rep + 1}: gocache ${g.toFixed(0)} blocks/s (${gCpu.toFixed(2)} µs CPU/block)  ` +
        `redis ${r.toFixed(0)} blocks/s (${rCpu.toFixed(2)} µs CPU/block)  ratio ${
          (g / r).toFixed(2)
        }`,
    );
  }
  lines.push(
    `MULTI/SET/INCR/EXEC, ${CLIENTS} clients, ${PIPELINE} blocks pipelined: median ratio ` +
      median(ratios).toFixed(2),
  );
  Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
} finally {
  redis.kill("SIGTERM");
  gocache.kill("SIGTERM");
  await Promise.all([redis.status, gocache.status]);
  Deno.removeSync(dir, { recursive: true });
}
