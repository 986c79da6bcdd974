/**
 * Where the server's log lines go: stderr, nowhere, or a file opened for
 * appending that can be reopened (on SIGHUP, after logrotate moved it).
 *
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import type { LogSink } from "../log.ts";
import { InvalidArgumentError } from "../errors.ts";

/** A log destination the CLI owns. */
export interface LogTarget {
  /** Writes one line; a newline is appended. */
  readonly sink: LogSink;
  /** Reopens a file destination by name; a no-op for stderr and none. */
  reopen(): void;
  /** Closes a file destination. */
  close(): void;
  /** `"stderr"`, `"none"` or the file path. */
  readonly name: string;
}

/**
 * Opens `spec`: `"stderr"`, `"none"`, or a path opened for appending
 * (created with mode 0644 when missing).
 *
 * @throws {InvalidArgumentError} when the file cannot be opened.
 */
export function openLogTarget(spec: string): LogTarget {
  if (spec === "stderr") {
    return {
      name: spec,
      sink: (line) => void process.stderr.write(line + "\n"),
      reopen() {},
      close() {},
    };
  }
  if (spec === "none") return { name: spec, sink: () => {}, reopen() {}, close() {} };
  return new FileLogTarget(spec);
}

class FileLogTarget implements LogTarget {
  readonly name: string;
  readonly sink: LogSink;
  #fd: number | undefined;
  #failed = false;

  constructor(path: string) {
    this.name = path;
    this.#fd = open(path);
    // Synchronous appends: a line is on disk before the next event, and a
    // crash loses nothing already logged.
    this.sink = (line) => {
      if (this.#fd === undefined) return;
      try {
        writeSync(this.#fd, line + "\n");
        this.#failed = false;
      } catch (err: unknown) {
        if (!this.#failed) warn(`cannot write to log file ${path}: ${describe(err)}`);
        this.#failed = true;
      }
    };
  }

  reopen(): void {
    let fd: number;
    try {
      fd = open(this.name);
    } catch (err: unknown) {
      // Keep logging to the old file rather than losing lines.
      warn(describe(err));
      return;
    }
    const old = this.#fd;
    this.#fd = fd;
    if (old !== undefined) closeQuietly(old);
  }

  close(): void {
    if (this.#fd !== undefined) closeQuietly(this.#fd);
    this.#fd = undefined;
  }
}

function open(path: string): number {
  try {
    return openSync(path, "a", 0o644);
  } catch (err: unknown) {
    throw new InvalidArgumentError(`cannot open log file ${path}: ${describe(err)}`, {
      cause: err,
    });
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
  }
}

function warn(message: string): void {
  process.stderr.write(`gearman-ts: ${message}\n`);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
