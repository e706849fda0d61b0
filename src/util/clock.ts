/**
 * The one place the server reads time, so that tests can substitute a fake clock and expiry,
 * timeouts and statistics all agree on "now".
 */

/** A source of wall-clock milliseconds. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

let current: Clock = systemClock;

/** The time shared by the commands of one batch, or -1 outside a batch. */
let batchTime = -1;

/**
 * Milliseconds since the Unix epoch from the active clock; within a batch of commands (see
 * {@link withBatchTime}) the time the batch started.
 */
export function now(): number {
  return batchTime >= 0 ? batchTime : current.now();
}

/**
 * Runs `body` with {@link now} fixed at the current time, as Redis caches the time once per
 * event-loop turn (`server.mstime`) for the commands it runs: every command of a pipelined batch
 * sees the same "now" for expiry, and the clock is read once per batch instead of per command.
 */
export function withBatchTime<T>(body: () => T): T {
  if (batchTime >= 0) return body();
  batchTime = current.now();
  try {
    return body();
  } finally {
    batchTime = -1;
  }
}

/** Microseconds since the Unix epoch (TIME, INFO's `server_time_usec`). */
export function nowMicros(): number {
  const ms = current.now();
  const frac = current === systemClock ? Math.floor((performance.now() % 1) * 1000) : 0;
  return ms * 1000 + frac;
}

/** The source of {@link monotonicMs}: `performance.now`, or a test's fake. */
let monotonic: () => number = () => performance.now();

/** A monotonic millisecond counter for measuring durations (time budgets), never wall time. */
export function monotonicMs(): number {
  return monotonic();
}

/** Replaces the monotonic counter (tests only); returns a function restoring the previous one. */
export function useMonotonicClock(read: () => number): () => void {
  const previous = monotonic;
  monotonic = read;
  return () => {
    monotonic = previous;
  };
}

/** Replaces the clock (tests only); returns a function restoring the previous one. */
export function useClock(clock: Clock): () => void {
  const previous = current;
  current = clock;
  return () => {
    current = previous;
  };
}
