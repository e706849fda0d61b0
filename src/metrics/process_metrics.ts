/**
 * The process families every Prometheus client library exports under these standard names
 * (`process_resident_memory_bytes`, `process_cpu_seconds_total`, `process_start_time_seconds`,
 * `process_open_fds`, ...), so that stock dashboards and alerts work unchanged. File
 * descriptors and virtual memory come from /proc and are left out where it does not exist. The
 * JavaScript heap in use goes with them, as `gocache_memory_heap_used_bytes`.
 */
import process from "node:process";
import type { Exposition } from "./exposition.ts";
import type { MetricsRegistry } from "./registry.ts";

function countOpenFds(): number | null {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return null;
  }
}

/** The soft limit on open files, from /proc/self/limits, or null. */
function maxFds(): number | null {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft === undefined || soft === "unlimited" ? null : Number(soft);
  } catch {
    return null;
  }
}

/** Virtual memory size in bytes from /proc/self/statm (pages), or null. */
function virtualMemory(): number | null {
  try {
    const pages = Number(Deno.readTextFileSync("/proc/self/statm").split(" ")[0]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

function collect(out: Exposition, startedAtMs: number): void {
  const { user, system } = process.cpuUsage();
  const memory = Deno.memoryUsage();
  out.single(
    "process_cpu_seconds_total",
    "counter",
    "Total user and system CPU time spent in seconds.",
    (user + system) / 1e6,
  );
  out.single(
    "process_resident_memory_bytes",
    "gauge",
    "Resident memory size in bytes.",
    memory.rss,
  );
  const virtual = virtualMemory();
  if (virtual !== null) {
    out.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtual);
  }
  out.single(
    "gocache_memory_heap_used_bytes",
    "gauge",
    "JavaScript heap in use, in bytes (INFO's used_memory_heap).",
    memory.heapUsed,
  );
  out.single(
    "process_start_time_seconds",
    "gauge",
    "Start time of the process since unix epoch in seconds.",
    Math.floor(startedAtMs / 1000),
  );
  const open = countOpenFds();
  if (open !== null) {
    out.single("process_open_fds", "gauge", "Number of open file descriptors.", open);
  }
  const max = maxFds();
  if (max !== null) {
    out.single("process_max_fds", "gauge", "Maximum number of open file descriptors.", max);
  }
}

/** Registers the process families; `startedAtMs` is when the process started (ms). */
export function registerProcessMetrics(registry: MetricsRegistry, startedAtMs: number): void {
  registry.addCollector((out) => collect(out, startedAtMs));
}
