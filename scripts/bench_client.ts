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
import process from "node:process";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import {
  BIN,
  Child,
  cpuTicks,
  freePort,
  HERE,
  HOST,
  killAll,
  log,
  median,
  PHP_DIR,
  ROOT,
  roleCommand,
  type Rt,
  sleep,
  TICK_MS,
  waitConnect,
  waitIdle,
  waitWorkers,
} from "./bench_client/harness.ts";
import { profileSummary } from "./bench_client/profile.ts";

const { values: opt } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    servers: { type: "string", default: "gearman-ts,gearmand" },
    sizes: { type: "string", default: "16,1048576" },
    concurrency: { type: "string", default: "16" },
    workers: { type: "string", default: "4" },
    "php-clients": { type: "string", default: "2" },
    seconds: { type: "string", default: "1.5" },
    "bg-jobs": { type: "string", default: "20000" },
    "bg-jobs-big": { type: "string", default: "200" },
    "bg-window": { type: "string", default: "500" },
    "bg-seconds": { type: "string", default: "2" },
    "max-wait": { type: "string", default: "20" },
    pairs: { type: "string", default: "ts/ts,php/php" },
    runtime: { type: "string" },
    "server-runtime": { type: "string", default: "node" },
    "gearmand-threads": { type: "string", default: "0" },
    "cpu-prof": { type: "boolean", default: false },
    "max-seconds": { type: "string", default: "300" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opt.help) {
  log("see the comment at the top of scripts/bench_client.ts");
  process.exit(0);
}

const currentRuntime = (): Rt => "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const ROUNDS = Number(opt.rounds);
const SERVERS = opt.servers.split(",") as ("gearman-ts" | "gearmand")[];
const SIZES = opt.sizes.split(",").map(Number);
const C = Number(opt.concurrency);
const W = Number(opt.workers);
const P = Number(opt["php-clients"]);
const SECONDS = Number(opt.seconds);
const WARMUP_MS = 300;
const RUNTIME = (opt.runtime ?? currentRuntime()) as Rt;
const SERVER_RUNTIME = opt["server-runtime"] as Rt;
const PAIRS = opt.pairs.split(",").map((p) => p.split("/") as [Lib, Lib]);
const BIG = 64 * 1024;
const PROF_DIR = join(ROOT, ".bench", "prof-client");
type Lib = "ts" | "php";
type Kind = "gearman-ts" | "gearmand";

/** One measured run. */
interface Run {
  readonly server: Kind;
  readonly size: number;
  readonly workload: string; // "fg ts/ts", "bg php", ...
  readonly jobsPerSec: number;
  /** CPU microseconds per job of the client, worker and server processes. */
  readonly cpuUs: { client: number; worker: number; server: number };
}

const runs: Run[] = [];
const children = new Set<Child>();
let seq = 0;

const spawnTracked = (cmd: readonly string[]): Child => {
  const child = new Child(cmd, (c) => children.delete(c));
  children.add(child);
  return child;
};

const cleanup = (): void => killAll(children);
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}
const deadline = setTimeout(() => {
  log(`bench_client: gave up after ${opt["max-seconds"]} s`);
  cleanup();
  process.exit(1);
}, Number(opt["max-seconds"]) * 1000);
(deadline as { unref?: () => void }).unref?.();

const ourRole = (args: readonly string[]): Child => {
  const node = opt["cpu-prof"] && RUNTIME === "node" ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : [];
  return spawnTracked(roleCommand(RUNTIME, join(HERE, "ts_role.ts"), args, node));
};
const php = (script: string, args: readonly string[]): Child =>
  spawnTracked(["php", join(PHP_DIR, script), ...args]);

async function startServer(kind: Kind): Promise<{ port: number; proc: Child }> {
  const port = await freePort();
  const proc = kind === "gearmand"
    ? spawnTracked([
      "gearmand", "-L", HOST, "-p", String(port), "--log-file", "none", "-t", opt["gearmand-threads"],
    ])
    : spawnTracked(roleCommand(SERVER_RUNTIME, join(ROOT, "cli.ts"), [
      "server", "--store", "memory", "-L", HOST, "-p", String(port), "--log-file", "none",
    ], []));
  await waitConnect(port, proc);
  return { port, proc };
}

/** Sum of user+system CPU ticks of `procs`. */
const ticks = (procs: readonly Child[]): number => procs.reduce((sum, p) => sum + cpuTicks(p.pid), 0);

/** Ends `procs`: those that read stdin stop at its end, PHP workers (which do not) are killed. */
async function finish(procs: readonly Child[]): Promise<void> {
  for (const p of procs) {
    if (p.name.includes("php_worker")) p.kill();
    else p.endInput();
  }
  await Promise.all(procs.map((p) => p.exitWithin(10_000)));
}

