/**
 * Log levels in gearmand's order, most severe first.
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "./mod.ts";
 * console.log(LOG_LEVELS.indexOf("ERROR") < LOG_LEVELS.indexOf("DEBUG")); // true
 * ```
 */
export const LOG_LEVELS = [
  "FATAL",
  "ALERT",
  "CRITICAL",
  "ERROR",
  "WARNING",
  "NOTICE",
  "INFO",
  "DEBUG",
] as const;

/**
 * One of gearmand's log level names.
 *
 * @example
 * ```ts
 * import { Logger, type LogLevel } from "./mod.ts";
 * const level: LogLevel = "NOTICE";
 * const logger = new Logger(level, (line) => console.error(line));
 * logger.notice("started");
 * ```
 */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * Where formatted log lines go; `line` has no trailing newline.
 *
 * @example
 * ```ts
 * import { Logger, type LogSink } from "./mod.ts";
 * const lines: string[] = [];
 * const sink: LogSink = (line) => lines.push(line);
 * new Logger("INFO", sink).info("hello");
 * console.log(lines); // ["   INFO hello"]
 * ```
 */
export type LogSink = (line: string) => void;

/**
 * Parses a level name, in any case.
 *
 * @param name a level name such as `"warning"`
 * @returns the level, or undefined when `name` is none
 *
 * @example
 * ```ts
 * import { parseLogLevel } from "./mod.ts";
 * console.log(parseLogLevel("warning")); // "WARNING"
 * console.log(parseLogLevel("loud")); // undefined
 * ```
 */
export function parseLogLevel(name: string): LogLevel | undefined {
  const upper = name.toUpperCase();
  return LOG_LEVELS.find((level) => level === upper);
}

/**
 * A leveled logger that writes gearmand-style lines: the level right-aligned
 * in seven characters, a space, then the message. Messages less severe than
 * its level are dropped.
 *
 * @example
 * ```ts
 * import { createServer, Logger } from "./mod.ts";
 * const logger = new Logger("NOTICE", (line) => console.error(line));
 * const server = createServer({ port: 0, logger });
 * await server.listen();
 * logger.notice("server up"); // " NOTICE server up"
 * await server.close();
 * ```
 */
export class Logger {
  /** The least severe level written. */
  level: LogLevel;
  #rank: number;
  #sink: LogSink;

  /**
   * Creates a logger.
   * @param level the least severe level written
   * @param sink where lines go
   */
  constructor(level: LogLevel, sink: LogSink) {
    this.level = level;
    this.#rank = LOG_LEVELS.indexOf(level);
    this.#sink = sink;
  }

  /**
   * Changes the threshold.
   * @param level the least severe level written from now on
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * const logger = new Logger("ERROR", (line) => console.error(line));
   * logger.setLevel("DEBUG");
   * logger.debug("now visible");
   * ```
   */
  setLevel(level: LogLevel): void {
    this.level = level;
    this.#rank = LOG_LEVELS.indexOf(level);
  }

  /**
   * True when messages at `level` are written.
   * @param level a level
   * @returns whether `log(level, ...)` writes
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * const logger = new Logger("ERROR", (line) => console.error(line));
   * if (logger.enabled("DEBUG")) logger.debug(JSON.stringify({ expensive: true }));
   * ```
   */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#rank;
  }

  /**
   * Writes `message` at `level`, if that level is enabled.
   * @param level the message's level
   * @param message the text, one line
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * const logger = new Logger("INFO", (line) => console.error(line));
   * logger.log("WARNING", "disk almost full"); // "WARNING disk almost full"
   * ```
   */
  log(level: LogLevel, message: string): void {
    if (LOG_LEVELS.indexOf(level) > this.#rank) return;
    this.#sink(`${level.padStart(7)} ${message}`);
  }

  /**
   * Writes `message` at ERROR.
   * @param message the text, one line
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * new Logger("DEBUG", (line) => console.error(line)).error("a error message");
   * ```
   */
  error(message: string): void {
    this.log("ERROR", message);
  }
  /**
   * Writes `message` at WARNING.
   * @param message the text, one line
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * new Logger("DEBUG", (line) => console.error(line)).warning("a warning message");
   * ```
   */
  warning(message: string): void {
    this.log("WARNING", message);
  }
  /**
   * Writes `message` at NOTICE.
   * @param message the text, one line
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * new Logger("DEBUG", (line) => console.error(line)).notice("a notice message");
   * ```
   */
  notice(message: string): void {
    this.log("NOTICE", message);
  }
  /**
   * Writes `message` at INFO.
   * @param message the text, one line
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * new Logger("DEBUG", (line) => console.error(line)).info("a info message");
   * ```
   */
  info(message: string): void {
    this.log("INFO", message);
  }
  /**
   * Writes `message` at DEBUG.
   * @param message the text, one line
   *
   * @example
   * ```ts
   * import { Logger } from "./mod.ts";
   * new Logger("DEBUG", (line) => console.error(line)).debug("a debug message");
   * ```
   */
  debug(message: string): void {
    this.log("DEBUG", message);
  }
}

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return new Logger("ERROR", () => {});
}
