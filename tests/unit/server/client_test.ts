import assert from "node:assert/strict";
import { ClientState } from "../../../src/server/client.ts";

Deno.test("CLIENT LIST shows subscriptions, MULTI and a touched WATCH as Redis does", () => {
  const client = new ClientState(7, "127.0.0.1:1", "127.0.0.1:2", true);
  assert.match(client.describe(), / flags=N .* sub=0 psub=0 ssub=0 multi=-1 /);
  client.subscribedChannels = 2;
  client.subscribedPatterns = 1;
  client.multi = {
    length: 0,
    commands: [],
    args: [],
    detached: 0,
    failed: false,
    unbounded: false,
  };
  client.watchTouched = true;
  client.noTouch = true;
  assert.match(client.describe(), / flags=PxdT .* sub=2 psub=1 ssub=0 multi=0 /);
});
