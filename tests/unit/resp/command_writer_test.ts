/**
 * The client command encoder: appending into a growable buffer gives exactly the bytes of
 * encoding each command alone, for any arguments (text in any script, bytes, numbers).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { appendCommand, type CommandArg, encodeCommand } from "../../../src/resp/command_writer.ts";
import { ByteBuffer, concatBytes } from "../../../src/util/bytes.ts";
import { bytes } from "../../support/bytes.ts";

const arg: fc.Arbitrary<CommandArg> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.integer(),
  fc.double(),
);

Deno.test("encodeCommand writes a RESP multibulk with UTF-8 text and decimal numbers", () => {
  assert.deepEqual(
    encodeCommand(["SET", "é", 12, new Uint8Array([0, 13, 10])]),
    bytes("*4\r\n$3\r\nSET\r\n$2\r\n\xc3\xa9\r\n$2\r\n12\r\n$3\r\n\x00\r\n\r\n"),
  );
  assert.deepEqual(encodeCommand(["X", Infinity]), bytes("*2\r\n$1\r\nX\r\n$3\r\ninf\r\n"));
});

Deno.test("appendCommand into a small growing buffer equals encodeCommand, command by command", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(arg, { minLength: 1, maxLength: 6 }), { maxLength: 8 }),
      (cmds) => {
        const out = new ByteBuffer(16);
        for (const cmd of cmds) appendCommand(out, cmd);
        assert.deepEqual(out.view(), concatBytes(cmds.map((cmd) => encodeCommand(cmd))));
      },
    ),
  );
});
