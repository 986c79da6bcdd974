/**
 * Command lines of the benchmark scripts: strict parsing, --help from the
 * usage comment at the top of the script, checked numbers, and lines on stderr.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** One line on stderr: progress, notes and problems (stdout is for results). */
export const log = (line: string): void => void process.stderr.write(line + "\n");

/** Reports a bad command line and exits. */
export type Fail = (problem: string) => never;

type Values<T extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: T }>
>["values"];

/**
 * The options of this process's command line; `fail` gets parseArgs's
 * complaint. With --help, prints the usage comment at the top of the script
 * `entryUrl` (its `import.meta.url`) and exits.
 */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(
  options: T,
  entryUrl: string,
  fail: Fail,
): Values<T> {
  let values: Values<T>;
  try {
    values = parseArgs({ options }).values as Values<T>;
  } catch (err: unknown) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if ((values as { help?: unknown }).help === true) {
    const doc = readFileSync(new URL(entryUrl), "utf8").split("*/")[0]!;
    process.stdout.write(doc.replace(/^\/\*\*\n| \* ?/gm, "").replace("@module\n", ""));
    process.exit(0);
  }
  return values;
}

/**
 * Reads numeric options from `values`: the value of --`name` (`dflt` when
 * absent), at least `min` and an integer unless `real`, or `fail`.
 */
export function numberOption(values: Readonly<Record<string, unknown>>, fail: Fail) {
  return (name: string, dflt: number, min: number, real = false): number => {
    const v = values[name];
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isFinite(n) || n < min || (!real && !Number.isInteger(n))) {
      fail(`--${name} must be ${real ? "a number" : "an integer"} >= ${min}, got ${v}`);
    }
    return n;
  };
}
