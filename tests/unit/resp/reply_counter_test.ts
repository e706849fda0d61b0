/**
 * The benchmark's reply counter: it counts complete replies and error replies however the stream
 * is split, keeps the first error's text, ignores pushes and attributes, reports malformed
 * framing without throwing, and agrees with the full ReplyDecoder on random streams.
 */
import assert from "node:assert/strict";
import { ReplyCounter } from "../../../src/resp/reply_counter.ts";
import { ReplyDecoder, RespError, RespPush } from "../../../src/resp/reply_decoder.ts";
import { mulberry32 } from "../../../src/util/prng.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

/** Feeds `stream` in chunks cut at `cuts`; returns the replies counted and the counter. */
function countSplit(
  stream: Uint8Array,
  cuts: number[],
): { replies: number; counter: ReplyCounter } {
  const counter = new ReplyCounter();
  let replies = 0;
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    // Each chunk sits at a different place of a larger buffer, as a socket read would put it.
    const buffer = new Uint8Array(cut - from + 7);
    buffer.set(stream.subarray(from, cut), 3);
    replies += counter.scan(buffer, 3, 3 + cut - from);
    from = cut;
  }
  return { replies, counter };
}

/** What ReplyDecoder makes of `stream`: replies (pushes dropped), errors, and whether it failed. */
function oracle(stream: Uint8Array): { replies: number; errors: number; failed: boolean } {
  const decoder = new ReplyDecoder();
  decoder.push(stream);
  let replies = 0;
  let errors = 0;
  try {
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
      if (frame instanceof RespPush) continue;
      replies++;
      if (frame instanceof RespError) errors++;
    }
  } catch {
    return { replies, errors, failed: true };
  }
  return { replies, errors, failed: false };
}

/** A seeded PRNG, so failures reproduce. */
const random = mulberry32;

/** One random well-formed frame of any RESP2/RESP3 type, nested up to `depth` levels. */
function frame(rand: () => number, depth: number): string {
  const pick = Math.floor(rand() * (depth > 0 ? 16 : 11));
  const word = ["OK", "PONG", "", "ERR bad\tthing", "héllo", "a\nb"][Math.floor(rand() * 6)];
  const blob = ["", "x", "abc", "with\r\ncrlf", "y".repeat(300)][Math.floor(rand() * 5)];
  const blobLength = encoder.encode(blob).length;
  const elements = () => {
    const n = Math.floor(rand() * 4);
    let body = "";
    for (let i = 0; i < n; i++) body += frame(rand, depth - 1);
    return { n, body };
  };
  switch (pick) {
    case 0:
      return `+${word.replace("\n", "")}\r\n`;
    case 1:
      return `-${word.replace("\n", "") || "ERR"}\r\n`;
    case 2:
      return `:${Math.floor(rand() * 2e6) - 1e6}\r\n`;
    case 3:
      return `$${blobLength}\r\n${blob}\r\n`;
    case 4:
      return "$-1\r\n";
    case 5:
      return "*-1\r\n";
    case 6:
      return "_\r\n";
    case 7:
      return rand() < 0.5 ? "#t\r\n" : "#f\r\n";
    case 8:
      return `,${(rand() * 100).toFixed(3)}\r\n`;
    case 9:
      return `!${blobLength}\r\n${blob}\r\n`;
    case 10:
      return `=${blobLength + 4}\r\ntxt:${blob}\r\n`;
    case 11:
    case 12: {
      const { n, body } = elements();
      return `*${n}\r\n${body}`;
    }
    case 13: {
      const { n, body } = elements();
      return `~${n}\r\n${body}`;
    }
    case 14: {
      const n = Math.floor(rand() * 3);
      let body = "";
      for (let i = 0; i < 2 * n; i++) body += frame(rand, depth - 1);
      return `${rand() < 0.5 ? "%" : "|"}${n}\r\n${body}`;
    }
    default: {
      const { n, body } = elements();
      return `>${n}\r\n${body}`;
    }
  }
}

function randomCuts(rand: () => number, length: number): number[] {
  const cuts: number[] = [];
  for (let at = 0; at < length;) {
    at += 1 + Math.floor(rand() * (rand() < 0.3 ? 4 : 60));
    if (at < length) cuts.push(at);
  }
  return cuts;
}

Deno.test("benchmark replies are counted, one per top-level reply", () => {
  const stream = bytes("+OK\r\n+PONG\r\n$3\r\nabc\r\n$-1\r\n:12\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n");
  const { replies, counter } = countSplit(stream, []);
  assert.equal(replies, 7);
  assert.equal(counter.errors, 0);
  assert.equal(counter.failure, null);
});

Deno.test("a reply split across reads at any byte counts once, when it is complete", () => {
  const stream = bytes("$5\r\nhello\r\n*2\r\n:1\r\n-ERR in array\r\n-ERR top\r\n");
  for (let cut = 1; cut < stream.length; cut++) {
    const counter = new ReplyCounter();
    const first = cut >= 34 ? 2 : cut >= 11 ? 1 : 0;
    assert.equal(counter.scan(stream, 0, cut), first, `first ${cut} bytes`);
    assert.equal(counter.scan(stream, cut, stream.length), 3 - first);
    assert.equal(counter.errors, 1, "an error inside an array is not an error reply");
    assert.equal(counter.firstError, "ERR top");
  }
  const byteByByte = countSplit(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1));
  assert.equal(byteByByte.replies, 3);
});

