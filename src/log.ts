/** Log levels in gearmand's order, most severe first. */
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

/** One of gearmand's log level names. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Where formatted log lines go; `line` has no trailing newline. */
export type LogSink = (line: string) => void;

/** Parses a level name (any case) or returns undefined. */
export function parseLogLevel(name: string): LogLevel | undefined {
  const upper = name.toUpperCase();
  return LOG_LEVELS.find((level) => level === upper);
}

/**
 * A leveled logger that writes gearmand-style lines: the level right-aligned
 * in seven characters, a space, then the message.
 */
export class Logger {
  level: LogLevel;
  #rank: number;
  #sink: LogSink;

  constructor(level: LogLevel, sink: LogSink) {
    this.level = level;
    this.#rank = LOG_LEVELS.indexOf(level);
    this.#sink = sink;
  }

  /** Changes the threshold. */
  setLevel(level: LogLevel): void {
    this.level = level;
    this.#rank = LOG_LEVELS.indexOf(level);
  }

  /** True when messages at `level` are written. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#rank;
  }

  log(level: LogLevel, message: string): void {
    if (LOG_LEVELS.indexOf(level) > this.#rank) return;
    this.#sink(`${level.padStart(7)} ${message}`);
  }

  error(message: string): void {
    this.log("ERROR", message);
  }
  warning(message: string): void {
    this.log("WARNING", message);
  }
  notice(message: string): void {
    this.log("NOTICE", message);
  }
  info(message: string): void {
    this.log("INFO", message);
  }
  debug(message: string): void {
    this.log("DEBUG", message);
  }
}

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return new Logger("ERROR", () => {});
}
