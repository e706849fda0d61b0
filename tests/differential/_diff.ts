/**
 * Differential testing helpers: one redis-server (the reference) and one gocache started with the
 * same flags, pairs of connections to them, and assertions that both answer the same command (or
 * the same raw bytes) with the same reply, reply TYPES included: a RESP value is first turned into
 * a {@link Shape} that names its type, so a simple string never equals a bulk string and an
 * integer never equals its decimal text.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  encodeCommand,
  RespBigNumber,
  RespDouble,
  RespError,
  RespMap,
  RespPush,
  RespSet,
  RespSimple,
  type RespValue,
  RespVerbatim,
} from "../../src/resp/reply_decoder.ts";
import { type RedisProcess, startRedis } from "../support/redis_server.ts";
import { RespConn } from "../support/resp_conn.ts";
import { type ServerProcess, startServer } from "../support/server.ts";

/** A decoded reply with its RESP type made explicit, for deep comparison and readable diffs. */
export type Shape =
  | { type: "simple"; value: string }
  | { type: "error"; value: string }
  | { type: "integer"; value: number | bigint }
  | { type: "bulk"; value: string }
  | { type: "null" }
  | { type: "boolean"; value: boolean }
  | { type: "double"; value: number }
  | { type: "bignum"; value: bigint }
  | { type: "verbatim"; format: string; value: string }
  | { type: "array"; items: Shape[] }
  | { type: "set"; items: Shape[] }
  | { type: "push"; items: Shape[] }
  | { type: "map"; entries: [Shape, Shape][] };

/** A command argument as {@link RespConn.send} takes it. */
export type Arg = string | Uint8Array | number;

/** Which server a reply came from (normalizers may treat them differently, with a reason). */
export type Side = "redis" | "gocache";

/** Rewrites a reply before comparison, to remove a legitimate difference; say why at the call. */
export type Normalize = (shape: Shape, side: Side) => Shape;

/** Options for the comparing assertions. */
export interface SameOptions {
  /** Applied to both replies before they are compared. */
  normalize?: Normalize;
  /** Extra text for the assertion message. */
  message?: string;
}

/**
 * Renders bytes as text that is unique per byte sequence: printable ASCII as is, a backslash as
 * `\\`, every other byte as `\xHH`. Binary payloads stay readable in assertion diffs.
 */
export function showBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Turns a decoded reply into its {@link Shape}. */
export function shapeOf(value: RespValue): Shape {
  if (value === null) return { type: "null" };
  if (value instanceof Uint8Array) return { type: "bulk", value: showBytes(value) };
  if (typeof value === "number" || typeof value === "bigint") return { type: "integer", value };
  if (typeof value === "boolean") return { type: "boolean", value };
  if (Array.isArray(value)) return { type: "array", items: value.map(shapeOf) };
  if (value instanceof RespSimple) return { type: "simple", value: value.value };
  if (value instanceof RespError) return { type: "error", value: value.message };
  if (value instanceof RespMap) {
    return { type: "map", entries: value.entries.map(([k, v]) => [shapeOf(k), shapeOf(v)]) };
  }
  if (value instanceof RespSet) return { type: "set", items: value.items.map(shapeOf) };
  if (value instanceof RespPush) return { type: "push", items: value.items.map(shapeOf) };
  if (value instanceof RespDouble) return { type: "double", value: value.value };
  if (value instanceof RespBigNumber) return { type: "bignum", value: value.value };
  if (value instanceof RespVerbatim) {
    return { type: "verbatim", format: value.format, value: showBytes(value.text) };
  }
  throw new TypeError(`Unexpected reply value: ${String(value)}`);
}

/** The text of a simple string, bulk string, verbatim string or error; throws for other types. */
export function textOf(shape: Shape): string {
  if (
    shape.type === "simple" || shape.type === "error" || shape.type === "bulk" ||
    shape.type === "verbatim"
  ) return shape.value;
  throw new TypeError(`Expected a string reply, got ${JSON.stringify(shape)}`);
}

/** Reverses {@link showBytes} for text: `\xHH` escapes back to characters (bytes as Latin-1). */
export function unshow(shown: string): string {
  return shown.replace(
    /\\(\\|x[0-9a-f]{2})/g,
    (_, e: string) => e === "\\" ? "\\" : String.fromCharCode(parseInt(e.slice(1), 16)),
  );
}

