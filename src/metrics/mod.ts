/**
 * A node's observability surface in one object: the metrics registry other modules add
 * collectors to, the readiness checks they can add to, and the HTTP endpoint serving both
 * (started only when `metrics-port` is set).
 */
import { MetricsEndpoint } from "./endpoint.ts";
import { Readiness } from "./health.ts";
import { MetricsRegistry } from "./registry.ts";

export { MetricsRegistry } from "./registry.ts";
export { Readiness } from "./health.ts";
export type { Collector } from "./registry.ts";
export type { Exposition } from "./exposition.ts";

/** See the module comment. */
export class Metrics {
  /** Collectors rendered on `/metrics`; add one with `registry.addCollector(fn)`. */
  readonly registry: MetricsRegistry = new MetricsRegistry();
  /** Checks consulted on `/readyz`; add one with `readiness.add(name, fn)`. */
  readonly readiness: Readiness = new Readiness();
  #endpoint: MetricsEndpoint | null = null;

  /** The endpoint's port, or null when it is not running. */
  get port(): number | null {
    return this.#endpoint?.port ?? null;
  }

  /**
   * Starts the HTTP endpoint, `/metrics` behind `token` when it is not empty; throws if the
   * address cannot be bound.
   */
  start(hostname: string, port: number, token = ""): void {
    if (this.#endpoint !== null) return;
    this.#endpoint = MetricsEndpoint.start({
      hostname,
      port,
      registry: this.registry,
      readiness: this.readiness,
      token,
    });
  }

  /** Stops the endpoint, if running. */
  async close(): Promise<void> {
    const endpoint = this.#endpoint;
    this.#endpoint = null;
    await endpoint?.close();
  }
}
