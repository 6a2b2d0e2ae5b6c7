/**
 * The shape of one row of the options table (options.table.mjs, generated into
 * `options.generated.ts`): what the parser needs to read and check one option or variable.
 */

/** How a value is read and checked (options.table.mjs explains each). */
export type OptionType = "number" | "bytes" | "port" | "bool" | "string" | "path" | "url" | "detector" | "label" | "labels" | "registry" | "logger" | "env";

/** One option and/or environment variable. */
export interface OptionSpec {
  /** Key path (`snapshot.maxFiles`, `logger`); absent for a variable without an option. */
  readonly key?: string;
  /** Environment variable; absent for an option without one. */
  readonly env?: string;
  readonly type: OptionType;
  /** Used when neither option nor variable is set; absent: the resolver decides. */
  readonly default?: number | string | boolean;
  /** Numbers: inclusive bounds, a strict lower bound, whole numbers only. */
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
  readonly integer?: boolean;
  /** Numbers: what the value must be, for the error message (`... must be <must>, got ...`). */
  readonly must?: string;
  /** The option must be set when its group is given (`trace.path`). */
  readonly required?: boolean;
}
