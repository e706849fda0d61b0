/**
 * The live configuration of one server: typed values read on the hot path, text forms for
 * CONFIG GET, and validated atomic updates for CONFIG SET with change notifications.
 */
import { globMatchString } from "../util/glob.ts";
import {
  type ConfigName,
  ConfigValueError,
  type ConfigValues,
  findParam,
  PARAM_ALIASES,
  PARAMS,
  type ParamSpec,
  PROTECTED_PARAMS,
} from "./schema.ts";

/** Why a CONFIG SET was refused, with the parameter it concerns (Redis's reply names it). */
export class ConfigSetError extends Error {
  /** Creates the error for `param` with Redis's reason text. */
  constructor(readonly param: string, reason: string) {
    super(reason);
    this.name = "ConfigSetError";
  }
}

/** Called after parameters changed at run time, with their names. */
export type ConfigListener = (changed: readonly ConfigName[]) => void;

/** Builds the values of every parameter from its default. */
export function defaultValues(): ConfigValues {
  const values: Record<string, unknown> = {};
  for (const p of PARAMS) values[p.name] = p.parse(p.default);
  return values as unknown as ConfigValues;
}

/** A server's configuration; see the module comment. */
export class Config {
  /** Current typed values; read freely, change only through {@link set}. */
  readonly values: ConfigValues;
  /** The file it was loaded from, or "" (INFO's `config_file`). */
  readonly file: string;
  #listeners: ConfigListener[] = [];

  /** Wraps already-validated values. */
  constructor(values: ConfigValues, file = "") {
    this.values = values;
    this.file = file;
  }

  /** The text form of one parameter, as CONFIG GET prints it. */
  text(name: ConfigName): string {
    const spec = findParam(name) as ParamSpec;
    return spec.format(this.values[name]);
  }

  /** Name/value pairs of every parameter whose name matches one of the glob patterns. */
  matching(patterns: readonly string[]): [string, string][] {
    const out: [string, string][] = [];
    for (const p of PARAMS) {
      if (patterns.some((pattern) => globMatchString(pattern, p.name, true))) {
        out.push([p.name, p.format(this.values[p.name])]);
      }
    }
    return out;
  }

  /**
   * CONFIG GET as Redis 7 answers it: a name without glob characters (`*`, `?`, `[`) is looked up
   * ignoring case and reported as given; a pattern reports the parameters' own names. Each
   * parameter appears once, the first time it matches.
   */
  configGet(patterns: readonly string[]): [string, string][] {
    const out: [string, string][] = [];
    const seen = new Set<string>();
    for (const pattern of patterns) {
      if (!/[*?[]/.test(pattern)) {
        const spec = findParam(pattern.toLowerCase());
        if (spec && !seen.has(spec.name)) {
          seen.add(spec.name);
          out.push([pattern, spec.format(this.values[spec.name])]);
        }
        continue;
      }
      for (const p of PARAMS) {
        if (!seen.has(p.name) && globMatchString(pattern, p.name, true)) {
          seen.add(p.name);
          out.push([p.name, p.format(this.values[p.name])]);
        }
      }
      for (const [alias, name] of Object.entries(PARAM_ALIASES)) {
        if (!seen.has(alias) && globMatchString(pattern, alias, true)) {
          seen.add(alias);
          out.push([alias, this.text(name)]);
        }
      }
    }
    return out;
  }

  /**
   * Applies name/value pairs all or nothing, as Redis 7's CONFIG SET does: every pair is
   * validated first, then all are applied and listeners are told once. Without
   * `allowProtected` the protected parameters (PROTECTED_PARAMS: where files are written) are
   * refused, as Redis refuses them while `enable-protected-configs` does not allow it.
   */
  set(pairs: readonly [string, string][], allowProtected = true): void {
    const parsed: [ConfigName, unknown][] = [];
    const seen = new Set<string>();
    for (const [rawName, text] of pairs) {
      const name = rawName.toLowerCase();
      const spec = findParam(name);
      if (!spec) throw new ConfigSetError(rawName, "unknown");
      if (seen.has(name)) throw new ConfigSetError(rawName, "duplicate parameter");
      seen.add(name);
      // Checked before mutability: `dir`, settable in Redis, answers as Redis does.
      if (!allowProtected && PROTECTED_PARAMS.has(spec.name)) {
        throw new ConfigSetError(rawName, "can't set protected config");
      }
      if (!spec.mutable) throw new ConfigSetError(rawName, "can't set immutable config");
      try {
        parsed.push([spec.name, spec.parse(text, this.values[spec.name])]);
      } catch (e) {
        if (e instanceof ConfigValueError) throw new ConfigSetError(rawName, e.message);
        throw e;
      }
    }
    const values = this.values as unknown as Record<string, unknown>;
    for (const [name, value] of parsed) values[name] = value;
    const names = parsed.map(([name]) => name);
    for (const listener of this.#listeners) listener(names);
  }

  /** Registers a listener for run-time changes. */
  onChange(listener: ConfigListener): void {
    this.#listeners.push(listener);
  }
}
