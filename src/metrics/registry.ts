/**
 * The metrics registry: a list of collectors, each a function that writes its families into the
 * scrape being built. Nothing is recorded through the registry: collectors read counters that
 * the server keeps anyway (see exposition.ts for why), so any module can add its own, e.g.
 * replication's offsets and follower lags, with {@link MetricsRegistry.addCollector}.
 */
import { logger } from "../util/logger.ts";
import { Exposition } from "./exposition.ts";

/** Writes some metric families into a scrape. */
export type Collector = (out: Exposition) => void;

const log = logger("metrics");

/** The registry; see the module comment. */
export class MetricsRegistry {
  readonly #collectors: Collector[] = [];

  /** Adds a collector; returns a function removing it again. */
  addCollector(collector: Collector): () => void {
    this.#collectors.push(collector);
    return () => {
      const at = this.#collectors.indexOf(collector);
      if (at >= 0) this.#collectors.splice(at, 1);
    };
  }

  /**
   * Renders every collector's families. A collector that throws is logged and left out of
   * this scrape rather than failing it (its partial output is dropped with it).
   */
  render(): string {
    const out = new Exposition();
    for (const collector of this.#collectors) {
      const mark = out.mark();
      try {
        collector(out);
      } catch (e) {
        out.rollback(mark);
        log.error("A metrics collector failed: {error}", { error: String(e) });
      }
    }
    return out.text();
  }
}
