/**
 * gearmand's `--config-file`: command-line flags separated by white space,
 * in practice one `--flag=value` per line. A `#` that starts a word comments
 * out the rest of its line (gearmand itself has no comments, but a `#` in a
 * real gearmand.conf is always meant as one).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../errors.ts";

/** gearmand's default config file; silently skipped when it does not exist. */
export const DEFAULT_CONFIG_FILE = "/etc/gearmand.conf";

/** Splits config file text into argv-style words, dropping `#` comments. */
export function tokenizeConfig(text: string): string[] {
  const words: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    for (const word of line.split(/\s+/)) {
      if (word === "") continue;
      if (word.startsWith("#")) break;
      words.push(word);
    }
  }
  return words;
}

/** Reads a file's text, or undefined when it does not exist. */
export type ReadTextFile = (path: string) => string | undefined;

/** Reads with node:fs; ENOENT (and ENOTDIR) mean "does not exist". */
export const readTextFile: ReadTextFile = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch (err: unknown) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
};

/**
 * Loads the words of a config file. A missing default file gives `[]`; a
 * missing file the user named is an error, as in gearmand.
 *
 * @throws {InvalidArgumentError} when an explicit file is missing or unreadable.
 */
export function loadConfigWords(
  path: string,
  explicit: boolean,
  read: ReadTextFile = readTextFile,
): string[] {
  let text: string | undefined;
  try {
    text = read(path);
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InvalidArgumentError(`cannot read config file ${path}: ${why}`, { cause: err });
  }
  if (text === undefined) {
    if (!explicit) return [];
    throw new InvalidArgumentError(`config file ${path} does not exist`);
  }
  return tokenizeConfig(text);
}
