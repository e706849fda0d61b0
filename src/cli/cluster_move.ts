/**
 * Moving slots between masters of a running cluster. {@link moveSlot} is the one place that
 * decides how a slot travels; {@link runMoves} moves a list of slots one at a time with progress
 * lines.
 *
 * Today there is one way: Redis's, step for step as `redis-cli --cluster` takes it, so it works
 * on any mix of gocache and redis-server nodes: `CLUSTER SETSLOT s IMPORTING <source>` on the
 * target, `CLUSTER SETSLOT s MIGRATING <target>` on the source, then `CLUSTER GETKEYSINSLOT s N`
 * and `MIGRATE host port "" 0 timeout [AUTH pw] KEYS ...` on the source in batches of N keys
 * until the slot is empty (clients meanwhile follow `-ASK`), and finally `CLUSTER SETSLOT s NODE
 * <target>` on the target (which takes a new config epoch and tells the others), on the source,
 * and on every other master.
 */
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

/** How slots travel (see {@link moveSlot}). */
export type MovePath = "keys";

/** Options of a move. */
export interface MoveOptions {
  /** Keys per GETKEYSINSLOT / MIGRATE batch (`--pipeline`, default 100). */
  pipeline: number;
  /** MIGRATE's timeout in ms. */
  timeoutMs: number;
  /** Password the source gives the target in MIGRATE ... AUTH. */
  password?: string;
  /** The way slots travel; only `"keys"` (Redis's) so far. */
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
 *
 * This is the switch point between ways of moving. An atomic path (gocache's `CLUSTER
 * MIGRATESLOTS SLOTSRANGE a b NODE id`: snapshot, stream, brief pause, handoff) belongs here as
 * a second {@link MovePath}, chosen by `--atomic` when every node involved is gocache (INFO
 * server tells); the callers need not change.
 */
export async function moveSlot(
  move: SlotMove,
  masters: readonly MoveNode[],
  options: MoveOptions,
): Promise<number> {
  switch (options.path) {
    case "keys":
      return await moveSlotByKeys(move, masters, options);
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
  for (const [i, move] of moves.entries()) {
    keys += await moveSlot(move, masters, options);
    const done = i + 1;
    const tenth = Math.floor(10 * done / moves.length);
    if (done === moves.length || tenth > shownTenth || Date.now() - shownAt >= 5000) report(done);
  }
  if (moves.length === 0) report(0);
  return { slots: moves.length, keys };
}
