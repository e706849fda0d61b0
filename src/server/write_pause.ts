/**
 * A pause of client writes, as Redis's `pauseClients(..., CLIENT_PAUSE_WRITE)`: a master pauses
 * them while its replica takes over in a coordinated manual failover (CLUSTER FAILOVER), so that
 * its replication stream stops growing and the replica can catch up to the very last write.
 * While the pause lasts, dispatch postpones every client command that could add to the stream
 * (writes, PUBLISH, an EXEC with a write queued): the client waits, and when the pause ends the
 * command runs from the start, as Redis re-processes a postponed client; by then the node may
 * have become a replica, and the client gets the redirection to the new master instead. The
 * leader's link and the AOF replay are never paused; expiry and the stream PINGs to followers
 * wait too, so the stream's offset stays where the pause found it.
 */

/** The write pause; see the module comment. */
export class WritePause {
  #until = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];

  /** Whether client writes are paused now. */
  get active(): boolean {
    return this.#until !== 0;
  }

  /** When the pause ends at the latest (ms since the epoch), or 0 when there is none. */
  get until(): number {
    return this.#until;
  }

  /** Clients with a command postponed until the pause ends. */
  get postponed(): number {
    return this.#waiters.length;
  }

  /**
   * Pauses client writes until `until` (ms since the epoch) at the latest; a pause already
   * lasting longer keeps its end, as Redis keeps the latest end of its pauses.
   */
  pause(until: number): void {
    if (until <= this.#until) return;
    this.#until = until;
    clearTimeout(this.#timer);
    const timer = setTimeout(() => this.end(), Math.max(0, until - Date.now()));
    // The pause alone must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Ends the pause: the postponed commands run again, in the order they arrived. */
  end(): void {
    if (this.#until === 0) return;
    this.#until = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once the pause has ended (at once when there is none). */
  whenEnded(): Promise<void> {
    if (this.#until === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
