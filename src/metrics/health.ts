/**
 * Readiness: named predicates that must all hold before the node should get traffic. The
 * server registers "dataset loaded" (false while the AOF or RDB file is replayed at start, and
 * again once shutdown begins); replication can register "link up and synced" for a follower.
 * `/readyz` answers 503 naming the checks that fail, `/healthz` only says the process answers.
 */

/** A readiness check: true when this part of the node is ready. */
export type ReadinessCheck = () => boolean;

/** The registered checks; see the module comment. */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  /** Registers a check under a name (replacing one of the same name); returns its remover. */
  add(name: string, check: ReadinessCheck): () => void {
    this.#checks.set(name, check);
    return () => {
      if (this.#checks.get(name) === check) this.#checks.delete(name);
    };
  }

  /** Names of the checks that do not hold now (a check that throws does not hold). */
  failing(): string[] {
    const out: string[] = [];
    for (const [name, check] of this.#checks) {
      let ok = false;
      try {
        ok = check();
      } catch {
        ok = false;
      }
      if (!ok) out.push(name);
    }
    return out;
  }
}
