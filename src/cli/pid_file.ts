/**
 * The `-P/--pid-file`: written once the server listens, removed on exit.
 *
 * @module
 */
import { unlinkSync, writeFileSync } from "node:fs";
import { InvalidArgumentError } from "../errors.ts";

/**
 * Writes `pid` and a newline to `path`, replacing any old file.
 *
 * @throws {InvalidArgumentError} when the file cannot be written.
 */
export function writePidFile(path: string, pid: number): void {
  try {
    writeFileSync(path, `${pid}\n`, { mode: 0o644 });
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InvalidArgumentError(`cannot write pid file ${path}: ${why}`, { cause: err });
  }
}

/** Removes the pid file; a file that is already gone is fine. Returns false on failure. */
export function removePidFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err: unknown) {
    return (err as { code?: unknown } | null)?.code === "ENOENT";
  }
}
