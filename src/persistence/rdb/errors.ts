/** The one error type the RDB reader raises for bad input. */

/**
 * A malformed, truncated or unsupported RDB file. `offset` is the byte position in the file
 * where the problem was found, so that an operator can inspect it (e.g. with `xxd -s`).
 */
export class RdbError extends Error {
  /** Byte offset in the file where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = "RdbError";
    this.offset = offset;
  }
}

/** An {@link RdbError} whose message ends with "at offset N". */
export function rdbErrorAt(message: string, offset: number): RdbError {
  return new RdbError(`${message} at offset ${offset}`, offset);
}
