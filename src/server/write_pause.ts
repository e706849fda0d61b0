/**
 * A pause of client writes, as Redis's `pauseClients(purpose, ..., CLIENT_PAUSE_WRITE)`: a master
 * pauses them while its replica takes over in a coordinated manual failover (CLUSTER FAILOVER),
 * a slot migration's source while it hands its slots over, and MIGRATE while its keys are in
 * flight (commands/_migrate_job.ts), so that nothing is written that the other side would not
 * see. Each holder pauses for its own purpose until its own end time,
 * as Redis keeps one pause per purpose: writes run again only once no purpose holds them, so one
 * holder ending never lifts another's pause. While a pause lasts, dispatch postpones every
 * client command that could add to the stream (writes, PUBLISH, an EXEC with a write queued):
 * the client waits, and when the pause ends the command runs from the start, as Redis
 * re-processes a postponed client; by then the node may have become a replica, and the client
 * gets the redirection to the new master instead. The leader's link and the AOF replay are never
 * paused; expiry and the stream PINGs to followers wait too, so the stream's offset stays where
 * the pause found it.
 */

/** Who pauses writes (Redis's pause purposes). */
export type PausePurpose = "manual-failover" | "slot-migration" | "migrate";

/** The write pause; see the module comment. */
export class WritePause {
  readonly #holds = new Map<PausePurpose, ReturnType<typeof setTimeout>>();
  readonly #ends = new Map<PausePurpose, number>();
  #waiters: (() => void)[] = [];

  /** Whether client writes are paused now. */
  get active(): boolean {
    return this.#holds.size > 0;
  }

  /** When the pause ends at the latest (ms since the epoch), or 0 when there is none. */
  get until(): number {
    return this.#ends.size === 0 ? 0 : Math.max(...this.#ends.values());
  }

  /** Clients with a command postponed until the pause ends. */
  get postponed(): number {
    return this.#waiters.length;
  }

  /**
   * Pauses client writes for `purpose` until `until` (ms since the epoch) at the latest; a pause
   * of that purpose already lasting longer keeps its end, as Redis keeps the latest end.
   */
  pause(purpose: PausePurpose, until: number): void {
    if (until <= (this.#ends.get(purpose) ?? 0)) return;
    clearTimeout(this.#holds.get(purpose));
    const timer = setTimeout(() => this.end(purpose), Math.max(0, until - Date.now()));
    // The pause alone must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#holds.set(purpose, timer);
    this.#ends.set(purpose, until);
  }

  /**
   * Ends `purpose`'s pause (every purpose's when none is given: shutdown); once no purpose holds
   * writes, the postponed commands run again, in the order they arrived.
   */
  end(purpose?: PausePurpose): void {
    for (const held of purpose === undefined ? [...this.#holds.keys()] : [purpose]) {
      clearTimeout(this.#holds.get(held));
      this.#holds.delete(held);
      this.#ends.delete(held);
    }
    if (this.#holds.size > 0 || this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once no purpose pauses writes (at once when none does). */
  whenEnded(): Promise<void> {
    if (!this.active) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
