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

/** Milliseconds since the Unix epoch from the active clock. */
export function now(): number {
  return current.now();
}

/** Microseconds since the Unix epoch (TIME, INFO's `server_time_usec`). */
export function nowMicros(): number {
  const ms = current.now();
  const frac = current === systemClock ? Math.floor((performance.now() % 1) * 1000) : 0;
  return ms * 1000 + frac;
}

/** A monotonic millisecond counter for measuring durations (time budgets), never wall time. */
export function monotonicMs(): number {
  return performance.now();
}

/** Replaces the clock (tests only); returns a function restoring the previous one. */
export function useClock(clock: Clock): () => void {
  const previous = current;
  current = clock;
  return () => {
    current = previous;
  };
}
