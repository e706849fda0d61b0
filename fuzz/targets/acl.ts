/**
 * Target `acl`: ACL rules (src/acl/), as `ACL SETUSER` and the `users` setting apply them. An
 * input is one line, `<user> <rule> <rule> ...` (e.g. `alice on >pw ~k* +@read (~x +get)`):
 * words split at spaces as the ACL file loader splits them, selectors in parentheses merged by
 * `mergeSelectorArgs`, then `Acl.setUser` applies every rule through `User.apply` and
 * `Selector.apply`.
 *
 * Crash: any exception (a refused rule is an `{ error }` result), or a broken invariant: a user
 * whose ACL LIST description (`User.describe`, what ACL SAVE writes), applied to a new user as
 * ACL LOAD applies a line, is refused or does not describe the same (checked when the
 * description has no quote, backslash or whitespace other than spaces, which selector rules
 * would read as sdssplitargs syntax, and no key pattern `*` that is not `allkeys`: Redis
 * writes it as `~*` too, which reads back as `allkeys`).
 *
 * @module
 */
import { Acl } from "../../src/acl/acl.ts";
import { createCommandTable } from "../../src/commands/mod.ts";
import { Config, defaultValues } from "../../src/config/config.ts";
import { toBinaryString } from "../../src/util/bytes.ts";
import { check, type FuzzTarget, latin1, utf8 } from "../target.ts";

const COPY = "fuzz-copy";
const DEFAULT_RULES = ["reset", "+@all", "~*", "&*", "on", "nopass"];

let acl: Acl | null = null;

/** The acl target. */
export const aclTarget: FuzzTarget = {
  name: "acl",
  description: "Acl.setUser on rule lines: never throws, descriptions re-apply the same",
  maxLength: 1024,
  setup(): Promise<void> {
    acl ??= new Acl(createCommandTable(), new Config(defaultValues()));
    return Promise.resolve();
  },
  corpus: () =>
    [
      "alice on >pw ~k* +@read",
      "bob off nopass %R~cache:* %W~out:* &news.* +get +set -@dangerous",
      "carol on #5e884898da28047151d0e56f8dd62937a7f6cc6da18e0eb9cc2e4cd9e7a33d2e allkeys +@all",
      "dave on >secret <secret resetpass allchannels -@all +select|0 +client|id",
      "eve on >a >b ~x (~y +get) (%R~z +@read -keys) clearselectors",
      "frank reset on skip-sanitize-payload resetkeys ~a* resetchannels &c +config|get",
      "default on nopass ~* &* +@all",
      "gina on !5e884898da28047151d0e56f8dd62937a7f6cc6da18e0eb9cc2e4cd9e7a33d2e",
      "hank on ~* ~more +@nonexistent",
    ].map(latin1),
  dictionary: [
    " on",
    " off",
    " nopass",
    " reset",
    " >",
    " <",
    " #",
    " ~",
    " %RW~",
    " &",
    " +@",
    " -@",
    " +",
    " -",
    " (",
    ")",
    "|",
    "*",
    "allkeys",
    "@all",
  ].map(utf8),
  run(input: Uint8Array): void {
    const state = acl;
    if (state === null) throw new Error("acl target used before setup()");
    const words = toBinaryString(input).split(" ").filter((w) => w !== "");
    if (words.length === 0) return;
    const [name, ...rules] = words;
    try {
      const result = state.setUser(name, rules);
      if ("error" in result) return;
      const description = result.user.describe();
      if (/["'\\\t\n\v\f\r]/.test(description)) return;
      // `%RW~*` adds `*` as an ordinary pattern, which ACL LIST shows as `~*`, the `allkeys`
      // rule: read back, it refuses any key pattern after it. Redis 7.0 does the same.
      if (result.user.selectors.some((s) => s.keys.some((k) => k.pattern === "*"))) return;
      state.deleteUser(COPY);
      const copied = state.setUser(COPY, description.split(" ").filter((w) => w !== ""));
      check(
        "user" in copied,
        () => `the description '${description}' is refused: ${JSON.stringify(copied)}`,
      );
      const again = copied.user.describe();
      check(again === description, () => `described '${description}', re-applied '${again}'`);
    } finally {
      if (name === "default") state.setUser("default", DEFAULT_RULES);
      else state.deleteUser(name);
      state.deleteUser(COPY);
    }
  },
};
