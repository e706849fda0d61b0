/** Entry point of the `gocache` executable: runs the command line and exits with its code. */
import { main } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
