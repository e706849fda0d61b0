/**
 * An atomic slot migration's source side (`CLUSTER MIGRATESLOTS`, modelled on Valkey 9's): the
 * source keeps serving the slots until one brief write pause hands them over, so clients never
 * see -ASK or -TRYAGAIN; the target's side is slot_import.ts.
 *
 * 1. Connect to the target's client port (its own connection, _migration_link.ts) and open the
 *    import (`CLUSTER SYNCSLOTS ESTABLISH`), which first deletes any leftovers of those slots
 *    on the target, so every migration starts clean.
 * 2. Stream the slots in order, from the slot index: when a slot starts, its key list is taken,
 *    and each key goes as `RESTORE-ASKING key <abs-ms> payload REPLACE ABSTTL`, pipelined, at
 *    most WINDOW commands unanswered, BATCH_KEYS keys per event loop turn so clients keep being
 *    served. From the moment a slot starts, every write the source propagates to one of its keys
 *    (a tap on the one propagation path, not a hook in commands) is forwarded on the same
 *    connection. Order on one connection makes the end state the source's: a write to a key
 *    already sent applies on the copy, one to a key not yet sent is overwritten by its later
 *    RESTORE ... REPLACE; writes to slots not started are not sent at all (their keys come later
 *    anyway). A forwarded write the target refuses (LSET on a key it does not have yet) is
 *    repaired by sending the key's current value (or a DEL) again.
 * 3. Handoff: once everything is acknowledged, pause writes (server/write_pause.ts), confirm with
 *    a PING that every forwarded write was applied, send `FINISH`: the target takes the slots at
 *    a config epoch above every epoch seen and tells the cluster; the source gives them to the
 *    target in its own view, ends the pause (postponed writes rerun and get -MOVED), then deletes
 *    its keys of the slots in slices (propagated as DEL to its replicas and AOF).
 * 4. Failure (target unreachable, closed, silent for the timeout, a RESTORE refused, a FLUSHALL
 *    here) or `CLUSTER CANCELSLOTMIGRATIONS`: stop forwarding, send CANCEL, close, end the pause:
 *    the source still owns the slots with all its keys; the target deletes its partial keys on
 *    CANCEL or when the connection closes. If FINISH was sent and its answer lost, the outcome is
 *    unknown: the pause holds while the source waits for the target's claim to arrive by gossip;
 *    without one within two node timeouts, the source keeps the slots.
 *
 * Why RESTORE-ASKING rather than a replication stream of the slots as Valkey 9 does: it reuses
 * DUMP's format and the command path (RESTORE's propagation to the target's replicas and AOF)
 * and needs no second protocol; the cost is one command per key.
 *
 * @module
 */
import { clusterPeerTls } from "../server/tls.ts";
import { RespError, type RespValue } from "../resp/reply_decoder.ts";
import type { PropagatedArg, PropagationTap } from "../propagation/propagator.ts";
import type { Command } from "../commands/registry.ts";
import { now, withBatchTime } from "../util/clock.ts";
import { nextTurn } from "../util/event_loop.ts";
import { logger } from "../util/logger.ts";
import type { Cluster } from "./cluster.ts";
import { keySlotOfBinary, slotRuns } from "./key_slot.ts";
import type { ClusterNode } from "./node.ts";
import {
  claimByGossip,
  deleteMovedKeys,
  giveSlots,
  restoreCommand,
  restoreCommandOf,
  sleep,
  writtenKey,
} from "./_migration_handoff.ts";
import { describeSlots } from "./slot_import.ts";
import { type LinkArg, MigrationLink } from "./_migration_link.ts";

const log = logger("cluster");

/**
 * Keys serialized per event loop turn at most, and commands unanswered at most. Measured moving
 * 20k keys of 100 bytes on a loaded 2-core host: 250/2000 streamed in 2.8 s, 1000/8000 in 1.6 s,
 * 4000/32000 in 1.6 s with longer stalls of the source's other clients.
 */
