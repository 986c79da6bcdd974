/**
 * The shared C load generator (../shared/bench/gearbench.c, on libgearman):
 * built into .bench/ when missing or older than its source, run with a hard
 * time bound, and its `RESULT key=value ...` line read into fields.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { type Finished, runToEnd } from "./children.ts";
import { ROOT, SCRATCH } from "./paths.ts";

const GEARBENCH_SOURCE: string = resolve(ROOT, "../shared/bench/gearbench.c");
export const GEARBENCH: string = join(SCRATCH, "gearbench");
/** gearbench's own bound per workload, in seconds (-t); the child is killed 25 s later. */
export const MAXT = 20;

/** One generator run's results, as gearbench prints them: `key=value`. */
export type Fields = Record<string, string>;

/** The number in field `k` (NaN when absent). */
export const num = (f: Fields, k: string): number => (f[k] === undefined ? NaN : Number(f[k]));

/** Builds .bench/gearbench unless it is newer than its source; true when it compiled it. */
export function buildGearbench(): boolean {
  const built = existsSync(GEARBENCH);
  if (built && !existsSync(GEARBENCH_SOURCE)) return false;
  if (!existsSync(GEARBENCH_SOURCE)) throw new Error(`no load generator at ${GEARBENCH_SOURCE}`);
  if (built && statSync(GEARBENCH).mtimeMs >= statSync(GEARBENCH_SOURCE).mtimeMs) return false;
  if (!existsSync("/usr/include/libgearman-1.0/gearman.h")) {
    throw new Error(
      "libgearman-dev is missing: apt-get install -y libgearman-dev gearman-job-server",
    );
  }
  mkdirSync(SCRATCH, { recursive: true });
  const flags = ["-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter"];
  const cc = spawnSync(
    process.env.CC ?? "cc",
    [...flags, "-o", GEARBENCH, GEARBENCH_SOURCE, "-lgearman", "-lpthread"],
    { stdio: "inherit", timeout: 120_000 },
  );
  if (cc.status !== 0) throw new Error("building gearbench failed");
  return true;
}

/** The fields of the last `RESULT ` line of gearbench's output (none when it printed none). */
function resultFields(out: string): Fields {
  const line = out.split("\n").filter((l) => l.startsWith("RESULT ")).pop();
  if (!line) return {};
  return Object.fromEntries(
    line.slice(7).split(" ").map((kv) => kv.split("=") as [string, string]),
  );
}

/** Runs gearbench against `port` with job function `fn`; its RESULT fields, output and CPU time. */
export async function runGearbench(
  port: number,
  fn: string,
  args: readonly string[],
): Promise<Finished & { fields: Fields }> {
  const argv = [GEARBENCH, "-p", String(port), "-t", String(MAXT), "-f", fn, ...args];
  const run = await runToEnd(argv, (MAXT + 25) * 1000);
  return { ...run, fields: resultFields(run.out) };
}
