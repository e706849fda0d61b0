/**
 * The Worker side of `gocache bench --threads N`: each worker drives its share of the
 * connections with {@link BenchRun}, so that one JavaScript thread is not the bottleneck. It
 * answers `prepare` (connect) with `ready` and `go` (run) with `done` and the measurements; any
 * failure is answered with `error`.
 *
 * @module
 */
import { BenchRun, type RunSpec } from "./bench_runner.ts";

/** Messages from the main thread. */
export type ToWorker =
  | { type: "prepare"; spec: RunSpec; progress: SharedArrayBuffer; slot: number }
  | { type: "go" };

/** The worker global scope, as much of it as is used here. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
let run: BenchRun | null = null;

function fail(e: unknown): void {
  scope.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) });
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "prepare") {
    BenchRun.prepare(message.spec, new Int32Array(message.progress), message.slot)
      .then((prepared) => {
        run = prepared;
        scope.postMessage({ type: "ready" });
      }, fail);
  } else if (run !== null) {
    const current = run;
    run = null;
    current.go().then((result) => {
      scope.postMessage({ type: "done", result }, [result.histogram.counts.buffer as ArrayBuffer]);
    }, fail);
  }
};
