/**
 * Structured logging for the whole server on LogTape: records carry fields (text lines show them
 * through message templates, JSON lines as properties), go to standard output or `logfile`, and
 * the level can change while the server runs (`CONFIG SET loglevel`).
 */
import {
  configureSync,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
} from "@logtape/logtape";
import type { LogLevelName } from "../config/schema.ts";

/** Where and how log records are written. */
export interface LogSettings {
  /** Verbosity, in our names or Redis's. */
  level: LogLevelName;
  /** `text` lines for people or `json` lines for log shippers. */
  format: "text" | "json";
  /** File to append to; empty for standard output. */
  file: string;
}

const LEVELS: Record<LogLevelName, LogLevel | null> = {
  debug: "debug",
  verbose: "debug",
  info: "info",
  notice: "info",
  warn: "warning",
  warning: "warning",
  error: "error",
  nothing: null,
};

const textFormatter = getTextFormatter({
  timestamp: "date-time-timezone",
  category: ".",
  value: (v) => (typeof v === "string" ? v : Deno.inspect(v)),
});
const encoder = new TextEncoder();
let output: Deno.FsFile | null = null;
let outputPath = "";

function writeLine(line: string): void {
  const bytes = encoder.encode(line.endsWith("\n") ? line : line + "\n");
  const target = output ?? Deno.stdout;
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

function makeSink(format: "text" | "json"): Sink {
  const formatter = format === "json" ? jsonLinesFormatter : textFormatter;
  return (record: LogRecord) => {
    try {
      writeLine(formatter(record));
    } catch {
      // A log line that cannot be written must not take the server down.
    }
  };
}

/** Applies log settings; called at start and whenever a log parameter changes. */
export function configureLogging(settings: LogSettings): void {
  if (settings.file !== outputPath) {
    output?.close();
    output = settings.file === ""
      ? null
      : Deno.openSync(settings.file, { append: true, create: true });
    outputPath = settings.file;
  }
  const level = LEVELS[settings.level];
  configureSync({
    reset: true,
    sinks: { main: makeSink(settings.format) },
    loggers: [
      { category: ["gocache"], lowestLevel: level ?? "fatal", sinks: level ? ["main"] : [] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}

/** Stops logging and closes the log file, if any. */
export function closeLogging(): void {
  resetSync();
  output?.close();
  output = null;
  outputPath = "";
}

/** The logger for one part of the server, e.g. `logger("server")`. */
export function logger(category: string): Logger {
  return getLogger(["gocache", category]);
}
