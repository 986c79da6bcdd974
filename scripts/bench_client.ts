/**
 * Our client and worker (mod.ts) against the PHP extension's (libgearman),
 * on the same server: gearman-ts (`cli.ts server --store memory`) and
 * gearmand. Every round starts each server fresh per payload size and runs,
 * for each library in turn (the order alternates per round: A B, then B A):
 *
 *   fg  foreground jobs/s with C jobs in flight: our client keeps C submits
 *       running in one process, against our worker (one process,
 *       `concurrency: W`); PHP runs P client processes looping addTask x C/P +
 *       runTasks, against W GearmanWorker processes. Counted over a fixed
 *       window after a warm-up.
 *   bg  background submit jobs/s: our client keeps B submits in flight in one
 *       process; PHP runs P processes of addTaskBackground x B/P + runTasks.
 *
 * Workers answer with the workload, so a 1 MiB job moves 1 MiB each way. The
 * script prints medians over the rounds, ours/PHP ratios, and CPU time per
 * job of the client, worker and server processes (from /proc, so Linux only).
 * Every child runs in its own process group and is killed at the end, also on
 * Ctrl-C or when --max-seconds passes. The default run takes about 2 minutes.
 *
 * Usage: node scripts/bench_client.ts [options]   (or bun / deno run -A)
 *   --rounds N          interleaved rounds (3)
 *   --servers LIST      gearman-ts,gearmand
 *   --sizes LIST        payload bytes (16,1048576)
 *   --concurrency C     foreground jobs in flight (16)
 *   --workers W         worker concurrency: ours in one process, PHP processes (4)
 *   --php-clients P     PHP client processes sharing C and B (2)
 *   --seconds S         foreground window after a 0.3 s warm-up (1.5)
 *   --bg-jobs N         background jobs per run, small payloads (20000)
 *   --bg-jobs-big N     background jobs per run, payloads >= 64 KiB (200)
 *   --bg-window B       background submits in flight, small payloads (500)
 *   --bg-seconds S      no background batch starts after this long (2)
 *   --pairs LIST        foreground client/worker pairs (ts/ts,php/php); add
 *                       ts/php and php/ts to tell client from worker costs
 *   --runtime R         runtime of our client and worker: node, deno, bun
 *                       (the one running this script)
 *   --server-runtime R  runtime of the gearman-ts server (node)
 *   --gearmand-threads  gearmand -t (0: one thread, as bench_vs_gearmand.ts)
 *   --cpu-prof          run our client and worker (on node) with --cpu-prof
 *                       and print their top self-time functions
 *   --max-wait S        total time to wait for idle CPUs before runs (20)
 *   --max-seconds S     give up (and clean up) after this long (300)
 *   --json              print the results as JSON instead of a table
 *
 * @module
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { detectRuntime } from "../src/net/runtime.ts";
import { killAll, killChildrenOnExit } from "./bench_lib/children.ts";
import { type Fail, log, numberOption, parseCommandLine } from "./bench_lib/command_line.ts";
import { profileSummary } from "./bench_lib/cpu_profile.ts";
import { BIN, isRuntime, type Runtime, SCRATCH } from "./bench_lib/paths.ts";
import { waitForIdleCpus } from "./bench_lib/proc_stats.ts";
import { progressLine, report } from "./bench_client/report.ts";
import {
  type Kind,
  type Lib,
  type Run,
  runBg,
  runFg,
  type Settings,
  startServer,
} from "./bench_client/runs.ts";

const fail: Fail = (problem) => {
  log(`bench_client: ${problem}`);
  process.exit(2);
};

const opt = parseCommandLine(
  {
    rounds: { type: "string" },
    servers: { type: "string", default: "gearman-ts,gearmand" },
    sizes: { type: "string", default: "16,1048576" },
    concurrency: { type: "string" },
    workers: { type: "string" },
    "php-clients": { type: "string" },
    seconds: { type: "string" },
    "bg-jobs": { type: "string" },
    "bg-jobs-big": { type: "string" },
    "bg-window": { type: "string" },
    "bg-seconds": { type: "string" },
    "max-wait": { type: "string" },
    pairs: { type: "string", default: "ts/ts,php/php" },
    runtime: { type: "string" },
    "server-runtime": { type: "string", default: "node" },
    "gearmand-threads": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "max-seconds": { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  import.meta.url,
  fail,
);
const int = numberOption(opt, fail);
const real = (name: string, dflt: number, min: number) => int(name, dflt, min, true);
const runtime = (name: string, value: string): Runtime =>
  isRuntime(value) ? value : fail(`--${name}: unknown runtime ${value}`);

const ROUNDS = int("rounds", 3, 1);
const SERVERS = opt.servers.split(",").map((k): Kind =>
  k === "gearman-ts" || k === "gearmand" ? k : fail(`--servers: unknown server ${k}`)
);
const SIZES = opt.sizes.split(",").map((size) => {
  const n = Number(size);
  return Number.isInteger(n) && n >= 0 ? n : fail(`--sizes: not a byte count: ${size}`);
});
const PAIRS = opt.pairs.split(",").map((pair): [Lib, Lib] => {
  const [client, worker] = pair.split("/");
  const lib = (l: string | undefined) => l === "ts" || l === "php";
  return lib(client) && lib(worker)
    ? [client as Lib, worker as Lib]
    : fail(`--pairs: bad pair ${pair}`);
});
const MAX_SECONDS = real("max-seconds", 300, 1);
const PROF_DIR = join(SCRATCH, "prof-client");
const settings: Settings = {
  concurrency: int("concurrency", 16, 1),
  workers: int("workers", 4, 1),
  phpClients: int("php-clients", 2, 1),
  seconds: real("seconds", 1.5, 0.1),
  bgJobs: int("bg-jobs", 20000, 1),
  bgJobsBig: int("bg-jobs-big", 200, 1),
  bgWindow: int("bg-window", 500, 1),
  bgSeconds: real("bg-seconds", 2, 0.1),
  runtime: opt.runtime === undefined ? detectRuntime() : runtime("runtime", opt.runtime),
  serverRuntime: runtime("server-runtime", opt["server-runtime"]),
  gearmandThreads: String(int("gearmand-threads", 0, 0)),
  profDir: opt["cpu-prof"] ? PROF_DIR : undefined,
};
const RUNTIME = settings.runtime;

killChildrenOnExit("bench_client");
const deadline = setTimeout(() => {
  log(`bench_client: gave up after ${MAX_SECONDS} s`);
  killAll();
  process.exit(1);
}, MAX_SECONDS * 1000);
(deadline as { unref?: () => void }).unref?.();

async function main(): Promise<void> {
  if (opt["cpu-prof"]) {
    rmSync(PROF_DIR, { recursive: true, force: true });
    mkdirSync(PROF_DIR, { recursive: true });
  }
  if (!existsSync(join(BIN, RUNTIME))) throw new Error(`no ${RUNTIME} in ${BIN}`);
  const started = Date.now();
  const runs: Run[] = [];
  const push = (run: Run, round: number) => {
    runs.push(run);
    log(progressLine(run, round));
  };
  let idleBudget = real("max-wait", 20, 0) * 1000;
  for (let round = 0; round < ROUNDS; round++) {
    const servers = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const kind of servers) {
      for (const size of SIZES) {
        const { cores, spentMs } = await waitForIdleCpus(Math.min(idleBudget, 10_000), 200, 0.3);
        if (cores >= 0.3) {
          log(`bench_client: CPUs still ${cores.toFixed(2)} cores busy; running anyway`);
        }
        idleBudget = Math.max(0, idleBudget - spentMs);
        const srv = await startServer(kind, settings);
        const pairs = round % 2 === 0 ? PAIRS : [...PAIRS].reverse();
        for (const pair of pairs) push(await runFg(srv, size, pair, settings), round);
        const libs: Lib[] = round % 2 === 0 ? ["ts", "php"] : ["php", "ts"];
        for (const lib of libs) push(await runBg(srv, size, lib, settings), round);
        srv.proc.kill();
        await srv.proc.exitWithin(5_000);
      }
    }
  }
  log(`bench_client: ${ROUNDS} round(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(report(runs, ROUNDS, settings, opt.json));
  if (opt["cpu-prof"]) {
    await sleep(200);
    log(profileSummary(PROF_DIR, ["src/client/", "src/worker/"]));
  }
}

try {
  await main();
} finally {
  killAll();
  clearTimeout(deadline);
}
