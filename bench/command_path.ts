/**
 * In-process cost of the command path (parse, dispatch, encode) per command, without sockets:
 * pipelined batches of 16 PING, SET, GET and INCR over `--keys` random keys (and of 16
 * MULTI/SET/INCR/EXEC blocks, timed per block), then redis-benchmark's collection tests as it
 * sends them with `-r` (LPUSH, RPUSH, LRANGE_100, LPOP and RPOP on one list, SADD, HSET and
 * ZADD of random members; HGET of random fields of the hash HSET filled), and RESTORE ...
 * REPLACE of a 100-byte value's DUMP payload to random keys (what an atomic slot migration's
 * target runs per key), fresh batches throughout so the keyspace is touched as under
 * redis-benchmark -r. It isolates what gocache's own code costs from the network, where
 * bench:compare cannot. `--tests` picks workloads by name (e.g. `--tests lpush,rpop`).
 *
 *   deno task bench:path [--keys 100000] [--set name=value ...] [--timing] [--propagate]
 *                        [--cluster] [--tests a,b]
 *
 * `--set` changes a parameter as CONFIG SET would, e.g. `--set slowlog-log-slower-than=-1` (no
 * command timing at all) or `--set metrics-port=1` (timing as with the metrics endpoint on; no
 * endpoint is started here). `--timing` instead runs three servers in the same process, passes
 * interleaved so that a noisy machine weighs on all alike: no timing (slow log off, no
 * metrics), the defaults (slow log on), and the metrics endpoint on. `--propagate` attaches a
 * sink to the write stream, as an AOF or a follower does, so writes are encoded into it and
 * the stream is flushed after each batch. `--cluster` runs a standalone server next to one in
 * cluster mode owning all 16384 slots (no bus: only the per-command slot check is measured);
 * keys then carry a hash tag so that the MULTI blocks stay in one slot.
 */
import { parseArgs } from "node:util";
import { dispatch } from "../src/commands/dispatch.ts";
import { Config, defaultValues } from "../src/config/config.ts";
import { type ConfigValues, findParam } from "../src/config/schema.ts";
import { encodeReply } from "../src/resp/encoder.ts";
import { RequestParser } from "../src/resp/request_parser.ts";
import { ClientState } from "../src/server/client.ts";
import { Server } from "../src/server/server.ts";
import { ByteBuffer, fromBinaryString, toBinaryString } from "../src/util/bytes.ts";
import { dumpValue } from "../src/persistence/rdb/dump.ts";
import { withBatchTime } from "../src/util/clock.ts";
import { Cluster } from "../src/cluster/cluster.ts";
import { CLUSTER_SLOTS } from "../src/cluster/key_slot.ts";

const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "100000" },
    set: { type: "string", multiple: true, default: [] },
    timing: { type: "boolean", default: false },
    propagate: { type: "boolean", default: false },
    cluster: { type: "boolean", default: false },
    tests: { type: "string" },
  },
});
const KEYS = Number(values.keys);
const BATCHES = 65536;
const PIPELINE = 16;
const PASSES = values.timing ? 5 : 3;

/** A server with the defaults changed by `name=value` pairs. */
function serverWith(pairs: readonly string[]): Server {
  const config = defaultValues() as unknown as Record<string, unknown>;
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const spec = findParam(pair.slice(0, at));
    if (at < 0 || spec === undefined) throw new Error(`--set ${pair}: expected a known name=value`);
    config[spec.name] = spec.parse(pair.slice(at + 1));
  }
  const server = new Server(new Config(config as unknown as ConfigValues));
  // As with an AOF or a follower attached: every write is encoded into the stream.
  if (values.propagate) server.propagator.addSink(() => {});
  return server;
}

/** A server in cluster mode that owns every slot and sees the cluster up, without a bus. */
function clusterServer(): Server {
  const dir = Deno.makeTempDirSync({ prefix: "bench-path-cluster-" });
  const server = serverWith([`dir=${dir}`, "cluster-enabled=yes"]);
  const cluster = Cluster.open({ ctx: server, deliver: () => {} });
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    cluster.state.addSlot(cluster.state.myself, slot);
  }
  cluster.state.ok = true;
  server.cluster = cluster;
  Deno.removeSync(dir, { recursive: true });
  return server;
}

const variants: [string, Server][] = values.cluster
  ? [["standalone", serverWith(values.set)], ["cluster, all slots", clusterServer()]]
  : values.timing
  ? [
    ["no timing", serverWith(["slowlog-log-slower-than=-1"])],
    ["defaults (slow log)", serverWith([])],
    ["metrics on", serverWith(["metrics-port=1"])],
  ]
  : [[values.set.join(" "), serverWith(values.set)]];
