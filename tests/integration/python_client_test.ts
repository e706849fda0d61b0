/**
 * The Python client's unittest suite (clients/python) against a gocache started here; the port
 * travels in GOCACHE_PORT. Needs python3 (3.10+, standard library only): ignored without it,
 * except in CI (`CI=true`) where that is a failure. Every Python test must run (a skip inside the
 * suite fails this test).
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";
import { PYTHON3, requireTools } from "../support/tools.ts";
import { freePort } from "../support/redis_server.ts";
import { makeCertificates, tlsServerFlags } from "../../bench/_tls.ts";

const CLIENT_DIR = new URL("../../clients/python/", import.meta.url).pathname;

Deno.test({
  name: "the Python client's unittest suite passes against gocache",
  ...requireTools(PYTHON3, async () => {
    const tlsDir = await Deno.makeTempDir({ prefix: "gocache-python-tls-" });
    const certs = makeCertificates(tlsDir, "py");
    makeCertificates(tlsDir, "stranger");
    const tlsPort = freePort();
    await using server = await startServer({
      args: [
        "--tls-port",
        String(tlsPort),
        ...tlsServerFlags(certs),
      ],
    });
    const out = await new Deno.Command("python3", {
      args: ["-m", "unittest", "-v", "test_gocache_client"],
      cwd: CLIENT_DIR,
      env: {
        GOCACHE_PORT: String(server.port),
        GOCACHE_TLS_PORT: String(tlsPort),
        GOCACHE_TLS_DIR: tlsDir,
        PYTHONDONTWRITEBYTECODE: "1",
      },
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    await Deno.remove(tlsDir, { recursive: true });
    const report = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, report);
    const ran = Number(/Ran (\d+) tests?/.exec(report)?.[1] ?? 0);
    assert.ok(ran >= 15, `ran ${ran} Python tests:\n${report}`);
    assert.match(report, /\nOK\s*$/);
    assert.doesNotMatch(report, /skipped/);
  }),
});