async function runFg(server: Kind, port: number, serverProc: Child, size: number, pair: [Lib, Lib]): Promise<Run> {
  const fn = `bench.fg.${++seq}`;
  const [clientLib, workerLib] = pair;
  const workers = workerLib === "ts"
    ? [ourRole(["worker", HOST, String(port), fn, String(W)])]
    : Array.from({ length: W }, () => php("php_worker.php", [HOST, String(port), fn]));
  await waitWorkers(port, fn, workers.length, workers);
  const clients = clientLib === "ts"
    ? [ourRole(["client", HOST, String(port), "fg", fn, String(size), String(C)])]
    : Array.from({ length: P }, () => php("php_client.php", [HOST, String(port), "fg", fn, String(size), String(Math.ceil(C / P))]));
  await Promise.all(clients.map((c) => c.expectLine("ready", 30_000)));
  const t0 = Date.now() + WARMUP_MS;
  const t1 = t0 + SECONDS * 1000;
  for (const c of clients) c.writeLine(`go ${t0} ${t1}`);
  await sleep(t0 - Date.now());
  const before = [ticks(clients), ticks(workers), cpuTicks(serverProc.pid)];
  await sleep(t1 - Date.now());
  const after = [ticks(clients), ticks(workers), cpuTicks(serverProc.pid)];
  const results = await Promise.all(clients.map((c) => c.json(60_000)));
  const jobs = results.reduce((s, r) => s + r.jobs, 0);
  await finish([...clients, ...workers]);
  const us = (i: number) => jobs === 0 ? 0 : ((after[i]! - before[i]!) * TICK_MS * 1000) / jobs;
  return {
    server, size, workload: `fg ${clientLib}/${workerLib}`,
    jobsPerSec: jobs / SECONDS,
    cpuUs: { client: us(0), worker: us(1), server: us(2) },
  };
}

async function runBg(server: Kind, port: number, serverProc: Child, size: number, lib: Lib): Promise<Run> {
  const fn = `bench.bg.${++seq}`;
  const count = size >= BIG ? Number(opt["bg-jobs-big"]) : Number(opt["bg-jobs"]);
  const window = size >= BIG ? Math.max(P, 8) : Number(opt["bg-window"]);
  const clients = lib === "ts"
    ? [ourRole(["client", HOST, String(port), "bg", fn, String(size), String(window), String(count)])]
    : Array.from({ length: P }, () =>
      php("php_client.php", [HOST, String(port), "bg", fn, String(size), String(Math.ceil(window / P)), String(Math.ceil(count / P))]));
  await Promise.all(clients.map((c) => c.expectLine("ready", 30_000)));
  const before = [ticks(clients), cpuTicks(serverProc.pid)];
  for (const c of clients) c.writeLine(`go 0 ${Date.now() + Number(opt["bg-seconds"]) * 1000}`);
  const results = await Promise.all(clients.map((c) => c.json(120_000)));
  const after = [ticks(clients), cpuTicks(serverProc.pid)];
  await finish(clients);
  const jobs = results.reduce((s, r) => s + r.jobs, 0);
  const ms = Math.max(...results.map((r) => r.endMs)) - Math.min(...results.map((r) => r.startMs));
  const us = (i: number) => ((after[i]! - before[i]!) * TICK_MS * 1000) / jobs;
  return { server, size, workload: `bg ${lib}`, jobsPerSec: (jobs * 1000) / ms, cpuUs: { client: us(0), worker: 0, server: us(1) } };
}

