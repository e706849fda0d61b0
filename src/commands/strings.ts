/** String commands. */
import type { CommandDef } from "./registry.ts";

/** String command declarations. */
export const stringCommands: readonly CommandDef[] = [];
