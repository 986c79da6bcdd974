/**
 * Shared test helpers: a job server to test against (ours in-process, or a
 * real gearmand when `GEARMAN_TS_TARGET=gearmand`), child processes with
 * bounded lifetimes, polling with deadlines, and a minimal raw Gearman
 * client for assertions on the wire. Uses only `node:` modules so that the
 * same file runs under `node --test`, `deno test` and `bun test`.
 *
 * Everything here is asynchronous on purpose: our server may run in this
 * very process, so a blocking call (spawnSync, a busy wait) would deadlock it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { delimiter, join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";

/** The only address tests use. */
export const HOST = "127.0.0.1";

// ---------------------------------------------------------------------------
// Time

/** Resolves after `ms` milliseconds (for polling intervals only, never as a wait for an event). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Pause between polls (default 20 ms). */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

/**
 * Polls `predicate` until it returns a truthy value and returns that value;
 * throws when the deadline passes. A predicate that throws counts as falsy.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? "a condition"}${why}`,
      );
    }
    await delay(opts.intervalMs ?? 20);
  }
}

/** Rejects if `promise` has not settled within `ms`; clears its timer either way. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Ports and commands

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

/** True when an executable `name` is on PATH (or `name` is an executable path). */
export function hasCommand(name: string): boolean {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, name));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** How a finished child process ended. */
export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process was killed for exceeding `timeoutMs`. */
  readonly timedOut: boolean;
}

/** Options of {@link run} and {@link startProcess}. */
export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is always closed). */
  readonly input?: string | Uint8Array;
  /** Kill the process (SIGKILL, whole group) after this long; default 10000 ms. */
  readonly timeoutMs?: number;
  /** Extra environment variables on top of this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Signals tests send to child processes. */
export type Signal = "SIGKILL" | "SIGTERM" | "SIGINT" | "SIGSTOP" | "SIGCONT";

/** A child process started in its own process group, with captured output. */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #stdout = "";
  #stderr = "";
  #exitedFlag = false;

  constructor(cmd: string, args: readonly string[], opts: RunOptions = {}) {
    this.child = spawn(cmd, [...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      // Own process group, so kill() also reaches grandchildren such as the
      // command a `gearman -w` worker runs.
      detached: true,
    });
    this.child.stdout?.on("data", (chunk: Buffer) => this.#stdout += chunk.toString("utf8"));
    this.child.stderr?.on("data", (chunk: Buffer) => this.#stderr += chunk.toString("utf8"));
    this.child.stdin?.on("error", () => {}); // EPIPE when the child ignores its input
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: string | null) => {
        this.#exitedFlag = true;
        resolve({ code, signal });
      };
      this.child.once("error", (err) => {
        this.#stderr += `spawn error: ${err.message}\n`;
        finish(127, null);
      });
      this.child.once("close", (code, signal) => finish(code, signal));
    });
    if (this.child.pid === undefined) {
      this.pid = -1;
    } else {
      this.pid = this.child.pid;
    }
    if (opts.input !== undefined) this.child.stdin?.end(opts.input);
    else this.child.stdin?.end();
  }

  get stdout(): string {
    return this.#stdout;
  }
  get stderr(): string {
    return this.#stderr;
  }
  get hasExited(): boolean {
    return this.#exitedFlag;
  }

  /** Waits until stdout matches `pattern`; throws with the output so far on timeout or exit. */
  async waitForOutput(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    return await waitFor(() => {
      const m = this.#stdout.match(pattern);
      if (m) return m;
      if (this.#exitedFlag) {
        throw new Error(`process exited; stdout=${JSON.stringify(this.#stdout)}`);
      }
      return null;
    }, {
      timeoutMs,
      what: `${pattern} on stdout of pid ${this.pid} (stderr: ${this.#stderr.slice(-300)})`,
    });
  }

  /** Sends `signal` to the whole process group and waits (bounded) for the exit. */
  async kill(signal: Signal = "SIGKILL", timeoutMs = 3000): Promise<void> {
    if (this.#exitedFlag || this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // already gone
      }
    }
    try {
      await withTimeout(this.exited, timeoutMs, `pid ${this.pid} to exit after ${signal}`);
    } catch (err) {
      if (signal === "SIGKILL") throw err;
      await this.kill("SIGKILL", timeoutMs);
    }
  }
}

/** Starts a long-running process; the caller must `kill()` it (see {@link Procs}). */
export function startProcess(cmd: string, args: readonly string[], opts: RunOptions = {}): Proc {
  return new Proc(cmd, args, opts);
}

