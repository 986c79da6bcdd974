/**
 * What Linux's /proc says about the machine and the benchmarked processes:
 * busy CPUs, CPU time per process, resident memory, and a wait for idle CPUs
 * (the machine may be shared).
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** USER_HZ: the unit of /proc/stat and /proc/<pid>/stat, in ticks per second. */
export const HZ = 100;

/** Busy jiffies of all CPUs (user, nice, system, irq, softirq, steal). */
export function busyJiffies(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return [0, 1, 2, 5, 6, 7].reduce((acc, i) => acc + (f[i] ?? 0), 0);
}

/**
 * utime + stime of one process, in jiffies (0 once it is gone); with
 * `reaped`, plus cutime + cstime: the children it has waited for.
 */
export function cpuJiffies(pid: number | "self", reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
}

/** VmRSS in KiB of `pid` and its descendants. */
export function treeRssKb(pid: number): number {
  const rss = (p: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
  const kids = (p: number) =>
    readdirSync(`/proc/${p}/task`).flatMap((tid) =>
      readFileSync(`/proc/${p}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(
        Number,
      )
    );
  let total = 0;
  for (const todo = [pid]; todo.length > 0;) {
    const p = todo.pop()!;
    try {
      total += rss(p);
      todo.push(...kids(p));
    } catch { /* exited meanwhile */ }
  }
  return total;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Samples the busy cores over windows of `windowMs` until fewer than
 * `maxCores` are busy or `maxMs` has passed (one window at least). Returns
 * the last sample, in cores, and the time spent.
 */
export async function waitForIdleCpus(
  maxMs: number,
  windowMs: number,
  maxCores: number,
): Promise<{ cores: number; spentMs: number }> {
  const start = Date.now();
  let cores = 0;
  if (!existsSync("/proc/stat")) return { cores, spentMs: 0 };
  do {
    const b0 = busyJiffies(), t0 = Date.now();
    await sleep(windowMs);
    cores = (busyJiffies() - b0) / HZ / ((Date.now() - t0) / 1000);
  } while (cores >= maxCores && Date.now() - start < maxMs);
  return { cores, spentMs: Date.now() - start };
}

/**
 * A wait until the CPUs are nearly idle (< 0.25 cores busy over 0.5 s). All
 * calls draw on one budget of `budgetMs`; `onBusy` hears of the call that
 * spends what is left with the CPUs still busy.
 */
export function idleWait(budgetMs: number, onBusy: (cores: number) => void): () => Promise<void> {
  let left = budgetMs;
  return async () => {
    if (left <= 0) return;
    const { cores, spentMs } = await waitForIdleCpus(left, 500, 0.25);
    left -= spentMs;
    if (cores >= 0.25) onBusy(cores);
  };
}
