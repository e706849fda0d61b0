/**
 * The test harness itself: disposing a server (`await using`) fails when the process did not end
 * cleanly. Real gocache nodes show the clean cases and a death by a signal nobody meant; small
 * stand-ins (run with `deno eval`, logging the same "listening" record gocache logs) show the
 * crashes a correct gocache cannot be made to produce on purpose.
 */
import assert from "node:assert/strict";
import { plain, RespConn } from "../support/resp_conn.ts";
import { spawnServer, startServer, uncaughtErrorLines } from "../support/server.ts";

/**
 * Source of a stand-in: listens for SIGTERM (to run `onTerm`), then logs gocache's JSON
 * "listening" record, which the harness waits for, as gocache does in that order.
 */
function standIn(onTerm: string): string {
  return `
    const keepAlive = setInterval(() => {}, 1000);
    Deno.addSignalListener("SIGTERM", () => { clearInterval(keepAlive); ${onTerm} });
    const record = { logger: "gocache.server", level: "INFO", message: "Listening",
      properties: { port: 1 } };
    console.log(JSON.stringify(record));
  `;
}

/** Starts a stand-in in a fresh temporary directory (removed on stop). */
async function startStandIn(onTerm: string, options: { expectCrash?: boolean } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "gocache-harness-" });
  return await spawnServer({ args: ["eval", standIn(onTerm)], dir, ...options });
}

Deno.test("a server stopped with SIGTERM that exits 0 disposes without error", async () => {
  const server = await startServer();
  {
    await using conn = await RespConn.connect(server.port);
    assert.equal(plain(await conn.call("PING")), "PONG");
  }
  await server[Symbol.asyncDispose]();
  const status = await server.status;
  assert.equal(status.code, 0);
  assert.equal(status.signal, null);
});

Deno.test("disposing a server that exits with code 3 on SIGTERM throws naming the code", async () => {
  const server = await startStandIn("Deno.exit(3);");
  await assert.rejects(
    server[Symbol.asyncDispose](),
    /did not stop cleanly: it exited with code 3/,
  );
  assert.equal((await server.status).code, 3);
});

Deno.test("disposing a server that throws an uncaught error while shutting down throws", async () => {
  // Deno prints "error: Uncaught Error: ..." and exits 1: both are reported.
  const server = await startStandIn('throw new Error("boom while shutting down");');
  await assert.rejects(
    server[Symbol.asyncDispose](),
    (e: Error) => {
      assert.match(e.message, /it exited with code 1/);
      assert.match(e.message, /uncaught error: error: Uncaught .*boom while shutting down/);
      return true;
    },
  );
});

Deno.test("an 'error: Uncaught' line in the output fails disposal even with exit code 0", async () => {
  const server = await startStandIn(
    'console.error("error: Uncaught (in promise) Error: lost write"); Deno.exit(0);',
  );
  await assert.rejects(
    server[Symbol.asyncDispose](),
    /it printed an uncaught error: error: Uncaught \(in promise\) Error: lost write/,
  );
  assert.equal((await server.status).code, 0);
});

Deno.test("disposing a server killed by a signal the harness did not send throws", async () => {
  const server = await startServer();
  Deno.kill(server.pid, "SIGUSR1");
  assert.equal((await server.status).signal, "SIGUSR1");
  await assert.rejects(
    server[Symbol.asyncDispose](),
    /killed by SIGUSR1, a signal the test harness did not send/,
  );
});

Deno.test("a server killed on purpose with stop('SIGKILL') disposes without error", async () => {
  await using server = await startServer();
  const status = await server.stop("SIGKILL");
  assert.equal(status.signal, "SIGKILL");
});

Deno.test("a server started with expectCrash may exit non-zero: the test checks it itself", async () => {
  await using server = await startStandIn("Deno.exit(3);", { expectCrash: true });
  assert.equal((await server.stop()).code, 3);
});

Deno.test("uncaughtErrorLines finds Deno's uncaught-error and panic lines, coloured or not", () => {
  const lines = [
    '{"logger":"gocache.server","level":"ERROR","message":"Uncaught client error"}',
    "\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Uncaught (in promise) TypeError: x is undefined",
    'error: Uncaught (in worker "") Error: y',
    "Deno has panicked. This is a bug in Deno.",
    "error: Module not found",
  ];
  assert.deepEqual(uncaughtErrorLines(lines), lines.slice(1, 4));
});
