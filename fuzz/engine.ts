/**
 * The fuzz loop: prepares targets, builds input `index` of a target from the run's seed (see
 * mutate.ts), feeds it, times it, and stops at the first crash with what is needed to replay
 * it. Targets take turns in time slices, so a slow target (one that loads files or runs Lua)
 * does not starve the fast ones; each keeps its own input count.
 *
 * @module
 */
import { generateInput, inputRng } from "./mutate.ts";
import { describeError, type FuzzTarget } from "./target.ts";

/** How long one input may take before it counts as a hang. */
export const SLOW_INPUT_MS = 2000;
/** How long a target runs before the next one takes its turn. */
const SLICE_MS = 100;

/** A crash: which input of which target, and what went wrong. */
export interface Crash {
  /** The target's name. */
  target: string;
  /** The run's seed. */
  seed: number;
  /** The input's index among the target's inputs. */
  index: number;
  /** The input itself. */
  input: Uint8Array;
  /** `exception`: the run threw; `slow`: it took longer than the limit; `hang`: it never ended. */
  kind: "exception" | "slow" | "hang";
  /** The error and its stack, or how long the input took. */
  error: string;
}

/** Inputs run and time spent, per target. */
export interface TargetStats {
  /** The target's name. */
  name: string;
  /** Inputs fed. */
  inputs: number;
  /** Milliseconds spent generating and feeding them. */
  ms: number;
}

/** What a run did. */
export interface FuzzResult {
  /** Per target, in turn order. */
  stats: TargetStats[];
  /** The first crash, or null. */
  crash: Crash | null;
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** The run's seed; inputs are a function of it. */
  seed: number;
  /** Stop after this many seconds in total (default: no time limit). */
  seconds?: number;
  /** Stop each target after this many inputs (default: no count limit). */
  inputsPerTarget?: number;
  /** A single input slower than this is a crash (default {@link SLOW_INPUT_MS}). */
  slowMs?: number;
  /** Called before each input, e.g. to tell a watchdog what is running. */
  beforeInput?: (target: number, index: number) => void;
}

/** A target ready to run: set up, with its corpus and dictionary built. */
export interface PreparedTarget {
  /** The target. */
  target: FuzzTarget;
  /** Its seed corpus. */
  corpus: readonly Uint8Array[];
  /** Its dictionary. */
  dictionary: readonly Uint8Array[];
}

/** Sets up each target and builds its corpus. */
export async function prepare(targets: readonly FuzzTarget[]): Promise<PreparedTarget[]> {
  const prepared: PreparedTarget[] = [];
  for (const target of targets) {
    await target.setup?.();
    const corpus = target.corpus();
    if (corpus.length === 0) throw new Error(`target ${target.name} has an empty corpus`);
    prepared.push({ target, corpus, dictionary: target.dictionary ?? [] });
  }
  return prepared;
}

/** Tears down each target (removes what its setup made). */
export function teardown(targets: readonly PreparedTarget[]): void {
  for (const { target } of targets) target.teardown?.();
}

/** Input `index` of a target in a run seeded with `seed`. */
export function inputFor(prepared: PreparedTarget, seed: number, index: number): Uint8Array {
  const { target, corpus, dictionary } = prepared;
  return generateInput(inputRng(seed, target.name, index), corpus, dictionary, target.maxLength);
}

/** Feeds one input; resolves with null, or the error text when it crashed. */
export async function runInput(target: FuzzTarget, input: Uint8Array): Promise<string | null> {
  try {
    const result = target.run(input);
    if (result instanceof Promise) await result;
    return null;
  } catch (error) {
    return describeError(error);
  }
}

/**
 * Runs the targets in turns of {@link SLICE_MS} until the time or count limit, or the first
 * crash.
 */
export async function fuzz(
  targets: readonly PreparedTarget[],
  options: FuzzOptions,
): Promise<FuzzResult> {
  const seed = options.seed >>> 0;
  const slowMs = options.slowMs ?? SLOW_INPUT_MS;
  const limit = options.inputsPerTarget ?? Infinity;
  const started = performance.now();
  const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
  const stats: TargetStats[] = targets.map((t) => ({ name: t.target.name, inputs: 0, ms: 0 }));
  for (;;) {
    let active = false;
    for (let t = 0; t < targets.length; t++) {
      const prepared = targets[t];
      const stat = stats[t];
      if (stat.inputs >= limit) continue;
      active = true;
      const sliceStart = performance.now();
      const sliceEnd = Math.min(deadline, sliceStart + SLICE_MS);
      let now = sliceStart;
      while (now < sliceEnd && stat.inputs < limit) {
        const index = stat.inputs;
        options.beforeInput?.(t, index);
        const input = inputFor(prepared, seed, index);
        const before = now;
        const error = await runInput(prepared.target, input);
        now = performance.now();
        stat.inputs++;
        const crash = error !== null
          ? { kind: "exception" as const, error }
          : now - before > slowMs
          ? { kind: "slow" as const, error: `input took ${Math.round(now - before)} ms` }
          : null;
        if (crash !== null) {
          stat.ms += now - sliceStart;
          return {
            stats,
            crash: { target: prepared.target.name, seed, index, input, ...crash },
          };
        }
      }
      stat.ms += now - sliceStart;
      if (now >= deadline) return { stats, crash: null };
    }
    if (!active) return { stats, crash: null };
  }
}
