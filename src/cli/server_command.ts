/**
 * `gearman-ts server`: the daemon around {@link createServer}. Parses the
 * gearmand-style flags and config file, opens the log sink, listens, writes
 * the pid file and maps signals (PROTOCOL.md §17):
 * SIGTERM/SIGINT stop now, SIGUSR1 drains, SIGHUP reopens the log file.
 *
 * @module
 */
import process from "node:process";
import { InvalidArgumentError } from "../errors.ts";
import { Logger } from "../log.ts";
import type { Addr } from "../net/net.ts";
import { createServer, type GearmanServer } from "../server/server.ts";
import { formatAddr } from "../client/servers.ts";
import { isLoopback } from "../util/addr.ts";
import { openLogTarget } from "./log_sink.ts";
import { removePidFile, writePidFile } from "./pid_file.ts";
import { parseServerArgs, type ServerConfig } from "./server_flags.ts";
import { onSignals } from "./signals.ts";
import { SERVER_HELP, VERSION_LINE } from "./usage.ts";

/** Where the command writes its own messages (not log lines). */
export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CommandOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Runs the server mode until the server stops; resolves to the exit code.
 *
 * @throws {InvalidArgumentError} for bad flags, an unreadable config file, a
 * log or pid file that cannot be written.
 * @throws {Error} whatever `listen()` rejects with (address in use, ...).
 */
export async function runServerCommand(
  argv: readonly string[],
  out: CommandOutput = processOutput,
): Promise<number> {
  let config: ServerConfig;
  try {
    config = parseServerArgs(argv);
  } catch (err: unknown) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new InvalidArgumentError(`${err.message} (see gearman-ts server --help)`, { cause: err });
  }
  if (config.help) {
    out.stdout(SERVER_HELP);
    return 0;
  }
  if (config.version) {
    out.stdout(VERSION_LINE + "\n");
    return 0;
  }
  for (const note of config.notes) out.stderr(`gearman-ts: note: ${note}\n`);
  if (config.checkArgs) return 0;
  return await serve(config, out);
}

async function serve(config: ServerConfig, out: CommandOutput): Promise<number> {
  const log = openLogTarget(config.logFile);
  const logger = new Logger(config.logLevel, log.sink);
  const server = createServer({ ...config.options, logger, pid: process.pid });
  let finish!: (code: number) => void;
  const exit = new Promise<number>((resolve) => (finish = resolve));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second SIGTERM/SIGINT while closing: give up waiting.
      logger.warning(`${signal} again, exiting without waiting for shutdown`);
      finish(1);
      return;
    }
    stopping = true;
    logger.notice(`${signal} received, shutting down`);
    server.close().catch((err: unknown) => {
      logger.error(`shutdown failed: ${describe(err)}`);
      finish(1);
    });
  };
  const removeSignals = onSignals({
    SIGTERM: () => stop("SIGTERM"),
    SIGINT: () => stop("SIGINT"),
    SIGUSR1: () => {
      logger.notice("SIGUSR1 received, shutting down gracefully once no job is queued or running");
      server.drain().catch((err: unknown) =>
        logger.error(`graceful shutdown failed: ${describe(err)}`)
      );
    },
    SIGHUP: () => {
      log.reopen();
      logger.notice(`SIGHUP received, reopened log file ${log.name}`);
    },
  });
  server.stopped.then(() => finish(0), (err: unknown) => {
    logger.error(`server stopped on error: ${describe(err)}`);
    finish(1);
  });

  const pidFile = config.pidFile;
  const removePid = () => void (pidFile !== undefined && removePidFile(pidFile));
  try {
    let addrs: readonly Addr[];
    try {
      addrs = await server.listen();
    } catch (err: unknown) {
      await server.close().catch(() => {});
      throw err;
    }
    if (pidFile !== undefined) {
      process.on("exit", removePid);
      try {
        writePidFile(pidFile, process.pid);
      } catch (err: unknown) {
        await server.close().catch(() => {});
        throw err;
      }
    }
    announce(addrs, server.store, out);
    return await exit;
  } finally {
    removeSignals();
    removePid();
    process.off("exit", removePid);
    log.close();
  }
}

/** The startup lines on stderr: addresses, the loopback-only notice, the store. */
function announce(
  addrs: readonly Addr[],
  store: GearmanServer["store"],
  out: CommandOutput,
): void {
  const list = addrs.map(formatAddr).join(", ");
  let text = `${VERSION_LINE} listening on ${list} (pid ${process.pid})\n`;
  if (addrs.length > 0 && addrs.every((a) => isLoopback(a.hostname))) {
    text += "gearman-ts: listening on loopback only; to accept connections from other hosts " +
      "add -L 0.0.0.0 (IPv4) or -L :: (IPv6)\n";
  }
  if (store !== undefined) {
    text += store.name === "memory"
      ? "gearman-ts: background jobs are kept in memory only (lost when the server stops)\n"
      : `gearman-ts: background jobs are kept in ${store.name} (${store.replayed} replayed)\n`;
  }
  out.stderr(text);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
