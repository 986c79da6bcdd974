/**
 * Helpers shared by the CLI modes: `node:util` `parseArgs` with its errors
 * turned into one-line {@link InvalidArgumentError}s, and strict number
 * parsing for flag values.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InvalidArgumentError } from "../errors.ts";

/**
 * Runs `parseArgs` (strict unless `config.strict` is false); its TypeErrors
 * become InvalidArgumentErrors. `source` names where the flags came from.
 */
export function parseFlags<T extends ParseArgsConfig>(
  config: T,
  source?: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err: unknown) {
    throw new InvalidArgumentError(describeParseError(err, source), { cause: err });
  }
}

/** One line, lowercase, naming the offending flag (and where it came from). */
function describeParseError(err: unknown, source: string | undefined): string {
  const where = source === undefined ? "" : ` (in ${source})`;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const flag = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${flag}'${where}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${flag}'${where}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      if (message.includes("ambiguous") || message.includes("argument missing")) {
        const name = flag.replace(/ <value>$/, "");
        return `option '${name}' needs a value${where}`;
      }
      if (message.includes("does not take an argument")) {
        return `option '${flag}' does not take a value${where}`;
      }
      break;
    }
  }
  const firstLine = message.split("\n")[0] ?? message;
  return firstLine.charAt(0).toLowerCase() + firstLine.slice(1) + where;
}

/**
 * Parses a whole non-negative decimal integer within `[min, max]`.
 *
 * @throws {InvalidArgumentError} naming `flag` when `text` is not such a number.
 */
export function parseInteger(
  flag: string,
  text: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`;
    throw InvalidArgumentError.format(flag, `expected an integer ${range}, got '${text}'`);
  }
  return value;
}

/** Parses a byte size: an integer with an optional K, M or G (binary) suffix. */
export function parseByteSize(flag: string, text: string, min: number): number {
  const m = /^\s*(\d+)\s*([kmg]?)i?b?\s*$/i.exec(text);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m?.[2]?.toLowerCase() ?? ""];
  const value = m?.[1] === undefined || unit === undefined ? Number.NaN : Number(m[1]) * unit;
  if (!Number.isSafeInteger(value) || value < min) {
    throw InvalidArgumentError.format(
      flag,
      `expected a size in bytes >= ${min} (K, M, G suffixes allowed), got '${text}'`,
    );
  }
  return value;
}
