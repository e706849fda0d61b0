/**
 * In-process cost of the command path (parse, dispatch, encode) per command, without sockets:
 * pipelined batches of 16 PING, SET, GET and INCR over `--keys` random keys, fresh batches
 * throughout so the keyspace is touched as under redis-benchmark -r. It isolates what gocache's
 * own code costs from the network, where compare.sh cannot.
 *
 *   deno task bench:path [--keys 100000] [--set name=value ...]
 *
 * `--set` changes a parameter as CONFIG SET would, e.g. `--set slowlog-log-slower-than=-1` (no
 * command timing at all) or `--set metrics-port=1` (timing as with the metrics endpoint on; no
 * endpoint is started here).
 */
import { parseArgs } from "node:util";
import { dispatch } from "../src/commands/dispatch.ts";
import { Config, defaultValues } from "../src/config/config.ts";
import { type ConfigValues, findParam } from "../src/config/schema.ts";
import { encodeReply } from "../src/resp/encoder.ts";
import { RequestParser } from "../src/resp/request_parser.ts";
import { ClientState } from "../src/server/client.ts";
import { Server } from "../src/server/server.ts";
import { ByteBuffer } from "../src/util/bytes.ts";
import { withBatchTime } from "../src/util/clock.ts";

const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "100000" },
    set: { type: "string", multiple: true, default: [] },
  },
});
const KEYS = Number(values.keys);
const BATCHES = 65536;
const PIPELINE = 16;

const config = defaultValues() as unknown as Record<string, unknown>;
for (const pair of values.set) {
  const at = pair.indexOf("=");
  const spec = findParam(pair.slice(0, at));
  if (at < 0 || spec === undefined) throw new Error(`--set ${pair}: expected a known name=value`);
  config[spec.name] = spec.parse(pair.slice(at + 1));
}
const server = new Server(new Config(config as unknown as ConfigValues));
const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
const encoder = new TextEncoder();

function command(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

function randomKey(prefix: string): string {
  return prefix + String(Math.floor(Math.random() * KEYS)).padStart(12, "0");
}

const value = "x".repeat(32);
const workloads: [string, () => string][] = [
  ["PING", () => command("PING")],
  ["SET", () => command("SET", randomKey("key:"), value)],
  ["GET", () => command("GET", randomKey("key:"))],
  ["INCR", () => command("INCR", randomKey("counter:"))],
];

const lines: string[] = [
  `${KEYS} keys, ${BATCHES} batches of ${PIPELINE}, best of 3 passes` +
  (values.set.length > 0 ? `, ${values.set.join(" ")}` : ""),
];
for (const [name, make] of workloads) {
  const batches: Uint8Array[] = [];
  for (let b = 0; b < BATCHES; b++) {
    let text = "";
    for (let i = 0; i < PIPELINE; i++) text += make();
    batches.push(encoder.encode(text));
  }
  const parser = new RequestParser(defaultValues()["proto-max-bulk-len"]);
  const out = new ByteBuffer();
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const start = performance.now();
    for (const buf of batches) {
      withBatchTime(() => {
        for (let pos = 0; pos < buf.length;) {
          pos = parser.parse(buf, pos, buf.length);
          const argv = parser.command;
          if (argv === null) break;
          encodeReply(out, dispatch(server, client, argv), 2);
        }
      });
      out.reset();
    }
    best = Math.min(best, performance.now() - start);
  }
  lines.push(
    `${name.padEnd(5)} ${(best * 1e6 / (BATCHES * PIPELINE)).toFixed(0).padStart(5)} ns/command`,
  );
}
Deno.stdout.writeSync(encoder.encode(lines.join("\n") + "\n"));
