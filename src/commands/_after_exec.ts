/**
 * BGSAVE and BGREWRITEAOF asked for inside EXEC. Redis never starts a background job from a
 * transaction (`server.in_exec`): it answers "scheduled" and sets a flag its cron acts on. Here
 * the job starts on a timer once EXEC is over, when no job of its kind runs.
 */
import type { ServerContext } from "./context.ts";

/** Background jobs asked for inside EXEC and not started yet, per server. */
const afterExec = new WeakMap<ServerContext, { bgsave: boolean; rewrite: boolean }>();

/** Retry interval for a job scheduled after EXEC while one of its kind still runs. */
const RETRY_MS = 100;

/**
 * Schedules a job asked for inside EXEC: Redis never starts a background job from a
 * transaction but sets a flag its cron acts on, so it starts once EXEC is over and no job of
 * its kind runs (a BGSAVE behind a rewrite, or the reverse, is queued by persistence itself).
 */
export function scheduleAfterExec(ctx: ServerContext, job: "bgsave" | "rewrite"): void {
  let pending = afterExec.get(ctx);
  if (pending === undefined) afterExec.set(ctx, pending = { bgsave: false, rewrite: false });
  if (pending[job]) return;
  pending[job] = true;
  const jobs = pending;
  const start = (): void => {
    const p = ctx.persistence;
    if (job === "bgsave" ? p.saving : p.rewriting) {
      Deno.unrefTimer(setTimeout(start, RETRY_MS));
      return;
    }
    jobs[job] = false;
    if (job === "bgsave") p.startBgsave(true);
    else p.startRewrite();
  };
  Deno.unrefTimer(setTimeout(start, 0));
}

/** Whether BGREWRITEAOF was scheduled inside EXEC and has not started yet (INFO). */
export function rewriteScheduledAfterExec(ctx: ServerContext): boolean {
  return afterExec.get(ctx)?.rewrite ?? false;
}
