/**
 * One measured run of scripts/bench_client.ts: foreground jobs/s for a pair
 * of client and worker libraries, or background submits/s for one library,
 * with the CPU time per job of the client, worker and server processes.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT, type Runtime, runtimeArgv } from "../bench_lib/paths.ts";
import { freePort, HOST, waitListening, waitWorkers } from "../bench_lib/ports.ts";
import { cpuJiffies, HZ } from "../bench_lib/proc_stats.ts";
import { Child } from "./role_child.ts";

export type Lib = "ts" | "php";
export type Kind = "gearman-ts" | "gearmand";

/** What the runs need from the command line. */
export interface Settings {
  /** Foreground jobs in flight (C), worker concurrency (W), PHP client processes (P). */
  readonly concurrency: number;
  readonly workers: number;
  readonly phpClients: number;
  /** The foreground window, after a 0.3 s warm-up. */
  readonly seconds: number;
  readonly bgJobs: number;
  readonly bgJobsBig: number;
  readonly bgWindow: number;
  readonly bgSeconds: number;
  readonly runtime: Runtime;
  readonly serverRuntime: Runtime;
  readonly gearmandThreads: string;
  /** Where our client and worker (on node) write profiles; undefined without --cpu-prof. */
  readonly profDir: string | undefined;
}

/** One measured run. */
export interface Run {
  readonly server: Kind;
  readonly size: number;
  readonly workload: string; // "fg ts/ts", "bg php", ...
  readonly jobsPerSec: number;
  /** CPU microseconds per job of the client, worker and server processes. */
  readonly cpuUs: { client: number; worker: number; server: number };
}

/** A server under test, listening on `port`. */
export interface Server {
  readonly kind: Kind;
  readonly port: number;
  readonly proc: Child;
}

const HERE = fileURLToPath(new URL(".", import.meta.url));
const WARMUP_MS = 300;
/** Payloads from this size on get the smaller background job count and window. */
const BIG = 64 * 1024;
const US_PER_JIFFY = 1e6 / HZ;
let seq = 0;

const sleepUntil = (ms: number) => sleep(Math.max(0, ms - Date.now()));

/** Starts a fresh `kind` server on a free port and waits until it listens. */
export async function startServer(kind: Kind, set: Settings): Promise<Server> {
  const port = await freePort();
  const listen = ["-L", HOST, "-p", String(port), "--log-file", "none"];
  const serve = ["server", "--store", "memory", ...listen];
  const proc = kind === "gearmand"
    ? new Child(["gearmand", ...listen, "-t", set.gearmandThreads])
    : new Child(runtimeArgv(set.serverRuntime, join(ROOT, "cli.ts"), serve));
  const state = await waitListening(port, () => proc.hasExited, 10_000, 20);
  if (state === "exited") throw new Error(`${proc.name} exited before listening`);
  if (state === "timeout") throw new Error(`${proc.name} did not listen on ${port}`);
  return { kind, port, proc };
}

const ourRole = (set: Settings, args: readonly string[]): Child => {
  const prof = set.profDir !== undefined && set.runtime === "node"
    ? ["--cpu-prof", `--cpu-prof-dir=${set.profDir}`]
    : [];
  return new Child(runtimeArgv(set.runtime, join(HERE, "ts_role.ts"), args, prof));
};
const php = (script: string, args: readonly string[]): Child =>
  new Child(["php", join(HERE, script), ...args]);

/** One PHP client's share of `n` jobs: PHP splits them over --php-clients processes. */
const phpShare = (set: Settings) => (n: number) => String(Math.ceil(n / set.phpClients));

/** Sum of user+system CPU jiffies of `procs`. */
const jiffies = (procs: readonly Child[]): number =>
  procs.reduce((sum, p) => sum + cpuJiffies(p.pid), 0);

/** Ends `procs`: those that read stdin stop at its end, PHP workers (which do not) are killed. */
async function finish(procs: readonly Child[]): Promise<void> {
  for (const p of procs) {
    if (p.name.includes("php_worker")) p.kill();
    else p.endInput();
  }
  await Promise.all(procs.map((p) => p.exitWithin(10_000)));
}

