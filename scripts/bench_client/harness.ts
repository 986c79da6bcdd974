/**
 * Process plumbing for scripts/bench_client.ts: children in their own process
 * groups with a line protocol on stdin/stdout, CPU time from /proc, ports,
 * and waits (for a port, for registered workers, for idle CPUs).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import process from "node:process";

export const HERE = fileURLToPath(new URL(".", import.meta.url));
export const ROOT = join(HERE, "..", "..");
export const BIN = join(ROOT, "node_modules", ".bin");
export const PHP_DIR = HERE;
export const HOST = "127.0.0.1";
/** /proc/<pid>/stat counts CPU time in ticks of 10 ms (USER_HZ is 100 on Linux). */
export const TICK_MS = 10;

export type Rt = "node" | "deno" | "bun";

export const log = (s: string): void => void process.stderr.write(s + "\n");
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The command that runs a TypeScript file on runtime `rt` (node flags go first). */
export function roleCommand(rt: Rt, file: string, args: readonly string[], nodeFlags: readonly string[]): string[] {
  const bin = join(BIN, rt);
  if (rt === "deno") return [bin, "run", "-A", file, ...args];
  if (rt === "bun") return [bin, file, ...args];
  return [bin, ...nodeFlags, file, ...args];
}

/** A child process in its own process group, speaking one line at a time. */
export class Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly name: string;
  readonly exited: Promise<void>;
  #lines: string[] = [];
  #partial = "";
  #wake: (() => void) | undefined;
  #stderr = "";
  #done = false;

  constructor(cmd: readonly string[], onExit: (c: Child) => void) {
    this.name = cmd.slice(0, 3).map((a) => a.split("/").pop()).join(" ");
    this.proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.pid = this.proc.pid ?? -1;
    this.proc.stdin?.on("error", () => {});
    this.proc.stdout?.setEncoding("utf8");
    this.proc.stdout?.on("data", (text: string) => {
      const parts = (this.#partial + text).split("\n");
      this.#partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      this.#notify();
    });
    this.proc.stderr?.setEncoding("utf8");
    this.proc.stderr?.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", () => {
        this.#done = true;
        onExit(this);
        this.#notify();
        resolve();
      });
      this.proc.on("error", (err) => {
        this.#stderr += String(err);
        this.#done = true;
        onExit(this);
        this.#notify();
        resolve();
      });
    });
  }

  get hasExited(): boolean {
    return this.#done;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** The next line of output, waiting at most `timeoutMs`. */
  async line(timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#done) throw new Error(`${this.name} exited early: ${this.#stderr.trim()}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no answer within ${timeoutMs} ms: ${this.#stderr.trim()}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#lines.shift()!;
  }

  async expectLine(text: string, timeoutMs: number): Promise<void> {
    const got = await this.line(timeoutMs);
    if (got !== text) throw new Error(`${this.name}: expected "${text}", got "${got}" ${this.#stderr.trim()}`);
  }

  async json(timeoutMs: number): Promise<{ jobs: number; startMs: number; endMs: number }> {
    return JSON.parse(await this.line(timeoutMs));
  }

  writeLine(text: string): void {
    this.proc.stdin?.write(text + "\n");
  }

  endInput(): void {
    this.proc.stdin?.end();
  }

  /** SIGKILL to the whole process group. */
  kill(): void {
    if (this.#done) return;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      this.proc.kill("SIGKILL");
    }
  }

  /** Waits for the exit; kills the group after `ms`. */
  async exitWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    if (!this.#done) {
      this.kill();
      await this.exited;
    }
  }
}

/** Kills every child still running (synchronously, for exit handlers). */
export function killAll(children: Iterable<Child>): void {
  for (const c of [...children]) c.kill();
}

/** User + system CPU ticks of a process (0 once it is gone). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, HOST);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Waits until `port` accepts connections (10 s at most). */
export async function waitConnect(port: number, proc: Child): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await tryConnect(port))) {
    if (proc.hasExited) throw new Error(`${proc.name} exited before listening`);
    if (Date.now() > end) throw new Error(`${proc.name} did not listen on ${port}`);
    await sleep(20);
  }
}

/** One admin command's listing (until the "." line). */
function adminListing(port: number, command: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, HOST);
    let text = "";
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      text += d;
      if (text === ".\n" || text.endsWith("\n.\n")) {
        s.destroy();
        resolve(text.split("\n").slice(0, -2));
      }
    });
    s.on("error", reject);
    s.write(`${command}\n`);
  });
}

/** Waits until `fn` has `count` worker connections (20 s at most). */
export async function waitWorkers(port: number, fn: string, count: number, procs: readonly Child[]): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const line = (await adminListing(port, "status")).find((l) => l.startsWith(fn + "\t"));
    if (line !== undefined && Number(line.split("\t")[3]) >= count) return;
    const dead = procs.find((p) => p.hasExited);
    if (dead !== undefined) throw new Error(`${dead.name} exited before registering`);
    if (Date.now() > end) throw new Error(`workers of ${fn} did not register`);
    await sleep(20);
  }
}

function busyJiffies(): [number, number] {
  const cpu = readFileSync("/proc/stat", "latin1").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

/** Waits (at most `maxMs`) until the CPUs are nearly idle: < 0.3 cores busy over 200 ms. */
export async function waitIdle(maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  const cores = (await import("node:os")).cpus().length;
  for (;;) {
    const [b0, t0] = busyJiffies();
    await sleep(200);
    const [b1, t1] = busyJiffies();
    const busyCores = t1 > t0 ? ((b1 - b0) / (t1 - t0)) * cores : 0;
    if (busyCores < 0.3) return;
    if (Date.now() > end) {
      log(`bench_client: CPUs still ${busyCores.toFixed(2)} cores busy; running anyway`);
      return;
    }
  }
}
