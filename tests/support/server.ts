/**
 * Starts the real `gocache serve` as a subprocess on a free port (port 0) in a temporary data
 * directory, reads the bound port from its JSON "listening" log record, and stops it when disposed.
 * Disposal fails the test when the server did not end cleanly: a non-zero exit code, a death by a
 * signal the harness did not send, or an uncaught error printed in its output.
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
  /** V8 settings for `deno run --v8-flags=...` (e.g. a small heap limit); not with `viaTask`. */
  v8Flags?: string[];
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
  /**
   * The test makes the server crash or exit non-zero on purpose and checks `status` and `logs`
   * itself: disposal then does not fail on how it ended. A server stopped on purpose with another
   * signal needs no such flag: `stop("SIGKILL")` records the kill as intended.
   */
  expectCrash?: boolean;
}

/**
 * Lines that mean the process hit an error nobody caught: Deno prints `error: Uncaught ...` for an
 * uncaught exception or an unhandled rejection (`error: Uncaught (in promise) ...`, also from a
 * worker), and `Deno has panicked` when the runtime itself fails.
 */
const UNCAUGHT = [/^error: Uncaught\b/, /^Deno has panicked\b/];

/** Removes terminal colour codes (Deno colours its error output when it thinks it may). */
function stripAnsi(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, "");
}

/** The lines of `lines` that report an uncaught error or a panic (see {@link UNCAUGHT}). */
export function uncaughtErrorLines(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    const plainLine = stripAnsi(line).trimStart();
    return UNCAUGHT.some((pattern) => pattern.test(plainLine));
  });
}

/** Options for {@link ServerProcess}. */
export interface ServerProcessOptions {
  /** The port it listens on (-1 when started with `untilMetrics`). */
  port: number;
  /** Its data directory. */
  dir: string;
  /** Every output line so far; the array keeps growing while the process runs. */
  lines: string[];
  /** Resolves once stdout and stderr are both read to their end. */
  drained: Promise<void>;
  /** Keep `dir` on stop (it belongs to the test). */
  keepDir?: boolean;
  /** See {@link StartOptions.expectCrash}. */
  expectCrash?: boolean;
}

/**
 * A running gocache subprocess. Disposing it (`await using`) stops it with SIGTERM and then
 * fails (throws) when it did not end cleanly: see {@link ServerProcess.checkExit}.
 */
export class ServerProcess {
  /** The port it listens on. */
  readonly port: number;
  /** Its temporary data directory (removed on stop). */
  readonly dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[];
  readonly #drained: Promise<void>;
  readonly #keepDir: boolean;
  readonly #expectCrash: boolean;
  readonly #status: Promise<Deno.CommandStatus>;
  /** Signals the harness sent while the process was running: a death by one of them is wanted. */
  readonly #sent = new Set<Deno.Signal>();
  #exited = false;

  constructor(child: Deno.ChildProcess, options: ServerProcessOptions) {
    this.#child = child;
    this.port = options.port;
    this.dir = options.dir;
    this.#lines = options.lines;
    this.#drained = options.drained;
    this.#keepDir = options.keepDir ?? false;
    this.#expectCrash = options.expectCrash ?? false;
    this.#status = child.status.then((status) => {
      this.#exited = true;
      return status;
    });
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

  /**
   * Sends a signal (default SIGTERM) if the process still runs, and waits for the exit status.
   * The signal is recorded as intended: a death by it (e.g. `stop("SIGKILL")`) does not fail
   * {@link checkExit}. gocache exits 0 on SIGTERM and SIGINT, so a non-zero code still does.
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      try {
        this.#child.kill(signal);
        this.#sent.add(signal);
      } catch {
        // Already exited.
      }
    }
    const status = await this.#status;
    await this.#drained;
    if (!this.#keepDir) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    return status;
  }

  /**
   * Waits for the process to end (it does not stop it) and throws, with the tail of the log,
   * when it did not end cleanly: a non-zero exit code, a death by a signal the harness did not
   * send through {@link stop}, or an uncaught error or panic printed in its output. A server
   * started with `expectCrash` is not checked.
   */
  async checkExit(): Promise<void> {
    const status = await this.#status;
    await this.#drained;
    if (this.#expectCrash) return;
    const problems: string[] = [];
    if (status.signal !== null) {
      if (!this.#sent.has(status.signal)) {
        problems.push(`it was killed by ${status.signal}, a signal the test harness did not send`);
      }
    } else if (status.code !== 0) {
      problems.push(`it exited with code ${status.code}`);
    }
    const uncaught = uncaughtErrorLines(this.#lines);
    if (uncaught.length > 0) {
      problems.push(`it printed an uncaught error: ${stripAnsi(uncaught[0]).trim()}`);
    }
    if (problems.length === 0) return;
    const tail = this.#lines.slice(-30).map(stripAnsi).join("\n");
    throw new Error(
      `gocache (pid ${this.pid}, port ${this.port}) did not stop cleanly: ${
        problems.join("; ")
      }\nlast log lines:\n${tail}`,
    );
  }

  /**
   * For `await using`: stops the server with SIGTERM if it still runs, then fails when it did
   * not end cleanly (see {@link checkExit}).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await this.checkExit();
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

/** Options for {@link spawnServer}. */
export interface SpawnOptions {
  /** Arguments of the `deno` executable (e.g. `["run", "-A", MAIN, "serve", ...]`). */
  args: string[];
  /** The data directory the process uses; removed on stop unless `keepDir`. */
  dir: string;
  /** Keep `dir` on stop (it belongs to the test). */
  keepDir?: boolean;
  /** Wait for the metrics endpoint's record instead of the RESP listener's; `port` is then -1. */
  untilMetrics?: boolean;
  /** See {@link StartOptions.expectCrash}. */
  expectCrash?: boolean;
}

/**
 * Spawns a Deno process and waits for its JSON "listening" log record on stdout (logger
 * `gocache.server`, or `gocache.metrics` with `untilMetrics`, with a numeric `properties.port`).
 * {@link startServer} uses it to run gocache; the harness's own tests use it to run stand-ins
 * that misbehave on purpose. Rejects with the output when the process exits or stays silent.
 */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const { dir } = options;
  const child = new Deno.Command(Deno.execPath(), {
    args: options.args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  let resolvePort!: (port: number) => void;
  const portSeen = new Promise<number>((resolve) => (resolvePort = resolve));
  const wanted = options.untilMetrics ? "gocache.metrics" : "gocache.server";
  const onLine = (line: string) => {
    if (!line.startsWith("{")) return;
    try {
      const record = JSON.parse(line);
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
    return new ServerProcess(child, {
      port,
      dir,
      lines,
      drained,
      keepDir: options.keepDir,
      expectCrash: options.expectCrash,
    });
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await drained;
    if (!options.keepDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
}

/** Starts gocache on a free port; rejects with its output if it does not come up. */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "gocache-test-" });
  const v8 = options.v8Flags === undefined ? [] : [`--v8-flags=${options.v8Flags.join(",")}`];
  const launcher = options.viaTask ? ["task", "serve"] : ["run", "-A", ...v8, MAIN, "serve"];
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
  return await spawnServer({
    args,
    dir,
    keepDir: options.dir !== undefined,
    untilMetrics: options.untilMetrics,
    expectCrash: options.expectCrash,
  });
}
