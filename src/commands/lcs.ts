/** LCS: the longest common subsequence of two string values (LEN, IDX, MINMATCHLEN, WITHMATCHLEN). */
import { MapReply, type Reply } from "../resp/reply.ts";
import type { ClientState } from "../server/client.ts";
import { toBinaryString } from "../util/bytes.ts";
import { now } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import { CommandError } from "./errors.ts";
import { database, isWord, roundedIntArg } from "./_values.ts";

/** LCS's options. */
interface LcsOptions {
  getLen: boolean;
  getIdx: boolean;
  withMatchLen: boolean;
  minMatchLen: number;
}

function parseLcsOptions(argv: Uint8Array[]): LcsOptions {
  const options = { getLen: false, getIdx: false, withMatchLen: false, minMatchLen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    if (isWord(opt, "idx")) options.getIdx = true;
    else if (isWord(opt, "len")) options.getLen = true;
    else if (isWord(opt, "withmatchlen")) options.withMatchLen = true;
    else if (isWord(opt, "minmatchlen") && j < argv.length - 1) {
      options.minMatchLen = Math.max(0, roundedIntArg(argv[++j]));
    } else throw new CommandError("ERR syntax error");
  }
  if (options.getLen && options.getIdx) {
    throw new CommandError("ERR If you want both the length and indexes, please just use IDX.");
  }
  return options;
}

/** The dynamic-programming table of LCS lengths of every pair of prefixes, row by row. */
function lcsTable(a: string, b: string): Uint32Array {
  const w = b.length + 1;
  const table = new Uint32Array((a.length + 1) * w);
  for (let i = 1; i <= a.length; i++) {
    const c = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const at = i * w + j;
      if (c === b.charCodeAt(j - 1)) table[at] = table[at - w - 1] + 1;
      else table[at] = Math.max(table[at - w], table[at - 1]);
    }
  }
  return table;
}

/**
 * Redis's `lcsCommand`: the longest common subsequence of two strings, its length (LEN) or the
 * matching ranges walked back from the end (IDX, with MINMATCHLEN and WITHMATCHLEN).
 */
/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]. */
export function lcs(ctx: ServerContext, client: ClientState, argv: Uint8Array[]): Reply {
  const db = database(ctx, client);
  const t = now();
  const va = db.read(toBinaryString(argv[1]), t, client.noTouch);
  const vb = db.read(toBinaryString(argv[2]), t, client.noTouch);
  if (
    (va !== undefined && typeof va !== "string") || (vb !== undefined && typeof vb !== "string")
  ) {
    throw new CommandError("ERR The specified keys must contain string values");
  }
  const a = va ?? "";
  const b = vb ?? "";
  const options = parseLcsOptions(argv);
  if ((a.length + 1) * (b.length + 1) * 4 > ctx.config.values["proto-max-bulk-len"]) {
    throw new CommandError(
      "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
    );
  }
  const table = lcsTable(a, b);
  const w = b.length + 1;
  const length = table[a.length * w + b.length];
  if (options.getLen) return length;
  const chars = new Array<string>(length);
  const matches: Reply[] = [];
  let idx = length;
  let aStart = a.length; // a.length: no range in progress
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  for (let i = a.length, j = b.length; i > 0 && j > 0;) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      chars[--idx] = a[i - 1];
      if (aStart === a.length) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else emit = true;
      if (aStart === 0 || bStart === 0) emit = true;
      i--;
      j--;
    } else {
      if (table[(i - 1) * w + j] > table[i * w + j - 1]) i--;
      else j--;
      if (aStart !== a.length) emit = true;
    }
    if (!emit) continue;
    const matchLen = aEnd - aStart + 1;
    if (options.getIdx && (options.minMatchLen === 0 || matchLen >= options.minMatchLen)) {
      const match: Reply[] = [[aStart, aEnd], [bStart, bEnd]];
      if (options.withMatchLen) match.push(matchLen);
      matches.push(match);
    }
    aStart = a.length;
  }
  if (options.getIdx) return new MapReply(["matches", matches, "len", length]);
  return chars.join("");
}
