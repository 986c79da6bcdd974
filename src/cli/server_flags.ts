/**
 * `gearman-ts server` flags: gearmand 1.1.20's names and short letters,
 * read from the command line and the config file, checked, and turned into
 * {@link ServerOptions} plus the daemon settings that live outside the server.
 *
 * @module
 */
import { hostname } from "node:os";
import { InvalidArgumentError } from "../errors.ts";
import { LOG_LEVELS, type LogLevel, parseLogLevel } from "../log.ts";
import {
  DEFAULT_CREATED_WAIT_MS,
  DEFAULT_GRAB_WAIT_MS,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_PORT,
  type ServerOptions,
} from "../server/options.ts";
import { parseByteSize, parseFlags, parseInteger } from "./args.ts";
import { DEFAULT_CONFIG_FILE, loadConfigWords, type ReadTextFile } from "./config_file.ts";
import { storeSettings } from "./store_flags.ts";

const str = { type: "string" } as const;
const bool = { type: "boolean" } as const;

/** Every flag `gearman-ts server` knows, gearmand's spelling. */
export const SERVER_FLAGS = {
  // Supported.
  port: { ...str, short: "p" },
  listen: { ...str, short: "L", multiple: true },
  "job-retries": { ...str, short: "j" },
  "round-robin": { ...bool, short: "R" },
  "worker-wakeup": { ...str, short: "w" },
  "grab-wait": str,
  "created-wait": str,
  "job-handle-prefix": str,
  exceptions: bool,
  "log-file": { ...str, short: "l" },
  verbose: str,
  "pid-file": { ...str, short: "P" },
  backlog: { ...str, short: "b" },
  keepalive: bool,
  "max-packet-size": str,
  "queue-type": { ...str, short: "q" },
  store: str,
  fsync: str,
  "store-queue-on-shutdown": bool,
  "libsqlite3-db": str,
  "libsqlite3-table": str,
  "libpq-conninfo": str,
  "libpq-table": str,
  "config-file": str,
  "check-args": bool,
  help: { ...bool, short: "h" },
  version: { ...bool, short: "V" },
  // Accepted, ignored with a note.
  threads: { ...str, short: "t" },
  syslog: bool,
  "file-descriptors": { ...str, short: "f" },
  "hashtable-buckets": str,
  "keepalive-idle": str,
  "keepalive-interval": str,
  "keepalive-count": str,
  coredump: bool,
  "http-port": str,
  // Refused with a reason (see REFUSED).
  daemon: { ...bool, short: "d" },
  user: { ...str, short: "u" },
  protocol: { ...str, short: "r" },
  ssl: bool,
  "ssl-ca-file": str,
  "ssl-certificate": str,
  "ssl-key": str,
  "libmemcached-servers": str,
  "libmemcached-prefix": str,
  "redis-server": str,
  "redis-port": str,
  "redis-password": str,
  "redis-prefix": str,
  "mysql-host": str,
  "mysql-port": str,
  "mysql-user": str,
  "mysql-password": str,
  "mysql-db": str,
  "mysql-table": str,
} as const;

type Flag = keyof typeof SERVER_FLAGS;
type Values = {
  [K in Flag]?: (typeof SERVER_FLAGS)[K] extends { multiple: true } ? string[]
    : (typeof SERVER_FLAGS)[K] extends { type: "string" } ? string
    : boolean;
};

const IGNORED: Partial<Record<Flag, string>> = {
  threads: "gearman-ts runs on one event loop, so -t/--threads is ignored",
  syslog: "--syslog is not supported; log lines go to --log-file",
  "file-descriptors": "-f/--file-descriptors is ignored; raise the limit with ulimit -n",
  "hashtable-buckets": "--hashtable-buckets is ignored; job tables grow as needed",
  "keepalive-idle": "--keepalive-idle is ignored; --keepalive uses the system's timings",
  "keepalive-interval": "--keepalive-interval is ignored; --keepalive uses the system's timings",
  "keepalive-count": "--keepalive-count is ignored; --keepalive uses the system's timings",
  coredump: "--coredump is ignored",
  "http-port": "--http-port is ignored: there is no HTTP protocol module",
};

const TLS = "is not supported: put a TLS terminator (stunnel, haproxy) in front of gearman-ts";
const QUEUE = "belongs to a queue module gearman-ts does not have (use -q libsqlite3 or libpq)";
const REFUSED: Partial<Record<Flag, string>> = {
  daemon: "-d/--daemon is not supported: run gearman-ts in the foreground under a service " +
    "manager (systemd, runit, a container) or with nohup ... &",
  user: "-u/--user is not supported: start gearman-ts as the user it should run as",
  protocol: "-r/--protocol is not supported: gearman-ts speaks only the Gearman protocol",
};
for (const flag of Object.keys(SERVER_FLAGS) as Flag[]) {
  if (flag.startsWith("ssl")) REFUSED[flag] = `--${flag} ${TLS}`;
  if (/^(libmemcached|redis|mysql)-/.test(flag)) {
    REFUSED[flag] = `--${flag} ${QUEUE}`;
  }
}

