/**
 * The job server a test talks to, always on 127.0.0.1 and a free port: ours
 * in this process, or a real gearmand child process. `startTarget()` picks one
 * by `GEARMAN_TS_TARGET`; `startGearmand()` and `startGearmanTs()` start the
 * one named, for tests that compare the two.
 */
import { connect, createServer as createTcpServer } from "node:net";
import process from "node:process";
import { startProcess } from "./_procs.ts";
import { waitFor } from "./_wait.ts";

/** The only address tests use. */
export const HOST = "127.0.0.1";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createTcpServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => port > 0 ? resolve(port) : reject(new Error("no port assigned")));
    });
  });
}

/** True when a TCP connection to `port` is accepted within `timeoutMs`. */
export function canConnect(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: HOST, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** Server settings a test may ask for; each maps to a gearmand flag. */
export interface TargetOptions {
  /** `-j/--job-retries`. */
  readonly jobRetries?: number;
  /** `-w/--worker-wakeup`. */
  readonly workerWakeup?: number;
  /** `--exceptions`. */
  readonly exceptions?: boolean;
  /** `--job-handle-prefix`. */
  readonly jobHandlePrefix?: string;
}

/** A running job server on 127.0.0.1. */
export interface Target {
  readonly kind: "gearmand" | "gearman-ts";
  readonly host: typeof HOST;
  readonly port: number;
  /** The process id `getpid` should report. */
  readonly pid: number;
  /** gearmand's stderr so far (empty for our server). */
  logs(): string;
  close(): Promise<void>;
}

/** Which server `startTarget` starts: `GEARMAN_TS_TARGET=gearmand` selects the real one. */
export const TARGET_KIND: Target["kind"] = process.env.GEARMAN_TS_TARGET === "gearmand"
  ? "gearmand"
  : "gearman-ts";

/** Where the real gearmand lives (Debian's path), overridable with `GEARMAND`. */
export const GEARMAND = process.env.GEARMAND ?? "/usr/sbin/gearmand";

/** Starts the job server selected by `GEARMAN_TS_TARGET` on a free port. */
export async function startTarget(opts: TargetOptions = {}): Promise<Target> {
  return TARGET_KIND === "gearmand" ? await startGearmand(opts) : await startGearmanTs(opts);
}

/**
 * Starts the real gearmand (`GEARMAND`) on a free port of 127.0.0.1 and waits
 * (at most 10 s) until it accepts connections. `close()` sends SIGTERM.
 */
export async function startGearmand(opts: TargetOptions = {}): Promise<Target> {
  const port = await freePort();
  const args = ["-L", HOST, "-p", String(port), "-l", "stderr"];
  if (opts.jobRetries !== undefined) args.push(`--job-retries=${opts.jobRetries}`);
  if (opts.workerWakeup !== undefined) args.push(`--worker-wakeup=${opts.workerWakeup}`);
  if (opts.exceptions) args.push("--exceptions");
  if (opts.jobHandlePrefix !== undefined) args.push(`--job-handle-prefix=${opts.jobHandlePrefix}`);
  const proc = startProcess(GEARMAND, args);
  try {
    await waitFor(async () => {
      if (proc.hasExited) throw new Error(`gearmand exited early: ${proc.stderr}`);
      return await canConnect(port, 200);
    }, {
      timeoutMs: 10000,
      intervalMs: 25,
      what: `gearmand to accept connections on ${HOST}:${port}`,
    });
  } catch (err) {
    await proc.kill("SIGKILL");
    throw err;
  }
  return {
    kind: "gearmand",
    host: HOST,
    port,
    pid: proc.pid,
    logs: () => proc.stderr,
    close: () => proc.kill("SIGTERM"),
  };
}

/** The part of `src/server/server.ts` these helpers use. */
interface ServerModule {
  createServer(opts: Record<string, unknown>): {
    listen(): Promise<readonly { readonly hostname: string; readonly port: number }[]>;
    close(): Promise<void>;
  };
}

/** Starts our server in this process on a free port of 127.0.0.1. */
export async function startGearmanTs(opts: TargetOptions = {}): Promise<Target> {
  // A computed specifier keeps `deno test` from type-checking the server
  // source along with these tests, so a peer test run against gearmand does
  // not depend on the state of src/.
  const specifier = new URL("../src/server/server.ts", import.meta.url).href;
  const { createServer } = (await import(specifier)) as ServerModule;
  const server = createServer({ ...opts, listen: [HOST], port: 0, pid: process.pid });
  const [addr] = await server.listen();
  if (addr === undefined) throw new Error("createServer().listen() returned no address");
  return {
    kind: "gearman-ts",
    host: HOST,
    port: addr.port,
    pid: process.pid,
    logs: () => "",
    close: () => server.close(),
  };
}
