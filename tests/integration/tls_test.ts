/**
 * TLS with certificates the test makes with openssl: redis-cli --tls and ioredis on `tls-port`,
 * client certificates (`tls-auth-clients yes|optional|no`), `tls-protocols`, followers
 * (gocache and redis-server 7.0) over `tls-replication` presenting their certificates,
 * settings reloaded by CONFIG SET, and the settings that cannot work refused at start.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { plain, RespConn } from "../support/resp_conn.ts";
import { runCli, startServer } from "../support/server.ts";
import { connect } from "../../src/client/mod.ts";
import { freePort, startRedis } from "../support/redis_server.ts";
import { waitFor } from "../support/wait_for.ts";
import {
  type Certificates,
  makeCertificates,
  tlsServerFlags,
  withCertificates,
} from "../../bench/_tls.ts";

/**
 * `serve` flags for a TLS port with `certs`, trusting their CA for client certificates, which
 * are required as by default (Redis's `tls-auth-clients yes`) unless `auth` says otherwise.
 */
function tlsArgs(port: number, certs: Certificates, auth?: "no" | "optional"): string[] {
  return [
    "--tls-port",
    String(port),
    ...tlsServerFlags(certs),
    ...(auth === undefined ? [] : ["--tls-auth-clients", auth]),
  ];
}

/** How redis-cli connects: the CA it trusts, and the certificate it presents, if any. */
interface CliTls {
  ca: string;
  client?: Certificates;
}