/** Waits for `proc` to exit, killing its group if it runs longer than `timeoutMs`. */
async function finish(proc: Proc, timeoutMs: number): Promise<RunResult> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.kill("SIGKILL").catch(() => {});
  }, timeoutMs);
  try {
    const { code, signal } = await proc.exited;
    return { code, signal, stdout: proc.stdout, stderr: proc.stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a command to completion with a deadline (default 10 s). Never rejects
 * for a non-zero exit: the result says how it ended.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return finish(new Proc(cmd, args, opts), opts.timeoutMs ?? 10000);
}

/** Tracks the processes a test group starts so `after()` can kill all of them. */
export class Procs {
  readonly #all: Proc[] = [];

  start(cmd: string, args: readonly string[], opts: RunOptions = {}): Proc {
    const proc = startProcess(cmd, args, opts);
    this.#all.push(proc);
    return proc;
  }

  /** Like {@link run}, but the process is also killed by `killAll()`. */
  run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return finish(this.start(cmd, args, opts), opts.timeoutMs ?? 10000);
  }

  async killAll(): Promise<void> {
    const procs = this.#all.splice(0);
    await Promise.all(procs.map((p) => p.kill("SIGKILL").catch(() => {})));
  }
}

// ---------------------------------------------------------------------------
// The server under test

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
  return TARGET_KIND === "gearmand" ? await startGearmand(opts) : await startOurs(opts);
}

async function startGearmand(opts: TargetOptions): Promise<Target> {
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

async function startOurs(opts: TargetOptions): Promise<Target> {
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

// ---------------------------------------------------------------------------
// Raw Gearman protocol

/** Packet type numbers used by the tests (PROTOCOL.md §3). */
export const PT = {
  CAN_DO: 1,
  PRE_SLEEP: 4,
  NOOP: 6,
  SUBMIT_JOB: 7,
  JOB_CREATED: 8,
  GRAB_JOB: 9,
  NO_JOB: 10,
  JOB_ASSIGN: 11,
  WORK_STATUS: 12,
  WORK_COMPLETE: 13,
  WORK_FAIL: 14,
  GET_STATUS: 15,
  ECHO_REQ: 16,
  ECHO_RES: 17,
  SUBMIT_JOB_BG: 18,
  ERROR: 19,
  STATUS_RES: 20,
  SET_CLIENT_ID: 22,
  WORK_EXCEPTION: 25,
  WORK_DATA: 28,
  WORK_WARNING: 29,
  SUBMIT_JOB_HIGH_BG: 32,
  SUBMIT_JOB_LOW_BG: 34,
} as const;

// deno-fmt-ignore
/** Argument count of each server → peer packet type (the last may hold NULs). */
const RESPONSE_ARGS: Readonly<Record<number, number>> = {
  6: 0, 8: 1, 10: 0, 11: 3, 12: 3, 13: 2, 14: 1, 17: 1, 19: 2, 20: 5,
  25: 2, 27: 1, 28: 2, 29: 2, 31: 4, 40: 5, 42: 6,
};

/** One decoded packet. */
export interface RawPacket {
  readonly magic: "REQ" | "RES";
  readonly type: number;
  readonly args: readonly Buffer[];
  /** The whole payload, before splitting into args. */
  readonly payload: Buffer;
}

/** Encodes one binary packet: "\0REQ"/"\0RES", type u32be, size u32be, NUL-joined args. */
export function encodePacket(
  type: number,
  args: readonly (string | Uint8Array)[] = [],
  magic: "REQ" | "RES" = "REQ",
): Buffer {
  const payload = Buffer.concat(args.flatMap((a, i) => {
    const bytes = typeof a === "string" ? Buffer.from(a, "utf8") : Buffer.from(a);
    return i === 0 ? [bytes] : [Buffer.from([0]), bytes];
  }));
  const header = Buffer.alloc(12);
  header.write(`\0${magic}`, 0, "latin1");
  header.writeUInt32BE(type, 4);
  header.writeUInt32BE(payload.length, 8);
  return Buffer.concat([header, payload]);
}

function splitArgs(type: number, payload: Buffer): Buffer[] {
  const n = RESPONSE_ARGS[type] ?? 1;
  if (n === 0) return [];
  const args: Buffer[] = [];
  let start = 0;
  while (args.length < n - 1) {
    const nul = payload.indexOf(0, start);
    if (nul < 0) break;
    args.push(payload.subarray(start, nul));
    start = nul + 1;
  }
  args.push(payload.subarray(start));
  return args;
}

/**
 * A bare TCP connection that speaks the binary protocol and the text admin
 * protocol, for assertions on exactly what the server sends.
 */
export class RawConn {
  readonly socket: Socket;
  /** Resolves when the server closes the connection (or it errors). */
  readonly closed: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #isClosed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.#isClosed = true;
        this.#notify();
        resolve();
      };
      socket.once("close", done);
      socket.once("end", done);
    });
    socket.on("error", () => {}); // ECONNRESET after garbage is expected; "close" follows
    socket.on("data", (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#notify();
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static open(port: number, timeoutMs = 3000): Promise<RawConn> {
    return withTimeout(
      new Promise<RawConn>((resolve, reject) => {
        const socket = connect({ host: HOST, port });
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          socket.setNoDelay(true);
          resolve(new RawConn(socket));
        });
      }),
      timeoutMs,
      `a connection to ${HOST}:${port}`,
    );
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #until<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.#isClosed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await withTimeout(new Promise<void>((resolve) => this.#wake = resolve), left, what).catch(
        () => {},
      );
    }
  }

  /** Writes bytes as they are. */
  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  /** Sends one `\0REQ` packet. */
  send(type: number, ...args: (string | Uint8Array)[]): void {
    this.socket.write(encodePacket(type, args));
  }

  /** The next binary packet from the server. */
  nextPacket(timeoutMs = 5000): Promise<RawPacket> {
    return this.#until(
      () => {
        if (this.#buf.length < 12) return undefined;
        const size = this.#buf.readUInt32BE(8);
        if (this.#buf.length < 12 + size) return undefined;
        const magicText = this.#buf.toString("latin1", 0, 4);
        const type = this.#buf.readUInt32BE(4);
        const payload = Buffer.from(this.#buf.subarray(12, 12 + size));
        this.#buf = this.#buf.subarray(12 + size);
        const magic = magicText === "\0REQ" ? "REQ" : "RES";
        return { magic, type, payload, args: splitArgs(type, payload) } satisfies RawPacket;
      },
      timeoutMs,
      "a packet",
    );
  }

  /** The next packet, skipping NOOPs; fails if its type is not `type`. */
  async expect(type: number, timeoutMs = 5000): Promise<RawPacket> {
    for (;;) {
      const p = await this.nextPacket(timeoutMs);
      if (p.type === PT.NOOP && type !== PT.NOOP) continue;
      if (p.type !== type) {
        throw new Error(
          `expected packet type ${type}, got ${p.type} ${
            JSON.stringify(p.payload.toString("latin1"))
          }`,
        );
      }
      return p;
    }
  }

  /**
   * Sends one admin text command and returns the whole reply: one line for
   * `OK`/`ERR` answers, else everything up to the terminating `.\n` line.
   */
  async admin(command: string, timeoutMs = 5000): Promise<string> {
    this.socket.write(`${command}\r\n`);
    return await this.#until(
      () => {
        const text = this.#buf.toString("latin1");
        let end = -1;
        if (/^(OK|ERR)\b/.test(text)) {
          const nl = text.indexOf("\n");
          if (nl >= 0) end = nl + 1;
        } else if (text.startsWith(".\n")) {
          end = 2;
        } else {
          const dot = text.indexOf("\n.\n");
          if (dot >= 0) end = dot + 3;
        }
        if (end < 0) return undefined;
        this.#buf = this.#buf.subarray(end); // latin1: one char per byte
        return text.slice(0, end);
      },
      timeoutMs,
      `the reply to admin command ${JSON.stringify(command)}`,
    );
  }

  /** Closes the connection and waits (bounded) until it is gone. */
  async close(): Promise<void> {
    this.socket.destroy();
    await withTimeout(this.closed, 2000, "socket close").catch(() => {});
  }
}

