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