const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
const encoder = new TextEncoder();

function command(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

/** A random key of the key space; in cluster mode its number is a hash tag. */
function keyNumber(): string {
  const n = String(Math.floor(Math.random() * KEYS)).padStart(12, "0");
  return values.cluster ? `{${n}}` : n;
}

function randomKey(prefix: string): string {
  return prefix + keyNumber();
}

/** Milliseconds one pass over `batches` takes on `server`, run as a connection runs them. */
function pass(server: Server, batches: readonly Uint8Array[]): number {
  const parser = new RequestParser(defaultValues()["proto-max-bulk-len"]);
  parser.names = server.commands;
  const out = new ByteBuffer();
  const start = performance.now();
  for (const buf of batches) {
    // As the connection runs a batch: time shared by its commands, clock chained between them.
    server.observer.beginBatch();
    withBatchTime(() => {
      for (let pos = 0; pos < buf.length;) {
        pos = parser.parse(buf, pos, buf.length);
        const argv = parser.command;
        if (argv === null) break;
        encodeReply(out, dispatch(server, client, argv), 2);
      }
    });
    server.observer.endBatch();
    server.propagator.flush();
    out.reset();
  }
  return performance.now() - start;
}

const value = "x".repeat(32);
/** A DUMP payload (as a binary string) of 100 bytes that do not compress. */
const restorePayload = toBinaryString(
  dumpValue(Uint8Array.from({ length: 100 }, (_, i) => (i * 7919) % 251), true),
);
const allWorkloads: [string, () => string][] = [
  ["PING", () => command("PING")],
  ["SET", () => command("SET", randomKey("key:"), value)],
  ["GET", () => command("GET", randomKey("key:"))],
  ["INCR", () => command("INCR", randomKey("counter:"))],
  [
    "MULTI",
    () => {
      const k = keyNumber();
      return command("MULTI") + command("SET", "key:" + k, value) +
        command("INCR", "counter:" + k) + command("EXEC");
    },
  ],
  ["LPUSH", () => command("LPUSH", "mylist", value)],
  ["RPUSH", () => command("RPUSH", "mylist", value)],
  ["LRANGE_100", () => command("LRANGE", "mylist", "0", "99")],
  ["LPOP", () => command("LPOP", "mylist")],
  ["RPOP", () => command("RPOP", "mylist")],
  ["SADD", () => command("SADD", "myset", randomKey("element:"))],
  ["HSET", () => command("HSET", "myhash", randomKey("element:"), value)],
  ["HGET", () => command("HGET", "myhash", randomKey("element:"))],
  ["ZADD", () => command("ZADD", "myzset", keyNumber(), randomKey("element:"))],
  ["RESTORE", () => command("RESTORE", randomKey("key:"), "0", restorePayload, "REPLACE")],
];
const picked = values.tests?.toLowerCase().split(",");
const workloads = picked === undefined
  ? allWorkloads
  : allWorkloads.filter(([name]) => picked.includes(name.toLowerCase()));

const lines: string[] = [
  `${KEYS} keys, ${BATCHES} batches of ${PIPELINE}, best of ${PASSES} passes`,
];
if (values.timing || values.cluster) {
  lines.push("ns/command: " + variants.map(([name]) => name).join(" | "));
} else if (values.set.length > 0) lines[0] += `, ${values.set.join(" ")}`;
if (values.propagate) lines[0] += ", writes propagated";
for (const [name, make] of workloads) {
  const batches: Uint8Array[] = [];
  for (let b = 0; b < BATCHES; b++) {
    let text = "";
    for (let i = 0; i < PIPELINE; i++) text += make();
    // One byte per character: the RESTORE payload is binary, every other workload ASCII.
    batches.push(fromBinaryString(text));
  }
  const best = variants.map(() => Infinity);
  for (let p = 0; p < PASSES; p++) {
    variants.forEach(([, server], v) => (best[v] = Math.min(best[v], pass(server, batches))));
  }
  const ns = best.map((ms) => (ms * 1e6 / (BATCHES * PIPELINE)).toFixed(0).padStart(5));
  const ratio = values.cluster ? `  (x${(best[1] / best[0]).toFixed(3)})` : "";
  lines.push(
    `${name.padEnd(10)} ${ns.join(" ")}${
      values.timing || values.cluster ? "" : " ns/command"
    }${ratio}`,
  );
}
Deno.stdout.writeSync(encoder.encode(lines.join("\n") + "\n"));
