/**
 * Lifecycle events are structured log records: JSON lines whose properties carry the fields
 * (start, configuration, load, save, rewrite, client kills, shutdown), and the level follows
 * CONFIG SET loglevel at run time.
 */
import assert from "node:assert/strict";
import { RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { waitFor } from "../support/wait_for.ts";

interface LogRecord {
  level: string;
  logger: string;
  message: string;
  properties: Record<string, unknown>;
}

function records(lines: readonly string[]): LogRecord[] {
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogRecord);
}

/** Waits for a record whose message matches, and returns it. */
function waitForRecord(lines: readonly string[], message: RegExp): Promise<LogRecord> {
  return waitFor(() => records(lines).find((r) => message.test(r.message)), {
    what: `a log record matching ${message}`,
  });
}

Deno.test("start, config, save, rewrite, kill and shutdown are logged as records with fields", async () => {
  const server = await startServer({ args: ["--appendonly", "yes", "--save", ""] });
  try {
    const listening = await waitForRecord(server.logs, /^Listening on/);
    assert.equal(listening.level, "INFO");
    assert.equal(listening.properties.port, server.port);
    assert.equal(typeof listening.properties.pid, "number");
    const loaded = await waitForRecord(server.logs, /No data files|DB loaded/);
    assert.equal(typeof loaded.properties.dir, "string");

    await using conn = await RespConn.connect(server.port);
    await conn.call("CONFIG", "SET", "maxclients", "50", "requirepass", "hunter2");
    const changed = await waitForRecord(server.logs, /^Configuration changed/);
    assert.deepEqual(changed.properties.values, {
      maxclients: "50",
      requirepass: "(redacted)",
    });
    assert.ok(!server.logs.some((l) => l.includes("hunter2")), "the password is never logged");
    await conn.call("AUTH", "hunter2");

    await conn.call("SET", "k", "v");
    await conn.call("SAVE");
    const saved = await waitForRecord(server.logs, /^DB saved on disk/);
    assert.equal(saved.logger, "gocache.persistence");
    await conn.call("BGREWRITEAOF");
    const rewritten = await waitForRecord(server.logs, /^Background AOF rewrite finished/);
    assert.equal(typeof rewritten.properties.size, "number");

    await using victim = await RespConn.connect(server.port);
    await victim.call("AUTH", "hunter2");
    await victim.call("CLIENT", "SETNAME", "victim");
    await conn.call("CLIENT", "KILL", "USER", "default", "SKIPME", "yes");
    const killed = await waitForRecord(server.logs, /killed by client/);
    assert.equal(killed.properties.name, "victim");
    assert.equal(typeof killed.properties.by, "number");
  } finally {
    await server.stop();
    await server.checkExit();
  }
  assert.ok(records(server.logs).some((r) => r.message === "Server stopped"));
});

Deno.test("CONFIG SET loglevel switches debug records on and off at run time", async () => {
  await using server = await startServer();
  await using conn = await RespConn.connect(server.port);
  const accepted = () =>
    records(server.logs).filter((r) => r.message.startsWith("Accepted client"));
  {
    await using _quiet = await RespConn.connect(server.port);
    await _quiet.call("PING");
  }
  assert.equal(accepted().length, 0, "no debug records at info");
  await conn.call("CONFIG", "SET", "loglevel", "debug");
  {
    await using loud = await RespConn.connect(server.port);
    await loud.call("PING");
  }
  await waitFor(() => accepted().length === 1, { what: "a debug record" });
  await conn.call("CONFIG", "SET", "loglevel", "warning");
  {
    await using quiet = await RespConn.connect(server.port);
    await quiet.call("PING");
  }
  await conn.call("CONFIG", "SET", "loglevel", "debug");
  // Records arrive in order: once this change is logged, the quiet client's would be too.
  const changes = () =>
    records(server.logs).filter((r) => r.message.startsWith("Configuration changed"));
  await waitFor(() => changes().length === 2, { what: "the second loglevel change" });
  assert.equal(accepted().length, 1, "the client accepted at warning level was not logged");
  {
    await using loud = await RespConn.connect(server.port);
    await loud.call("PING");
  }
  await waitFor(() => accepted().length === 2, { what: "a second debug record" });
});