export const BATCH_KEYS = 1000;
/**
 * Milliseconds of streaming per event-loop turn at most, so the source's other clients wait for
 * one slice at worst. bench:reshard (3 -> 4 masters, 25k keys of 100 bytes moved): turns of 1000
 * keys took 0.73 s with a writing client's p99 at x57 of its quiet value; 1 ms slices 0.90 s at
 * x19 (0.5 ms: no better; a window of 256 or 64 commands, or resting 1-2 ms between slices,
 * changed neither much: the rest of that p99 is the two busy processes on two cores). Those
 * slices were separated by `setTimeout(0)`, which waits 1-4 ms here: the source streamed a
 * quarter of the time. Separated by a turn that polls for I/O (util/event_loop.ts), 250k keys
 * (bench:reshard --keys 1000000) moved in 1.90-1.97 s instead of 2.67 (a `setImmediate` turn,
 * which seldom polls, gave 1.67 s with the writing client's p99 at x91). Once keys went from
 * their bytes in place: 1 ms slices, 1.35 s at x55; 0.25 ms slices (and the target's side of
 * the stream served 0.25 ms at a time, server/connection.ts), 1.36-1.47 s at x22-34; on 25k keys
 * 0.39-0.42 s at x48-51 against 0.42 s at x28.5.
 */
export const SLICE_MS = 0.25;
/** See {@link BATCH_KEYS}. */
export const WINDOW = 8000;
/** Queued bytes not yet written to the socket, at most. */
const MAX_UNWRITTEN = 8 * 1024 * 1024;

/** Where a migration stands. */
export type MigrationState =
  | "connecting"
  | "streaming"
  | "handoff"
  | "cleaning"
  | "success"
  | "failed"
  | "cancelled";

const RESTORE = 1;
const FORWARD = 2;
const CONTROL = 3;

/** A command waiting for its reply. */
interface Pending {
  kind: number;
  key: string | null;
  answer: ((value: RespValue) => void) | null;
}

/** Why the migration stops. */
class Stop extends Error {}

/** One migration job; see the module comment. */
export class SlotMigration {
  /** The job's name (40 hex digits). */
  readonly name: string;
  /** 1 for each slot the job moves. */
  readonly slots: Uint8Array;
  /** The target master. */
  readonly target: ClusterNode;
  /** Where it stands. */
  state: MigrationState = "connecting";
  /** Keys sent as RESTORE (repairs included). */
  keysSent = 0;
  /** Writes forwarded. */
  writesForwarded = 0;
  /** When it started and ended (ms since the epoch; 0 while running). */
  readonly startedAt = Date.now();
  endedAt = 0;
  /** How long client writes were paused for the handoff (ms), or -1. */
  pauseMs = -1;
  /** Why it failed, or empty. */
  message = "";
  readonly #cluster: Cluster;
  readonly #order: number[] = [];
  /** Per slot: 0 not streamed yet (or not in the job), 1 streaming or streamed. */
  readonly #started: Uint8Array;
  #link: MigrationLink | null = null;
  #pending: (Pending | undefined)[] = [];
  #head = 0;
  #lastProgress = Date.now();
  #wake: (() => void) | null = null;
  #stop: Stop | null = null;
  #rejectStop: (e: Stop) => void = () => {};
  readonly #stopped: Promise<never>;
  #tapped = false;
  #paused = false;
  #finishSent = false;
  #repairs = 0;
  #slotAt = 0;
  #keys: string[] | null = null;
  #keyAt = 0;
  readonly #names = new Map<string, Command | undefined>();
  readonly #tap: PropagationTap = (db, args) => this.#forward(db, args);
  /** Settles when the job has ended. */
  readonly done: Promise<void>;

  /** Starts moving `slots` to `target` (the caller checked both). */
  constructor(cluster: Cluster, name: string, slots: Uint8Array, target: ClusterNode) {
    this.#cluster = cluster;
    this.name = name;
    this.slots = slots;
    this.target = target;
    this.#started = new Uint8Array(slots.length);
    for (let slot = 0; slot < slots.length; slot++) if (slots[slot] !== 0) this.#order.push(slot);
    this.#stopped = new Promise<never>((_, reject) => this.#rejectStop = reject);
    this.#stopped.catch(() => {});
    this.done = this.#run();
  }

  /** Bytes queued for the target. */
  get bytesSent(): number {
    return this.#link?.bytesQueued ?? 0;
  }

  /** Whether the job has ended. */
  get ended(): boolean {
    return this.endedAt !== 0;
  }

  /** The slots as `start-end` ranges. */
  get ranges(): string {
    return describeSlots(this.slots);
  }