/** Runs redis-cli over TLS against `port`; returns its output. */
async function cliTls(port: number, how: CliTls, ...args: string[]): Promise<string> {
  const cert = how.client === undefined ? [] : ["--cert", how.client.cert, "--key", how.client.key];
  const out = await new Deno.Command("redis-cli", {
    args: ["--tls", "--cacert", how.ca, ...cert, "-p", String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() + new TextDecoder().decode(out.stderr).trim();
}

/**
 * Whether openssl s_client completes a handshake with `port` using only `protocol`, and gets
 * PONG to a PING; the client presents `client`'s certificate.
 */
async function handshakeWith(
  port: number,
  protocol: "-tls1_2" | "-tls1_3",
  client: Certificates,
): Promise<boolean> {
  const child = new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      protocol,
      "-CAfile",
      client.ca,
      "-cert",
      client.cert,
      "-key",
      client.key,
      "-quiet",
      "-no_ign_eof",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("PING\r\n"));
  const reader = child.stdout.getReader();
  let text = "";
  const deadline = setTimeout(() => child.kill(), 5000);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(deadline);
    await writer.close().catch(() => {});
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    try {
      child.kill();
    } catch {
      // Already exited.
    }
    await child.status;
  }
  return text.startsWith("+PONG");
}

Deno.test("redis-cli --tls and ioredis with tls talk to tls-port; the plain port still works", async () => {
  await withCertificates("one", async (certs, dir) => {
    const tlsPort = freePort();
    await using server = await startServer({ args: tlsArgs(tlsPort, certs) });
    const withCert = { ca: certs.ca, client: certs };
    assert.equal(await cliTls(tlsPort, withCert, "PING"), "PONG");
    assert.equal(await cliTls(tlsPort, withCert, "SET", "over", "tls"), "OK");
    await using plainConn = await RespConn.connect(server.port);
    assert.equal(plain(await plainConn.call("GET", "over")), "tls");
    const client = new Redis({
      port: tlsPort,
      host: "127.0.0.1",
      tls: {
        ca: Deno.readTextFileSync(certs.ca),
        cert: Deno.readTextFileSync(certs.cert),
        key: Deno.readTextFileSync(certs.key),
      },
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
    assert.doesNotMatch(await cliTls(tlsPort, { ca: other.ca, client: certs }, "PING"), /^PONG$/);
  });
});

Deno.test("followers over TLS: a gocache follower and a redis-server 7.0 follower of a gocache leader", async () => {
  await withCertificates("repl", async (certs) => {
    const tlsPort = freePort();
    await using leader = await startServer({ args: tlsArgs(tlsPort, certs) });
    await using follower = await startServer({
      args: ["--tls-replication", "yes", ...tlsServerFlags(certs)],
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
      ...tlsServerFlags(certs),
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
  });
});

Deno.test("tls-auth-clients: yes needs a certificate from the CA, optional checks one if sent, no takes any", async () => {
  await withCertificates("auth", async (certs, dir) => {
    const stranger = makeCertificates(dir, "stranger");
    const tlsPort = freePort();
    await using server = await startServer({ args: tlsArgs(tlsPort, certs) });
    const ping = (client?: Certificates) => cliTls(tlsPort, { ca: certs.ca, client }, "PING");
    assert.equal(await ping(certs), "PONG");
    assert.doesNotMatch(await ping(), /^PONG$/);
    assert.doesNotMatch(await ping(stranger), /^PONG$/);
    // A client refused at the handshake is no client: nothing in CLIENT LIST but the admin.
    await using admin = await RespConn.connect(server.port);
    assert.deepEqual(plain(await admin.call("CONFIG", "GET", "tls-auth-clients")), [
      "tls-auth-clients",
      "yes",
    ]);
    assert.equal(plain(await admin.call("CONFIG", "SET", "tls-auth-clients", "optional")), "OK");
    await waitFor(async () => (await ping()) === "PONG", {
      what: "optional to admit a client without a certificate",
    });
    assert.equal(await ping(certs), "PONG");
    assert.doesNotMatch(await ping(stranger), /^PONG$/);
    assert.equal(plain(await admin.call("CONFIG", "SET", "tls-auth-clients", "no")), "OK");
    await waitFor(async () => (await ping(stranger)) === "PONG", {
      what: "no to admit a client whatever its certificate",
    });
    assert.equal(await ping(), "PONG");
    // The redis-cli clients that were admitted have exited; the server may not have seen the
    // last one close yet, so the list is awaited until only the admin is left.
    let clients = "";
    await waitFor(async () => {
      clients = plain(await admin.call("CLIENT", "LIST")) as string;
      return clients.trim().split("\n").length === 1;
    }, { what: "CLIENT LIST to hold only the admin" }).catch(() => {
      assert.fail(`CLIENT LIST still holds other clients:\n${clients}`);
    });
  });
});

Deno.test("tls-protocols limits the versions a handshake may use, also after CONFIG SET", async () => {
  await withCertificates("proto", async (certs) => {
    const tlsPort = freePort();
    await using server = await startServer({
      args: [...tlsArgs(tlsPort, certs), "--tls-protocols", "TLSv1.3"],
    });
    assert.equal(await handshakeWith(tlsPort, "-tls1_3", certs), true);
    assert.equal(await handshakeWith(tlsPort, "-tls1_2", certs), false);
    await using admin = await RespConn.connect(server.port);
    assert.equal(plain(await admin.call("CONFIG", "SET", "tls-protocols", "tlsv1.2")), "OK");
    await waitFor(async () => await handshakeWith(tlsPort, "-tls1_2", certs), {
      what: "TLSv1.2 to be accepted",
    });
    assert.equal(await handshakeWith(tlsPort, "-tls1_3", certs), false);
    assert.equal(plain(await admin.call("CONFIG", "SET", "tls-protocols", "")), "OK");
    await waitFor(async () => await handshakeWith(tlsPort, "-tls1_3", certs), {
      what: "both versions again",
    });
    assert.equal(await handshakeWith(tlsPort, "-tls1_2", certs), true);
    const refused = await admin.call("CONFIG", "SET", "tls-protocols", "TLSv1");
    assert.match(String(plain(refused)), /^-ERR CONFIG SET failed .*TLSv1 is not supported/);
    assert.deepEqual(plain(await admin.call("CONFIG", "GET", "tls-protocols")), [
      "tls-protocols",
      "",
    ]);
  });
});

Deno.test("the TypeScript client and gocache bench speak TLS, with client certificates", async () => {
  await withCertificates("clients", async (certs) => {
    const tlsPort = freePort();
    await using server = await startServer({ args: tlsArgs(tlsPort, certs) });
    const tls = {
      caCerts: [Deno.readTextFileSync(certs.ca)],
      cert: Deno.readTextFileSync(certs.cert),
      key: Deno.readTextFileSync(certs.key),
    };
    {
      await using client = await connect({ port: tlsPort, tls });
      await client.set("ts-over-tls", "yes");
      assert.equal(await client.get("ts-over-tls"), "yes");
    }
    // Without a certificate the server refuses (the error surfaces on the first reply at the
    // latest: in TLS 1.3 the client's handshake ends before the server checks it).
    await assert.rejects(async () => {
      await using client = await connect({ port: tlsPort, tls: { caCerts: tls.caCerts } });
      await client.ping();
    });
    const redisTls = freePort();
    const redis = await startRedis([
      "--tls-port",
      String(redisTls),
      ...tlsServerFlags(certs),
    ]);
    try {
      const { code, stdout, stderr } = await runCli([
        "bench",
        "--json",
        "-p",
        String(tlsPort),
        "--compare",
        `127.0.0.1:${redisTls}`,
        "--tls",
        "--cacert",
        certs.ca,
        "--cert",
        certs.cert,
        "--key",
        certs.key,
        "-c",
        "4",
        "-n",
        "2000",
        "-t",
        "set,get",
      ]);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as {
        results: { test: string; requests: number; errors: number }[];
        comparisons: { test: string; ratio: number }[];
      };
      assert.equal(report.results.length, 4);
      for (const r of report.results) assert.deepEqual([r.requests, r.errors], [2000, 0], r.test);
      assert.deepEqual(report.comparisons.map((c) => c.test), ["set", "get"]);
      await using plainConn = await RespConn.connect(server.port);
      // bench's SETs reached gocache through the TLS port.
      assert.equal(plain(await plainConn.call("EXISTS", "key:__rand_int__")), 1);
    } finally {
      await redis.stop();
    }
    const refused = await runCli(["bench", "-p", String(tlsPort), "--cacert", certs.ca]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--cacert, --cert and --key need --tls/);
  });
});

Deno.test("CONFIG SET of the certificate files reloads them for new connections", async () => {
  await withCertificates("first", async (first, dir) => {
    const second = makeCertificates(dir, "second");
    const tlsPort = freePort();
    await using server = await startServer({ args: tlsArgs(tlsPort, first, "no") });
    assert.equal(await cliTls(tlsPort, { ca: first.ca }, "PING"), "PONG");
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
    await waitFor(async () => (await cliTls(tlsPort, { ca: second.ca }, "PING")) === "PONG", {
      what: "the new certificate to be served",
    });
    assert.doesNotMatch(await cliTls(tlsPort, { ca: first.ca }, "PING"), /^PONG$/);
  });
});

Deno.test("TLS settings that cannot work stop the start with the reason", async () => {
  await withCertificates("bad", async (certs) => {
    for (
      const [args, reason] of [
        [
          [
            "--tls-port",
            String(freePort()),
            "--tls-cert-file",
            certs.cert,
            "--tls-key-file",
            certs.key,
          ],
          /tls-auth-clients yes needs tls-ca-cert-file/,
        ],
        [["--tls-port", String(freePort())], /needs tls-cert-file and tls-key-file/],
        [[...tlsArgs(freePort(), certs), "--tls-protocols", "TLSv1.1"], /TLSv1.1 is not supported/],
        [[...tlsArgs(freePort(), certs), "--tls-protocols", "SSLv3"], /Invalid tls-protocols/],
      ] as const
    ) {
      await assert.rejects(
        startServer({ args: [...args], expectCrash: true }),
        (e: Error) => reason.test(e.message),
      );
    }
  });
});
