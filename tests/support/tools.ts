/**
 * External programs some tests need (promtool, docker-compose, Chromium, python3,
 * redis-sentinel), and one rule for when one is missing: in CI (`CI=true`) the test fails with
 * the command that installs it, so a CI run never passes by skipping; elsewhere the test is
 * ignored and a line on stderr names that command.
 * `.ci/run` installs every tool listed here.
 */

/** A program a test runs, how to see that it works, and how to install it. */
export interface Tool {
  /** The command name looked up on the PATH. */
  command: string;
  /** Arguments of a quick run that succeeds only when the tool is usable. */
  probe: string[];
  /** The command that installs it (Debian, as `.ci/run` does). */
  install: string;
}

/** `promtool` checks the metrics exposition and prometheus.yml; Debian ships it in `prometheus`. */
export const PROMTOOL: Tool = {
  command: "promtool",
  probe: ["--version"],
  install: "sudo apt-get install prometheus",
};

/**
 * Debian's `docker-compose` (1.29) checks the compose files (`config -q`), which needs no Docker
 * engine; it comes without its recommended packages (they include the engine).
 */
export const DOCKER_COMPOSE: Tool = {
  command: "docker-compose",
  probe: ["version"],
  install: "sudo apt-get install --no-install-recommends docker-compose",
};

/** Headless Chromium renders the bench HTML report. */
export const CHROMIUM: Tool = {
  command: "chromium",
  probe: ["--version"],
  install: "sudo apt-get install chromium",
};

/**
 * Python 3.10 or newer runs the Python client's unittest suite and the pseudo-terminal driver
 * (tests/support/pty_session.py); both use the standard library only.
 */
export const PYTHON3: Tool = {
  command: "python3",
  probe: ["-c", "import sys; assert sys.version_info >= (3, 10)"],
  install: "sudo apt-get install python3",
};

/**
 * Redis Sentinel (Redis 7.0 as Debian ships it) monitors gocache nodes in the Sentinel
 * interoperability test; Debian packages it apart from redis-server.
 */
export const REDIS_SENTINEL: Tool = {
  command: "redis-sentinel",
  probe: ["--version"],
  install: "sudo apt-get install redis-sentinel",
};

/**
 * redis-py (Debian's python3-redis, for the system Python 3): a real application library whose
 * `Sentinel` class must find a gocache group's leader.
 */
export const REDIS_PY: Tool = {
  command: "/usr/bin/python3",
  probe: ["-c", "import redis.sentinel"],
  install: "sudo apt-get install python3-redis",
};

/** Whether the suite runs in CI (`CI=true` or `CI=1`), where no tool may be missing. */
export function inCi(): boolean {
  return ["true", "1"].includes((Deno.env.get("CI") ?? "").toLowerCase());
}

const found = new Map<string, boolean>();

/** Whether `tool` is on the PATH and its probe succeeds (checked once per test process). */
export function hasTool(tool: Tool): boolean {
  let ok = found.get(tool.command);
  if (ok === undefined) {
    try {
      ok = new Deno.Command(tool.command, {
        args: tool.probe,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
    } catch {
      ok = false;
    }
    found.set(tool.command, ok);
  }
  return ok;
}

/** The message for a missing tool, naming the command that installs it. */
export function missingToolMessage(tool: Tool): string {
  const probe = [tool.command, ...tool.probe].join(" ");
  return `${tool.command} is missing or does not run (\`${probe}\` failed): install it with ` +
    `\`${tool.install}\` (.ci/run installs every tool the tests use)`;
}

/** The `ignore` and `fn` of a {@link Deno.TestDefinition} that needs some tools. */
export interface ToolTest {
  /** True outside CI when a tool is missing. */
  ignore: boolean;
  /** The test, or in CI with a tool missing, a failure naming the install command. */
  fn: (t: Deno.TestContext) => void | Promise<void>;
}

/**
 * Wraps a test that needs `tools`, to be spread into `Deno.test({ name, ...requireTools(...) })`.
 * With every tool working the test runs as written. With one missing, in CI the test fails with
 * {@link missingToolMessage}; outside CI it is ignored and that message goes to stderr.
 */
export function requireTools(
  tools: Tool | readonly Tool[],
  fn: (t: Deno.TestContext) => void | Promise<void>,
): ToolTest {
  const missing = [tools].flat().filter((tool) => !hasTool(tool));
  if (missing.length === 0) return { ignore: false, fn };
  const message = missing.map(missingToolMessage).join("; ");
  if (inCi()) {
    return {
      ignore: false,
      fn: () => {
        throw new Error(`${message} [CI=true: a missing tool fails the test]`);
      },
    };
  }
  Deno.stderr.writeSync(new TextEncoder().encode(`ignoring a test: ${message}\n`));
  return { ignore: true, fn };
}

/**
 * Runs a command to completion; its exit code and output (stdout, stderr) as text. A command
 * still running after `timeoutMs` is killed (its code is then not 0), so a tool that waits
 * forever (redis-cli --cluster create on a cluster that never forms) fails the test instead.
 */
export async function runTool(
  cmd: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; out: string; err: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  const result = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal,
  }).output();
  const dec = new TextDecoder();
  const err = dec.decode(result.stderr) +
    (signal.aborted ? `\n(${cmd} killed after ${timeoutMs} ms)` : "");
  return { code: result.code, out: dec.decode(result.stdout), err };
}

/** Lines read from a child's output, each wait bounded in time. */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";
  /** Every line read so far (for error messages). */
  readonly lines: string[] = [];

  /** Reads `stream` (a child's stdout) as UTF-8 text. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line; throws if the stream ends or no line comes within `timeoutMs`. */
  async next(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#buffered.includes("\n")) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`no line within ${timeoutMs} ms after: ${this.lines.join(" | ")}`)),
          Math.max(0, deadline - Date.now()),
        );
      });
      try {
        const { value, done } = await Promise.race([this.#reader.read(), late]);
        if (done) throw new Error(`the output ended after: ${this.lines.join(" | ")}`);
        this.#buffered += value;
      } finally {
        clearTimeout(timer);
      }
    }
    const at = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, at);
    this.#buffered = this.#buffered.slice(at + 1);
    this.lines.push(line);
    return line;
  }

  /** Stops reading (after the child was killed). */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
