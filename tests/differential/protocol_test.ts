/**
 * The wire protocol itself: malformed requests and inline commands, sent as identical raw bytes on
 * fresh connections to redis-server and gocache. Each exchange is compared byte for byte,
 * together with whether the server closed the connection.
 */
import assert from "node:assert/strict";
import { type Both, type RawResult, withBoth } from "./_diff.ts";

/** Sends `data` to both; asserts identical bytes back and that both closed the connection. */
async function assertSameClose(both: Both, data: string, expected?: string): Promise<void> {
  const out = await both.rawBoth(data);
  assert.deepEqual(out.gocache, out.redis, `raw exchange for ${JSON.stringify(data.slice(0, 40))}`);
  assert.equal(out.redis.closed, true, "redis-server closed the connection");
  if (expected !== undefined) assert.equal(out.redis.bytes, expected);
}

/**
 * Sends `data` and then an ECHO marker to both; asserts identical bytes back, the marker's reply
 * included, so the connection stayed open and in sync.
 */
async function assertSameOpen(both: Both, data: string): Promise<RawResult> {
  const out = await both.rawBoth(data, { marker: true });
  assert.deepEqual(out.gocache, out.redis, `raw exchange for ${JSON.stringify(data.slice(0, 40))}`);
  assert.equal(out.redis.closed, false, "redis-server kept the connection open");
  return out.redis;
}

const err = (text: string) => `-ERR Protocol error: ${text}\\x0d\\x0a`;

Deno.test("malformed requests get Redis's protocol errors and close the connection", async (t) => {
  await withBoth({}, async (both) => {
    await t.step("a bulk length that is not a number is an invalid bulk length", async () => {
      await assertSameClose(both, "*1\r\n$abc\r\n", err("invalid bulk length"));
      await assertSameClose(both, "*1\r\n$+1\r\n");
      await assertSameClose(both, "*1\r\n$01\r\n");
      await assertSameClose(both, "*1\r\n$ 1\r\n");
    });

    await t.step("a negative bulk length is an invalid bulk length", async () => {
      await assertSameClose(both, "*1\r\n$-1\r\n", err("invalid bulk length"));
      await assertSameClose(both, "*2\r\n$4\r\nECHO\r\n$-5\r\n");
    });

    await t.step("a bulk length beyond proto-max-bulk-len is an invalid bulk length", async () => {
      await assertSameClose(both, "*1\r\n$536870913\r\n", err("invalid bulk length"));
      await assertSameClose(both, "*1\r\n$99999999999999999999\r\n");
    });

    await t.step(
      "an element that is not a bulk string is reported with its type byte",
      async () => {
        await assertSameClose(both, "*1\r\n+x\r\n", err("expected '$', got '+'"));
        await assertSameClose(both, "*2\r\n$4\r\nECHO\r\n:1\r\n");
        await assertSameClose(both, "*1\r\nPING\r\n");
      },
    );

    await t.step(
      "a multibulk count that is not a number is an invalid multibulk length",
      async () => {
        await assertSameClose(both, "*abc\r\n", err("invalid multibulk length"));
        await assertSameClose(both, "*1x\r\n");
        await assertSameClose(both, "* 1\r\n");
      },
    );

    await t.step("a multibulk count over INT_MAX is an invalid multibulk length", async () => {
      await assertSameClose(both, "*2147483648\r\n", err("invalid multibulk length"));
      await assertSameClose(both, "*99999999999999999999\r\n");
    });

    await t.step("a multibulk count line over 64 KiB is 'too big mbulk count string'", async () => {
      // 64 KiB + 1 bytes without CR: exactly past the limit, nothing left unread by the server.
      await assertSameClose(both, "*" + "1".repeat(64 * 1024), err("too big mbulk count string"));
    });

    await t.step("a bulk count line over 64 KiB is 'too big bulk count string'", async () => {
      await assertSameClose(
        both,
        "*1\r\n$" + "1".repeat(64 * 1024),
        err("too big bulk count string"),
      );
    });

    await t.step(
      "an inline request over 64 KiB without a newline is 'too big inline request'",
      async () => {
        await assertSameClose(both, "a".repeat(64 * 1024 + 1), err("too big inline request"));
      },
    );

    await t.step("an inline command with unbalanced quotes is refused", async () => {
      await assertSameClose(both, 'ECHO "abc\r\n', err("unbalanced quotes in request"));
      await assertSameClose(both, "ECHO 'abc\r\n");
      await assertSameClose(both, 'ECHO "a"b\r\n');
      await assertSameClose(both, "ECHO 'it''s'\r\n");
    });

    await t.step("replies to commands before the malformed one are sent first", async () => {
      await assertSameClose(both, "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n");
    });
  });
});

Deno.test("ignorable and inline requests keep the connection open as in Redis", async (t) => {
  await withBoth({}, async (both) => {
    await t.step("an empty inline line is ignored", async () => {
      await assertSameOpen(both, "\r\n");
      await assertSameOpen(both, "\n");
      await assertSameOpen(both, "   \r\n");
      await assertSameOpen(both, "\r\n\r\nPING\r\n");
    });

    await t.step("an empty multibulk (*0) is ignored", async () => {
      await assertSameOpen(both, "*0\r\n");
      await assertSameOpen(both, "*0\r\n*1\r\n$4\r\nPING\r\n");
    });

    await t.step("a negative multibulk count (*-1) is ignored and PING still works", async () => {
      await assertSameOpen(both, "*-1\r\n*1\r\n$4\r\nPING\r\n");
      await assertSameOpen(both, "*-5\r\n");
    });

    await t.step("an inline PING gets PONG", async () => {
      const out = await assertSameOpen(both, "PING\r\n");
      assert.ok(out.bytes.startsWith("+PONG\\x0d\\x0a"));
      await assertSameOpen(both, "ping hello\r\n");
    });

    await t.step("inline arguments in double quotes keep their spaces", async () => {
      const out = await assertSameOpen(both, 'ECHO "a b"\r\n');
      assert.ok(out.bytes.startsWith("$3\\x0d\\x0aa b\\x0d\\x0a"));
      await assertSameOpen(both, 'ECHO "\\x41\\n\\t\\\\"\r\n');
      await assertSameOpen(both, "ECHO 'a\\'b'\r\n");
      await assertSameOpen(both, 'ECHO ""\r\n');
    });

    await t.step("inline commands may end with LF alone and have extra blanks", async () => {
      const out = await assertSameOpen(both, "  ECHO   x  \n");
      assert.ok(out.bytes.startsWith("$1\\x0d\\x0ax\\x0d\\x0a"));
      await assertSameOpen(both, "ECHO\tx\r\n");
    });

    await t.step(
      "inline commands with wrong arity or unknown names get Redis's errors",
      async () => {
        await assertSameOpen(both, "ECHO\r\n");
        await assertSameOpen(both, "ECHO a b\r\n");
        await assertSameOpen(both, "NOSUCH a 'b c'\r\n");
      },
    );

    await t.step("inline and multibulk requests can be mixed in one write", async () => {
      await assertSameOpen(both, "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO there\n*0\r\n");
    });

    await t.step("a multibulk split across writes is answered once complete", async () => {
      await using c = await both.connect();
      await c.sendRaw("*2\r\n$4\r\nEC");
      await c.sendRaw("HO\r\n$5\r\nhel");
      await c.sendRaw("lo\r\n");
      await c.assertSameRead("a split ECHO");
    });
  });
});
