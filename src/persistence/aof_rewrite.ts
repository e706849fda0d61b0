/**
 * AOF rewriting: the smallest command file that rebuilds a dataset. A point-in-time snapshot of
 * the keyspace is written as `SELECT`, `SET` and `PEXPIREAT` commands (the shape of Redis's own
 * rewrite), a slice at a time so that the server keeps serving between slices. The server-side
 * orchestration (buffering writes that arrive meanwhile, the atomic replace) is in
 * persistence.ts; the offline `gocache aof-rewrite` uses the same writer.
 */
import type { Snapshot, SnapshotEntry } from "../store/snapshot.ts";
import { encodeCommandInto } from "../resp/encoder.ts";
import { ByteBuffer } from "../util/bytes.ts";
import { nextTurn } from "../util/event_loop.ts";
import type { CollectionValue } from "../store/collection.ts";
import type { HashValue } from "../store/hash_value.ts";
import type { ListValue } from "../store/list_value.ts";
import type { SetValue } from "../store/set_value.ts";
import type { SortedSetValue } from "../store/sorted_set_value.ts";
import { formatDouble } from "../resp/encoder.ts";

/** Elements per command when a collection is rewritten (Redis's AOF_REWRITE_ITEMS_PER_CMD). */
const ITEMS_PER_COMMAND = 64;

/** Milliseconds of walking per event-loop turn. */
const SLICE_MS = 4;
/** Bytes gathered before a write to the file. */
const WRITE_AT = 256 * 1024;

/** Totals of a rewrite. */
export interface RewriteCounts {
  /** Commands written. */
  commands: number;
  /** Bytes written. */
  bytes: number;
}

/** Encodes snapshot entries as commands, with a SELECT whenever the database changes. */
export class CommandEncoder {
  readonly out = new ByteBuffer(WRITE_AT * 2);
  commands = 0;
  #db = -1;

  /** Appends the commands that recreate one entry. */
  entry(e: SnapshotEntry): void {
    if (e.db !== this.#db) {
      this.command(["SELECT", String(e.db)]);
      this.#db = e.db;
    }
    if (e.object === null) this.command(["SET", e.key, e.value]);
    else this.#collection(e.key, e.object);
    if (e.expireAt >= 0) this.command(["PEXPIREAT", e.key, String(e.expireAt)]);
  }

  /**
   * The commands that rebuild a collection, as Redis's rewriteListObject and its siblings:
   * RPUSH, SADD, ZADD (score first) and HMSET, at most 64 elements each.
   */
  #collection(key: Uint8Array, value: CollectionValue): void {
    switch (value.type) {
      case "list":
        return this.#batched("RPUSH", key, (value as ListValue).items(), (item) => [item]);
      case "set":
        return this.#batched("SADD", key, (value as SetValue).members(), (member) => [member]);
      case "zset":
        return this.#batched(
          "ZADD",
          key,
          (value as SortedSetValue).entries(),
          ([member, score]) => [formatDouble(score), member],
        );
      case "hash":
        return this.#batched(
          "HMSET",
          key,
          (value as HashValue).entries(),
          ([field, v]) => [field, v],
        );
    }
  }

  #batched<T>(
    name: string,
    key: Uint8Array,
    elements: Iterable<T>,
    words: (element: T) => string[],
  ): void {
    let args: (string | Uint8Array)[] = [name, key];
    let count = 0;
    for (const element of elements) {
      for (const word of words(element)) args.push(word);
      if (++count === ITEMS_PER_COMMAND) {
        this.command(args);
        args = [name, key];
        count = 0;
      }
    }
    if (count > 0) this.command(args);
  }

  /** Appends one command in RESP. */
  command(args: readonly (string | Uint8Array)[]): void {
    encodeCommandInto(this.out, args);
    this.commands++;
  }
}

/**
 * Writes `snapshot` to `file` as commands, a few milliseconds of work per event-loop turn (the
 * writes are synchronous: into the page cache they cost microseconds, where an async file
 * write costs a thread-pool round trip); calls `progress` with the keys written so far after
 * each turn. Function libraries (`functions`, their code) come first as FUNCTION LOAD, as
 * Redis 7.0's rewriteFunctions writes them. Throws if the snapshot was aborted (a FLUSHALL or
 * SWAPDB ran meanwhile).
 */
export async function writeSnapshotCommands(
  snapshot: Snapshot,
  file: { writeSync(data: Uint8Array): number },
  progress?: (keys: number) => void,
  functions: readonly Uint8Array[] = [],
): Promise<RewriteCounts> {
  const encoder = new CommandEncoder();
  for (const code of functions) encoder.command(["FUNCTION", "LOAD", code]);
  let bytes = 0;
  const flush = () => {
    const data = encoder.out.view();
    for (let at = 0; at < data.length;) at += file.writeSync(data.subarray(at));
    bytes += data.length;
    encoder.out.reset();
  };
  let keys = 0;
  let more = true;
  while (more) {
    more = snapshot.stepFor(SLICE_MS, (e) => {
      encoder.entry(e);
      keys++;
      if (encoder.out.length >= WRITE_AT) flush();
    });
    if (snapshot.aborted) throw new Error("the dataset was flushed or swapped during the rewrite");
    if (!more) flush();
    progress?.(keys);
    if (more) await nextTurn();
  }
  return { commands: encoder.commands, bytes };
}