/** Sends one admin command on a fresh connection and returns the reply. */
export async function admin(port: number, command: string, timeoutMs = 5000): Promise<string> {
  const conn = await RawConn.open(port);
  try {
    return await conn.admin(command, timeoutMs);
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------
// Admin listings

/** One line of `status`. */
export interface FunctionStatus {
  readonly total: number;
  readonly running: number;
  readonly workers: number;
}

function listingLines(text: string): string[] {
  const lines = text.split("\n");
  const dot = lines.indexOf(".");
  return (dot >= 0 ? lines.slice(0, dot) : lines).filter((l) => l !== "");
}

/** Parses `status` / `gearadmin --status` output into function → counts. */
export function parseStatus(text: string): Map<string, FunctionStatus> {
  const out = new Map<string, FunctionStatus>();
  for (const line of listingLines(text)) {
    const [name, total, running, workers] = line.split("\t");
    if (name === undefined) continue;
    out.set(name, { total: Number(total), running: Number(running), workers: Number(workers) });
  }
  return out;
}

/** Queued counts of one function by priority (`prioritystatus`). */
export interface PriorityStatus {
  readonly high: number;
  readonly normal: number;
  readonly low: number;
  readonly workers: number;
}

/** Parses `prioritystatus` / `gearadmin --priority-status` output. */
export function parsePriorityStatus(text: string): Map<string, PriorityStatus> {
  const out = new Map<string, PriorityStatus>();
  for (const line of listingLines(text)) {
    const [name, high, normal, low, workers] = line.split("\t");
    if (name === undefined) continue;
    out.set(name, {
      high: Number(high),
      normal: Number(normal),
      low: Number(low),
      workers: Number(workers),
    });
  }
  return out;
}

/** The lines of a listing without its terminating `.` line. */
export function parseListing(text: string): string[] {
  return listingLines(text);
}

/** Reads the `status` line of one function over the admin protocol (undefined when not listed). */
export async function functionStatus(
  port: number,
  fn: string,
): Promise<FunctionStatus | undefined> {
  return parseStatus(await admin(port, "status")).get(fn);
}

/** Waits until `fn` has at least `n` registered workers. */
export async function waitForWorkers(
  port: number,
  fn: string,
  n = 1,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(async () => ((await functionStatus(port, fn))?.workers ?? 0) >= n, {
    timeoutMs,
    what: `${n} worker(s) for ${fn}`,
  });
}