Deno.test("a truncated reply is not counted", () => {
  for (const partial of ["+O", "+OK\r", "$3\r\nab", "$3\r\nabc\r", "*2\r\n:1\r\n", "-ERR x"]) {
    const { replies, counter } = countSplit(bytes(partial), []);
    assert.equal(replies, 0, partial);
    assert.equal(counter.errors, 0, partial);
    assert.equal(counter.failure, null, partial);
  }
});

Deno.test("error replies are counted and the first one's text is kept", () => {
  const stream = bytes(
    "-WRONGTYPE Operation against a key\r\n+OK\r\n!9\r\nERR blob!\r\n-ERR two\r\n",
  );
  const { replies, counter } = countSplit(stream, [5, 20, 45, 50]);
  assert.equal(replies, 4);
  assert.equal(counter.errors, 3);
  assert.equal(counter.firstError, "WRONGTYPE Operation against a key");
  const blob = countSplit(bytes("!9\r\nERR blob!\r\n"), [6]);
  assert.equal(blob.counter.firstError, "ERR blob!");
});

Deno.test("pushes and attributes are not replies", () => {
  const stream = bytes(
    ">2\r\n+message\r\n+hi\r\n|1\r\n+key\r\n+value\r\n+OK\r\n|0\r\n*1\r\n|1\r\n:1\r\n:2\r\n:3\r\n",
  );
  const { replies } = countSplit(stream, [3, 17]);
  assert.equal(replies, 2);
});

Deno.test("malformed framing is reported, never thrown, and stops the count", () => {
  const cases: [string, RegExp][] = [
    ["+OK\r\n?what\r\n+OK\r\n", /Unknown reply type byte 0x3f at byte offset 5/],
    ["+OK\rX", /Expected LF after CR/],
    ["$3\r\nabcd\r\n", /Expected CRLF after bulk payload/],
    ["$x\r\n", /Length is not a non-negative integer/],
    ["$-2\r\n", /Length is not a non-negative integer/],
    ["%-1\r\n", /Length is not a non-negative integer/],
    ["$\r\n", /Length is not a non-negative integer/],
    ["$?\r\n", /Length is not a non-negative integer/],
    ["*99999999999999999\r\n", /Length is too large/],
    ["$600000000\r\n", /exceeds the limit/],
    ["*1\r\n".repeat(65), /nesting exceeds the limit of 64/],
  ];
  for (const [text, message] of cases) {
    const { replies, counter } = countSplit(bytes(text), []);
    assert.match(counter.failure ?? "", message, text);
    assert.ok(replies <= 1, text);
    assert.equal(counter.scan(bytes("+OK\r\n")), 0, "nothing more is counted");
  }
});

Deno.test("random well-formed streams split anywhere count as ReplyDecoder decodes", () => {
  const rand = random(8);
  for (let round = 0; round < 400; round++) {
    let text = "";
    const frames = 1 + Math.floor(rand() * 12);
    for (let i = 0; i < frames; i++) text += frame(rand, 3);
    const stream = bytes(text);
    const expected = oracle(stream);
    assert.equal(expected.failed, false, text);
    const { replies, counter } = countSplit(stream, randomCuts(rand, stream.length));
    assert.equal(counter.failure, null, text);
    assert.equal(replies, expected.replies, text);
    assert.equal(counter.errors, expected.errors, text);
  }
});

Deno.test("random and corrupted input never throws nor counts what ReplyDecoder would not", () => {
  const rand = random(11);
  const alphabet = bytes("+-:$*%~>|!=_#,(\r\n0123456789-1?ab");
  for (let round = 0; round < 3000; round++) {
    let stream: Uint8Array;
    if (round % 2 === 0) {
      stream = new Uint8Array(1 + Math.floor(rand() * 40));
      for (let i = 0; i < stream.length; i++) {
        stream[i] = rand() < 0.8
          ? alphabet[Math.floor(rand() * alphabet.length)]
          : Math.floor(rand() * 256);
      }
    } else {
      let text = "";
      for (let i = 0; i < 4; i++) text += frame(rand, 2);
      stream = bytes(text);
      for (let flips = 1 + Math.floor(rand() * 2); flips > 0; flips--) {
        stream[Math.floor(rand() * stream.length)] = alphabet[Math.floor(rand() * alphabet.length)];
      }
    }
    const expected = oracle(stream);
    const { replies, counter } = countSplit(stream, randomCuts(rand, stream.length));
    const context = JSON.stringify([...stream]);
    if (counter.failure !== null) {
      // A length line is rejected at its first bad byte; the decoder waits for the line's end.
      const ended = oracle(new Uint8Array([...stream, 13, 10]));
      assert.ok(expected.failed || ended.failed, `${counter.failure}: ${context}`);
    } else if (!expected.failed) {
      assert.equal(replies, expected.replies, context);
      assert.equal(counter.errors, expected.errors, context);
    }
    if (expected.failed) {
      assert.ok(replies >= expected.replies, "frames decoded before the failure are counted");
    }
  }
});
