/**
 * Target `resp-request`: the server's request parser (src/resp/request_parser.ts) on RESP
 * multibulk requests (and the inline lines mixed into them).
 *
 * Crash: an exception other than ProtocolError, or a broken invariant: `parse` returning a
 * position outside `[pos, end]` or completing a command without consuming a byte; a command
 * holding more argument bytes than were consumed; or the same bytes parsed differently when they
 * arrive in pieces, each piece appended to a fresh buffer and the old buffer overwritten with
 * garbage (so that an argument left pointing into a replaced buffer shows), with the server's
 * command-name interning on, than when they arrive whole.
 *
 * @module
 */
import { ProtocolError, RequestParser } from "../../src/resp/request_parser.ts";
import { createCommandTable } from "../../src/commands/mod.ts";
import type { CommandNames } from "../../src/resp/request_parser.ts";
import {
  check,
  type FuzzTarget,
  hashBytes,
  latin1,
  piecesOf,
  sameBytes,
  splitPoints,
  utf8,
} from "../target.ts";

/** What feeding some bytes produced. */
interface Outcome {
  /** The completed commands, copied. */
  commands: Uint8Array[][];
  /** The ProtocolError's message, or null. */
  error: string | null;
  /** Bytes consumed before the parser stopped (needing more, or at the end). */
  consumed: number;
}

/** Parses `buf[start, end)` until the parser needs more bytes or throws; collects commands. */
function drain(
  parser: RequestParser,
  buf: Uint8Array,
  start: number,
  out: Uint8Array[][],
): number {
  let pos = start;
  const end = buf.length;
  while (pos < end) {
    const next = parser.parse(buf, pos, end);
    check(next >= pos && next <= end, () => `parse returned ${next} outside [${pos}, ${end}]`);
    const command = parser.command;
    if (command === null) {
      if (next === pos) break;
      pos = next;
      continue;
    }
    check(next > pos, "a command completed without consuming a byte");
    out.push(command.map((arg) => arg.slice()));
    pos = next;
  }
  return pos;
}

/** A parser configured from the input's hash: bulk limit and authentication state. */
function parserFor(hash: number, names: CommandNames | null): RequestParser {
  const parser = new RequestParser([512 * 1024 * 1024, 1024, 16][hash % 3]);
  parser.unauthenticated = (hash >>> 2) % 4 === 0;
  parser.names = names;
  return parser;
}

function feedWhole(input: Uint8Array, hash: number): Outcome {
  const commands: Uint8Array[][] = [];
  const parser = parserFor(hash, null);
  let consumed = 0;
  try {
    consumed = drain(parser, input, 0, commands);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { commands, error: e.message, consumed: -1 };
  }
  return { commands, error: null, consumed };
}

function feedInPieces(input: Uint8Array, hash: number, names: CommandNames): Outcome {
  const commands: Uint8Array[][] = [];
  const parser = parserFor(hash, names);
  let buf = new Uint8Array(0);
  let start = 0;
  let consumed = 0;
  try {
    for (const piece of piecesOf(input, splitPoints(input.length, hash))) {
      const fresh = new Uint8Array(buf.length - start + piece.length);
      fresh.set(buf.subarray(start));
      fresh.set(piece, buf.length - start);
      buf.fill(0xee);
      buf = fresh;
      const pos = drain(parser, buf, 0, commands);
      consumed += pos;
      start = pos;
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { commands, error: e.message, consumed: -1 };
  }
  return { commands, error: null, consumed };
}

function show(command: Uint8Array[]): string {
  return JSON.stringify(command.map((a) => String.fromCharCode(...a)));
}

let table: CommandNames | null = null;

/** The resp-request target. */
export const respRequestTarget: FuzzTarget = {
  name: "resp-request",
  description: "RequestParser on RESP requests: ProtocolError only, same result in pieces",
  maxLength: 8 * 1024,
  setup(): Promise<void> {
    table ??= createCommandTable();
    return Promise.resolve();
  },
  corpus: () =>
    [
      "*1\r\n$4\r\nPING\r\n",
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
      "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
      "*0\r\n*-1\r\n*1\r\n$4\r\nping\r\n",
      "*3\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\n\r\n\r\n",
      "*2\r\n$4\r\nECHO\r\n$20\r\n\x00\x01\x02\xff\r\n*$-1\r\n\x7f\x80abcdefghij\r\n",
      'PING\r\n*1\r\n$4\r\nPING\r\nSET k "a b"\r\n',
      "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
      "*2\r\n$6\r\nEXPIRE\r\n$20\r\n9223372036854775807\r\n",
      `*1\r\n$${300}\r\n${"x".repeat(300)}\r\n`,
      "*11\r\n" + "$1\r\na\r\n".repeat(11),
      "*1\r\n$17000\r\n",
      "\r\n\n   \n",
    ].map(latin1),
  dictionary: [
    "\r\n",
    "*",
    "$",
    "*1\r\n",
    "$-1\r\n",
    "*-1\r\n",
    "*0\r\n",
    "$0\r\n\r\n",
    "\n",
    "\r",
    '"',
    "'",
    "\\x",
    "\x00",
    "*2147483648\r\n",
    "$536870913\r\n",
  ].map(utf8),
  run(input: Uint8Array): void {
    const hash = hashBytes(input);
    const whole = feedWhole(input, hash);
    let argBytes = 0;
    for (const command of whole.commands) for (const arg of command) argBytes += arg.length;
    check(
      whole.error !== null || argBytes <= whole.consumed,
      () => `${argBytes} argument bytes from ${whole.consumed} consumed`,
    );
    const pieces = feedInPieces(input, hash, table ??= createCommandTable());
    check(
      whole.error === pieces.error,
      () => `whole: error ${whole.error}; in pieces: error ${pieces.error}`,
    );
    check(
      whole.consumed === pieces.consumed,
      () => `whole consumed ${whole.consumed} bytes, in pieces ${pieces.consumed}`,
    );
    check(
      whole.commands.length === pieces.commands.length,
      () => `whole: ${whole.commands.length} commands; in pieces: ${pieces.commands.length}`,
    );
    for (let i = 0; i < whole.commands.length; i++) {
      const a = whole.commands[i];
      const b = pieces.commands[i];
      check(
        a.length === b.length && a.every((arg, j) => sameBytes(arg, b[j])),
        () => `command ${i}: whole ${show(a)}, in pieces ${show(b)}`,
      );
    }
  },
};
