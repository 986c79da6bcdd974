/**
 * The benchmarks' child processes: started from the checkout's root, tracked
 * until they exit, stopped gently or killed, and all killed when the script
 * exits or is interrupted.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { ROOT } from "./paths.ts";
import { HZ } from "./proc_stats.ts";

const live = new Set<ChildProcess>();
/** Children that lead their own process group, which is killed with them. */
const leaders = new WeakSet<ChildProcess>();
/** Children that could not be started at all: they never emit "exit". */
const failed = new WeakSet<ChildProcess>();

export interface SpawnOptions {
  /** stdin: "ignore" (the default) or "pipe". */
  readonly stdin?: "ignore" | "pipe";
  /** stdout and stderr: "pipe" (the default) or a file descriptor. */
  readonly output?: "pipe" | number;
  /** Run in a process group of its own, killed as a whole. */
  readonly group?: boolean;
  /** Called when the child cannot be started. */
  readonly onError?: (err: Error) => void;
}

/** Starts `argv` in the checkout's root and tracks it until it exits. */
export function spawnChild(argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const { stdin = "ignore", output = "pipe", group = false, onError } = options;
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    stdio: [stdin, output, output],
    detached: group,
  });
  live.add(child);
  if (group) leaders.add(child);
  child.once("exit", () => live.delete(child));
  child.once("error", (err) => {
    failed.add(child);
    live.delete(child);
    onError?.(err);
  });
  return child;
}

export const exited = (child: ChildProcess): boolean =>
  child.exitCode !== null || child.signalCode !== null || failed.has(child);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once `child` has exited. */
export const exitOf = (child: ChildProcess): Promise<void> =>
  new Promise<void>((r) => {
    if (exited(child)) return r();
    child.once("exit", () => r());
    child.once("error", () => r());
  });

/** SIGKILL to `child`, and to its whole group when it leads one. */
export function killHard(child: ChildProcess): void {
  if (exited(child)) return;
  if (leaders.has(child) && child.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL");
      return;
    } catch { /* the group is gone: kill the child alone */ }
  }
  child.kill("SIGKILL");
}

/** SIGTERM, then SIGKILL after `graceMs`; never waits more than graceMs + 2 s. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const gone = exitOf(child);
  if (!exited(child)) child.kill("SIGTERM");
  if (await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) return;
  killHard(child);
  await Promise.race([gone, sleep(2000)]);
}

/** Stops every child still running, each with `graceMs`. */
export async function stopAll(graceMs: number): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c, graceMs)));
}

/** Kills every child still running (synchronously, for exit handlers). */
export function killAll(): void {
  for (const child of [...live]) killHard(child);
}

/**
 * Kills the children when the script exits, and on SIGINT or SIGTERM (which
 * `name` reports on stderr) before exiting with 130.
 */
export function killChildrenOnExit(name: string): void {
  process.once("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      process.stderr.write(`${name}: ${sig}, stopping\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** What `runToEnd` returns: the child's output and the CPU time it used. */
export interface Finished {
  readonly out: string;
  readonly err: string;
  /** User + system CPU seconds (NaN when unknown). */
  readonly cpuSeconds: number;
}

/**
 * Runs `argv` to its end, killed after `timeoutMs`. Its CPU time is what `sh`
 * reads from its own /proc stat (cutime, cstime) once `argv` has exited.
 */
export async function runToEnd(argv: readonly string[], timeoutMs: number): Promise<Finished> {
  const report = '"$@"; s=$?; echo "cpu_ticks=$(cut -d" " -f16,17 /proc/$$/stat)"; exit $s';
  const child = spawnChild(["sh", "-c", report, "sh", ...argv]);
  let out = "", err = "";
  child.stdout!.on("data", (b: Uint8Array) => (out += b));
  child.stderr!.on("data", (b: Uint8Array) => (err += b));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exitOf(child);
  clearTimeout(timer);
  const ticks = /^cpu_ticks=(\d+) (\d+)$/m.exec(out);
  return {
    out: out.replace(/^cpu_ticks=.*$/m, ""),
    err,
    cpuSeconds: ticks ? (Number(ticks[1]) + Number(ticks[2])) / HZ : NaN,
  };
}
