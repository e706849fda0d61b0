/**
 * Starts a real redis-server as the reference peer for differential tests, on a free loopback port
 * in a temporary directory, with persistence off. CI installs it (.ci/run); a missing binary is a
 * test failure with a message saying how to install it, not a silent skip.
 */
import { waitFor } from "./wait_for.ts";
import { RespConn } from "./resp_conn.ts";

/** Picks a port that was free a moment ago (redis-server cannot report a port-0 bind). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A running redis-server. */
export class RedisProcess {
  /** The port it listens on. */
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #dir: string;

  constructor(child: Deno.ChildProcess, port: number, dir: string) {
    this.#child = child;
    this.port = port;
    this.#dir = dir;
  }

  /** The process id (for SIGSTOP/SIGCONT). */
  get pid(): number {
    return this.#child.pid;
  }

  /** Its data directory (removed by {@link stop}); a restart with `--dir` reuses its files. */
  get dir(): string {
    return this.#dir;
  }

  /** Stops it and removes its directory. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** For `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts redis-server with extra arguments (e.g. `["--maxclients", "3"]`), on `port` if given
 * (cluster nodes need their bus port free too) or on a free one.
 */
export async function startRedis(
  extra: string[] = [],
  options: { port?: number } = {},
): Promise<RedisProcess> {
  for (let attempt = 0;; attempt++) {
    const dir = await Deno.makeTempDir({ prefix: "gocache-redis-" });
    const port = options.port ?? freePort();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("redis-server", {
        args: [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
          ...extra,
        ],
        stdout: "null",
        stderr: "null",
        stdin: "null",
      }).spawn();
    } catch (e) {
      throw new Error(`redis-server is needed for this test (apt-get install redis-server): ${e}`);
    }
    const proc = new RedisProcess(child, port, dir);
    try {
      await waitFor(async () => {
        await using conn = await RespConn.connect(port);
        return await conn.call("PING");
      }, { timeoutMs: 5000, what: "redis-server to start" });
      return proc;
    } catch (e) {
      await proc.stop();
      if (attempt >= 2) throw e;
    }
  }
}
