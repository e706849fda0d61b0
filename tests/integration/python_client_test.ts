/**
 * The Python client's unittest suite (clients/python) against a gocache started here; the port
 * travels in GOCACHE_PORT. Skipped only where python3 is missing; every Python test must run
 * (a skip inside the suite fails this test).
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server.ts";

const CLIENT_DIR = new URL("../../clients/python/", import.meta.url).pathname;

async function hasPython(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", "import sys; assert sys.version_info >= (3, 10)"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the Python client's unittest suite passes against gocache",
  ignore: !(await hasPython()),
  async fn() {
    await using server = await startServer();
    const out = await new Deno.Command("python3", {
      args: ["-m", "unittest", "-v", "test_gocache_client"],
      cwd: CLIENT_DIR,
      env: { GOCACHE_PORT: String(server.port), PYTHONDONTWRITEBYTECODE: "1" },
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const report = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, report);
    const ran = Number(/Ran (\d+) tests?/.exec(report)?.[1] ?? 0);
    assert.ok(ran >= 13, `ran ${ran} Python tests:\n${report}`);
    assert.match(report, /\nOK\s*$/);
    assert.doesNotMatch(report, /skipped/);
  },
});