/** The elements of an array or set reply; throws for other types. */
export function itemsOf(shape: Shape): Shape[] {
  if (shape.type === "array" || shape.type === "set") return shape.items;
  throw new TypeError(`Expected an array or set reply, got ${JSON.stringify(shape)}`);
}

/**
 * The key/value pairs of a map reply, or of its RESP2 form (a flat array of alternating keys and
 * values); throws for other types.
 */
export function pairsOf(shape: Shape): [Shape, Shape][] {
  if (shape.type === "map") return shape.entries;
  if (shape.type === "array" && shape.items.length % 2 === 0) {
    const out: [Shape, Shape][] = [];
    for (let i = 0; i < shape.items.length; i += 2) out.push([shape.items[i], shape.items[i + 1]]);
    return out;
  }
  throw new TypeError(`Expected a map reply, got ${JSON.stringify(shape)}`);
}

/** The value of an integer reply; throws for other types. */
export function intOf(shape: Shape): number {
  if (shape.type === "integer") return Number(shape.value);
  throw new TypeError(`Expected an integer reply, got ${JSON.stringify(shape)}`);
}

/** Both replies to one request. */
export interface Replies {
  /** redis-server's reply. */
  redis: Shape;
  /** gocache's reply. */
  gocache: Shape;
}

/**
 * One connection to each server. Every method acts on both connections the same way, so that the
 * two servers always see identical byte streams.
 */
export class ConnPair {
  /** The connection to redis-server. */
  readonly redis: RespConn;
  /** The connection to gocache. */
  readonly gocache: RespConn;

  /** Wraps two open connections (see {@link Both.connect}). */
  constructor(redis: RespConn, gocache: RespConn) {
    this.redis = redis;
    this.gocache = gocache;
  }

  /** Sends the same raw bytes (or text) to both servers. */
  async sendRaw(data: Uint8Array | string): Promise<void> {
    await Promise.all([this.redis.sendRaw(data), this.gocache.sendRaw(data)]);
  }

  /** Sends one command to both servers as a RESP multibulk. */
  async send(...args: Arg[]): Promise<void> {
    await this.sendRaw(encodeCommand(args));
  }

  /** Reads the next reply from both servers. */
  async read(timeoutMs?: number): Promise<Replies> {
    const [redis, gocache] = await Promise.all([
      this.redis.read(timeoutMs),
      this.gocache.read(timeoutMs),
    ]);
    return { redis: shapeOf(redis), gocache: shapeOf(gocache) };
  }

  /** Sends a command to both and reads both replies (without comparing them). */
  async call(...args: Arg[]): Promise<Replies> {
    await this.send(...args);
    return await this.read();
  }

  /**
   * Sends `args` to both servers and asserts that the replies are deep-equal, types included,
   * after the optional normalization. Returns redis-server's (normalized) reply.
   */
  async assertSame(args: readonly Arg[], options: SameOptions = {}): Promise<Shape> {
    await this.send(...args);
    return await this.assertSameRead(describeArgs(args), options);
  }

  /** Reads the next reply from both servers and asserts they match (see {@link assertSame}). */
  async assertSameRead(what = "the next reply", options: SameOptions = {}): Promise<Shape> {
    const replies = await this.read();
    return compare(replies, what, options);
  }

  /**
   * Waits until each server has closed its connection or `timeoutMs` passed, and returns whether
   * each one did. Unread replies are discarded.
   */
  async closedByServer(timeoutMs = 2000): Promise<{ redis: boolean; gocache: boolean }> {
    const [redis, gocache] = await Promise.all([
      this.redis.closedByServer(timeoutMs),
      this.gocache.closedByServer(timeoutMs),
    ]);
    return { redis, gocache };
  }

  /** Closes both connections (idempotent). */
  close(): void {
    this.redis.close();
    this.gocache.close();
  }

