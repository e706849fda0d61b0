/**
 * Every fuzz target, in the order they take turns. One module per parser; see each module's
 * comment for what its input is and what counts as a crash.
 *
 * @module
 */
import type { FuzzTarget } from "../target.ts";
import { aclTarget } from "./acl.ts";
import { aofTarget } from "./aof.ts";
import { clusterBusTarget } from "./cluster_bus.ts";
import { configYamlTarget } from "./config_yaml.ts";
import { dumpTarget } from "./dump.ts";
import { globTarget } from "./glob.ts";
import { inlineRequestTarget } from "./inline_request.ts";
import { luaTarget } from "./lua.ts";
import { rdbTarget } from "./rdb.ts";
import { respReplyTarget } from "./resp_reply.ts";
import { respRequestTarget } from "./resp_request.ts";

/** All targets. */
export const TARGETS: readonly FuzzTarget[] = [
  respRequestTarget,
  inlineRequestTarget,
  respReplyTarget,
  rdbTarget,
  dumpTarget,
  aofTarget,
  clusterBusTarget,
  configYamlTarget,
  luaTarget,
  globTarget,
  aclTarget,
];

/** The targets named (all when `names` is empty); throws for an unknown name. */
export function selectTargets(names: readonly string[]): FuzzTarget[] {
  if (names.length === 0) return [...TARGETS];
  return names.map((name) => {
    const target = TARGETS.find((t) => t.name === name);
    if (target === undefined) {
      throw new Error(
        `unknown target '${name}' (targets: ${TARGETS.map((t) => t.name).join(", ")})`,
      );
    }
    return target;
  });
}
