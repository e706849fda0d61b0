/**
 * TLS with certificates the test makes with openssl: redis-cli --tls and ioredis on `tls-port`,
 * followers (gocache and redis-server 7.0) over `tls-replication`, certificates reloaded by
 * CONFIG SET, and the settings that cannot work refused at start.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { plain, RespConn } from "../support/resp_conn.ts";
import { startServer } from "../support/server.ts";
import { freePort, startRedis } from "../support/redis_server.ts";
import { waitFor } from "../support/wait_for.ts";
import { type Certificates, makeCertificates } from "../../bench/_tls.ts";

/** `serve` flags for a TLS port with `certs`. */
function tlsArgs(port: number, certs: Certificates): string[] {
  return ["--tls-port", String(port), "--tls-cert-file", certs.cert, "--tls-key-file", certs.key];
}

/** Runs redis-cli over TLS against `port`, trusting `ca`; returns its output. */
async function cliTls(port: number, ca: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["--tls", "--cacert", ca, "-p", String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() + new TextDecoder().decode(out.stderr).trim();
}

Deno.test("redis-cli --tls and ioredis with tls talk to tls-port; the plain port still works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-tls-" });
  try {
    const certs = makeCertificates(dir, "one");
    const tlsPort = freePort();
    await using server = await startServer({ args: tlsArgs(tlsPort, certs) });
    assert.equal(await cliTls(tlsPort, certs.ca, "PING"), "PONG");
    assert.equal(await cliTls(tlsPort, certs.ca, "SET", "over", "tls"), "OK");
    await using plainConn = await RespConn.connect(server.port);
    assert.equal(plain(await plainConn.call("GET", "over")), "tls");
    const client = new Redis({
      port: tlsPort,
      host: "127.0.0.1",
      tls: { ca: Deno.readTextFileSync(certs.ca) },
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await client.connect();
      assert.equal(await client.set("from-ioredis", "yes"), "OK");
      assert.equal(await client.get("over"), "tls");
    } finally {
      client.disconnect();
    }
    assert.equal(plain(await plainConn.call("GET", "from-ioredis")), "yes");
    // A client that does not trust the CA is refused by its own handshake.
    const other = makeCertificates(dir, "other");
    assert.doesNotMatch(await cliTls(tlsPort, other.ca, "PING"), /^PONG$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("followers over TLS: a gocache follower and a redis-server 7.0 follower of a gocache leader", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-tls-repl-" });
  try {
    const certs = makeCertificates(dir, "repl");
    const tlsPort = freePort();
    await using leader = await startServer({ args: tlsArgs(tlsPort, certs) });
    await using follower = await startServer({
      args: ["--tls-replication", "yes", "--tls-ca-cert-file", certs.ca],
    });
    await using toLeader = await RespConn.connect(leader.port);
    await toLeader.call("SET", "k", "v1");
    await using toFollower = await RespConn.connect(follower.port);
    assert.equal(plain(await toFollower.call("REPLICAOF", "127.0.0.1", String(tlsPort))), "OK");
    await toLeader.call("SET", "k2", "v2");
    await waitFor(async () => plain(await toFollower.call("GET", "k2")) === "v2", {
      what: "the gocache follower to receive over TLS",
    });
    assert.equal(plain(await toFollower.call("GET", "k")), "v1");
    const redis = await startRedis([
      "--tls-replication",
      "yes",
      "--tls-cert-file",
      certs.cert,
      "--tls-key-file",
      certs.key,
      "--tls-ca-cert-file",
      certs.ca,
    ]);
    try {
      await using toRedis = await RespConn.connect(redis.port);
      await toRedis.call("REPLICAOF", "127.0.0.1", String(tlsPort));
      await toLeader.call("SET", "k3", "v3");
      await waitFor(async () => plain(await toRedis.call("GET", "k3")) === "v3", {
        what: "redis-server to follow gocache over TLS",
      });
      assert.equal(plain(await toRedis.call("GET", "k")), "v1");
    } finally {
      await redis.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CONFIG SET of the certificate files reloads them for new connections", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-tls-reload-" });
  try {
    const first = makeCertificates(dir, "first");
    const second = makeCertificates(dir, "second");
    const tlsPort = freePort();
    await using server = await startServer({ args: tlsArgs(tlsPort, first) });
    assert.equal(await cliTls(tlsPort, first.ca, "PING"), "PONG");
    await using admin = await RespConn.connect(server.port);
    assert.equal(
      plain(
        await admin.call(
          "CONFIG",
          "SET",
          "tls-cert-file",
          second.cert,
          "tls-key-file",
          second.key,
        ),
      ),
      "OK",
    );
    await waitFor(async () => (await cliTls(tlsPort, second.ca, "PING")) === "PONG", {
      what: "the new certificate to be served",
    });
    assert.doesNotMatch(await cliTls(tlsPort, first.ca, "PING"), /^PONG$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS settings that cannot work stop the start with the reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gocache-tls-bad-" });
  try {
    const certs = makeCertificates(dir, "bad");
    for (
      const [args, reason] of [
        [[...tlsArgs(freePort(), certs), "--tls-auth-clients", "yes"], /tls-auth-clients yes/],
        [["--tls-port", String(freePort())], /needs tls-cert-file and tls-key-file/],
      ] as const
    ) {
      await assert.rejects(
        startServer({ args: [...args], expectCrash: true }),
        (e: Error) => reason.test(e.message),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
