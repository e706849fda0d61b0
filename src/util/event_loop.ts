/**
 * Yielding to the event loop between slices of long work (a snapshot, an AOF rewrite or load, a
 * follower's copy, a slot migration) and between reads of a client that sends faster than it is
 * served, so that every other connection gets its turn.
 *
 * What a turn has to include is a poll for new I/O, and in this Deno that happens when the
 * runtime (tokio, one thread) parks for lack of ready work, and otherwise only now and then. A
 * read of a socket that already holds data completes at once, without one; so do `setImmediate`
 * and a `MessageChannel` message, which leave ready work behind them. Measured with a server that
 * reads 64 kB at a time and another client's PING round trips while one client floods it with
 * pipelined commands: no yield, 2 PINGs answered in 3 s (p50 1.8 s); `setImmediate` before each
 * read, p50 35 ms; a `MessageChannel` message, 18 ms; `setTimeout(0)`, 2.8 ms (a timer parks the
 * runtime, but for 1-4 ms: its resolution is the millisecond and nested timers are clamped);
 * waiting for an operation of the blocking thread pool, 0.67 ms (p99 1.5; redis-server 0.15 and
 * 0.30). So a turn here waits for one: a SHA-1 of one byte, 39 us in all, which needs no
 * permission (a `Deno.stat` does the same in 50 us but needs read access).
 */

const ONE_BYTE = new Uint8Array(1);

/**
 * Resolves on a later turn of the event loop, after the runtime has polled for I/O and the
 * callbacks of what it found have run.
 */
export async function nextTurn(): Promise<void> {
  await crypto.subtle.digest("SHA-1", ONE_BYTE);
}
