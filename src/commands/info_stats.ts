/**
 * INFO sections about what the server has been doing: commandstats (calls, time, rejected and
 * failed calls per command), errorstats (error replies by code) and cpu, with Redis's field
 * names and formats.
 */
import process from "node:process";
import type { ServerContext } from "./context.ts";

/** One INFO section's `field:value` pairs. */
export type InfoFields = [string, string | number][];

/**
 * `cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..` for every
 * command called or rejected at least once. `usec` counts only while commands are timed (see
 * server/observer.ts), as Redis's does always.
 */
export function commandstats(ctx: ServerContext): InfoFields {
  const out: InfoFields = [];
  const latency = ctx.observer.latency;
  for (const c of ctx.commands.byId) {
    if (c.calls + c.rejectedCalls === 0) continue;
    const usec = Math.floor(latency.sums[c.id]);
    const perCall = c.calls === 0 ? 0 : usec / c.calls;
    out.push([
      `cmdstat_${c.fullName}`,
      `calls=${c.calls},usec=${usec},usec_per_call=${perCall.toFixed(2)}` +
      `,rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`,
    ]);
  }
  return out;
}

/** `errorstat_<CODE>:count=..` for every error code replied since the last reset. */
export function errorstats(ctx: ServerContext): InfoFields {
  const out: InfoFields = [];
  for (const [code, count] of ctx.stats.errorsByCode) {
    out.push([`errorstat_${code}`, `count=${count}`]);
  }
  return out;
}

/**
 * CPU time of the process in seconds; the main-thread fields equal the process's (the event
 * loop thread does nearly all the work), and there are no child processes.
 */
export function cpu(): InfoFields {
  const { user, system } = process.cpuUsage();
  const seconds = (us: number) => (us / 1e6).toFixed(6);
  return [
    ["used_cpu_sys", seconds(system)],
    ["used_cpu_user", seconds(user)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
    ["used_cpu_sys_main_thread", seconds(system)],
    ["used_cpu_user_main_thread", seconds(user)],
  ];
}
