/**
 * What happens to a command after it ran, besides its reply: its duration goes to the latency
 * histograms (metrics, INFO commandstats) and, when slow enough, to the slow log; its arguments
 * go to MONITOR clients. Dispatch asks {@link CommandObserver.timing} whether to read the clock
 * at all and {@link CommandObserver.active} whether to call {@link CommandObserver.after}, so with
 * nothing to observe a command costs two field reads.
 *
 * The clock is read only when something uses durations: the metrics endpoint is on
 * (`metrics-port`) or the slow log is (`slowlog-log-slower-than` >= 0, Redis's default 10000).
 * It is `performance.now()` (through util/clock) when durations must be fine (the metrics
 * endpoint, a slow log below 10 ms); `Date.now()` costs about half as much here (~50 vs ~100 ns
 * a read, measured on this machine) but counts whole milliseconds, which is enough for Redis's
 * default slow log (10 ms) alone.
 *
 * A read costs as much as a whole PING, so within a connection's batch of pipelined commands
 * the clock is read once per command, not twice: the end of one command is the start of the
 * next ({@link beginBatch}). A command's time then also covers encoding the previous reply and
 * parsing its own request, both small; a reply large enough for its encoding to matter breaks
 * the chain ({@link breakChain}), so the next command reads its own start. Outside batches (EXEC
 * aside, which runs inside one) every command reads the clock before and after.
 */
import type { Config } from "../config/config.ts";
import type { Command, CommandTable } from "../commands/registry.ts";
import { LatencyHistograms } from "../metrics/latency.ts";
import { monotonicMs, now, nowMicros } from "../util/clock.ts";
import type { ClientState } from "./client.ts";
import type { ClientTable } from "./client_table.ts";
import { displayedArguments, MonitorFeed } from "./monitor.ts";
import { cutArguments, SlowLog } from "./slowlog.ts";

/** Slow-log thresholds (µs) from which a millisecond clock is used (ten ticks or more). */
const COARSE_SLOWLOG_US = 10_000;

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
  /** When the last command of the running batch ended, or -1. */
  #mark = -1;
  /** The clock commands are timed with (see {@link #configure}). */
  #clock: () => number = monotonicMs;

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
    // With only the slow log at a threshold of 10 ms or more (Redis's default), whole
    // milliseconds are precise enough, and Date.now() costs half a performance.now(): at 16
    // pipelined commands the finer clock cost about 20% of SET and GET throughput against
    // redis-server (compare.sh). Durations of a millisecond clock read at random phases still
    // add up to unbiased sums, so commandstats' usec_per_call stays right on average.
    this.#clock = v["metrics-port"] > 0 || this.#slowerThan < COARSE_SLOWLOG_US
      ? monotonicMs
      : Date.now;
  }

  /** A connection starts running a batch of commands (see the module comment). */
  beginBatch(): void {
    this.#inBatch = this.timing;
    this.#mark = -1;
  }

  /** The batch is over: the next command reads its own start. */
  endBatch(): void {
    this.#inBatch = false;
    this.#mark = -1;
  }

  /** The next command reads its own start (the time since the last one is not its own). */
  breakChain(): void {
    this.#mark = -1;
  }

  /** The start of a command about to run (only called when {@link timing}). */
  start(): number {
    return this.#mark >= 0 ? this.#mark : this.#clock();
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
   * Observes a command that just ran for `client`; `startMs` is what {@link start} returned
   * before it ran (when {@link timing}).
   */
  after(client: ClientState, cmd: Command, argv: Uint8Array[], startMs: number): void {
    if (this.timing) {
      const end = this.#clock();
      if (this.#inBatch) this.#mark = end;
      // A wall clock (Date.now) may step back: a duration is never negative.
      const micros = Math.max(0, (end - startMs) * 1000);
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
    if (this.#monitors.size > 0 && !cmd.hidden.monitor) {
      this.#monitors.feed(this.#clients, client, displayedArguments(cmd, argv), nowMicros());
      if (this.#monitors.size === 0) this.active = this.timing;
    }
  }
}
