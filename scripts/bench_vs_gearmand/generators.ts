/**
 * The two load generators of scripts/bench_vs_gearmand.ts, driven with the
 * same workload shapes: gearbench (libgearman, C) and `gearman-ts bench`
 * (ours, run as this script again with --generator). Both return
 * gearbench-style fields plus `gen_cpu_s`, the CPU seconds the generator used.
 *
 * @module
 */
import { join } from "node:path";
import { runToEnd } from "../bench_lib/children.ts";
import { log } from "../bench_lib/command_line.ts";
import { type Fields, MAXT, runGearbench } from "../bench_lib/gearbench.ts";
import { ROOT, type Runtime, runtimeArgv } from "../bench_lib/paths.ts";
import { HOST } from "../bench_lib/ports.ts";
import type { Gen } from "./options.ts";

const SELF = join(ROOT, "scripts/bench_vs_gearmand.ts");

/** Logs the first lines of a generator's stderr, if it wrote any. */
function logStderr(what: string, err: string): void {
  if (err.trim()) log(`bench: ${what} stderr: ${err.trim().split("\n").slice(0, 3).join(" | ")}`);
}

/** Runs gearbench; returns its RESULT fields (empty on failure). */
export async function gearbench(port: number, fn: string, args: string[]): Promise<Fields> {
  const { fields, err, cpuSeconds } = await runGearbench(port, fn, args);
  logStderr(`gearbench ${args[0]}`, err);
  return Object.keys(fields).length === 0 ? {} : { ...fields, gen_cpu_s: String(cpuSeconds) };
}

/** Runs `gearman-ts bench --json` on `rt`; returns its one workload as gearbench-style fields. */
async function tsbench(rt: Runtime, port: number, fn: string, args: string[]): Promise<Fields> {
  const bench = ["--generator", "-h", HOST, "-p", String(port), "-f", fn, "--json", "-q", ...args];
  const { out, err, cpuSeconds } = await runToEnd(runtimeArgv(rt, SELF, bench), (MAXT + 25) * 1000);
  logStderr(`gearman-ts bench ${args.join(" ")}`, err);
  try {
    const w = (JSON.parse(out) as { workloads: Record<string, unknown>[] }).workloads[0] ?? {};
    const lat = (w.latencyUs ?? {}) as Record<string, number>;
    const f: Fields = {
      jobs: String(w.jobs),
      rate: String(w.jobsPerSecond),
      errors: String(w.errors),
      gen_cpu_s: String(cpuSeconds),
    };
    for (const p of ["p50", "p99", "p999"]) if (lat[p] !== undefined) f[`${p}_us`] = String(lat[p]);
    return f;
  } catch {
    return {};
  }
}

/** A workload shape: background submits, their drain, or foreground round trips. */
export interface Shape {
  readonly mode: "submit" | "drain" | "roundtrip";
  readonly n?: number;
  readonly size?: number;
  readonly secs?: number;
}

/** One workload shape as a run of generator `g` (ours on `rt`) against `port`. */
export function generator(
  g: Gen,
  rt: Runtime,
  port: number,
  fn: string,
  w: Shape,
): () => Promise<Fields> {
  const n = String(w.n ?? 0), size = String(w.size ?? 8), secs = String(w.secs ?? 0);
  if (g === "C") {
    const mode = w.mode === "submit"
      ? ["submit", "-n", n, "-c", "2", "-b", "1000"]
      : w.mode === "drain"
      ? ["drain", "-n", n, "-w", "4"]
      : ["roundtrip", "-c", "8", "-w", "4", "-d", secs];
    return () => gearbench(port, fn, ["-s", size, ...mode]);
  }
  const mode = w.mode === "submit"
    ? ["-t", "a", "-n", n, "--connections", "2", "-P", "1000", "-T", String(MAXT)]
    : w.mode === "drain"
    ? ["-t", "b", "-n", n, "-w", "4", "-T", String(MAXT)]
    : ["-t", "c", "-c", "8", "-w", "4", "-T", secs, "--warmup", "0.5", "-n", "1000000000"];
  return () => tsbench(rt, port, fn, ["-s", size, ...mode]);
}
