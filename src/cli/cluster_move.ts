/**
 * Moving slots between masters of a running cluster. {@link moveSlot} is the one place that
 * decides how a slot travels; {@link runMoves} moves a list of slots one at a time with progress
 * lines.
 *
 * Two ways. `atomic` (`--atomic`, gocache masters only): the source moves whole runs of slots
 * to one target with `CLUSTER MIGRATESLOTS SLOTSRANGE a b ... NODE id` (stream, brief write
 * pause, handoff at a new epoch; clients never see -ASK), and this tool waits for the job in
 * `CLUSTER GETSLOTMIGRATIONS`. `keys`: Redis's, step for step as `redis-cli --cluster` takes it,
 * so it works on any mix of gocache and redis-server nodes: `CLUSTER SETSLOT s IMPORTING <source>` on the
 * target, `CLUSTER SETSLOT s MIGRATING <target>` on the source, then `CLUSTER GETKEYSINSLOT s N`
 * and `MIGRATE host port "" 0 timeout [AUTH pw] KEYS ...` on the source in batches of N keys
 * until the slot is empty (clients meanwhile follow `-ASK`), and finally `CLUSTER SETSLOT s NODE
 * <target>` on the target (which takes a new config epoch and tells the others), on the source,
 * and on every other master.
 */
import { runsOfSlots } from "../cluster/key_slot.ts";
import type { NodeLink } from "./cluster_view.ts";
import { progress } from "./cluster_view.ts";

/** A master taking part in a move. */
export interface MoveNode {
  /** Node id. */
  id: string;
  /** Client address as the cluster announces it (MIGRATE connects to it from the source). */
  host: string;
  /** Client port. */
  port: number;
  /** This tool's connection to it. */
  link: NodeLink;
}

/** How slots travel (see the module comment). */
export type MovePath = "keys" | "atomic";

/** Options of a move. */
export interface MoveOptions {
  /** Keys per GETKEYSINSLOT / MIGRATE batch (`--pipeline`, default 100). */
  pipeline: number;
  /** MIGRATE's timeout in ms. */
  timeoutMs: number;
  /** Password the source gives the target in MIGRATE ... AUTH. */
  password?: string;
  /** The way slots travel. */
  path: MovePath;
}

/** One slot to move, with the masters involved. */
export interface SlotMove {
  /** The slot. */
  slot: number;
  /** Its master now. */
  source: MoveNode;
  /** Its master to be. */
  target: MoveNode;
}

/**
 * Moves one slot from `move.source` to `move.target` and makes every master in `masters` say
 * so; resolves to the number of keys moved. On an error the slot stays open (importing on the
 * target, migrating on the source) and the error says so.
 */
export async function moveSlot(
  move: SlotMove,
  masters: readonly MoveNode[],
  options: MoveOptions,
): Promise<number> {
  switch (options.path) {
    case "keys":
      return await moveSlotByKeys(move, masters, options);
    case "atomic":
      return await moveSlotsAtomically([move.slot], move.source, move.target, options);
  }
}

/** A field of one entry of CLUSTER GETSLOTMIGRATIONS (a map, or a flat array in RESP2). */
function jobField(job: unknown, name: string): string {
  const flat = Array.isArray(job) ? job : [];
  const text = (v: unknown) => v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
  for (let i = 0; i + 1 < flat.length; i += 2) if (text(flat[i]) === name) return text(flat[i + 1]);
  return "";
}

/**
 * Moves `slots` (ascending) from `source` to `target` with one `CLUSTER MIGRATESLOTS` and waits
 * for the job to end; resolves to the keys it sent. A failed or cancelled job throws with its
 * message (the source then still owns every slot, with every key).
 */
