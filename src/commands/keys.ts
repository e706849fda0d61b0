/** Key commands. */
import type { CommandDef } from "./registry.ts";

/** Key command declarations. */
export const keyCommands: readonly CommandDef[] = [];
