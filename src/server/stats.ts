/** Server-wide counters behind INFO stats and errorstats, and the metrics endpoint. */
import { logger } from "../util/logger.ts";

/**
 * Distinct error codes counted at most, as Redis's ERROR_STATS_NUMBER: a client sending
 * made-up error codes (through a script, say) cannot grow the table without bound.
 */
export const MAX_ERROR_CODES = 128;

const log = logger("stats");

/** Counters; reset by CONFIG RESETSTAT. */
export class ServerStats {
  /** Connections accepted (including rejected ones). */
  connectionsReceived = 0;
  /** Connections refused because of `maxclients`. */
  rejectedConnections = 0;
  /** Commands run, successful or not. */
  commandsProcessed = 0;
  /** Error replies sent. */
  errorReplies = 0;
  /** Bytes read from clients. */
  netInputBytes = 0;
  /** Bytes written to clients. */
  netOutputBytes = 0;
  /** Clients closed for exceeding `client-output-buffer-limit`. */
  outputBufferLimitDisconnections = 0;
  /** Clients closed for exceeding `client-query-buffer-limit`. */
  queryBufferLimitDisconnections = 0;
  /** Commands per second over the last sampling period. */
  instantaneousOps = 0;
  /** Error replies by code (the first word: `ERR`, `WRONGTYPE`, ...), INFO errorstats. */
  readonly errorsByCode = new Map<string, number>();
  #errorCodesFull = false;
  #lastSampleAt = 0;
  #lastSampleCommands = 0;

  /**
   * Counts one error reply sent, under its code. Past {@link MAX_ERROR_CODES} distinct codes
   * new ones are only counted in the total, as Redis does.
   */
  countError(reply: { readonly code: string }): void {
    this.errorReplies++;
    const code = reply.code;
    const count = this.errorsByCode.get(code);
    if (count !== undefined) this.errorsByCode.set(code, count + 1);
    else if (this.errorsByCode.size < MAX_ERROR_CODES) this.errorsByCode.set(code, 1);
    else if (!this.#errorCodesFull) {
      this.#errorCodesFull = true;
      log.warn("Errors of more than {max} distinct codes: new codes are no longer tracked", {
        max: MAX_ERROR_CODES,
      });
    }
  }

  /** Updates {@link instantaneousOps}; called by the server's periodic task. */
  sample(atMs: number): void {
    if (this.#lastSampleAt > 0 && atMs > this.#lastSampleAt) {
      const ops = this.commandsProcessed - this.#lastSampleCommands;
      this.instantaneousOps = Math.round((ops * 1000) / (atMs - this.#lastSampleAt));
    }
    this.#lastSampleAt = atMs;
    this.#lastSampleCommands = this.commandsProcessed;
  }

  /** Zeroes every counter (CONFIG RESETSTAT). */
  reset(): void {
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.commandsProcessed = 0;
    this.errorReplies = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.outputBufferLimitDisconnections = 0;
    this.queryBufferLimitDisconnections = 0;
    this.instantaneousOps = 0;
    this.#lastSampleCommands = 0;
    this.errorsByCode.clear();
    this.#errorCodesFull = false;
  }
}
