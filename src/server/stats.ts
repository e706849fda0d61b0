/** Server-wide counters behind INFO stats (and, later, the metrics endpoint). */

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
  #lastSampleAt = 0;
  #lastSampleCommands = 0;

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
  }
}
