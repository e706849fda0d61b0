/**
 * Starts the real `gocache serve` as a subprocess on a free port (port 0) in a temporary data
 * directory, reads the bound port from its JSON "listening" log record, and stops it (checking the
 * exit code) when disposed.
 */

const ROOT = new URL("../../", import.meta.url);
/** Absolute path of main.ts. */
export const MAIN = new URL("main.ts", ROOT).pathname;

/** Options for {@link startServer}. */
export interface StartOptions {
  /** Extra `serve` flags (e.g. `["--maxclients", "3"]`). */
  args?: string[];
  /** YAML text written to a file passed with `--config`. */
  yaml?: string;
  /** Start through `deno task serve` (as the README tells users) instead of `deno run`. */
  viaTask?: boolean;
  /**
   * Data directory to use and keep (for restarts on the same files); by default a fresh
   * temporary directory, removed on stop.
   */
  dir?: string;
  /**
   * Return once the metrics endpoint listens (needs `--metrics-port`), before the dataset is
   * loaded and the RESP port is bound; `port` is then -1.
   */
  untilMetrics?: boolean;
}

/** A running gocache subprocess. */
export class ServerProcess {
  /** The port it listens on. */
  readonly port: number;
  /** Its temporary data directory (removed on stop). */
  readonly dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[];
  readonly #drained: Promise<void>;
  readonly #keepDir: boolean;
  #status: Promise<Deno.CommandStatus>;

  constructor(
    child: Deno.ChildProcess,
    port: number,
    dir: string,
    lines: string[],
    drained: Promise<void>,
    keepDir = false,
  ) {
    this.#child = child;
    this.port = port;
    this.dir = dir;
    this.#lines = lines;
    this.#drained = drained;
    this.#keepDir = keepDir;
    this.#status = child.status;
  }

  /** Every log line (stdout and stderr) so far. */
  get logs(): readonly string[] {
    return this.#lines;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves with the exit status once the process ends. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** Sends a signal (default SIGTERM) and waits for the exit status. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
    const status = await this.#status;
    await this.#drained;
    if (!this.#keepDir) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    return status;
  }

  /** For `await using`: stops the server if still running. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  onLine: (line: string) => void,
): Promise<void> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      lines.push(line);
      onLine(line);
    }
  }
  if (pending) {
    lines.push(pending);
    onLine(pending);
  }
}

/** Runs `deno run main.ts <args>` to completion and returns exit code and output (CLI tests). */
export async function runCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts gocache on a free port; rejects with its output if it does not come up. */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "gocache-test-" });
  const launcher = options.viaTask ? ["task", "serve"] : ["run", "-A", MAIN, "serve"];
  const args = [...launcher, "--port", "0", "--dir", dir, "--log-format", "json"];
  if (options.yaml !== undefined) {
    const file = `${dir}/node.yaml`;
    await Deno.writeTextFile(file, options.yaml);
    args.push("--config", file);
  }
  const extra = options.args ?? [];
  const level = extra[extra.indexOf("--loglevel") + 1];
  if (extra.includes("--loglevel") && !["debug", "verbose", "info", "notice"].includes(level)) {
    throw new Error("startServer reads the port from the info-level log: use CONFIG SET loglevel");
  }
  args.push(...extra);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  let resolvePort!: (port: number) => void;
  const portSeen = new Promise<number>((resolve) => (resolvePort = resolve));
  const onLine = (line: string) => {
    if (!line.startsWith("{")) return;
    try {
      const record = JSON.parse(line);
      const wanted = options.untilMetrics ? "gocache.metrics" : "gocache.server";
      if (record.logger === wanted && typeof record.properties?.port === "number") {
        resolvePort(options.untilMetrics ? -1 : record.properties.port);
      }
    } catch {
      // Not a JSON log line.
    }
  };
  const drained = Promise.all([
    collect(child.stdout, lines, onLine),
    collect(child.stderr, lines, () => {}),
  ]).then(() => {});
  const exited = child.status.then((s) => {
    throw new Error(`gocache exited with code ${s.code} before listening:\n${lines.join("\n")}`);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gocache did not start:\n${lines.join("\n")}`)),
      30_000,
    );
  });
  try {
    const port = await Promise.race([portSeen, exited, timeout]);
    return new ServerProcess(child, port, dir, lines, drained, options.dir !== undefined);
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await drained;
    if (options.dir === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
}
