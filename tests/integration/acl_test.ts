/**
 * ACL across the process: users from the YAML config, the users file (ACL SAVE, a restart that
 * loads it, ACL LOAD), clients of a deleted user disconnected, and client libraries (ioredis,
 * node-redis) connecting with a user name and password.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { RespConn } from "../support/resp_conn.ts";
import { RespError, RespSimple } from "../../src/resp/reply_decoder.ts";
import { startServer } from "../support/server.ts";

/** A bulk or simple string reply as text. */
const text = (v: unknown) =>
  v instanceof Uint8Array ? new TextDecoder().decode(v) : v instanceof RespSimple ? v.value : v;

Deno.test("users in the YAML config authenticate with their rules", async () => {
  const server = await startServer({
    yaml:
      `users:\n  - "alice on >secret ~app:* +@read +@connection +acl|whoami"\n  - "default on >adminpw +@all ~* &*"\n`,
  });
  try {
    const conn = await RespConn.connect(server.port);
    try {
      await conn.send("PING");
      assert.match(String((await conn.read() as RespError).message), /NOAUTH/);
      await conn.send("AUTH", "alice", "secret");
      assert.equal(text(await conn.read()), "OK");
      await conn.send("GET", "app:1");
      assert.equal(await conn.read(), null);
      await conn.send("SET", "app:1", "v");
      assert.match(String((await conn.read() as RespError).message), /NOPERM.*'set' command/);
    } finally {
      conn.close();
    }
    const io = new Redis({
      port: server.port,
      username: "alice",
      password: "secret",
      lazyConnect: true,
    });
    try {
      await io.connect();
      assert.equal(await io.call("ACL", "WHOAMI"), "alice");
    } finally {
      io.disconnect();
    }
    const nr = createClient({ url: `redis://default:adminpw@127.0.0.1:${server.port}` });
    try {
      await nr.connect();
      assert.equal(await nr.sendCommand(["ACL", "WHOAMI"]), "default");
    } finally {
      await nr.disconnect();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ACL SAVE writes the users file, a restart and ACL LOAD read it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/users.acl`, "");
    const first = await startServer({ dir, args: ["--aclfile", "users.acl"] });
    let saved: string;
    try {
      const c = await RespConn.connect(first.port);
      try {
        await c.send("ACL", "SETUSER", "bob", "on", ">pw", "~b:*", "+get", "(~x +set)");
        assert.equal(text(await c.read()), "OK");
        await c.send("ACL", "SAVE");
        assert.equal(text(await c.read()), "OK");
      } finally {
        c.close();
      }
      saved = await Deno.readTextFile(`${dir}/users.acl`);
      assert.match(
        saved,
        /^user bob on #[0-9a-f]{64} ~b:\* resetchannels -@all \+get \(~x resetchannels -@all \+set\)\n/,
      );
      assert.match(saved, /\nuser default on nopass ~\* &\* \+@all\n$/);
    } finally {
      await first.stop();
    }
    const second = await startServer({ dir, args: ["--aclfile", "users.acl"] });
    try {
      const c = await RespConn.connect(second.port);
      const bob = await RespConn.connect(second.port);
      try {
        await c.send("ACL", "LIST");
        const lines = (await c.read() as Uint8Array[]).map(text);
        assert.deepEqual(lines.map((l) => `${l}\n`).join(""), saved);
        await bob.send("AUTH", "bob", "pw");
        assert.equal(text(await bob.read()), "OK");
        // A users file with an error changes nothing.
        await Deno.writeTextFile(`${dir}/users.acl`, "user carol on nosuchrule\n");
        await c.send("ACL", "LOAD");
        assert.match(String((await c.read() as RespError).message), /Syntax error.*no change/);
        await Deno.writeTextFile(`${dir}/users.acl`, "user carol on nopass +@all ~*\n");
        await c.send("ACL", "LOAD");
        assert.equal(text(await c.read()), "OK");
        await c.send("ACL", "USERS");
        assert.deepEqual((await c.read() as Uint8Array[]).map(text), ["carol", "default"]);
        // Bob's user was replaced: his connection is closed, as Redis frees the old users.
        assert.ok(await bob.closedByServer(2000));
      } finally {
        c.close();
        bob.close();
      }
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ACL DELUSER disconnects the user's clients; others stay", async () => {
  const server = await startServer();
  try {
    const admin = await RespConn.connect(server.port);
    const a = await RespConn.connect(server.port);
    const b = await RespConn.connect(server.port);
    try {
      await admin.send("ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*");
      await admin.read();
      await a.send("AUTH", "gone", "x");
      assert.equal(text(await a.read()), "OK");
      await admin.send("ACL", "DELUSER", "gone");
      assert.equal(await admin.read(), 1);
      assert.ok(await a.closedByServer(2000));
      await b.send("PING");
      assert.equal(text(await b.read()), "PONG");
    } finally {
      admin.close();
      a.close();
      b.close();
    }
  } finally {
    await server.stop();
  }
});