  get #ctx() {
    return this.#cluster.host.ctx;
  }

  get #inFlight(): number {
    return this.#pending.length - this.#head;
  }

  #timeoutMs(): number {
    return Math.max(2 * this.#cluster.nodeTimeout, 5000);
  }

  /** Asks the job to stop; false once the handoff can no longer be undone (or it ended). */
  cancel(): boolean {
    if (this.ended || this.#finishSent) return false;
    this.#fail("cancelled by CLUSTER CANCELSLOTMIGRATIONS", true);
    return true;
  }

  #fail(message: string, cancelled = false): void {
    if (this.#stop !== null) return;
    this.#stop = new Stop(message);
    if (cancelled) this.state = "cancelled";
    this.#rejectStop(this.#stop);
  }

  /** `op`, or the job's stop, whichever comes first. */
  #until<T>(op: Promise<T>): Promise<T> {
    if (this.#stop !== null) return Promise.reject(this.#stop);
    return Promise.race([op, this.#stopped]);
  }

  #send(
    kind: number,
    key: string | null,
    args: readonly LinkArg[],
    answer?: (v: RespValue) => void,
  ) {
    const link = this.#link;
    if (link === null || link.closed) return;
    if (this.#inFlight === 0) this.#lastProgress = Date.now();
    this.#pending.push({ kind, key, answer: answer ?? null });
    link.send(args);
  }

  /** Sends a control command and waits for its reply (an error reply stops the job). */
  #control(args: readonly LinkArg[]): Promise<RespValue> {
    return this.#until(
      new Promise<RespValue>((resolve) => {
        this.#send(CONTROL, null, args, (value) => {
          if (value instanceof RespError) {
            this.#fail(`target answered ${args[2] ?? args[0]}: ${value.message}`);
          } else resolve(value);
        });
      }),
    );
  }

  #reply(value: RespValue): void {
    this.#lastProgress = Date.now();
    const entry = this.#pending[this.#head];
    this.#pending[this.#head++] = undefined;
    if (this.#head > 65536 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    if (entry === undefined) return this.#fail("reply without a command");
    if (entry.kind === CONTROL) entry.answer?.(value);
    else if (value instanceof RespError) {
      if (entry.kind === RESTORE) this.#fail(`target refused a key: ${value.message}`);
      else if (entry.key !== null && this.#tapped) {
        this.#repairs++;
        withBatchTime(() => this.#sendKey(entry.key as string, true));
      }
    }
    if (this.#wake !== null && this.#inFlight <= WINDOW / 2) {
      const wake = this.#wake;
      this.#wake = null;
      wake();
    }
  }

  /** Queues one key's current value (or, when `repair`, a DEL if it is gone). */
  #sendKey(key: string, repair: boolean): void {
    const restore = restoreCommand(this.#ctx, key);
    if (restore !== null) this.keysSent++;
    if (restore !== null || repair) this.#send(RESTORE, key, restore ?? ["DEL", key]);
  }

  /** Queues every live entry of `slot` (see {@link #streamSlice}). */
  #sendSlot(slot: number, at: number): void {
    const db = this.#ctx.keyspace.db(0);
    for (let id = db.firstIdInSlot(slot); id >= 0; id = db.nextIdInSlot(id)) {
      const expireAt = db.expireAtId(id);
      // An expired key not removed yet is left for the deletion after the handoff.
      if (expireAt !== undefined && expireAt <= at) continue;
      this.keysSent++;
      this.#send(RESTORE, null, restoreCommandOf(this.#ctx, id));
    }
  }

  /** The propagation tap: forwards a write to a key of a slot already started. */
  #forward(db: number, args: readonly PropagatedArg[]): void {
    if (db !== 0 || this.#stop !== null || this.#finishSent) return;
    const key = writtenKey(this.#ctx, this.#names, args);
    if (key === null) return;
    if (key === "flush") return this.#fail("the database was flushed during the migration");
    if (this.#started[keySlotOfBinary(key)] === 0) return;
    this.writesForwarded++;
    this.#send(FORWARD, key, args);
  }

  /**
   * Streams keys for up to SLICE_MS (and at most BATCH_KEYS keys); true once every slot was
   * sent. The clock is read every 16 keys.
   */
  #streamSlice(): boolean {
    const db = this.#ctx.keyspace.db(0);
    const until = performance.now() + SLICE_MS;
    for (let sent = 0; sent < BATCH_KEYS;) {
      if (this.#keys === null) {
        if (this.#slotAt >= this.#order.length) return true;
        const slot = this.#order[this.#slotAt];
        this.#started[slot] = 1;
        const count = db.countKeysInSlot(slot);
        if (count <= BATCH_KEYS - sent) {
          // The whole slot fits this slice, during which nothing else runs: its entries go
          // from their bytes in place, with no key strings made or looked up.
          this.#sendSlot(slot, now());
          sent += count;
          this.#slotAt++;
          if (performance.now() >= until) return false;
          continue;
        }
        this.#keys = db.keysInSlot(slot, count);
        this.#keyAt = 0;
      }
      const keys = this.#keys;
      while (sent < BATCH_KEYS && this.#keyAt < keys.length) {
        this.#sendKey(keys[this.#keyAt++], false);
        if ((++sent & 15) === 0 && performance.now() >= until) return false;
      }
      if (this.#keyAt >= keys.length) {
        this.#keys = null;
        this.#slotAt++;
      }
    }
    return false;
  }

  /** Waits until the window and the socket have room. */
  async #room(): Promise<void> {
    const link = this.#link as MigrationLink;
    while (this.#inFlight > WINDOW || link.unwrittenBytes > MAX_UNWRITTEN) {
      const wait = this.#inFlight > WINDOW
        ? new Promise<void>((resolve) => this.#wake = resolve)
        : sleep(1);
      await this.#until(wait);
    }
  }

  /** Resolves once the target has answered everything sent so far. */
  #barrier(): Promise<RespValue> {
    return this.#control(["PING"]);
  }

  #check(): void {
    if (this.#stop !== null) throw this.#stop;
    const state = this.#cluster.state;
    if (!state.myself.isMaster) this.#fail("this node is no longer a master");
    else if (!this.target.isMaster) this.#fail("the target is no longer a master");
    if (this.#stop !== null) throw this.#stop;
  }

  async #run(): Promise<void> {
    const state = this.#cluster.state;
    const watchdog = setInterval(() => {
      if (this.#inFlight > 0 && Date.now() - this.#lastProgress > this.#timeoutMs()) {
        this.#fail(`no reply from the target within ${this.#timeoutMs()} ms`);
      }
    }, 250);
    Deno.unrefTimer(watchdog);
    try {
      log.info("Slot migration {name}: moving slots {slots} to {id}", {
        name: this.name,
        slots: this.ranges,
        id: this.target.id,
      });
      this.#link = await this.#until(
        MigrationLink.open(
          this.target.ip,
          this.target.port,
          this.#timeoutMs(),
          {
            reply: (value) => this.#reply(value),
            closed: (error) => this.#fail(`target connection: ${error}`),
          },
          clusterPeerTls(this.#ctx.config.values),
        ),
      );
      const values = this.#ctx.config.values;
      if (values.masterauth !== "") {
        await this.#control(
          values.masteruser !== ""
            ? ["AUTH", values.masteruser, values.masterauth]
            : ["AUTH", values.masterauth],
        );
      }
      const ranges = slotRuns((slot) => this.slots[slot] !== 0).flat().map(String);
      await this.#control(["CLUSTER", "SYNCSLOTS", "ESTABLISH", state.myself.id, ...ranges]);
      this.#check();
      this.#ctx.propagator.addTap(this.#tap);
      this.#tapped = true;
      this.state = "streaming";
      const streaming = performance.now();
      while (!withBatchTime(() => this.#streamSlice())) {
        await this.#room();
        await this.#until(nextTurn());
        this.#check();
      }
      await this.#barrier();
      log.info("Slot migration {name}: streamed {keys} keys, {bytes} bytes in {ms} ms", {
        name: this.name,
        keys: this.keysSent,
        bytes: this.bytesSent,
        ms: Math.round(performance.now() - streaming),
      });
      await this.#handoff();
    } catch (e) {
      if (!(e instanceof Stop)) {
        log.error("Slot migration {name}: {error}", { name: this.name, error: String(e) });
        this.#fail(String(e));
      }
      await this.#abort();
    } finally {
      clearInterval(watchdog);
      this.#untap();
      this.#link?.close();
    }
  }

  #untap(): void {
    if (!this.#tapped) return;
    this.#tapped = false;
    this.#ctx.propagator.removeTap(this.#tap);
  }

  async #handoff(): Promise<void> {
    this.state = "handoff";
    const pause = this.#ctx.writePause;
    while (pause.active) await this.#until(pause.whenEnded());
    this.#check();
    const paused = performance.now();
    pause.pause("slot-migration", Date.now() + this.#timeoutMs() * 2 + 2000);
    this.#paused = true;
    for (let rounds = 0;; rounds++) {
      const before = this.#repairs;
      await this.#barrier();
      if (this.#repairs === before) break;
      if (rounds >= 5) this.#fail("forwarded writes keep failing on the target");
    }
    this.#check();
    const state = this.#cluster.state;
    for (const slot of this.#order) {
      if (state.owners[slot] !== state.myself) this.#fail(`slot ${slot} is no longer served here`);
    }
    this.#check();
    this.#finishSent = true;
    // Nothing after this is forwarded: client writes are paused, and the only writes left are
    // this node's deletions of the slots' keys once it learns the target owns them (the
    // target's claim may come by gossip before FINISH's answer).
    this.#untap();
    const drained = performance.now();
    let epoch: number;
    try {
      epoch = Number(await this.#control(["CLUSTER", "SYNCSLOTS", "FINISH", state.currentEpoch]));
    } catch (e) {
      epoch = await this.#claimByGossip(e);
    }
    const finished = performance.now();
    giveSlots(this.#cluster, this.target, this.#order, epoch);
    pause.end("slot-migration");
    this.#paused = false;
    const ended = performance.now();
    // After the pause: a restart before this save still loses to the target's newer epoch.
    this.#cluster.saveConfig();
    const round = (ms: number) => Math.round(ms * 10) / 10;
    this.pauseMs = round(ended - paused);
    log.info(
      "Slot migration {name}: slots handed to {id} at epoch {epoch}, writes paused {ms} ms " +
        "(last writes {drainMs} ms, FINISH {finishMs} ms, local {localMs} ms)",
      {
        name: this.name,
        id: this.target.id,
        epoch,
        ms: this.pauseMs,
        drainMs: round(drained - paused),
        finishMs: round(finished - drained),
        localMs: round(ended - finished),
      },
    );
    this.state = "cleaning";
    const announced = new Promise<void>((resolve) => {
      this.#send(CONTROL, null, ["CLUSTER", "SYNCSLOTS", "ANNOUNCE"], () => resolve());
    });
    await Promise.race([announced, sleep(1000)]);
    this.#link?.close();
    const deleted = await deleteMovedKeys(this.#ctx, this.#cluster, this.#order, BATCH_KEYS);
    this.state = "success";
    this.endedAt = Date.now();
    log.info("Slot migration {name}: done in {ms} ms, {keys} keys deleted here", {
      name: this.name,
      ms: this.endedAt - this.startedAt,
      keys: deleted,
    });
  }

  /**
   * FINISH went out but its answer did not come back: the target may have taken the slots.
   * Writes stay paused while its claim may still arrive by gossip; without one, it failed.
   */
  async #claimByGossip(error: unknown): Promise<number> {
    log.warn("Slot migration {name}: no answer to FINISH ({error}); waiting for gossip", {
      name: this.name,
      error: String(error),
    });
    const epoch = await claimByGossip(this.#cluster, this.target, this.#order);
    if (epoch !== null) return epoch;
    this.#finishSent = false;
    throw error;
  }

  async #abort(): Promise<void> {
    this.#untap();
    const link = this.#link;
    if (link !== null && !link.closed) {
      // Best effort: the target also cancels when this connection closes.
      const answered = new Promise<void>((resolve) => {
        this.#send(CONTROL, null, ["CLUSTER", "SYNCSLOTS", "CANCEL"], () => resolve());
      });
      await Promise.race([answered, sleep(1000)]);
      link.close();
    }
    if (this.#paused) this.#ctx.writePause.end("slot-migration");
    this.#paused = false;
    if (this.state !== "cancelled") this.state = "failed";
    this.message = this.#stop?.message ?? "stopped";
    this.endedAt = Date.now();
    log.warn("Slot migration {name} {state}: {why}; slots {slots} stay here", {
      name: this.name,
      state: this.state,
      why: this.message,
      slots: this.ranges,
    });
  }
}
