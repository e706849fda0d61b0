/**
 * What happens to a command after it ran, besides its reply: its duration goes to the latency
 * histograms (metrics, INFO commandstats) and, when slow enough, to the slow log; its arguments
 * go to MONITOR clients. Dispatch asks {@link CommandObserver.timing} whether to read the clock
 * at all and {@link CommandObserver.active} whether to call {@link CommandObserver.after}, so with
 * nothing to observe a command costs two field reads.
 *
 * The clock is read only when something uses durations: the metrics endpoint is on
 * (`metrics-port`) or the slow log is (`slowlog-log-slower-than` >= 0, Redis's default 10000).
 * A read (`performance.now()`) costs about 100 ns here, as much as a whole PING and a sixth of a
 * SET, so within a connection's batch of pipelined commands the clock is not read per command:
 *
 * - Commands whose cost is bounded by their request ({@link Command.boundedCost}: GET, SET, INCR,
 *   ...) are timed in chunks of up to {@link CHUNK} consecutive ones: one read at the chunk's end,
 *   the end of one chunk being the start of the next ({@link beginBatch}). Each command of a chunk
 *   is recorded with the chunk's duration divided by its length. When the chunk took 10 µs or
 *   less (the first histogram bucket; eight such commands take about 5 µs) every command's
 *   bucket is exact, and so are the counts; only the split of a chunk's sum between its commands
 *   is an estimate. A chunk that took longer (a garbage collection, the process descheduled)
 *   spreads that time over its commands instead of charging the one that was running.
 * - Every other command (KEYS, SCAN, FLUSHALL, CONFIG, ...) reads the clock before and after
 *   itself, closing the chunk before it, so a slow one is measured exactly and alone. EXEC is
 *   one of these unless every command it runs has a bounded cost; then it and they are timed
 *   with the chunk.
 *
 * Durations cover a command's handler and the encoding of the replies before it in the batch. A
 * reply large enough for its encoding to matter closes the chunk it belongs to
 * ({@link breakChain}). Outside batches every command reads the clock before and after.
 */
import type { Config } from "../config/config.ts";
import type { Command, CommandTable } from "../commands/registry.ts";
import { LatencyHistograms } from "../metrics/latency.ts";
import { monotonicMs, now, nowMicros } from "../util/clock.ts";
import type { ClientState } from "./client.ts";
import type { ClientTable } from "./client_table.ts";
import { displayedArguments, MonitorFeed } from "./monitor.ts";
import { cutArguments, SlowLog } from "./slowlog.ts";

/** The most bounded-cost commands timed by one clock read (see the module comment). */
export const CHUNK = 8;

/** The observer of one server; see the module comment. */
export class CommandObserver {
  /** Whether commands are timed (read before running one). */
  timing = false;
  /** Whether {@link after} has anything to do: timing, or MONITOR clients. */
  active = false;
  /** Per-command latency histograms, by command id. */
  readonly latency: LatencyHistograms;
  /** The slow log. */
  readonly slowlog: SlowLog;
  readonly #monitors = new MonitorFeed();
  readonly #clients: ClientTable;
  readonly #config: Config;
  #slowerThan = -1;
  /** Whether a connection is running a batch while commands are timed. */
  #inBatch = false;
  /** When the open chunk started (the last clock read of the running batch), or -1. */
  #mark = -1;
  /** The commands of the open chunk, their arguments and client (for the slow log). */
  readonly #pendingCommands: (Command | null)[] = new Array(CHUNK).fill(null);
  readonly #pendingArgs: (Uint8Array[] | null)[] = new Array(CHUNK).fill(null);
  #pendingClient: ClientState | null = null;
  #pending = 0;

  /** An observer for the commands of `commands`, configured (and reconfigured) by `config`. */
  constructor(commands: CommandTable, clients: ClientTable, config: Config) {
    this.latency = new LatencyHistograms(commands.byId.length);
    this.#clients = clients;
    this.#config = config;
    this.slowlog = new SlowLog(config.values["slowlog-max-len"]);
    this.#configure();
    config.onChange((names) => {
      if (names.some((n) => n.startsWith("slowlog"))) this.#configure();
    });
  }

