/**
 * Splitting of inline commands, the plain-text form a user types into telnet (`SET k "a b"`).
 * Redis splits these lines with `sdssplitargs()`; clients and scripts rely on its exact quoting
 * rules, so this module reproduces them, quirks included:
 *
 * - the line is treated as a C string, so everything from the first NUL byte on is ignored;
 * - blanks between arguments are the C-locale `isspace` set (space, `\t`, `\n`, `\v`, `\f`,
 *   `\r`), but an unquoted argument only ends at space, `\t`, `\n`, `\r` or the end, so `\v`
 *   and `\f` inside an argument are kept;
 * - a quote may open in the middle of an argument (`a"b c"` is the single argument `ab c`);
 * - a closing quote must be followed by a blank or the end of the line, otherwise the line is
 *   rejected just like one with an unterminated quote;
 * - in double quotes `\xHH` (two hex digits) gives that byte, `\n \r \t \b \a` the control
 *   characters and a backslash before anything else gives that character (so `\x4g` is `x4g`);
 * - in single quotes only `\'` is an escape; other backslashes are kept.
 *
 * @module
 */

const NUL = 0;
const BACKSLASH = 92;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;

/** The C-locale `isspace` set, which is what `sdssplitargs` skips between arguments. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function hexValue(c: number): number {
  if (c <= 57) return c - 48;
  return (c | 0x20) - 87;
}

/**
 * Splits an inline command line into its arguments the way Redis's `sdssplitargs()` does, so
 * that the server answers inline commands exactly like Redis. `start` and `end` select the line
 * inside a larger buffer (without its line terminator).
 *
 * @returns the arguments as byte arrays, or null when quotes are unbalanced (Redis then replies
 * "-ERR Protocol error: unbalanced quotes in request").
 */
export function splitInlineArgs(
  line: Uint8Array,
  start = 0,
  end: number = line.length,
): Uint8Array[] | null {
  start = Math.max(0, Math.min(start, line.length));
  end = Math.max(start, Math.min(end, line.length));
  // Redis hands the line to sdssplitargs as a C string: a NUL byte ends it.
  let stop = start;
  while (stop < end && line[stop] !== NUL) stop++;

  const args: Uint8Array[] = [];
  let scratch: Uint8Array | null = null;
  let p = start;
  for (;;) {
    while (p < stop && isSpace(line[p])) p++;
    if (p >= stop) return args;

    // Fast path: a plain argument without quotes is a slice of the line.
    let q = p;
    for (; q < stop; q++) {
      const c = line[q];
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
        break;
      }
    }
    if (q >= stop || (line[q] !== DOUBLE_QUOTE && line[q] !== SINGLE_QUOTE)) {
      args.push(line.subarray(p, q));
      p = q < stop ? q + 1 : q;
      continue;
    }

    // General case: the argument contains quotes, so it is rebuilt byte by byte. No argument is
    // longer than the text it came from, so one scratch array of the line's size suffices.
    scratch ??= new Uint8Array(stop - start);
    const limit = stop;
    const at = (i: number): number => byteAt(line, i, limit);
    let written = 0;
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inDouble) {
        if (
          c === BACKSLASH && at(p + 1) === 120 && isHexDigit(at(p + 2)) && isHexDigit(at(p + 3))
        ) {
          scratch[written++] = hexValue(at(p + 2)) * 16 + hexValue(at(p + 3));
          p += 3;
        } else if (c === BACKSLASH && at(p + 1) !== NUL) {
          p++;
          scratch[written++] = unescape(line[p]);
        } else if (c === DOUBLE_QUOTE) {
          if (at(p + 1) !== NUL && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === NUL) {
          return null;
        } else {
          scratch[written++] = c;
        }
      } else if (inSingle) {
        if (c === BACKSLASH && at(p + 1) === SINGLE_QUOTE) {
          p++;
          scratch[written++] = SINGLE_QUOTE;
        } else if (c === SINGLE_QUOTE) {
          if (at(p + 1) !== NUL && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === NUL) {
          return null;
        } else {
          scratch[written++] = c;
        }
      } else if (c === 32 || c === 10 || c === 13 || c === 9 || c === NUL) {
        done = true;
      } else if (c === DOUBLE_QUOTE) {
        inDouble = true;
      } else if (c === SINGLE_QUOTE) {
        inSingle = true;
      } else {
        scratch[written++] = c;
      }
      if (at(p) !== NUL) p++;
    }
    args.push(scratch.slice(0, written));
  }
}

/** The byte at `i`, reading the end of the line as the C string terminator. */
function byteAt(line: Uint8Array, i: number, stop: number): number {
  return i < stop ? line[i] : NUL;
}

/** The byte a backslash escape inside double quotes stands for. */
function unescape(c: number): number {
  switch (c) {
    case 110: // n
      return 10;
    case 114: // r
      return 13;
    case 116: // t
      return 9;
    case 98: // b
      return 8;
    case 97: // a
      return 7;
    default:
      return c;
  }
}
