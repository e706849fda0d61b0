/**
 * The HTTP endpoint on its own port (`metrics-port`, `metrics-bind`), served with Deno.serve:
 * `GET /metrics` in Prometheus's text format, `/healthz` (200 while the process answers) and
 * `/readyz` (200 when every readiness check holds, else 503 naming those that fail). It is
 * started before the dataset is loaded, so that an orchestrator sees "alive, not ready" during
 * a long load instead of a refused connection.
 */
import { logger } from "../util/logger.ts";
import { CONTENT_TYPE } from "./exposition.ts";
import type { Readiness } from "./health.ts";
import type { MetricsRegistry } from "./registry.ts";

const log = logger("metrics");

/** What the endpoint serves and where. */
export interface EndpointOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port to listen on (0 lets the system pick one, for tests of this module). */
  port: number;
  /** Rendered on `/metrics`. */
  registry: MetricsRegistry;
  /** Consulted on `/readyz`. */
  readiness: Readiness;
  /**
   * When not empty, `/metrics` answers only requests carrying `Authorization: Bearer <token>`
   * (401 otherwise); `/healthz` and `/readyz` stay open for orchestrators' probes.
   */
  token?: string;
}

/**
 * Whether `given` equals `expected`, comparing every character whatever the first difference
 * (no early exit for a timing attack to measure); only the length is revealed.
 */
function sameSecret(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

function text(body: string, status = 200, contentType = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { "content-type": contentType } });
}

/** A running endpoint; see the module comment. */
export class MetricsEndpoint {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** The port actually bound. */
  readonly port: number;

  private constructor(server: Deno.HttpServer<Deno.NetAddr>) {
    this.#server = server;
    this.port = server.addr.port;
  }

  /** Binds and starts serving; throws if the address cannot be bound. */
  static start(options: EndpointOptions): MetricsEndpoint {
    const { registry, readiness } = options;
    const token = options.token ?? "";
    const handler = (request: Request): Response => {
      const path = new URL(request.url).pathname;
      if (request.method !== "GET" && request.method !== "HEAD") {
        return text("Method not allowed\n", 405);
      }
      if (path === "/metrics") {
        const given = request.headers.get("authorization") ?? "";
        if (token !== "" && !sameSecret(given, `Bearer ${token}`)) {
          return new Response("Unauthorized: send Authorization: Bearer <metrics-token>\n", {
            status: 401,
            headers: { "content-type": "text/plain; charset=utf-8", "www-authenticate": "Bearer" },
          });
        }
        return text(registry.render(), 200, CONTENT_TYPE);
      }
      if (path === "/healthz") return text("ok\n");
      if (path === "/readyz") {
        const failing = readiness.failing();
        return failing.length === 0
          ? text("ready\n")
          : text(`not ready: ${failing.join(", ")}\n`, 503);
      }
      return text("Not found: try /metrics, /healthz or /readyz\n", 404);
    };
    const server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      handler,
      onListen: () => {},
      onError: (e) => {
        log.error("Metrics request failed: {error}", { error: String(e) });
        return text("Internal error\n", 500);
      },
    });
    const endpoint = new MetricsEndpoint(server);
    log.info("Metrics endpoint listening on {host}:{port}", {
      host: options.hostname,
      port: endpoint.port,
      paths: ["/metrics", "/healthz", "/readyz"],
    });
    return endpoint;
  }

  /** Stops serving (in-flight requests finish first). */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