  /** For `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Name, arity, flags, key positions and ACL categories of a COMMAND INFO entry. */
export function infoSummary(shape: Shape): unknown {
  const items = itemsOf(shape);
  return {
    name: textOf(items[0]),
    arity: items[1],
    flags: itemsOf(items[2]).map(textOf).sort(),
    keys: items.slice(3, 6),
    categories: itemsOf(items[6]).map(textOf),
  };
}

/**
 * Asserts that COMMAND INFO of each of `names` (`name` or `container|sub`) gives the same name,
 * arity, flags, key positions and ACL categories on both servers.
 */
export async function assertSameCommandInfo(c: ConnPair, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const info = await c.call("COMMAND", "INFO", name);
    assert.deepEqual(
      infoSummary(itemsOf(info.gocache)[0]),
      infoSummary(itemsOf(info.redis)[0]),
      name,
    );
  }
}

/**
 * A test step runner whose steps start from empty servers: FLUSHALL on both (compared), in
 * `select` when given, then the step's body.
 */
export function stepsFromEmpty(
  t: Deno.TestContext,
  c: ConnPair,
  select?: number,
): (name: string, body: () => Promise<void>) => Promise<boolean> {
  return (name, body) =>
    t.step(name, async () => {
      await c.assertSame(["FLUSHALL"]);
      if (select !== undefined) await c.assertSame(["SELECT", select]);
      await body();
    });
}

/**
 * Asserts that `OBJECT IDLETIME key` reads `seconds` or one more on both servers. Idle time
 * counts whole seconds of a clock each server ticks on its own (redis-server's every 100 ms),
 * so a tick between the write and the read adds one on either side, independently.
 */
export async function assertIdleTime(c: ConnPair, key: Arg, seconds: number): Promise<void> {
  const replies = await c.call("OBJECT", "IDLETIME", key);
  for (const [server, reply] of Object.entries(replies)) {
    assert.ok(
      reply.type === "integer" && (reply.value === seconds || reply.value === seconds + 1),
      `${server}'s OBJECT IDLETIME ${String(key)}: ${JSON.stringify(reply)}, not ${seconds}(+1)`,
    );
  }
}

/** Sends each command to both servers in turn, asserting the same reply every time. */
export async function script(c: ConnPair, commands: readonly (readonly Arg[])[]): Promise<void> {
  for (const command of commands) await c.assertSame(command);
}

/** Compares two replies after normalization and returns redis-server's. */
function compare(replies: Replies, what: string, options: SameOptions): Shape {
  const normalize = options.normalize ?? ((s: Shape) => s);
  const redis = normalize(replies.redis, "redis");
  const gocache = normalize(replies.gocache, "gocache");
  assert.deepEqual(
    gocache,
    redis,
    options.message ?? `gocache's reply to ${what} differs from redis-server's`,
  );
  return redis;
}

/** What one raw socket received: every byte, and whether the server closed the connection. */
export interface RawResult {
  /** The bytes received, rendered with {@link showBytes}. */
  bytes: string;
  /** True when the server closed the connection. */
  closed: boolean;
}

const MARKER = "diff-marker-7f3a";
const MARKER_REPLY = new TextEncoder().encode(`$${MARKER.length}\r\n${MARKER}\r\n`);

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function endsWith(data: Uint8Array, length: number, suffix: Uint8Array): boolean {
  if (length < suffix.length) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (data[length - suffix.length + i] !== suffix[i]) return false;
  }
  return true;
}

/**
 * Sends `data` on a fresh socket to 127.0.0.1:`port` and collects the raw bytes received until
 * they end with `until`, the server closes the connection, or `timeoutMs` passes.
 */
export async function rawExchange(
  port: number,
  data: Uint8Array,
  until: Uint8Array | null,
  timeoutMs: number,
): Promise<RawResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let received = new Uint8Array(64 * 1024);
  let length = 0;
  let closed = false;
  const deadline = Date.now() + timeoutMs;
  try {
    for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
    while (!(until !== null && endsWith(received, length, until)) && Date.now() < deadline) {
      if (length === received.length) {
        const grown = new Uint8Array(received.length * 2);
        grown.set(received);
        received = grown;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(1, deadline - Date.now()));
      });
      const read = conn.read(received.subarray(length)).catch(() => null);
      const n = await Promise.race([read, timeout]);
      clearTimeout(timer);
      if (n === "timeout") {
        // The pending read settles (with null) once the socket is closed below.
        conn.close();
        await read;
        return { bytes: showBytes(received.subarray(0, length)), closed };
      }
      if (n === null) {
        closed = true;
        break;
      }
      length += n;
    }
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  return { bytes: showBytes(received.subarray(0, length)), closed };
}

