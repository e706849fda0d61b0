/**
 * `notify-keyspace-events` text to flags and back, as Redis's keyspaceEventsStringToFlags and
 * keyspaceEventsFlagsToString (the canonical texts were read from redis-server 7.0.15).
 */
import assert from "node:assert/strict";
import {
  formatKeyspaceEvents,
  NOTIFY_ALL,
  NOTIFY_KEY_MISS,
  NOTIFY_NEW,
  parseKeyspaceEvents,
} from "../../src/pubsub/keyspace_events.ts";

Deno.test("keyspace event classes print in Redis's canonical order", () => {
  const cases: [string, string][] = [
    ["Kgn", "gnK"],
    ["An", "A"],
    ["KEm", "KEm"],
    ["Ex", "xE"],
    ["gx", "gx"],
    ["lzt", "lzt"],
    ["", ""],
    ["AKE", "AKE"],
    ["g$lshzxetd", "A"],
  ];
  for (const [input, canonical] of cases) {
    const flags = parseKeyspaceEvents(input);
    assert.notEqual(flags, null, input);
    assert.equal(formatKeyspaceEvents(flags!), canonical, input);
  }
});

Deno.test("A covers every class but key misses and new keys", () => {
  assert.equal(parseKeyspaceEvents("A"), NOTIFY_ALL);
  assert.equal(NOTIFY_ALL & (NOTIFY_KEY_MISS | NOTIFY_NEW), 0);
});

Deno.test("an unknown class character is refused", () => {
  for (const bad of ["Q", "KEAq", " ", "a"]) assert.equal(parseKeyspaceEvents(bad), null, bad);
});
