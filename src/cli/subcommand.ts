/** The shape every `gocache` subcommand has, so the table in mod.ts can list and run them. */

/** One subcommand of the `gocache` executable. */
export interface Subcommand {
  /** The word after `gocache`. */
  name: string;
  /** One line for `gocache --help`. */
  summary: string;
  /** Full help text for `gocache <name> --help`. */
  usage(): string;
  /** Runs with the remaining arguments; resolves to the exit code. Throws UsageError for exit 2. */
  run(argv: string[]): Promise<number>;
}
