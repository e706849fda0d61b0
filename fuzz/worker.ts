/**
 * The fuzz loop in a worker, so that the CLI (main.ts) can watch it and stop an input that
 * never ends: before each input the worker writes the target's position and the input's index
 * into a shared array and bumps a counter there, which the CLI's watchdog reads.
 *
 * @module
 */
import { fuzz, prepare, type PreparedTarget, teardown } from "./engine.ts";
import { selectTargets } from "./targets/mod.ts";
import type { FuzzResult } from "./engine.ts";

/** What the CLI asks the worker to run. */
export interface WorkerRequest {
  /** Target names, all when empty. */
  names: string[];
  /** The run's seed. */
  seed: number;
  /** Seconds to run. */
  seconds: number;
  /** Shared slots: see {@link Slot}. */
  shared: SharedArrayBuffer;
}

/** What the worker answers. */
export type WorkerReply = { result: FuzzResult } | { failure: string };

/** The slots of the shared array. */
export const Slot = {
  /** 1 once setup is done and inputs run. */
  RUNNING: 0,
  /** Position of the running target in the selection. */
  TARGET: 1,
  /** Index of the running input. */
  INDEX: 2,
  /** Inputs started so far (wraps). */
  COUNTER: 3,
  /** Number of slots. */
  SIZE: 4,
} as const;

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;

// wasmoon (the Lua engine's wasm build) takes a global scope named DedicatedWorkerGlobalScope
// for a browser's and fetches its wasm from unpkg.com, and looks for it next to `location`
// when there is one. Hiding both makes it load the copy in Deno's npm cache, as it does in the
// main thread.
Object.defineProperty(globalThis, "constructor", { value: Object, configurable: true });
Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { names, seed, seconds, shared } = event.data;
  const slots = new Int32Array(shared);
  let targets: PreparedTarget[] = [];
  try {
    targets = await prepare(selectTargets(names));
    Atomics.store(slots, Slot.RUNNING, 1);
    const result = await fuzz(targets, {
      seed,
      seconds,
      beforeInput: (target, index) => {
        Atomics.store(slots, Slot.TARGET, target);
        Atomics.store(slots, Slot.INDEX, index);
        Atomics.add(slots, Slot.COUNTER, 1);
      },
    });
    scope.postMessage({ result });
  } catch (error) {
    scope.postMessage({
      failure: error instanceof Error ? error.stack ?? error.message : `${error}`,
    });
  } finally {
    teardown(targets);
  }
};