  #configure(): void {
    const v = this.#config.values;
    this.#slowerThan = v["slowlog-log-slower-than"];
    this.slowlog.maxLength = v["slowlog-max-len"];
    this.slowlog.trim();
    this.timing = v["metrics-port"] > 0 || this.#slowerThan >= 0;
    this.active = this.timing || this.#monitors.size > 0;
  }

  /** A connection starts running a batch of commands (see the module comment). */
  beginBatch(): void {
    this.#inBatch = this.timing;
    this.#mark = -1;
  }

  /** The batch is over: its last chunk is recorded, and the next command reads its own start. */
  endBatch(): void {
    if (this.#pending > 0) this.#closeChunk(monotonicMs());
    this.#inBatch = false;
    this.#mark = -1;
    this.#pendingClient = null;
  }

  /** The time since the last command is not the next one's: a large reply was just encoded. */
  breakChain(): void {
    if (this.#pending > 0) this.#closeChunk(monotonicMs());
    this.#mark = -1;
  }

  /**
   * The start of `cmd`, about to run for `client` (only called when {@link timing}): -1 when it
   * will be timed with its chunk. An EXEC whose queued commands all have bounded costs has one.
   */
  start(cmd: Command, client: ClientState): number {
    if (
      this.#inBatch &&
      (cmd.boundedCost ||
        (cmd.runsQueue && client.multi !== null && !client.multi.unbounded))
    ) {
      if (this.#mark < 0) this.#mark = monotonicMs();
      return -1;
    }
    const started = monotonicMs();
    if (this.#pending > 0) this.#closeChunk(started);
    return started;
  }

  /** Starts feeding `client` every command run (MONITOR). */
  addMonitor(client: ClientState): void {
    this.#monitors.add(client);
    this.active = true;
  }

  /** Stops feeding `client` (RESET, disconnect). */
  removeMonitor(client: ClientState): void {
    this.#monitors.remove(client);
    this.active = this.timing || this.#monitors.size > 0;
  }

  /**
   * Observes a command that just ran for `client`; `started` is what {@link start} returned
   * before it ran, or -1 (timed with its chunk, or not timed).
   */
  after(client: ClientState, cmd: Command, argv: Uint8Array[], started: number): void {
    if (this.timing) {
      if (started < 0) {
        if (this.#inBatch) this.#addToChunk(client, cmd, argv);
      } else {
        const end = monotonicMs();
        // Commands run inside this one (EXEC's) end with it.
        if (this.#pending > 0) this.#closeChunk(end);
        this.#mark = this.#inBatch ? end : -1;
        this.#record(client, cmd, argv, (end - started) * 1000);
      }
    }
    if (this.#monitors.size > 0 && !cmd.hidden.monitor) {
      this.#monitors.feed(this.#clients, client, displayedArguments(cmd, argv), nowMicros());
      if (this.#monitors.size === 0) this.active = this.timing;
    }
  }

  #addToChunk(client: ClientState, cmd: Command, argv: Uint8Array[]): void {
    const n = this.#pending;
    this.#pendingCommands[n] = cmd;
    this.#pendingArgs[n] = argv;
    this.#pendingClient = client;
    this.#pending = n + 1;
    if (n + 1 === CHUNK) {
      const end = monotonicMs();
      this.#closeChunk(end);
      this.#mark = end;
    }
  }

  /** Records the commands of the open chunk, which ended at `end`. */
  #closeChunk(end: number): void {
    const n = this.#pending;
    this.#pending = 0;
    const micros = this.#mark < 0 ? 0 : (end - this.#mark) * 1000 / n;
    const logSlow = this.#slowerThan >= 0 && micros >= this.#slowerThan;
    const commands = this.#pendingCommands;
    const args = this.#pendingArgs;
    for (let i = 0; i < n; i++) {
      const cmd = commands[i] as Command;
      if (logSlow) {
        this.#record(this.#pendingClient as ClientState, cmd, args[i] as Uint8Array[], micros);
      } else this.latency.record(cmd.id, micros);
      commands[i] = null;
      args[i] = null;
    }
  }

  #record(client: ClientState, cmd: Command, argv: Uint8Array[], micros: number): void {
    this.latency.record(cmd.id, micros);
    if (this.#slowerThan >= 0 && micros >= this.#slowerThan && !cmd.hidden.slowlog) {
      this.slowlog.push({
        time: Math.floor(now() / 1000),
        micros: Math.floor(micros),
        argv: cutArguments(displayedArguments(cmd, argv)),
        addr: client.addr,
        name: client.name,
      });
    }
  }
}
