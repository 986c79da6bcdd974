/**
 * Child processes with bounded lifetimes for tests: each one runs in its own
 * process group with captured output, and is killed (group and all) when it
 * overstays. Asynchronous only: a blocking spawnSync would deadlock a server
 * running in this process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import type { Buffer } from "node:buffer";
import { waitFor, withTimeout } from "./_wait.ts";

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
