/**
 * Builds a server's configuration from the embedded defaults, an optional YAML file and
 * command-line overrides, in that order. Every problem names the key (and the YAML line) and is
 * reported as a {@link ConfigLoadError}, which the CLI turns into exit code 2.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { Config, defaultValues } from "./config.ts";
import { ConfigValueError, type ConfigValues, findParam } from "./schema.ts";

/** A configuration problem that must stop the start, with a message naming what is wrong. */
export class ConfigLoadError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigLoadError";
  }
}

/** Where a value came from, for error messages. */
interface Source {
  /** File name, or undefined for a command-line flag. */
  file?: string;
  /** 1-based line in the file. */
  line?: number;
}

function where(source: Source, key: string): string {
  if (source.file === undefined) return `option --${key}`;
  return `${source.file}:${source.line ?? 1}: key '${key}'`;
}

function apply(values: ConfigValues, key: string, text: string, source: Source): void {
  const spec = findParam(key);
  if (!spec) {
    throw new ConfigLoadError(
      source.file === undefined
        ? `unknown option --${key}`
        : `${source.file}:${source.line ?? 1}: unknown key '${key}'`,
    );
  }
  try {
    (values as unknown as Record<string, unknown>)[spec.name] = spec.parse(text);
  } catch (e) {
    if (e instanceof ConfigValueError) {
      throw new ConfigLoadError(`${where(source, key)}: invalid value '${text}': ${e.message}`);
    }
    throw e;
  }
}

/** Parses YAML text into key/value pairs with their line numbers. */
export function parseConfigYaml(
  text: string,
  file: string,
): { key: string; value: string; line: number }[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = lineCounter.linePos(err.pos[0]).line;
    throw new ConfigLoadError(`${file}:${line}: invalid YAML: ${err.message.split("\n")[0]}`);
  }
  const contents = doc.contents;
  if (contents === null) return [];
  if (!isMap(contents)) {
    throw new ConfigLoadError(`${file}: the top level must be a mapping of keys`);
  }
  const out: { key: string; value: string; line: number }[] = [];
  for (const item of contents.items) {
    const keyNode = item.key;
    const line = isScalar(keyNode) && keyNode.range
      ? lineCounter.linePos(keyNode.range[0]).line
      : 1;
    if (!isScalar(keyNode)) throw new ConfigLoadError(`${file}:${line}: keys must be plain names`);
    const key = String(keyNode.value);
    const valueNode = item.value;
    // A list of plain values (`users: ["alice on >pw +@all"]`) is read one value per line.
    if (isSeq(valueNode) && valueNode.items.every((v) => isScalar(v))) {
      const values = valueNode.items.map((v) => String((v as { value: unknown }).value ?? ""));
      out.push({ key, value: values.join("\n"), line });
      continue;
    }
    // For a parameter of several lines, a mapping of plain values (`rename-command: {FLUSHALL:
    // "", CONFIG: cfg-8a1f}`) is read as one `name value` line per entry, an empty value written
    // `""` as redis.conf spells it.
    if (
      findParam(key)?.repeatable === true && isMap(valueNode) &&
      valueNode.items.every((i) => isScalar(i.key) && isScalar(i.value))
    ) {
      const lines = valueNode.items.map((i) => {
        const name = String((i.key as { value: unknown }).value);
        const value = String((i.value as { value: unknown }).value ?? "");
        return `${name} ${value === "" ? '""' : value}`;
      });
      out.push({ key, value: lines.join("\n"), line });
      continue;
    }
    if (!isScalar(valueNode)) {
      throw new ConfigLoadError(`${file}:${line}: key '${key}' must have a single value`);
    }
    const raw = valueNode.value;
    const value = raw === null ? "" : typeof raw === "boolean" ? (raw ? "yes" : "no") : String(raw);
    out.push({ key, value, line });
  }
  return out;
}

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Path of a YAML file to read, if any. */
  file?: string;
  /** Flag overrides: parameter name to text value. */
  overrides?: Record<string, string>;
}

/** Loads defaults, then the YAML file, then the overrides; throws {@link ConfigLoadError}. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const values = defaultValues();
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await Deno.readTextFile(options.file);
    } catch (e) {
      throw new ConfigLoadError(
        `cannot read config file ${options.file}: ${e instanceof Error ? e.message : e}`,
      );
    }
    for (const { key, value, line } of parseConfigYaml(text, options.file)) {
      apply(values, key, value, { file: options.file, line });
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    apply(values, key, value, {});
  }
  checkCombinations(values);
  return new Config(values, options.file ?? "");
}

/** Refuses settings that are valid alone but not together. */
function checkCombinations(values: ConfigValues): void {
  if (values["group-name"] === "") return;
  if (values["cluster-enabled"]) {
    throw new ConfigLoadError("group-name and cluster-enabled cannot both be set");
  }
  if (values["group-members"].length === 0) {
    throw new ConfigLoadError("group-name needs group-members (host:port of every member)");
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(values["group-name"])) {
    throw new ConfigLoadError("group-name may only use letters, digits, '.', '_' and '-'");
  }
  if (values["group-heartbeat-period"] * 2 > values["group-election-timeout"]) {
    throw new ConfigLoadError(
      "group-heartbeat-period must be at most half of group-election-timeout",
    );
  }
}
