import assert from "node:assert/strict";
import { dispatch } from "../../../src/commands/dispatch.ts";
import { readNow } from "../../support/replies.ts";
import { Config, defaultValues } from "../../../src/config/config.ts";
import { AppendOnlyFile } from "../../../src/persistence/aof.ts";
import { ErrorReply, OK } from "../../../src/resp/reply.ts";
import { ClientState } from "../../../src/server/client.ts";
import { Server } from "../../../src/server/server.ts";
import { fromBinaryString } from "../../../src/util/bytes.ts";

const enc = new TextEncoder();

Deno.test("chunks appended in one turn reach the file together, in order", async () => {
  const path = await Deno.makeTempFile();
  const aof = await AppendOnlyFile.open(path, "always");
  try {
    aof.append(enc.encode("one "));
    aof.append(enc.encode("two "));
    assert.ok(aof.hasPending);
    assert.equal(await aof.durable(), true);
    aof.append(enc.encode("three"));
    assert.equal(await aof.durable(), true);
    assert.equal(await Deno.readTextFile(path), "one two three");
    assert.equal(aof.size, 13);
    assert.equal(aof.baseSize, 0);
    assert.equal(aof.writeError, null);
  } finally {
    await aof.close();
    await Deno.remove(path);
  }
});

Deno.test("reopening appends after what the file already holds", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(path, "old;");
  const aof = await AppendOnlyFile.open(path, "no");
  try {
    assert.equal(aof.baseSize, 4);
    aof.append(enc.encode("new"));
    await aof.close();
    assert.equal(await Deno.readTextFile(path), "old;new");
  } finally {
    await aof.close();
    await Deno.remove(path);
  }
});

Deno.test("a failed write is reported, writes get MISCONF, and waiters learn it", async () => {
  // Every write to /dev/full fails with ENOSPC.
  const aof = await AppendOnlyFile.open("/dev/full", "always");
  const server = new Server(new Config(defaultValues()));
  server.persistence.aof = aof;
  server.propagator.addSink((chunk) => aof.append(chunk));
  const client = new ClientState(1, "127.0.0.1:1", "127.0.0.1:2", true);
  const run = (...args: string[]) => readNow(dispatch(server, client, args.map(fromBinaryString)));
  try {
    assert.equal(run("SET", "k", "v"), OK);
    const durable = server.commitWrites();
    assert.ok(durable !== null, "under always the replies wait");
    assert.equal(await durable, false);
    assert.ok(aof.writeError !== null);
    const refused = run("SET", "k", "w");
    assert.ok(refused instanceof ErrorReply);
    assert.match(refused.message, /^MISCONF Errors writing to the AOF file: /);
    assert.equal(String(run("GET", "k")), "v", "reads are still served");
  } finally {
    await aof.close();
  }
});