/** Everything `gearman-ts server` was asked to do. */
export interface ServerConfig {
  /** What to pass to `createServer` (without `logger`, `net`, `pid`). */
  readonly options: ServerOptions;
  /** Log destination: `"stderr"`, `"none"` or a file path. */
  readonly logFile: string;
  readonly logLevel: LogLevel;
  readonly pidFile: string | undefined;
  readonly checkArgs: boolean;
  readonly help: boolean;
  readonly version: boolean;
  /** The config file that was read, if any. */
  readonly configFile: string | undefined;
  /** One-line notes about flags that were accepted but have no effect. */
  readonly notes: readonly string[];
}

/**
 * Parses `gearman-ts server` arguments and the config file they name (or the
 * default one). Flags on the command line win over the config file; `-L` on
 * the command line replaces the file's `-L` list.
 *
 * @throws {InvalidArgumentError} for unknown flags, bad values, unsupported features.
 */
export function parseServerArgs(argv: readonly string[], read?: ReadTextFile): ServerConfig {
  const cli = parseFlags({ args: [...argv], options: SERVER_FLAGS, allowPositionals: true });
  const cliValues = cli.values as Values;
  // gearmand also accepts the config file as a positional `@path`.
  let atFile: string | undefined;
  for (const word of cli.positionals) {
    if (!word.startsWith("@") || word.length === 1 || atFile !== undefined) {
      throw new InvalidArgumentError(`unexpected argument '${word}'`);
    }
    atFile = word.slice(1);
  }
  if (cliValues.help || cliValues.version) {
    return finish(
      { help: cliValues.help ?? false, version: cliValues.version ?? false },
      undefined,
    );
  }

  const named = cliValues["config-file"] ?? atFile;
  const configFile = named ?? DEFAULT_CONFIG_FILE;
  const words = loadConfigWords(configFile, named !== undefined, read);
  if (words.length === 0) return finish(cliValues, named);
  const file = parseFlags({ args: words, options: SERVER_FLAGS }, configFile);
  const fileValues = file.values as Values;
  if (fileValues["config-file"] !== undefined) {
    throw new InvalidArgumentError(`--config-file cannot be used inside ${configFile}`);
  }
  return finish({ ...fileValues, ...cliValues }, configFile);
}

function finish(v: Values, configFile: string | undefined): ServerConfig {
  for (const flag of Object.keys(REFUSED) as Flag[]) {
    if (v[flag] !== undefined && v[flag] !== false) throw new InvalidArgumentError(REFUSED[flag]!);
  }
  const notes: string[] = [];
  for (const flag of Object.keys(IGNORED) as Flag[]) {
    if (v[flag] !== undefined && v[flag] !== false) notes.push(IGNORED[flag]!);
  }
  if (v.threads !== undefined) parseInteger("--threads", v.threads, 0);
  const store = storeSettings(v);
  notes.push(...store.notes);
  const logLevel = v.verbose === undefined ? "ERROR" : parseLogLevel(v.verbose);
  if (logLevel === undefined) {
    throw InvalidArgumentError.format(
      "--verbose",
      `expected one of ${LOG_LEVELS.join(", ")}, got '${v.verbose}'`,
    );
  }
  const listen = v.listen ?? ["127.0.0.1"];
  for (const host of listen) {
    if (host.trim() === "") throw InvalidArgumentError.format("--listen", "empty address");
  }
  const prefix = v["job-handle-prefix"];
  if (prefix !== undefined && (prefix === "" || /[\0\s]/.test(prefix))) {
    throw InvalidArgumentError.format(
      "--job-handle-prefix",
      "must be non-empty, without spaces or NUL",
    );
  }
  const logFile = v["log-file"] ?? "stderr";
  if (logFile === "") {
    throw InvalidArgumentError.format("--log-file", "expected stderr, none or a path");
  }
  const pidFile = v["pid-file"];
  if (pidFile === "") throw InvalidArgumentError.format("--pid-file", "expected a path");

  const options: ServerOptions = {
    listen,
    port: v.port === undefined ? DEFAULT_PORT : parseInteger("--port", v.port, 0, 65535),
    jobRetries: v["job-retries"] === undefined
      ? 0
      : parseInteger("--job-retries", v["job-retries"], 0),
    workerWakeup: v["worker-wakeup"] === undefined
      ? 0
      : parseInteger("--worker-wakeup", v["worker-wakeup"], 0),
    grabWait: v["grab-wait"] === undefined
      ? DEFAULT_GRAB_WAIT_MS
      : parseInteger("--grab-wait", v["grab-wait"], 0, 1000),
    createdWait: v["created-wait"] === undefined
      ? DEFAULT_CREATED_WAIT_MS
      : parseInteger("--created-wait", v["created-wait"], 0, 1000),
    exceptions: v.exceptions ?? false,
    maxPacketSize: v["max-packet-size"] === undefined
      ? DEFAULT_MAX_PACKET_SIZE
      : parseByteSize("--max-packet-size", v["max-packet-size"], 1024),
    backlog: v.backlog === undefined ? 1024 : parseInteger("--backlog", v.backlog, 1),
    keepalive: v.keepalive ?? false,
    // gearmand's default, whatever the library's own default is.
    jobHandlePrefix: prefix ?? `H:${hostname()}`,
    store: store.store,
    ...(store.fsync === undefined ? {} : { fsync: store.fsync }),
    ...(store.storeQueueOnShutdown ? { storeQueueOnShutdown: true } : {}),
  };
  return {
    options,
    logFile,
    logLevel,
    pidFile,
    checkArgs: v["check-args"] ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
    configFile,
    notes,
  };
}