/** A short description of a command for assertion messages. */
export function describeArgs(args: readonly Arg[]): string {
  return args.map((a) =>
    typeof a === "number"
      ? String(a)
      : typeof a === "string"
      ? JSON.stringify(a)
      : `<${showBytes(a)}>`
  ).join(" ");
}

/**
 * Asserts that both connections of `pair` answer `args` with the same reply, types included;
 * the function form of {@link ConnPair.assertSame}.
 */
export function assertSameReply(
  pair: ConnPair,
  args: readonly Arg[],
  options: SameOptions = {},
): Promise<Shape> {
  return pair.assertSame(args, options);
}

/** A redis-server and a gocache started with the same flags. */
export class Both {
  /** The reference redis-server. */
  readonly redis: RedisProcess;
  /** The gocache server under test. */
  readonly gocache: ServerProcess;

  /** Wraps two running servers (see {@link withBoth}). */
  constructor(redis: RedisProcess, gocache: ServerProcess) {
    this.redis = redis;
    this.gocache = gocache;
  }

  /** Opens a fresh connection to each server. */
  async connect(): Promise<ConnPair> {
    const redis = await RespConn.connect(this.redis.port);
    try {
      return new ConnPair(redis, await RespConn.connect(this.gocache.port));
    } catch (e) {
      redis.close();
      throw e;
    }
  }

  /**
   * Sends the same raw bytes to both servers on fresh sockets and returns what each sent back.
   * With `marker`, an `ECHO` marker command follows the bytes and reading stops at its reply (for
   * input that must leave the connection open); otherwise reading stops when the server closes
   * the connection, or after `timeoutMs`.
   */
  async rawBoth(
    data: Uint8Array | string,
    options: { marker?: boolean; timeoutMs?: number } = {},
  ): Promise<{ redis: RawResult; gocache: RawResult }> {
    let bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (options.marker) bytes = concat([bytes, encodeCommand(["ECHO", MARKER])]);
    const until = options.marker ? MARKER_REPLY : null;
    const timeoutMs = options.timeoutMs ?? 5000;
    const [redis, gocache] = await Promise.all([
      rawExchange(this.redis.port, bytes, until, timeoutMs),
      rawExchange(this.gocache.port, bytes, until, timeoutMs),
    ]);
    return { redis, gocache };
  }

  /**
   * Sends `commands` (then an ECHO marker) to both servers on fresh sockets and asserts that the
   * raw reply bytes are identical. Catches what decoding hides, e.g. a byte 0x80 in an error text
   * sent raw by one server and UTF-8 encoded by the other.
   */
  async assertSameBytes(commands: readonly (readonly Arg[])[], message?: string): Promise<void> {
    const { redis, gocache } = await this.rawBoth(concat(commands.map((c) => encodeCommand(c))), {
      marker: true,
    });
    assert.deepEqual(
      gocache,
      redis,
      message ?? `gocache's raw replies to ${commands.map(describeArgs).join("; ")} differ`,
    );
  }
}

/** Options for {@link withBoth}. */
export interface BothOptions {
  /** Flags given to both servers, e.g. `["--requirepass", "secret"]` (same names in both). */
  args?: string[];
}

/**
 * Starts one redis-server and one gocache with the same flags, runs `body`, and stops both
 * (gocache must stop cleanly: see ServerProcess.checkExit) whatever happens. Start it once per test file and run the
 * comparisons as steps inside, so the suite stays fast.
 */
export async function withBoth(
  options: BothOptions,
  body: (both: Both) => Promise<void>,
): Promise<void> {
  const args = options.args ?? [];
  const [redis, gocache] = await Promise.allSettled([startRedis(args), startServer({ args })]);
  let failed = true;
  try {
    if (redis.status === "rejected") throw redis.reason;
    if (gocache.status === "rejected") throw gocache.reason;
    await body(new Both(redis.value, gocache.value));
    failed = false;
  } finally {
    if (redis.status === "fulfilled") await redis.value.stop();
    if (gocache.status === "fulfilled") {
      await gocache.value.stop();
      // A failure of the body is the one to report; an unclean exit (code, signal, uncaught
      // error in the output) only when all else passed.
      if (!failed) await gocache.value.checkExit();
    }
  }
}
