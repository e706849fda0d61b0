/**
 * The full command table: every family's declarations in one registry. Adding a command family
 * means adding its declarations here.
 */
import type { CommandRename } from "../config/schema.ts";
import { clientCommands } from "./client.ts";
import { commandCommands } from "./command.ts";
import { connectionCommands } from "./connection.ts";
import { counterCommands } from "./counters.ts";
import { databaseCommands } from "./databases.ts";
import { expireCommands } from "./expire.ts";
import { introspectionCommands } from "./key_introspection.ts";
import { keyCommands } from "./keys.ts";
import { CommandTable } from "./registry.ts";
import { serverCommands } from "./server.ts";
import { bitmapCommands } from "./bitmaps.ts";
import { diagnosticCommands } from "./diagnostics.ts";
import { dumpCommands } from "./dump.ts";
import { migrateCommands } from "./migrate.ts";
import { stringCommands } from "./strings.ts";
import { substringCommands } from "./substrings.ts";
import { transactionCommands } from "./transactions.ts";
import { pubsubCommands } from "./pubsub.ts";
import { replicationCommands } from "./replication.ts";
import { clusterCommands } from "./cluster.ts";
import { sentinelCommands } from "./sentinel.ts";
import { hashesCommands } from "./hashes.ts";
import { listsCommands } from "./lists.ts";
import { setsCommands } from "./sets.ts";
import { sortedSetsCommands } from "./sorted_sets.ts";
import { sortCommands } from "./sort.ts";
import { sortedSetsBlockingCommands } from "./sorted_sets_blocking.ts";
import { scriptingCommands } from "./scripting.ts";
import { functionCommands } from "./functions.ts";
import { aclCommands } from "./acl.ts";
import { debugCommands } from "./debug.ts";

/**
 * Builds a fresh command table (each server has its own call counters), with `renames`
 * (rename-command) applied to the names clients call.
 */
export function createCommandTable(renames: readonly CommandRename[] = []): CommandTable {
  return new CommandTable([
    ...connectionCommands,
    ...clientCommands,
    ...serverCommands,
    ...diagnosticCommands,
    ...debugCommands,
    ...commandCommands,
    ...databaseCommands,
    ...stringCommands,
    ...counterCommands,
    ...substringCommands,
    ...bitmapCommands,
    ...hashesCommands,
    ...listsCommands,
    ...setsCommands,
    ...sortedSetsCommands,
    ...sortedSetsBlockingCommands,
    ...sortCommands,
    ...keyCommands,
    ...dumpCommands,
    ...migrateCommands,
    ...expireCommands,
    ...introspectionCommands,
    ...transactionCommands,
    ...scriptingCommands,
    ...functionCommands,
    ...pubsubCommands,
    ...replicationCommands,
    ...clusterCommands,
    ...sentinelCommands,
    ...aclCommands,
  ], renames);
}
