/**
 * Helpers for atomic slot migration tests (CLUSTER MIGRATESLOTS): keys that hash into a slot
 * range, a pipelined fill, a write load through an ioredis Cluster that records acknowledged
 * writes, the -ASK/-TRYAGAIN replies nodes counted (INFO errorstats), key counts of a slot
 * range, and running a migration to its end.
 */
import assert from "node:assert/strict";
import type { Cluster as IoCluster } from "ioredis";
import { keySlot } from "../../src/cluster/key_slot.ts";
import { plain, RespConn } from "./resp_conn.ts";
import { encodeCommand } from "../../src/resp/command_writer.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { ask, infoField, parseClusterNodes } from "./cluster.ts";
import { waitFor } from "./wait_for.ts";

const encoder = new TextEncoder();

/** The slot of a key given as text. */
export function slotOf(key: string): number {
  return keySlot(encoder.encode(key));
}

/** Sends `commands` in one write and returns their replies (as `plain` shapes them). */
export async function pipeline(
  conn: RespConn,
  commands: readonly (string | number)[][],
): Promise<unknown[]> {
  await conn.sendRaw(concatBytes(commands.map((args) => encodeCommand(args))));
  const replies: unknown[] = [];
  for (const _ of commands) replies.push(plain(await conn.read()));
  return replies;
}

/** `count` distinct keys named `prefix:<n>` whose slots lie in [from, to]. */
export function keysInRange(prefix: string, from: number, to: number, count: number): string[] {
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++) {
    const key = `${prefix}:${n}`;
    const slot = slotOf(key);
    if (slot >= from && slot <= to) keys.push(key);
  }
  return keys;
}

/** SETs every key on `port` (pipelined), one in `ttlEvery` with PX 600000. */
export async function fill(
  port: number,
  keys: readonly string[],
  valueBytes: number,
  ttlEvery = 3,
): Promise<void> {
  await using conn = await RespConn.connect(port);
  const pad = "x".repeat(valueBytes);
  for (let i = 0; i < keys.length; i += 1000) {
    const commands = keys.slice(i, i + 1000).map((key, j) => {
      const args = ["SET", key, `${key}=${pad}`];
      if ((i + j) % ttlEvery === 0) args.push("PX", "600000");
      return args;
    });
    for (const reply of await pipeline(conn, commands)) assert.equal(reply, "OK");
  }
}

/** Keys on `port` in slots [from, to] (CLUSTER COUNTKEYSINSLOT, pipelined). */
export async function countInSlots(port: number, from: number, to: number): Promise<number> {
  await using conn = await RespConn.connect(port);
  const commands: (string | number)[][] = [];
  for (let slot = from; slot <= to; slot++) commands.push(["CLUSTER", "COUNTKEYSINSLOT", slot]);
  return (await pipeline(conn, commands)).reduce((sum: number, n) => sum + Number(n), 0);
}

/** -ASK and -TRYAGAIN replies counted by the nodes on `ports` (INFO errorstats). */
export async function redirectsCounted(ports: readonly number[]): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const info = await ask(port, "INFO", "errorstats");
    for (const code of ["ASK", "TRYAGAIN"]) {
      total += Number(/count=(\d+)/.exec(infoField(info, `errorstat_${code}`) ?? "")?.[1] ?? 0);
    }
  }
  return total;
}

/** The owner's port of every slot in `port`'s CLUSTER NODES view (-1 for none). */
export async function ownersIn(port: number): Promise<Int32Array> {
  const owner = new Int32Array(16384).fill(-1);
  for (const node of parseClusterNodes(await ask(port, "CLUSTER", "NODES"))) {
    if (!node.flags.includes("master")) continue;
    for (const [a, b] of node.slots) owner.fill(node.port, a, b + 1);
  }
  return owner;
}

/** One CLUSTER GETSLOTMIGRATIONS entry, as field -> text. */
export type MigrationEntry = Record<string, string>;

/** The entries of CLUSTER GETSLOTMIGRATIONS on `port`. */
export async function migrations(port: number): Promise<MigrationEntry[]> {
  await using conn = await RespConn.connect(port);
  const list = plain(await conn.call("CLUSTER", "GETSLOTMIGRATIONS")) as unknown[][];
  return list.map((flat) => {
    const entry: MigrationEntry = {};
    for (let i = 0; i < flat.length; i += 2) entry[String(flat[i])] = String(flat[i + 1]);
    return entry;
  });
}

/** Waits until the newest migration on `port` has ended; returns it. */
export async function lastMigrationEnded(
  port: number,
  timeoutMs = 60_000,
): Promise<MigrationEntry> {
  let last: MigrationEntry | undefined;
  await waitFor(async () => {
    last = (await migrations(port)).at(-1);
    return last !== undefined && last.end_time !== "0";
  }, { timeoutMs, intervalMs: 20, what: `the migration on ${port} to end` });
  return last as MigrationEntry;
}

/**
 * A steady write load: `workers` loops SET a new key every few ms (one in three with PX 600000),
 * half of them in `hot` slots; a failed write is retried for 10 s before it counts as an error.
 */
export class Load {
  readonly acked = new Map<string, { value: string; ttl: boolean }>();
  readonly errors: string[] = [];
  #next = 0;
  #stopped = false;
  readonly #done: Promise<void[]>;

  constructor(cluster: IoCluster, hot: readonly string[], workers = 2, pauseMs = 5) {
    const worker = async () => {
      while (!this.#stopped) {
        const i = this.#next++;
        const key = i % 2 === 0 ? `${hot[i % hot.length]}:load:${i}` : `load:${i}`;
        const value = `v${i}-${Math.random().toString(36).slice(2)}`;
        const ttl = i % 3 === 0;
        for (const started = Date.now();;) {
          try {
            if (ttl) await cluster.set(key, value, "PX", 600_000);
            else await cluster.set(key, value);
            this.acked.set(key, { value, ttl });
            break;
          } catch (e) {
            if (Date.now() - started > 10_000) {
              this.errors.push(`${key}: ${e}`);
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };
    this.#done = Promise.all(Array.from({ length: workers }, worker));
  }

  /** Stops the writers and waits for the writes in flight (again: nothing to do). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  /** For `await using`: a step that fails still stops its load. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Checks every acknowledged write on its slot's owner (in `port`'s view): the value, and a TTL
 * when it was written with one. Returns how many were checked.
 */
export async function verifyAcked(
  port: number,
  load: { acked: ReadonlyMap<string, { value: string; ttl: boolean }> },
): Promise<number> {
  const owner = await ownersIn(port);
  const byOwner = new Map<number, [string, { value: string; ttl: boolean }][]>();
  for (const entry of load.acked) {
    const p = owner[slotOf(entry[0])];
    byOwner.set(p, [...(byOwner.get(p) ?? []), entry]);
  }
  let checked = 0;
  for (const [p, entries] of byOwner) {
    await using conn = await RespConn.connect(p);
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500);
      const replies = await pipeline(conn, chunk.flatMap(([key]) => [["GET", key], ["PTTL", key]]));
      chunk.forEach(([key, { value, ttl }], j) => {
        assert.equal(replies[2 * j], value, `${key} on its owner ${p}`);
        const pttl = Number(replies[2 * j + 1]);
        if (ttl) assert.ok(pttl > 0, `${key} on ${p} keeps its TTL (PTTL ${pttl})`);
        else assert.equal(pttl, -1, `${key} on ${p} has no TTL`);
        checked++;
      });
    }
  }
  return checked;
}
