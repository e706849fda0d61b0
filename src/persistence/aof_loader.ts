/**
 * Replays an append-only file on start: every command goes through the normal dispatch path
 * with its reply discarded and propagation off, as Redis's `loadSingleAppendOnlyFile` does.
 *
 * A file that ends in the middle of a command (a torn last write), or inside a MULTI block
 * without its EXEC, is cut back to the last complete command (before that MULTI) with a warning
 * naming the offset when `aof-load-truncated` is on; anything
 * else wrong (bad framing, an unknown command) stops the start with an {@link AofLoadError}
 * naming the offset and how to repair the file, so a damaged file is never served half-loaded
 * as if it were whole.
 */
import { dispatch } from "../commands/dispatch.ts";
import type { ServerContext } from "../commands/context.ts";
import { ProtocolError, RequestParser } from "../resp/request_parser.ts";
import { ClientState } from "../server/client.ts";
import { fromUtf8 } from "../util/bytes.ts";
import { logger } from "../util/logger.ts";
import { monotonicMs } from "../util/clock.ts";
import { LOAD_SLICE_MS } from "./rdb_file.ts";
import { nextTurn } from "../util/event_loop.ts";

const log = logger("aof");
const ARRAY = 42;

/** Why an append-only file cannot be loaded. */
export class AofLoadError extends Error {
  /** Byte offset of the command that could not be read. */
  readonly offset: number;

  /** Creates the error for `path` at `offset`. */
  constructor(path: string, offset: number, reason: string) {
    super(
      `Bad file format reading the append only file ${path} at offset ${offset}: ${reason}. ` +
        `Make a backup of the file, then repair it with: redis-check-aof --fix ${path}`,
    );
    this.name = "AofLoadError";
    this.offset = offset;
  }
}

/** What a load did. */
export interface AofLoadResult {
  /** Commands replayed. */
  commands: number;
  /** Bytes of the file that were replayed (its size after any truncation). */
  bytes: number;
  /** Offset the file was cut back to because its last command was incomplete, or null. */
  truncatedAt: number | null;
}

/**
 * Replays the file at `path` into the server; null when there is no such file. With
 * `allowTruncated`, an incomplete last command is cut off the file itself, so that appending
 * continues after the last whole command.
 */
export async function loadAof(
  ctx: ServerContext,
  path: string,
  allowTruncated: boolean,
): Promise<AofLoadResult | null> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const client = new ClientState(0, "aof", "aof", true);
  const parser = new RequestParser(ctx.config.values["proto-max-bulk-len"]);
  let pos = 0;
  let commands = 0;
  /** Where the MULTI of a transaction still open began. */
  let multiAt = -1;
  let complete = false;
  // Replayed in slices, giving the event loop a turn between them (see LOAD_SLICE_MS).
  const slice = () => {
    const sliceStart = monotonicMs();
    while (pos < data.length) {
      if ((commands & 1023) === 1023 && monotonicMs() - sliceStart > LOAD_SLICE_MS) return;
      if (data[pos] !== ARRAY) {
        throw new AofLoadError(path, pos, "a command does not start with '*'");
      }
      let next: number;
      try {
        next = parser.parse(data, pos, data.length);
      } catch (e) {
        if (e instanceof ProtocolError) throw new AofLoadError(path, pos, e.message);
        throw e;
      }
      const argv = parser.command;
      if (argv === null) break;
      if (argv.length === 0 || ctx.commands.lookup(argv[0]) === undefined) {
        const name = argv.length === 0 ? "" : fromUtf8(argv[0]);
        throw new AofLoadError(path, pos, `unknown command '${name}'`);
      }
      const opensBlock = client.multi === null;
      dispatch(ctx, client, argv);
      if (opensBlock && client.multi !== null) multiAt = pos;
      commands++;
      pos = next;
    }
    complete = true;
  };
  while (!complete) {
    ctx.propagator.suppressed(slice);
    if (!complete) await nextTurn();
  }
  // A transaction without its EXEC at the end is a torn write too: none of it is applied.
  if (client.multi !== null) pos = multiAt;
  if (pos === data.length) return { commands, bytes: pos, truncatedAt: null };
  if (!allowTruncated) {
    throw new AofLoadError(
      path,
      pos,
      "the last command is incomplete (set aof-load-truncated yes to start without it)",
    );
  }
  log.warn(
    "The append only file {path} ends in the middle of a command: cutting it back from " +
      "{size} to {offset} bytes (aof-load-truncated is on)",
    { path, size: data.length, offset: pos },
  );
  await Deno.truncate(path, pos);
  return { commands, bytes: pos, truncatedAt: pos };
}
