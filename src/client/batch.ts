/**
 * Pipelines and transactions: commands collected first, then written together with one socket
 * write and answered through one reply sink. A pipeline's results keep error replies in place
 * (as ReplyError values), since one refused command does not undo the others; a transaction
 * (`MULTI` ... `EXEC`) fails as a whole with `EXECABORT` when a command was refused while
 * queueing, and resolves to null when a `WATCH`ed key changed.
 *
 * Builders are typed: each method appends its result type, so `exec()` resolves to a tuple.
 *
 * @module
 */
import type { CommandArg } from "../resp/command_writer.ts";
import { RespError, type RespValue } from "../resp/reply_decoder.ts";
import { COMMANDS, type CommandSpec, type ExpireCondition, type KeyValues } from "./commands.ts";
import type { SetOptions } from "./commands.ts";
import { ReplySink, type RespConnection } from "./connection.ts";
import { ClientError, ReplyError } from "./errors.ts";

/** A sink collecting a fixed number of replies. */
class Collect extends ReplySink {
  readonly replies: RespValue[] = [];
  resolve!: (replies: RespValue[]) => void;
  reject!: (error: Error) => void;
  readonly promise: Promise<RespValue[]>;

  constructor(readonly count: number) {
    super();
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  reply(value: RespValue): boolean {
    this.replies.push(value);
    if (this.replies.length < this.count) return false;
    if (!this.failed) this.resolve(this.replies);
    return true;
  }

  fail(error: Error): void {
    this.reject(error);
  }
}

/** Each result of a batch, or the ReplyError its command got. */
export type BatchResults<T extends unknown[]> = { [K in keyof T]: T[K] | ReplyError };

/** What `exec()` resolves to: a transaction aborted by WATCH gives null. */
export type ExecResult<T extends unknown[], M extends BatchMode> = M extends "multi"
  ? BatchResults<T> | null
  : BatchResults<T>;

/** `pipeline` sends the commands as they are; `multi` wraps them in MULTI/EXEC. */
export type BatchMode = "pipeline" | "multi";

/** Sends `specs` as one write and converts the replies; see the module comment. */
export function runBatch(
  conn: RespConnection,
  specs: readonly CommandSpec<unknown>[],
  mode: BatchMode,
): Promise<unknown[] | null> {
  const multi = mode === "multi";
  const sink = new Collect(specs.length + (multi ? 2 : 0));
  const commands = specs.map((spec) => spec.args);
  conn.batch(multi ? [["MULTI"], ...commands, ["EXEC"]] : commands, sink);
  return sink.promise.then((replies) => {
    if (!multi) return replies.map((reply, i) => convert(specs[i], reply));
    const exec = replies[replies.length - 1];
    if (exec instanceof RespError) throw new ReplyError(exec.message);
    if (exec === null) return null;
    if (!Array.isArray(exec) || exec.length !== specs.length) {
      throw new ClientError("EXEC did not reply an array with one result per command");
    }
    return exec.map((reply, i) => convert(specs[i], reply));
  });
}

function convert(spec: CommandSpec<unknown>, reply: RespValue): unknown {
  return reply instanceof RespError ? new ReplyError(reply.message) : spec.convert(reply);
}

/**
 * A pipeline (mode `pipeline`) or transaction (mode `multi`) under construction; get one from
 * `client.pipeline()` or `client.multi()`. The helpers mean what the client's do.
 */
export class Batch<T extends unknown[] = [], M extends BatchMode = "pipeline"> {
  readonly #conn: RespConnection;
  readonly #mode: M;
  readonly #specs: CommandSpec<unknown>[] = [];

  /** Use `client.pipeline()` or `client.multi()`. */
  constructor(conn: RespConnection, mode: M) {
    this.#conn = conn;
    this.#mode = mode;
  }

  /** Number of commands queued so far. */
  get length(): number {
    return this.#specs.length;
  }

  #add<R>(spec: CommandSpec<R>): Batch<[...T, R], M> {
    this.#specs.push(spec);
    return this as unknown as Batch<[...T, R], M>;
  }

  /** Any command; its raw reply. */
  send(...args: CommandArg[]): Batch<[...T, RespValue], M> {
    return this.#add(COMMANDS.send(args));
  }
  /** PING. */
  ping(message?: CommandArg): Batch<[...T, string], M> {
    return this.#add(COMMANDS.ping(message));
  }
  /** GET as text. */
  get(key: CommandArg): Batch<[...T, string | null], M> {
    return this.#add(COMMANDS.get(key));
  }
  /** GET as bytes. */
  getBuffer(key: CommandArg): Batch<[...T, Uint8Array | null], M> {
    return this.#add(COMMANDS.getBuffer(key));
  }
  /** SET; true when written. */
  set(key: CommandArg, value: CommandArg, options?: SetOptions): Batch<[...T, boolean], M> {
    return this.#add(COMMANDS.set(key, value, options));
  }
  /** DEL; how many were removed. */
  del(...keys: CommandArg[]): Batch<[...T, number], M> {
    return this.#add(COMMANDS.del(keys));
  }
  /** MGET as text. */
  mget(...keys: CommandArg[]): Batch<[...T, (string | null)[]], M> {
    return this.#add(COMMANDS.mget(keys));
  }
  /** MSET. */
  mset(pairs: KeyValues): Batch<[...T, boolean], M> {
    return this.#add(COMMANDS.mset(pairs));
  }
  /** INCR. */
  incr(key: CommandArg): Batch<[...T, number], M> {
    return this.#add(COMMANDS.incr(key));
  }
  /** INCRBY. */
  incrBy(key: CommandArg, by: number): Batch<[...T, number], M> {
    return this.#add(COMMANDS.incrBy(key, by));
  }
  /** EXPIRE; true when the timeout was set. */
  expire(key: CommandArg, seconds: number, when?: ExpireCondition): Batch<[...T, boolean], M> {
    return this.#add(COMMANDS.expire(key, seconds, when));
  }
  /** TTL in seconds (-1 no TTL, -2 no key). */
  ttl(key: CommandArg): Batch<[...T, number], M> {
    return this.#add(COMMANDS.ttl(key));
  }
  /** PUBLISH; how many subscribers received it. */
  publish(channel: CommandArg, message: CommandArg): Batch<[...T, number], M> {
    return this.#add(COMMANDS.publish(channel, message));
  }

  /**
   * Writes every queued command at once and resolves with their results in order. Error replies
   * are ReplyError values in place; a transaction refused as a whole (`EXECABORT`) rejects with
   * ReplyError, and one aborted by WATCH resolves to null.
   */
  exec(): Promise<ExecResult<T, M>> {
    return runBatch(this.#conn, this.#specs, this.#mode) as Promise<ExecResult<T, M>>;
  }
}

/** A pipeline: commands written together, results in order, errors in place. */
export type Pipeline<T extends unknown[] = []> = Batch<T, "pipeline">;
/** A MULTI/EXEC transaction built in one go; `exec()` resolves to null if WATCH aborted it. */
export type Transaction<T extends unknown[] = []> = Batch<T, "multi">;
