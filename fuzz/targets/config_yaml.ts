/**
 * Target `config-yaml`: the YAML configuration loader, `loadConfig` (src/config/load.ts: the
 * `yaml` package's parser, then every parameter's value parser from src/config/schema.ts, then
 * the cross-parameter checks), reading each input from a temporary file.
 *
 * Crash: an exception other than ConfigLoadError, or a broken invariant: a loaded configuration
 * whose values, each written back as text (`Config.text`) and loaded again, differ.
 *
 * @module
 */
import { ConfigLoadError, loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/config.ts";
import { PARAMS } from "../../src/config/schema.ts";
import { check, type FuzzTarget, utf8 } from "../target.ts";

let dir = "";
let path = "";

/** Every parameter's text, one per line. */
function texts(config: Config): string {
  return PARAMS.map((p) => `${p.name}=${config.text(p.name)}`).join("\n");
}

async function load(file: string): Promise<Config | null> {
  try {
    return await loadConfig({ file });
  } catch (e) {
    if (e instanceof ConfigLoadError) return null;
    throw e;
  }
}

/** The config-yaml target. */
export const configYamlTarget: FuzzTarget = {
  name: "config-yaml",
  description: "loadConfig on YAML: ConfigLoadError only, values survive text and reload",
  maxLength: 4096,
  setup(): Promise<void> {
    if (path === "") {
      dir = Deno.makeTempDirSync({ prefix: "gocache-fuzz-config-" });
      path = `${dir}/node.yaml`;
    }
    return Promise.resolve();
  },
  teardown(): void {
    if (dir !== "") Deno.removeSync(dir, { recursive: true });
    dir = path = "";
  },
  corpus: () =>
    [
      'port: 7000\nbind: "127.0.0.1"\nprotected-mode: true\ndir: ./data\nloglevel: info\n',
      "maxmemory: 100mb\nmaxmemory-policy: allkeys-lru\nmaxmemory-samples: 5\nhz: 10\n",
      'client-output-buffer-limit: "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60"\n',
      "save: 3600 1 300 100 60 10000\nappendonly: yes\nappendfsync: everysec\n",
      'proto-max-bulk-len: "512mb"\nclient-query-buffer-limit: "1gb"\ndatabases: 16\n',
      'notify-keyspace-events: "KEA"\nlist-max-listpack-size: -2\nreplicaof: ""\n',
      "cluster-enabled: yes\ncluster-node-timeout: 5000\n" +
      "cluster-preferred-endpoint-type: hostname\n",
      'group-name: mymaster\ngroup-members: "gocache-1:7000 gocache-2:7000 gocache-3:7000"\n' +
      "group-election-timeout: 3000\ngroup-heartbeat-period: 500\n",
      "# comment\n---\nport: 0x1B58\nrequirepass: 'p@ss'\ntimeout: ~\nslowlog-max-len: 1e3\n",
      "{port: 6380, maxclients: 10}\n",
      "- a\n- b\n",
      "a: &x 1\nb: *x\n",
      "",
    ].map(utf8),
  dictionary: [": ", "\n", "- ", "---", '"', "'", "&a", "*a", "!!str ", "#", "{", "}", "[", "]"]
    .map(utf8),
  async run(input: Uint8Array): Promise<void> {
    Deno.writeFileSync(path, input);
    const config = await load(path);
    if (config === null) return;
    const before = texts(config);
    // Write every value back as YAML strings and load that.
    const yaml = PARAMS.map((p) => `${p.name}: ${JSON.stringify(config.text(p.name))}`).join("\n");
    Deno.writeTextFileSync(path, yaml);
    const again = await load(path);
    check(again !== null, () => `the values as text do not load again:\n${yaml}`);
    const after = texts(again);
    check(before === after, () => `loaded:\n${before}\nwritten back and loaded:\n${after}`);
  },
};
