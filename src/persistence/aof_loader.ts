/**
 * Replays an append-only file on start: every command goes through the normal dispatch path
 * with its reply discarded and propagation off, as Redis's `loadSingleAppendOnlyFile` does.
 *
 * A file that ends in the middle of a command (a torn last write), or inside a MULTI block
 * without its EXEC, has a torn tail: the caller chooses ({@link TornTail}) whether that refuses
 * the file, cuts the file back to the last complete command (before that MULTI) with a warning
 * naming the offset (a node with `aof-load-truncated` on), or replays without the tail and
 * leaves the file as it is (`gocache aof-rewrite --truncated`). Anything else wrong (bad framing,
 * an unknown command) stops the load with an {@link AofLoadError} naming the offset and how to
 * repair the file, so a damaged file is never served half-loaded as if it were whole.
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

/**
 * What to do with a torn tail (see the module comment): `refuse` it with an {@link AofLoadError}
 * whose `torn` is true; `cut` the file back to the last complete command, with a warning; or
 * `skip` it, replaying the complete commands and leaving the file unchanged.
 */
export type TornTail = "refuse" | "cut" | "skip";

/** Why an append-only file cannot be loaded. */
export class AofLoadError extends Error {
  /** Byte offset of the command that could not be read. */
  readonly offset: number;
  /** The file is whole up to `offset` and only its tail is torn (an incomplete last command). */
  readonly torn: boolean;

  /** Creates the error for `path` at `offset`; `torn` as the field says (default false). */
  constructor(path: string, offset: number, reason: string, torn = false) {
    super(
      `Bad file format reading the append only file ${path} at offset ${offset}: ${reason}. ` +
        `Make a backup of the file, then repair it with: redis-check-aof --fix ${path}`,
    );
    this.name = "AofLoadError";
    this.offset = offset;
    this.torn = torn;
  }
}

/** What a load did. */
export interface AofLoadResult {
  /** Commands replayed. */
  commands: number;
  /** Bytes of the file that were replayed (its size after any truncation). */
  bytes: number;
  /**
   * Where the torn tail began (the file was cut back to it with `cut`, it was left out with
   * `skip`), or null for a whole file.
   */
  truncatedAt: number | null;
  /** The file's size as read, before any cut. */
  size: number;
}

/**
 * Replays the file at `path` into the server; null when there is no such file. `tornTail` says
 * what an incomplete last command does; with `cut` it is cut off the file itself, so that
 * appending continues after the last whole command.
 */
export async function loadAof(
  ctx: ServerContext,
  path: string,
  tornTail: TornTail,
): Promise<AofLoadResult | null> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const client = new ClientState(0, "aof", "aof", true);
  client.replaying = true;
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
  const size = data.length;
  if (pos === size) return { commands, bytes: pos, truncatedAt: null, size };
  if (tornTail === "refuse") {
    throw new AofLoadError(
      path,
      pos,
      "the last command is incomplete (set aof-load-truncated yes to start without it)",
      true,
    );
  }
  if (tornTail === "skip") return { commands, bytes: pos, truncatedAt: pos, size };
  log.warn(
    "The append only file {path} ends in the middle of a command: cutting it back from " +
      "{size} to {offset} bytes (aof-load-truncated is on)",
    { path, size: data.length, offset: pos },
  );
  await Deno.truncate(path, pos);
  return { commands, bytes: pos, truncatedAt: pos, size };
}
