/**
 * Reading the deployment files in tests: the Dockerfile's instructions, the compose files (with
 * YAML merge keys, as Compose reads them), the Kubernetes manifests (multi-document YAML), the
 * `gocache serve` command lines they hold, and the node configurations those load.
 */
import { parse, parseAllDocuments } from "yaml";
import type { Config } from "../../src/config/config.ts";
import { loadConfig } from "../../src/config/load.ts";

/** The repository's root directory. */
export const ROOT = new URL("../../", import.meta.url);

/** A repository file's absolute path. */
export function repoPath(path: string): string {
  return new URL(path, ROOT).pathname;
}

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  /** Upper-case keyword (`FROM`, `RUN`, ...). */
  keyword: string;
  /** The rest of the instruction, continuations joined with spaces. */
  args: string;
}

/** The instructions of a Dockerfile (comments, parser directives and blank lines skipped). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1).trim() + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const space = full.search(/\s/);
    out.push({ keyword: full.slice(0, space).toUpperCase(), args: full.slice(space + 1).trim() });
  }
  return out;
}

/** The Dockerfile's instructions. */
export async function readDockerfile(): Promise<Instruction[]> {
  return parseDockerfile(await Deno.readTextFile(repoPath("Dockerfile")));
}

/** An instruction's exec form (`["a", "b"]`) as an array; throws if it is not one. */
export function execForm(args: string): string[] {
  const value = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`Not an exec form: ${args}`);
  }
  return value;
}

/** A compose service, as far as the tests read it. */
export interface ComposeService {
  /** Image name and tag. */
  image?: string;
  /** Build context. */
  build?: unknown;
  /** Entrypoint override. */
  entrypoint?: string[];
  /** Command (arguments of the entrypoint). */
  command?: string[];
  /** Published ports, `host:container`. */
  ports?: string[];
  /** Mounts, `source:target[:mode]`. */
  volumes?: string[];
  /** Services started first, with conditions. */
  depends_on?: string[] | Record<string, { condition: string }>;
  /** Profiles the service belongs to (not started by a plain `up`). */
  profiles?: string[];
  /** Health check settings. */
  healthcheck?: { disable?: boolean };
}

/** A compose file, as far as the tests read it. */
export interface ComposeFile {
  /** Services by name. */
  services: Record<string, ComposeService>;
  /** Named volumes. */
  volumes?: Record<string, unknown>;
}

/** A compose file of the repository, merge keys (`<<: *anchor`) applied. */
export async function readCompose(file: string): Promise<ComposeFile> {
  return parse(await Deno.readTextFile(repoPath(file)), { merge: true }) as ComposeFile;
}

/** The names of a compose service's `depends_on`. */
export function dependencies(service: ComposeService): string[] {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}

/** The repository file a compose service mounts at `target`, or undefined. */
export function mountedFile(service: ComposeService, target: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, at] = volume.split(":");
    if (at === target && source.startsWith("./")) return source.slice(2);
  }
  return undefined;
}

/** The documents of a YAML file holding several (`---`), as plain values. */
export function parseDocuments(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(doc.errors[0].message);
    return doc.toJS();
  });
}

/** What a `gocache serve` command line asks for. */
export interface ServeCommand {
  /** The `--config` file. */
  config?: string;
  /** Every other `--name value` flag. */
  flags: Record<string, string>;
}

/**
 * Reads a `gocache serve` command line (`serve` first), whose flags are all `--name value` or
 * `--name=value`; null when it is not `serve`.
 */
export function parseServe(args: readonly string[]): ServeCommand | null {
  if (args[0] !== "serve") return null;
  const flags: Record<string, string> = {};
  let config: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new Error(`Not a flag: ${arg} in ${args.join(" ")}`);
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`--${name} has no value in ${args.join(" ")}`);
    if (name === "config") config = value;
    else flags[name] = value;
  }
  return { config, flags };
}

/** Loads a node configuration as `gocache serve --config FILE <flags>` would (throws if invalid). */
export function loadNodeConfig(
  file: string,
  flags: Record<string, string> = {},
): Promise<Config> {
  return loadConfig({ file, overrides: flags });
}

/** The cluster bus port a configuration listens on (`cluster-port`, else port + 10000). */
export function busPort(config: Config): number {
  return config.values["cluster-port"] || config.values.port + 10000;
}

/** The version .ci/run installs (`DENO_VERSION=...`). */
export async function ciDenoVersion(): Promise<string> {
  const text = await Deno.readTextFile(repoPath(".ci/run"));
  const version = /^DENO_VERSION=(\S+)$/m.exec(text)?.[1];
  if (version === undefined) throw new Error(".ci/run sets no DENO_VERSION");
  return version;
}