async function main(): Promise<void> {
  if (opt["cpu-prof"]) {
    rmSync(PROF_DIR, { recursive: true, force: true });
    mkdirSync(PROF_DIR, { recursive: true });
  }
  if (!existsSync(join(BIN, RUNTIME))) throw new Error(`no ${RUNTIME} in ${BIN}`);
  const started = Date.now();
  let idleBudget = Number(opt["max-wait"]) * 1000;
  for (let round = 0; round < ROUNDS; round++) {
    const servers = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const kind of servers) {
      for (const size of SIZES) {
        const waitStart = Date.now();
        await waitIdle(Math.min(idleBudget, 10_000));
        idleBudget = Math.max(0, idleBudget - (Date.now() - waitStart));
        const { port, proc } = await startServer(kind);
        const pairs = round % 2 === 0 ? PAIRS : [...PAIRS].reverse();
        for (const pair of pairs) push(await runFg(kind, port, proc, size, pair), round);
        const libs: Lib[] = round % 2 === 0 ? ["ts", "php"] : ["php", "ts"];
        for (const lib of libs) push(await runBg(kind, port, proc, size, lib), round);
        proc.kill();
        await proc.exitWithin(5_000);
      }
    }
  }
  log(`bench_client: ${ROUNDS} round(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  report();
  if (opt["cpu-prof"]) {
    await sleep(200);
    log(profileSummary(PROF_DIR, ["src/client/", "src/worker/"]));
  }
}

function push(run: Run, round: number): void {
  runs.push(run);
  log(
    `round ${round + 1} ${run.server.padEnd(10)} ${sizeName(run.size).padStart(5)} ${run.workload.padEnd(10)} ` +
      `${run.jobsPerSec.toFixed(0).padStart(7)} jobs/s  cpu us/job client ${run.cpuUs.client.toFixed(1)} ` +
      `worker ${run.cpuUs.worker.toFixed(1)} server ${run.cpuUs.server.toFixed(1)}`,
  );
}

const sizeName = (n: number): string =>
  n >= 1 << 20 ? `${n / (1 << 20)}MiB` : n >= 1024 ? `${n / 1024}KiB` : `${n}B`;

interface Summary {
  server: Kind;
  size: number;
  workload: string;
  rounds: number;
  jobsPerSec: number;
  cpuUs: { client: number; worker: number; server: number };
}

function summarize(): Summary[] {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = `${r.server}|${r.size}|${r.workload}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    server: g[0]!.server,
    size: g[0]!.size,
    workload: g[0]!.workload,
    rounds: g.length,
    jobsPerSec: median(g.map((r) => r.jobsPerSec)),
    cpuUs: {
      client: median(g.map((r) => r.cpuUs.client)),
      worker: median(g.map((r) => r.cpuUs.worker)),
      server: median(g.map((r) => r.cpuUs.server)),
    },
  }));
}

function report(): void {
  const rows = summarize();
  const find = (s: Summary, workload: string) =>
    rows.find((r) => r.server === s.server && r.size === s.size && r.workload === workload);
  const comparisons = rows
    .filter((r) => r.workload === "fg ts/ts" || r.workload === "bg ts")
    .map((ours) => {
      const php = find(ours, ours.workload === "bg ts" ? "bg php" : "fg php/php");
      return { ours, php, ratio: php === undefined ? NaN : ours.jobsPerSec / php.jobsPerSec };
    });
  const settings = {
    rounds: ROUNDS, concurrency: C, workers: W, phpClients: P, seconds: SECONDS, runtime: RUNTIME,
    serverRuntime: SERVER_RUNTIME, gearmandThreads: Number(opt["gearmand-threads"]),
    bgJobs: Number(opt["bg-jobs"]), bgJobsBig: Number(opt["bg-jobs-big"]), bgWindow: Number(opt["bg-window"]),
  };
  if (opt.json) {
    console.log(JSON.stringify({
      settings,
      results: rows,
      ratios: comparisons.map((c) => ({
        server: c.ours.server, size: c.ours.size, workload: c.ours.workload.slice(0, 2), ratio: c.ratio,
      })),
    }, null, 2));
    return;
  }
  const f = (n: number, d = 0) => Number.isFinite(n) ? n.toFixed(d) : "-";
  const out: string[] = [];
  out.push(
    `ours = mod.ts on ${RUNTIME} (1 client process; worker: 1 process, concurrency ${W}); ` +
      `PHP = ${P} client processes, ${W} worker processes; C=${C}; medians of ${ROUNDS} round(s)`,
  );
  out.push("");
  out.push("| server | size | workload | ours jobs/s | PHP jobs/s | ours/PHP | client CPU µs/job ours / PHP | worker CPU µs/job ours / PHP | server CPU µs/job ours / PHP |");
  out.push("|---|---|---|---:|---:|---:|---:|---:|---:|");
  for (const { ours, php, ratio } of comparisons) {
    const kind = ours.workload.startsWith("fg") ? "foreground" : "background submit";
    const w = kind === "foreground" ? `${f(ours.cpuUs.worker, 1)} / ${f(php?.cpuUs.worker ?? NaN, 1)}` : "";
    out.push(
      `| ${ours.server} | ${sizeName(ours.size)} | ${kind} | ${f(ours.jobsPerSec)} | ${f(php?.jobsPerSec ?? NaN)} | ` +
        `${f(ratio, 2)} | ${f(ours.cpuUs.client, 1)} / ${f(php?.cpuUs.client ?? NaN, 1)} | ${w} | ` +
        `${f(ours.cpuUs.server, 1)} / ${f(php?.cpuUs.server ?? NaN, 1)} |`,
    );
  }
  const mixed = rows.filter((r) => r.workload === "fg ts/php" || r.workload === "fg php/ts");
  if (mixed.length > 0) {
    out.push("");
    out.push("| server | size | client/worker | jobs/s |");
    out.push("|---|---|---|---:|");
    for (const r of mixed) out.push(`| ${r.server} | ${sizeName(r.size)} | ${r.workload.slice(3)} | ${f(r.jobsPerSec)} |`);
  }
  console.log(out.join("\n"));
}

try {
  await main();
} finally {
  cleanup();
  clearTimeout(deadline);
}
