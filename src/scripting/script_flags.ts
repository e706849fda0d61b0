/**
 * What a script's declared flags allow: the `#!lua flags=...` shebang of an EVAL script
 * (lua_shebang.ts parses it) or the `flags` of `redis.register_function`. A script without a
 * shebang runs in Redis's compatibility mode: it may write, its keys are checked one command at
 * a time, and it may touch keys of several slots.
 */
import { SCRIPT_FLAGS, type ScriptFlag } from "./lua_shebang.ts";

/** What a script's flags allow; see the module comment. */
export interface ScriptFlags {
  /** No shebang: Redis's EVAL compatibility mode (SCRIPT_FLAG_EVAL_COMPAT_MODE). */
  readonly compat: boolean;
  /** `no-writes`: the script may only read (and may run on a replica or out of memory). */
  readonly noWrites: boolean;
  /** `allow-oom`: the script may run while used memory is over `maxmemory`. */
  readonly allowOom: boolean;
  /** `allow-stale`: the script may run on a replica whose link is down. */
  readonly allowStale: boolean;
  /** `no-cluster`: the script refuses to run in cluster mode. */
  readonly noCluster: boolean;
  /** `allow-cross-slot-keys`: the script may touch keys of several slots. */
  readonly allowCrossSlot: boolean;
}

/** The flags of a script without a shebang line. */
export const COMPAT_FLAGS: ScriptFlags = {
  compat: true,
  noWrites: false,
  allowOom: false,
  allowStale: false,
  noCluster: false,
  allowCrossSlot: false,
};

/** The flags named by `names` (each one of SCRIPT_FLAGS), outside compatibility mode. */
export function flagsFromNames(names: readonly string[]): ScriptFlags {
  const set = new Set<string>(names);
  return {
    compat: false,
    noWrites: set.has("no-writes"),
    allowOom: set.has("allow-oom"),
    allowStale: set.has("allow-stale"),
    noCluster: set.has("no-cluster"),
    allowCrossSlot: set.has("allow-cross-slot-keys"),
  };
}

/** The names of the flags set in `flags`, in Redis's order (FUNCTION LIST). */
export function flagNames(flags: ScriptFlags): ScriptFlag[] {
  const set: Record<ScriptFlag, boolean> = {
    "no-writes": flags.noWrites,
    "allow-oom": flags.allowOom,
    "allow-stale": flags.allowStale,
    "no-cluster": flags.noCluster,
    "allow-cross-slot-keys": flags.allowCrossSlot,
  };
  return SCRIPT_FLAGS.filter((name) => set[name]);
}
