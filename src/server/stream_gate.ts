/**
 * The turn that connections streaming input (reads that keep filling their buffers) give the
 * others, taken together. A streaming connection's next read completes at once, without a poll
 * for anyone else's input, and the runtime polls only when nothing is ready to run
 * (util/event_loop.ts). With one such connection, a turn that waits for the thread pool is that
 * moment. With two, each one's turn left the other ready to run: another client's PINGs waited
 * 26 ms at the median. So a connection that has streamed for its slice waits here until every
 * streaming connection waits too, and then they all take one turn; a streaming connection that
 * is not back within {@link GATE_WAIT_MS} (its client paused, its reply is being written) does not
 * hold the others longer.
 *
 * One gate per process: the event loop is the process's.
 */
import { nextTurn } from "../util/event_loop.ts";

/** Milliseconds the first waiter waits for the other streaming connections at most. */
const GATE_WAIT_MS = 1;

/** Connections streaming now, and those waiting for the shared turn. */
let streaming = 0;
let waiters: (() => void)[] = [];
let turning = false;
let timer: ReturnType<typeof setTimeout> | null = null;

/** Releases every waiter after one turn that polls for I/O. */
function turn(): void {
  if (turning) return;
  turning = true;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  void nextTurn().then(() => {
    turning = false;
    const released = waiters;
    waiters = [];
    for (const resolve of released) resolve();
  });
}

/** Takes the turn once every streaming connection waits. */
function check(): void {
  if (!turning && waiters.length > 0 && waiters.length >= streaming) turn();
}

/** A connection starts streaming (its read filled its buffer). */
export function startStreaming(): void {
  streaming++;
}

/** A connection stops streaming (a read that did not fill, another wait, closing). */
export function stopStreaming(): void {
  streaming--;
  check();
}

/** Waits, as a streaming connection whose slice is used, for the turn shared with the others. */
export function streamingTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    check();
    // The first to wait, with others still streaming: they get GATE_WAIT_MS to join.
    if (!turning && timer === null) {
      timer = setTimeout(() => {
        timer = null;
        turn();
      }, GATE_WAIT_MS);
    }
  });
}
