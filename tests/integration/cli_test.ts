import assert from "node:assert/strict";
import { MAIN, runCli, startServer } from "../support/server.ts";
import { freePort } from "../support/redis_server.ts";
import { waitFor } from "../support/wait_for.ts";
import { plain, RespConn } from "../support/resp_conn.ts";
import { PARAMS } from "../../src/config/schema.ts";
import { VERSION } from "../../src/version.ts";

Deno.test("--help lists the subcommands and exits 0", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /Usage: gocache <subcommand> \[options\]/);
  assert.match(stdout, /^ {2}serve +Run a gocache node/m);
});

Deno.test("serve --help lists every configuration option with its default", async () => {
  const { code, stdout } = await runCli(["serve", "--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /--config <file>/);
  for (const p of PARAMS) assert.ok(stdout.includes(`--${p.name} <value>`), p.name);
  assert.match(stdout, /--port <value> .*\(default: 7000\)/);
});

Deno.test("--version prints the version and exits 0", async () => {
  const { code, stdout } = await runCli(["--version"]);
  assert.equal(code, 0);
  assert.match(stdout, new RegExp(`^gocache ${VERSION.replaceAll(".", "\\.")} `));
});

Deno.test("no subcommand prints the usage on stderr and exits 2", async () => {
  const { code, stderr } = await runCli([]);
  assert.equal(code, 2);
  assert.match(stderr, /Usage: gocache/);
});

Deno.test("an unknown subcommand, flag or value exits 2 with one line naming it", async () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /^gocache: unknown subcommand 'frobnicate' \(see gocache --help\)\n$/],
    [["--frob"], /^gocache: unknown option '--frob'/],
    [["serve", "--prot", "7000"], /^gocache serve: unknown option '--prot'\n$/],
    [["serve", "--port"], /^gocache serve: option '--port' needs a value\n$/],
    [["serve", "extra"], /^gocache serve: unexpected argument 'extra'\n$/],
    [
      ["serve", "--port", "70000"],
      /^gocache serve: option --port: invalid value '70000': argument must be between 0 and 65535 inclusive\n$/,
    ],
    [
      ["serve", "--maxclients", "many"],
      /^gocache serve: option --maxclients: invalid value 'many'/,
    ],
    [
      ["serve", "--config", "/nonexistent.yaml"],
      /^gocache serve: cannot read config file \/nonexistent.yaml/,
    ],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(stderr, expected, args.join(" "));
  }
});

Deno.test("an unknown key or bad value in the YAML file exits 2 naming the key and line", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(file, "port: 7000\ntimeout: soon\n");
    let result = await runCli(["serve", "--config", file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`${file}:2: key 'timeout': invalid value 'soon'`));
    await Deno.writeTextFile(file, "port: 7000\nbogus-key: 1\n");
    result = await runCli(["serve", "--config", file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`${file}:2: unknown key 'bogus-key'`));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a port that is already taken makes serve exit 1 with a message", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { code, stderr } = await runCli(["serve", "--port", String(listener.addr.port)]);
    assert.equal(code, 1);
    assert.match(stderr, /gocache serve: cannot start: .*(in use|Address)/i);
  } finally {
    listener.close();
  }
});

Deno.test("serve --dir creates the data directory and the YAML file is applied with flags on top", async () => {
  await using server = await startServer({
    yaml: "maxclients: 77\ntimeout: 30\n",
    args: ["--timeout", "40"],
  });
  await using conn = await RespConn.connect(server.port);
  assert.deepEqual(plain(await conn.call("CONFIG", "GET", "maxclients")), ["maxclients", "77"]);
  assert.deepEqual(plain(await conn.call("CONFIG", "GET", "timeout")), ["timeout", "40"]);
  assert.ok((await Deno.stat(server.dir)).isDirectory);
});

Deno.test("CONFIG SET loglevel changes what is logged while running", async () => {
  await using server = await startServer({ args: ["--loglevel", "info"] });
  await using conn = await RespConn.connect(server.port);
  const accepted = () => server.logs.filter((l) => l.includes("Accepted client")).length;
  assert.equal(accepted(), 0);
  assert.equal(plain(await conn.call("CONFIG", "SET", "loglevel", "debug")), "OK");
  await using other = await RespConn.connect(server.port);
  assert.equal(plain(await other.call("PING")), "PONG");
  assert.equal(accepted(), 1);
  const record = JSON.parse(server.logs.find((l) => l.includes("Accepted client"))!);
  assert.equal(record.level, "DEBUG");
  assert.equal(typeof record.properties.id, "number");
});

Deno.test("deno task serve starts a node that answers PING and exits 0 on SIGINT", async () => {
  const server = await startServer({ viaTask: true });
  try {
    await using conn = await RespConn.connect(server.port);
    assert.equal(plain(await conn.call("PING")), "PONG");
  } finally {
    const status = await server.stop("SIGINT");
    assert.equal(status.code, 0, server.logs.join("\n"));
    await server.checkExit();
  }
  const received = server.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .find((r) => r.properties?.signal !== undefined);
  assert.equal(received?.properties.signal, "SIGINT", server.logs.join("\n"));
});