async function moveSlotsAtomically(
  slots: readonly number[],
  source: MoveNode,
  target: MoveNode,
  options: MoveOptions,
): Promise<number> {
  const ranges = runsOfSlots(slots).flat();
  const where = `${source.host}:${source.port} to ${target.host}:${target.port}`;
  // Our job is the one whose name was not listed before we asked for it.
  const jobNames = async () => {
    const jobs = await source.link.raw("CLUSTER", "GETSLOTMIGRATIONS");
    return Array.isArray(jobs) ? jobs : [];
  };
  const before = new Set((await jobNames()).map((job) => jobField(job, "name")));
  await retryTransient(
    options.timeoutMs,
    () => source.link.call("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", ...ranges, "NODE", target.id),
  );
  const deadline = Date.now() + options.timeoutMs;
  while (true) {
    const job = (await jobNames()).find((j) => !before.has(jobField(j, "name")));
    const state = jobField(job, "state");
    if (state === "success") return Number(jobField(job, "keys_sent")) || 0;
    if (state === "failed" || state === "cancelled") {
      throw new Error(
        `moving ${slots.length} slots from ${where} ${state}: ${jobField(job, "message")}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`moving ${slots.length} slots from ${where}: timed out`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `send` again while it fails with a refusal that passes by itself: `CLUSTERDOWN` (a master
 * that briefly lost its write lease on a busy machine) or `TRYAGAIN`, for up to `timeoutMs`.
 */
async function retryTransient<T>(timeoutMs: number, send: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await send();
    } catch (e) {
      if (!/CLUSTERDOWN|TRYAGAIN/.test(String(e)) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function moveSlotByKeys(
  { slot, source, target }: SlotMove,
  masters: readonly MoveNode[],
  options: MoveOptions,
): Promise<number> {
  await target.link.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.id);
  await source.link.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.id);
  let moved = 0;
  try {
    while (true) {
      const keys = await source.link.raw("CLUSTER", "GETKEYSINSLOT", slot, options.pipeline);
      if (!Array.isArray(keys) || keys.length === 0) break;
      const auth = options.password === undefined ? [] : ["AUTH", options.password];
      await retryTransient(options.timeoutMs, () =>
        source.link.call(
          "MIGRATE",
          target.host,
          target.port,
          "",
          0,
          options.timeoutMs,
          ...auth,
          "KEYS",
          ...(keys as Uint8Array[]),
        ));
      moved += keys.length;
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(
      `moving slot ${slot} from ${source.host}:${source.port} to ${target.host}:${target.port} ` +
        `failed (${moved} keys moved; the slot is left importing/migrating: see ` +
        `'gocache cluster check'): ${why}`,
    );
  }
  // The target first: it takes a new epoch and tells the others; then the source, which may
  // have turned into the target's replica on losing its last slot (not an error, as redis-cli).
  await target.link.call("CLUSTER", "SETSLOT", slot, "NODE", target.id);
  for (const master of [source, ...masters.filter((m) => m !== source && m !== target)]) {
    try {
      await master.link.call("CLUSTER", "SETSLOT", slot, "NODE", target.id);
    } catch (e) {
      if (!String(e).includes("only with masters")) throw e;
    }
  }
  return moved;
}

/** The result of {@link runMoves}. */
export interface MovesDone {
  /** Slots moved. */
  slots: number;
  /** Keys moved with them. */
  keys: number;
}

/**
 * Moves every slot of `moves`, one after another as redis-cli does (two slots moved at once can
 * lose one: a stale PING of a source that meanwhile took a newer epoch for another slot makes
 * the target give the slot back to it in its own view), printing `Slots moved: k/n (K keys)` on
 * stderr at every tenth of the way and at least every 5 s; stops at the first error.
 */
export async function runMoves(
  moves: readonly SlotMove[],
  masters: readonly MoveNode[],
  options: MoveOptions,
): Promise<MovesDone> {
  let keys = 0;
  let shownAt = Date.now();
  let shownTenth = 0;
  const report = (done: number) => {
    progress(`Slots moved: ${done}/${moves.length} (${keys} keys)`);
    shownAt = Date.now();
    shownTenth = Math.floor(10 * done / Math.max(1, moves.length));
  };
  if (options.path === "atomic") {
    // One MIGRATESLOTS per (source, target) pair, its slots in ascending order.
    const pairs = new Map<string, SlotMove[]>();
    for (const move of moves) {
      const key = `${move.source.id} ${move.target.id}`;
      pairs.set(key, [...(pairs.get(key) ?? []), move]);
    }
    let done = 0;
    for (const group of pairs.values()) {
      const slots = group.map((m) => m.slot).sort((a, b) => a - b);
      keys += await moveSlotsAtomically(slots, group[0].source, group[0].target, options);
      done += group.length;
      report(done);
    }
  } else {
    for (const [i, move] of moves.entries()) {
      keys += await moveSlot(move, masters, options);
      const done = i + 1;
      const tenth = Math.floor(10 * done / moves.length);
      if (done === moves.length || tenth > shownTenth || Date.now() - shownAt >= 5000) {
        report(done);
      }
    }
  }
  if (moves.length === 0) report(0);
  return { slots: moves.length, keys };
}
