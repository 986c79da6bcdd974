/**
 * The command line of scripts/bench_vs_gearmand.ts (its usage comment lists
 * the options) and what it selects: servers, generators and workloads.
 *
 * @module
 */
import process from "node:process";
import { type Fail, log, numberOption, parseCommandLine } from "../bench_lib/command_line.ts";
import { isRuntime, type Runtime, RUNTIMES } from "../bench_lib/paths.ts";

/** Where gearman-ts can run as a server: a runtime, or the executable `bun build --compile` makes. */
const SERVER_RUNTIMES = [...RUNTIMES, "binary"] as const;
export type ServerRuntime = (typeof SERVER_RUNTIMES)[number];
/** A server under test. */
export type Target = "gearmand" | ServerRuntime;
/** The load generators: gearbench (libgearman) and `gearman-ts bench`. */
const GENERATORS = ["C", "ts"] as const;
export type Gen = (typeof GENERATORS)[number];

/** Cores of other CPU above which a server run is measured again. */
export const NOISY = 0.3;

export interface Options {
  readonly rounds: number;
  /** Jobs submitted in (a). */
  readonly jobs: number;
  /** Durations of (c) and (f), after 0.5 s of warm-up. */
  readonly seconds: number;
  readonly bigSeconds: number;
  readonly gearmandThreads: number;
  /** Total time to wait for idle CPUs before runs. */
  readonly maxWaitMs: number;
  readonly reruns: number;
  /** Jobs queued in (d), idle workers in (e). */
  readonly rssJobs: number;
  readonly idleWorkers: number;
  /** Letters from abcdef. */
  readonly workloads: string;
  readonly runtimes: readonly ServerRuntime[];
  readonly gens: readonly Gen[];
  readonly genRuntime: Runtime;
  readonly cpuProf: boolean;
  readonly json: boolean;
}

const fail: Fail = (problem) => {
  log(`bench: ${problem} (see --help)`);
  process.exit(2);
};

/** The options of this process's command line; exits on --help or a bad one. */
export function parseOptions(entryUrl: string): Options {
  const opt = parseCommandLine(
    {
      rounds: { type: "string" },
      runtimes: { type: "string", default: RUNTIMES.join(",") },
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      workloads: { type: "string", default: "abcf" },
      jobs: { type: "string" },
      seconds: { type: "string" },
      "big-seconds": { type: "string" },
      generators: { type: "string", default: GENERATORS.join(",") },
      "generator-runtime": { type: "string", default: "bun" },
      "gearmand-threads": { type: "string", default: "0" },
      "max-wait": { type: "string", default: "60" },
      reruns: { type: "string", default: "4" },
      "cpu-prof": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    entryUrl,
    fail,
  );
  const num = numberOption(opt, fail);
  const quick = opt.quick;
  const rounds = num("rounds", quick ? 1 : 3, 1);
  const jobs = num("jobs", quick ? 20_000 : 100_000, 1);
  const seconds = num("seconds", quick ? 1.5 : 3, 0.5, true);
  const bigSeconds = num("big-seconds", quick ? 1 : 2, 0.5, true);
  const gearmandThreads = num("gearmand-threads", 0, 0);
  const maxWaitMs = num("max-wait", 60, 0, true) * 1000;
  const reruns = num("reruns", 4, 0);
  const workloads = opt.workloads;
  if (!/^[abcdef]+$/.test(workloads)) {
    fail(`--workloads takes letters from abcdef, got ${workloads}`);
  }
  const runtimes = opt.runtimes.split(",").filter(Boolean).map((r) =>
    (SERVER_RUNTIMES as readonly string[]).includes(r)
      ? (r as ServerRuntime)
      : fail(`--runtimes: unknown runtime ${r}`)
  );
  const gens = opt.generators.split(",").filter(Boolean).map((g) =>
    (GENERATORS as readonly string[]).includes(g)
      ? (g as Gen)
      : fail(`--generators: expected C or ts, got ${g}`)
  );
  if (gens.length === 0) fail("--generators: none given");
  const genRuntime = opt["generator-runtime"];
  if (!isRuntime(genRuntime)) return fail(`--generator-runtime: unknown runtime ${genRuntime}`);
  return {
    rounds,
    jobs,
    seconds,
    bigSeconds,
    gearmandThreads,
    maxWaitMs,
    reruns,
    rssJobs: quick ? 200_000 : 1_000_000,
    idleWorkers: quick ? 1000 : 5000,
    workloads,
    runtimes,
    gens,
    genRuntime,
    cpuProf: opt["cpu-prof"],
    json: opt.json,
  };
}
