/**
 * How Redis 7.0 shows a selector's command permissions (ACLDescribeSelectorCommandRules): `+@all`
 * or `-@all`, then the categories that best approximate the allowed set (chosen greedily), then
 * the single commands still different, then the allowed first arguments. The categories are
 * counted over gocache's command table, and single commands follow its order (Redis follows its
 * hash table's order there, which differs from run to run).
 */
import type { AclCommands } from "./categories.ts";
import { CATEGORIES } from "./categories.ts";
import type { Selector } from "./selector.ts";
import type { Command } from "../commands/registry.ts";

/** Sets `cmd` (and a container's subcommands) to `allow` in a bare bitmap. */
function change(bits: Uint8Array, cmd: Command, allow: boolean): void {
  bits[cmd.id] = allow ? 1 : 0;
  for (const sub of cmd.subcommands ?? []) bits[sub.id] = allow ? 1 : 0;
}

/** Applies `+@cat` / `-@cat` to a bare bitmap. */
function changeCategory(table: AclCommands, bits: Uint8Array, bit: number, allow: boolean): void {
  for (const cmd of table.topLevel) {
    if (table.masks[cmd.id] & bit) change(bits, cmd, allow);
    for (const sub of cmd.subcommands ?? []) {
      if (table.masks[sub.id] & bit) change(bits, sub, allow);
    }
  }
}

/** Commands of a category allowed (`on`) and denied (`off`) in `bits`. */
function countCategory(table: AclCommands, bits: Uint8Array, bit: number): [number, number] {
  let on = 0;
  let off = 0;
  for (const cmd of table.byId) {
    if (table.masks[cmd.id] & bit) {
      if (bits[cmd.id]) on++;
      else off++;
    }
  }
  return [on, off];
}

/** The command rules of `selector` (see the module comment), without a trailing space. */
export function describeCommandRules(selector: Selector, table: AclCommands): string {
  const additive = !selector.future;
  const rules: string[] = [additive ? "-@all" : "+@all"];
  const fake = new Uint8Array(table.size).fill(additive ? 0 : 1);
  const temp = selector.allowed.slice();
  const applied = new Array<boolean>(CATEGORIES.length).fill(false);
  for (;;) {
    let best = -1;
    let minDiff = Number.MAX_SAFE_INTEGER;
    let maxSame = 0;
    for (let j = 0; j < CATEGORIES.length; j++) {
      if (applied[j]) continue;
      const [on, off] = countCategory(table, temp, 1 << j);
      const diff = additive ? off : on;
      const same = additive ? on : off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
        best = j;
        minDiff = diff;
        maxSame = same;
      }
    }
    if (best === -1) break;
    changeCategory(table, fake, 1 << best, additive);
    changeCategory(table, temp, 1 << best, !additive);
    rules.push(`${additive ? "+" : "-"}@${CATEGORIES[best]}`);
    applied[best] = true;
  }
  const single = (cmd: Command): void => {
    const userBit = selector.allowed[cmd.id] === 1;
    if (userBit !== (fake[cmd.id] === 1)) {
      rules.push(`${userBit ? "+" : "-"}${cmd.fullName}`);
      change(fake, cmd, userBit);
    }
    for (const sub of cmd.subcommands ?? []) single(sub);
    const firstArgs = selector.firstArgs?.get(cmd.id);
    if (!userBit && firstArgs !== undefined) {
      for (const arg of firstArgs) rules.push(`+${cmd.fullName}|${arg}`);
    }
  };
  for (const cmd of table.topLevel) single(cmd);
  return rules.join(" ");
}

/** A selector as ACL LIST shows it: keys, channels, then command rules. */
export function describeSelector(selector: Selector, table: AclCommands): string {
  let out = "";
  if (selector.allKeys) out += "~* ";
  else for (const k of selector.keys) out += keyPatternText(k.pattern, k.flags) + " ";
  if (selector.allChannels) out += "&* ";
  else {
    out += "resetchannels ";
    for (const c of selector.channels) out += `&${c.pattern} `;
  }
  return out + describeCommandRules(selector, table);
}

/** A key pattern as Redis writes it: `~p` (read and write), `%R~p` or `%W~p`. */
export function keyPatternText(pattern: string, flags: number): string {
  if (flags === 3) return `~${pattern}`;
  return `${flags === 1 ? "%R~" : "%W~"}${pattern}`;
}