Deno.test("--logfile writes structured records to the file instead of stdout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-logfile-" });
  const logfile = `${dir}/gocache.log`;
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--port",
      String(port),
      "--dir",
      dir,
      "--logfile",
      logfile,
      "--log-format",
      "json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    await waitFor(async () => {
      await using conn = await RespConn.connect(port);
      return plain(await conn.call("PING")) === "PONG";
    }, { what: "the server to answer" });
  } finally {
    child.kill("SIGTERM");
  }
  const { code, stdout } = await child.output();
  assert.equal(code, 0);
  assert.equal(new TextDecoder().decode(stdout), "", "nothing went to stdout");
  const records = (await Deno.readTextFile(logfile)).trim().split("\n").map((l) => JSON.parse(l));
  const messages = records.map((r) => r.message as string);
  assert.ok(messages.some((m) => m.startsWith("Listening on")), messages.join("\n"));
  assert.ok(messages.includes("Server stopped"), messages.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

/** `rdb_saves` from INFO persistence. */
async function rdbSaves(conn: RespConn): Promise<number> {
  const info = plain(await conn.call("INFO", "persistence")) as string;
  return Number(/^rdb_saves:(\d+)/m.exec(info)?.[1]);
}

Deno.test("bench and snapshot save connect to port 7000 by default, where serve listens", async () => {
  const bench = await runCli(["bench", "--help"]);
  assert.match(bench.stdout, /^ {2}-p, --port PORT +Server port \(default 7000, /m);
  const snapshot = await runCli(["snapshot", "--help"]);
  assert.match(snapshot.stdout, /\(default 127\.0\.0\.1:7000, where gocache serve\n/);

  // A node on serve's default port, on a loopback address of its own (127.0.0.2) so that it
  // cannot meet a node someone started on 127.0.0.1:7000; only --host is given to the tools.
  await using server = await startServer({
    args: ["--bind", "127.0.0.2", "--port", "7000", "--save", ""],
  });
  assert.equal(server.port, 7000);
  await using conn = await RespConn.connect(server.port, "127.0.0.2");
  const ran = await runCli(["bench", "--host", "127.0.0.2", "-c", "2", "-n", "20", "-t", "set"]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /^gocache bench 127\.0\.0\.2:7000: /);
  assert.match(ran.stdout, /^SET +20 +0 /m);
  assert.equal(await conn.call("DBSIZE"), 1, "bench's SETs reached the node");

  const before = await rdbSaves(conn);
  const saved = await runCli(["snapshot", "save", "--host", "127.0.0.2", "--timeout", "30"]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout, /^Saved: /);
  assert.equal(await rdbSaves(conn), before + 1);
});

/** Runs the CLI with its standard output closed by the reader before anything is written. */
async function runWithStdoutClosed(args: string[]): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  await child.stdout.cancel(); // as `| head` does once it has its lines
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  return { code: status.code, stderr };
}

Deno.test("a reader that closes standard output ends every subcommand quietly with exit 0", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  for (let i = 0; i < 100; i++) await conn.call("SET", `key:${i}`, "x".repeat(100));
  await conn.call("SAVE");
  const rdb = `${server.dir}/dump.rdb`;
  const aof = `${server.dir}/in.aof`;
  const rewritten = `${server.dir}/out.aof`;
  await Deno.writeTextFile(aof, "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n".repeat(50));
  const port = String(server.port);
  const savesBefore = await rdbSaves(conn);

  const cases = [
    ["--help"],
    ["--version"],
    ["snapshot", "--help"],
    ["snapshot", "inspect", rdb],
    ["snapshot", "inspect", rdb, "--json"],
    ["snapshot", "verify", rdb],
    ["snapshot", "export", rdb, "--format", "jsonl"],
    ["snapshot", "export", rdb, "--format", "resp"],
    ["aof-rewrite", aof, "-o", rewritten],
    ["snapshot", "save", "--port", port],
    ["bench", "--port", port, "-c", "1", "-n", "10", "-t", "ping"],
    ["bench", "--port", port, "-c", "1", "-n", "10", "-t", "ping", "--json"],
  ];
  for (const args of cases) {
    const { code, stderr } = await runWithStdoutClosed(args);
    assert.equal(stderr, "", args.join(" "));
    assert.equal(code, 0, args.join(" "));
  }
  // The work was done before the report found nobody reading it.
  const check = await new Deno.Command("redis-check-aof", { args: [rewritten], stdout: "null" })
    .output();
  assert.ok(check.success, "aof-rewrite wrote its output");
  assert.equal(await rdbSaves(conn), savesBefore + 1, "snapshot save saved");

  // A failure is still one on stderr with its exit code, whoever reads stdout.
  const missing = await runWithStdoutClosed(["snapshot", "verify", `${server.dir}/none.rdb`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^gocache snapshot verify: cannot read .*none\.rdb/);
  const usage = await runWithStdoutClosed(["snapshot", "export", rdb]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--format resp\|jsonl is required/);
});