/** Foreground jobs/s of `pair` (client library / worker library), over a window after a warm-up. */
export async function runFg(
  srv: Server,
  size: number,
  pair: [Lib, Lib],
  set: Settings,
): Promise<Run> {
  const C = set.concurrency, W = set.workers, P = set.phpClients, share = phpShare(set);
  const at = [HOST, String(srv.port)];
  const fn = `bench.fg.${++seq}`;
  const [clientLib, workerLib] = pair;
  const workers = workerLib === "ts"
    ? [ourRole(set, ["worker", ...at, fn, String(W)])]
    : Array.from({ length: W }, () => php("php_worker.php", [...at, fn]));
  await waitWorkers(srv.port, fn, workers.length, workers);
  const job = ["fg", fn, String(size)];
  const clients = clientLib === "ts"
    ? [ourRole(set, ["client", ...at, ...job, String(C)])]
    : Array.from({ length: P }, () => php("php_client.php", [...at, ...job, share(C)]));
  await Promise.all(clients.map((c) => c.expectLine("ready", 30_000)));
  const t0 = Date.now() + WARMUP_MS;
  const t1 = t0 + set.seconds * 1000;
  for (const c of clients) c.writeLine(`go ${t0} ${t1}`);
  await sleepUntil(t0);
  const before = [jiffies(clients), jiffies(workers), cpuJiffies(srv.proc.pid)];
  await sleepUntil(t1);
  const after = [jiffies(clients), jiffies(workers), cpuJiffies(srv.proc.pid)];
  const results = await Promise.all(clients.map((c) => c.json(60_000)));
  const jobs = results.reduce((s, r) => s + r.jobs, 0);
  await finish([...clients, ...workers]);
  const us = (i: number) => jobs === 0 ? 0 : ((after[i]! - before[i]!) * US_PER_JIFFY) / jobs;
  return {
    server: srv.kind,
    size,
    workload: `fg ${clientLib}/${workerLib}`,
    jobsPerSec: jobs / set.seconds,
    cpuUs: { client: us(0), worker: us(1), server: us(2) },
  };
}

/** Background submits/s of `lib`, for a number of jobs or until --bg-seconds passes. */
export async function runBg(srv: Server, size: number, lib: Lib, set: Settings): Promise<Run> {
  const P = set.phpClients, share = phpShare(set);
  const at = [HOST, String(srv.port)];
  const fn = `bench.bg.${++seq}`;
  const count = size >= BIG ? set.bgJobsBig : set.bgJobs;
  const window = size >= BIG ? Math.max(P, 8) : set.bgWindow;
  const job = ["bg", fn, String(size)];
  const clients = lib === "ts"
    ? [ourRole(set, ["client", ...at, ...job, String(window), String(count)])]
    : Array.from(
      { length: P },
      () => php("php_client.php", [...at, ...job, share(window), share(count)]),
    );
  await Promise.all(clients.map((c) => c.expectLine("ready", 30_000)));
  const before = [jiffies(clients), cpuJiffies(srv.proc.pid)];
  for (const c of clients) c.writeLine(`go 0 ${Date.now() + set.bgSeconds * 1000}`);
  const results = await Promise.all(clients.map((c) => c.json(120_000)));
  const after = [jiffies(clients), cpuJiffies(srv.proc.pid)];
  await finish(clients);
  const jobs = results.reduce((s, r) => s + r.jobs, 0);
  const ms = Math.max(...results.map((r) => r.endMs)) - Math.min(...results.map((r) => r.startMs));
  const us = (i: number) => ((after[i]! - before[i]!) * US_PER_JIFFY) / jobs;
  return {
    server: srv.kind,
    size,
    workload: `bg ${lib}`,
    jobsPerSec: (jobs * 1000) / ms,
    cpuUs: { client: us(0), worker: 0, server: us(1) },
  };
}
