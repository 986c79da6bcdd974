/**
 * gearman-ts against gearmand, measured in the same run with two load
 * generators: the shared C one (../shared/bench/gearbench.c, on libgearman,
 * built into .bench/) and ours (`gearman-ts bench`, src/bench/, raw
 * pipelined connections). Every round starts each server fresh on a free
 * 127.0.0.1 port and runs the same workloads against it with both
 * generators; the server order rotates per round (gearmand node deno bun,
 * then node deno bun gearmand, ...) and the generator order alternates
 * (C ts, then ts C), so runs interleave A B A B. Prints, per workload and
 * generator, the median over the rounds and the median of the per-round
 * gearman-ts/gearmand ratios for each runtime, and which runtime was
 * fastest. The default run takes about 4-5 minutes.
 *
 * Workloads (a-e as in ../shared/bench/README.md):
 *   a  background submit, 2 connections pipelined 1000 deep (jobs/s)
 *   b  drain of the jobs queued by (a) by 4 workers (jobs/s)
 *   c  foreground round trips, 8 clients x 4 workers (jobs/s, p50, p99)
 *   f  as (c) with 1 MiB payloads, for 2 s (jobs/s, p50, p99, server peak RSS; ts only: libgearman
 *      takes 0.2-0.7 s per round trip above 128 KiB, so gearbench measures itself)
 *   d  server RSS per queued tiny background job, 1M jobs (opt-in, C only)
 *   e  5000 idle worker connections, then 20 round trips (opt-in, C only)
 *
 * Usage: node scripts/bench_vs_gearmand.ts [options]
 *   --rounds N            interleaved rounds (3; 1 with --quick)
 *   --runtimes LIST       gearman-ts runtimes, comma-separated (node,deno,bun); also
 *                         binary: dist/bin/gearman-ts (bun build --compile), built
 *                         first by scripts/build_binary.ts, to check it runs as fast
 *                         as `bun cli.ts`
 *   --workloads LETTERS   from abcdef (abcf)
 *   --generators LIST     C (gearbench), ts (gearman-ts bench) or both (C,ts)
 *   --generator-runtime R runtime of our generator: node, deno or bun (bun)
 *   --quick               1 round, 20000 jobs, 1.5 s round trips: a smoke test
 *   --jobs N              jobs submitted in (a) (100000)
 *   --seconds S           duration of (c) after 0.5 s warm-up (3)
 *   --big-seconds S       duration of (f) after 0.5 s warm-up (2)
 *   --gearmand-threads N  gearmand -t (0: one thread, like our one event loop;
 *                         on 2 cores -t 0 and -t 1 measure alike, and both
 *                         beat gearmand's default of 4, by 30% on drain)
 *   --max-wait S          total time to wait for idle CPUs before runs (60)
 *   --reruns N            server runs repeated because other CPU passed 0.3
 *                         cores, in all (4); the quieter of the two is kept
 *   --cpu-prof            run node and bun with --cpu-prof; print the top
 *                         self-time functions (profiles stay in .bench/prof/)
 *   --json                print the results as JSON instead of a table
 *
 * The machine may be shared: before each server start the script waits for
 * the CPUs to be idle (< 0.25 cores busy), and it reports "other CPU": the CPU
 * time used during the measurements by anything but the server under test and
 * the generators (from /proc/stat), in cores. Needs cc, libgearman-dev,
 * gearmand. (`--generator ARGS` is internal: it runs `gearman-ts bench ARGS`.)
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect, createServer } from "node:net";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const SELF = join(ROOT, "scripts/bench_vs_gearmand.ts");

// Our generator runs as a child: this script again, as `gearman-ts bench`.
if (process.argv[2] === "--generator") {
  const { runBenchCommand } = await import("../src/bench/bench_command.ts");
  process.exit(await runBenchCommand(process.argv.slice(3)));
}

const SOURCE = resolve(ROOT, "../shared/bench/gearbench.c");
const SCRATCH = join(ROOT, ".bench");
const GEARBENCH = join(SCRATCH, "gearbench");
const BIN = join(ROOT, "node_modules/.bin");
const HOST = "127.0.0.1";
const MAXT = 20; // each generator's own bound per workload, seconds
const RUNTIMES = ["node", "deno", "bun"] as const;
type Runtime = (typeof RUNTIMES)[number];
/** Where gearman-ts can run as a server: a runtime, or the executable `bun build --compile` makes. */
const SERVER_RUNTIMES = [...RUNTIMES, "binary"] as const;
type ServerRuntime = (typeof SERVER_RUNTIMES)[number];
const BINARY = join(ROOT, "dist/bin/gearman-ts");
const GENERATORS = ["C", "ts"] as const;
type Gen = (typeof GENERATORS)[number];
const BIG = 1024 * 1024; // payload of (f)

const log = (s: string) => void process.stderr.write(s + "\n");
const usage = (problem: string): never => {
  log(`bench: ${problem} (see --help)`);
  process.exit(2);
};

const { values: opt } = (() => {
  try {
    return parseArgs({
      options: {
        rounds: { type: "string" }, runtimes: { type: "string", default: RUNTIMES.join(",") },
        quick: { type: "boolean", default: false }, json: { type: "boolean", default: false },
        workloads: { type: "string", default: "abcf" }, jobs: { type: "string" }, seconds: { type: "string" },
        "big-seconds": { type: "string" }, generators: { type: "string", default: GENERATORS.join(",") },
        "generator-runtime": { type: "string", default: "bun" },
        "gearmand-threads": { type: "string", default: "0" }, "max-wait": { type: "string", default: "60" },
        reruns: { type: "string", default: "4" },
        "cpu-prof": { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err: unknown) {
    return usage(err instanceof Error ? err.message : String(err));
  }
})();
if (opt.help) {
  const doc = readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]!;
  process.stdout.write(doc.replace(/^\/\*\*\n| \* ?/gm, "").replace("@module\n", ""));
  process.exit(0);
}
/** The value of --`name` as a number (`dflt` when absent); at least `min`, an integer unless `real`. */
const numOpt = (name: keyof typeof opt, dflt: number, min: number, real = false) => {
  const v = opt[name];
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isFinite(n) || n < min || (!real && !Number.isInteger(n))) {
    usage(`--${name} must be ${real ? "a number" : "an integer"} >= ${min}, got ${v}`);
  }
  return n;
};
const ROUNDS = numOpt("rounds", opt.quick ? 1 : 3, 1);
const K = numOpt("jobs", opt.quick ? 20_000 : 100_000, 1);
const D = numOpt("seconds", opt.quick ? 1.5 : 3, 0.5, true);
const DF = numOpt("big-seconds", opt.quick ? 1 : 2, 0.5, true);
const THREADS = numOpt("gearmand-threads", 0, 0);
let waitBudgetMs = numOpt("max-wait", 60, 0, true) * 1000;
let reruns = numOpt("reruns", 4, 0);
const NOISY = 0.3; // cores of other CPU above which a server run is repeated
const RSS_JOBS = opt.quick ? 200_000 : 1_000_000;
const IDLE = opt.quick ? 1000 : 5000;
const WL = opt.workloads;
if (!/^[abcdef]+$/.test(WL)) usage(`--workloads takes letters from abcdef, got ${WL}`);
const runtimes = opt.runtimes.split(",").filter(Boolean).map((r) =>
  (SERVER_RUNTIMES as readonly string[]).includes(r) ? (r as ServerRuntime) : usage(`--runtimes: unknown runtime ${r}`)
);
const gens = opt.generators.split(",").filter(Boolean).map((g) =>
  (GENERATORS as readonly string[]).includes(g) ? (g as Gen) : usage(`--generators: expected C or ts, got ${g}`)
);
if (gens.length === 0) usage("--generators: none given");
const GEN_RT = (RUNTIMES as readonly string[]).includes(opt["generator-runtime"])
  ? (opt["generator-runtime"] as Runtime)
  : usage(`--generator-runtime: unknown runtime ${opt["generator-runtime"]}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes

const live = new Set<ChildProcess>();
const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

function start(argv: readonly string[], stdio: "pipe" | number): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["ignore", stdio, stdio] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  child.once("error", (err) => log(`bench: ${argv[0]}: ${err.message}`));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; never waits more than graceMs + 2 s. */
async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  const gone = new Promise<void>((r) => (exited(child) ? r() : child.once("exit", () => r())));
  if (!exited(child)) child.kill("SIGTERM");
  if (await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) return;
  child.kill("SIGKILL");
  await Promise.race([gone, sleep(2000)]);
}

const killAll = () => { for (const c of live) c.kill("SIGKILL"); };
process.once("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => { log(`bench: ${sig}, stopping`); killAll(); process.exit(130); });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer().once("error", rej);
    s.listen(0, HOST, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

const canConnect = (port: number) => new Promise<boolean>((res) => {
  const s = connect(port, HOST).once("connect", () => { s.destroy(); res(true); });
  s.once("error", () => res(false));
});

// ---------------------------------------------------------------- servers

type Target = "gearmand" | ServerRuntime;
const PROF_DIR = join(SCRATCH, "prof");

function serverArgv(t: Target, port: number): string[] {
  // gearmand keeps its queue in memory by default; so do we here (bench_store.ts measures stores).
  const ours = ["server", "-L", HOST, "-p", String(port), "--log-file", "none", "--store", "memory"];
  const prof = opt["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : [];
  // `ulimit -n` first (the idle workload opens 5000 sockets); exec keeps the pid.
  const raise = 'ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const wrap = (argv: string[]) => ["sh", "-c", raise, "sh", ...argv];
  switch (t) {
    case "gearmand":
      return wrap(["gearmand", "-L", HOST, "-p", String(port), "--log-file", "none", "-t", String(THREADS)]);
    case "node": return wrap([join(BIN, "node"), ...prof, "cli.ts", ...ours]);
    case "bun": return wrap([join(BIN, "bun"), ...prof, "cli.ts", ...ours]);
    case "deno": return wrap([join(BIN, "deno"), "run", "-A", "cli.ts", ...ours]);
    case "binary": return wrap([BINARY, ...ours]);
  }
}

async function startServer(t: Target): Promise<Running> {
  const logFile = join(SCRATCH, `${t}.log`);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const fd = openSync(logFile, "a");
    const child = start(serverArgv(t, port), fd);
    closeSync(fd);
    const deadline = Date.now() + 20_000;
    while (!exited(child) && Date.now() < deadline) {
      if (await canConnect(port)) return { child, port };
      await sleep(50);
    }
    await stop(child, 1000);
    log(`bench: ${t} did not listen on ${port} (attempt ${attempt}); see ${logFile}`);
  }
  throw new Error(`${t} would not start; see ${logFile}`);
}

/** VmRSS in KiB of `pid` and its descendants. */
function treeRssKb(pid: number): number {
  const rss = (p: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
  const kids = (p: number) => readdirSync(`/proc/${p}/task`).flatMap((tid) =>
    readFileSync(`/proc/${p}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number));
  let total = 0;
  for (const todo = [pid]; todo.length > 0;) {
    const p = todo.pop()!;
    try { total += rss(p); todo.push(...kids(p)); } catch { /* exited meanwhile */ }
  }
  return total;
}

// ---------------------------------------------------------------- CPU accounting

const HZ = 100; // USER_HZ: the unit of /proc/stat and /proc/<pid>/stat
/** Busy jiffies of all CPUs (user, nice, system, irq, softirq, steal). */
function busyJiffies(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return [0, 1, 2, 5, 6, 7].reduce((acc, i) => acc + (f[i] ?? 0), 0);
}
/**
 * utime + stime of one process, in jiffies (0 once it is gone); with
 * `reaped`, plus cutime + cstime: the children it has waited for.
 */
function procJiffies(pid: number | "self", reaped = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  } catch { return 0; }
}

/** Waits until the CPUs are nearly idle (< 0.25 cores busy over 0.5 s), within the --max-wait budget. */
async function waitQuiet(): Promise<void> {
  while (waitBudgetMs > 0) {
    const b0 = busyJiffies(), t0 = Date.now();
    await sleep(500);
    const cores = (busyJiffies() - b0) / HZ / ((Date.now() - t0) / 1000);
    waitBudgetMs -= Date.now() - t0;
    if (cores < 0.25) return;
    if (waitBudgetMs <= 0) log(`bench: note: the machine stayed busy (${cores.toFixed(2)} cores); measuring anyway`);
  }
}

// ---------------------------------------------------------------- gearbench

function buildGearbench(): void {
  if (!existsSync(SOURCE)) throw new Error(`no load generator at ${SOURCE}`);
  if (!existsSync("/usr/include/libgearman-1.0/gearman.h")) {
    throw new Error("libgearman-dev is missing: apt-get install -y libgearman-dev gearman-job-server");
  }
  mkdirSync(SCRATCH, { recursive: true });
  if (existsSync(GEARBENCH) && statSync(GEARBENCH).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  const cc = spawnSync(process.env.CC ?? "cc", ["-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
    "-o", GEARBENCH, SOURCE, "-lgearman", "-lpthread"], { stdio: "inherit", timeout: 120_000 });
  if (cc.status !== 0) throw new Error("building gearbench failed");
  log(`bench: built ${GEARBENCH}`);
}

/** Builds dist/bin/gearman-ts from the working tree, so that the binary measured is this code. */
function buildBinary(): void {
  const build = spawnSync(join(BIN, "node"), ["scripts/build_binary.ts"], { cwd: ROOT, stdio: "inherit", timeout: 300_000 });
  if (build.status !== 0 || !existsSync(BINARY)) throw new Error("building dist/bin/gearman-ts failed");
}

type Fields = Record<string, string>;

/** Runs a generator child with a hard wall-clock bound; returns its stdout (and logs its stderr). */
/**
 * Runs a generator; returns its stdout with a `gen_cpu_s=` line added: the CPU
 * (user + system) it used, which `sh` reads from its own /proc stat (cutime,
 * cstime) once the generator has exited.
 */
async function runChild(argv: string[], what: string): Promise<string> {
  const report = '"$@"; s=$?; echo "gen_cpu_ticks=$(cut -d" " -f16,17 /proc/$$/stat)"; exit $s';
  const child = start(["sh", "-c", report, "sh", ...argv], "pipe");
  let out = "", err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b));
  child.stderr!.on("data", (b: Buffer) => (err += b));
  const timer = setTimeout(() => child.kill("SIGKILL"), (MAXT + 25) * 1000);
  await new Promise<void>((r) => (exited(child) ? r() : child.once("exit", () => r())));
  clearTimeout(timer);
  if (err.trim()) log(`bench: ${what} stderr: ${err.trim().split("\n").slice(0, 3).join(" | ")}`);
  return out;
}

/** Runs gearbench; returns its RESULT fields (empty on failure). */
async function gearbench(port: number, fn: string, args: string[]): Promise<Fields> {
  const out = await runChild([GEARBENCH, "-p", String(port), "-t", String(MAXT), "-f", fn, ...args], `gearbench ${args[0]}`);
  const line = out.split("\n").filter((l) => l.startsWith("RESULT ")).pop();
  if (!line) return {};
  const f: Fields = Object.fromEntries(line.slice(7).split(" ").map((kv) => kv.split("=") as [string, string]));
  return { ...f, gen_cpu_s: genCpu(out) };
}

/** The generator's CPU seconds from runChild's `gen_cpu_ticks=U S` line. */
function genCpu(out: string): string {
  const m = /^gen_cpu_ticks=(\d+) (\d+)$/m.exec(out);
  return m ? String((Number(m[1]) + Number(m[2])) / HZ) : "NaN";
}

/** Runs `gearman-ts bench --json` on GEN_RT; returns its one workload as gearbench-style fields. */
async function tsbench(port: number, fn: string, args: string[]): Promise<Fields> {
  const rt = GEN_RT === "deno" ? [join(BIN, "deno"), "run", "-A"] : [join(BIN, GEN_RT)];
  const argv = [...rt, SELF, "--generator", "-h", HOST, "-p", String(port), "-f", fn, "--json", "-q", ...args];
  const out = await runChild(argv, `gearman-ts bench ${args.join(" ")}`);
  try {
    const json = out.replace(/^gen_cpu_ticks=.*$/m, "");
    const w = (JSON.parse(json) as { workloads: Record<string, unknown>[] }).workloads[0] ?? {};
    const lat = (w.latencyUs ?? {}) as Record<string, number>;
    const f: Fields = {
      jobs: String(w.jobs),
      rate: String(w.jobsPerSecond),
      errors: String(w.errors),
      gen_cpu_s: genCpu(out),
    };
    for (const p of ["p50", "p99", "p999"]) if (lat[p] !== undefined) f[`${p}_us`] = String(lat[p]);
    return f;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------- workloads

const BASE_METRICS = [
  { key: "a", wl: "a", label: "(a) bg submit, 2 conns, pipelined", unit: "jobs/s", higher: true },
  { key: "a_cpu", wl: "a", label: "    server CPU per job", unit: "us", higher: false },
  { key: "a_gen", wl: "a", label: "    generator CPU per job", unit: "us", higher: false },
  { key: "b", wl: "b", label: "(b) drain by 4 workers", unit: "jobs/s", higher: true },
  { key: "b_cpu", wl: "b", label: "    server CPU per job", unit: "us", higher: false },
  { key: "b_gen", wl: "b", label: "    generator CPU per job", unit: "us", higher: false },
  { key: "c", wl: "c", label: "(c) fg round trips, 8 clients x 4 workers", unit: "jobs/s", higher: true },
  { key: "c_cpu", wl: "c", label: "    server CPU per job", unit: "us", higher: false },
  { key: "c_gen", wl: "c", label: "    generator CPU per job", unit: "us", higher: false },
  { key: "c_p50", wl: "c", label: "    p50 latency", unit: "us", higher: false },
  { key: "c_p99", wl: "c", label: "    p99 latency", unit: "us", higher: false },
  { key: "f", wl: "f", label: "(f) fg round trips, 1 MiB payloads, 8 x 4", unit: "jobs/s", higher: true },
  { key: "f_cpu", wl: "f", label: "    server CPU per job", unit: "us", higher: false },
  { key: "f_gen", wl: "f", label: "    generator CPU per job", unit: "us", higher: false },
  { key: "f_p50", wl: "f", label: "    p50 latency", unit: "ms", higher: false },
  { key: "f_p99", wl: "f", label: "    p99 latency", unit: "ms", higher: false },
  { key: "f_rss", wl: "f", label: "    server peak RSS", unit: "MiB", higher: false },
  { key: "d", wl: "d", label: `(d) RSS per queued job (${RSS_JOBS} jobs)`, unit: "B/job", higher: false },
  { key: "e_connect", wl: "e", label: `(e) ${IDLE} idle workers: connect`, unit: "s", higher: false },
  { key: "e_kib", wl: "e", label: "    RSS per idle connection", unit: "KiB", higher: false },
  { key: "e_rt", wl: "e", label: "    round trip via the idle crowd, p50", unit: "ms", higher: false },
] as const;
/**
 * Which generator measures what: d and e need gearbench's RSS probes; f is ours alone, because
 * libgearman itself takes 0.2-0.7 s per round trip above 128 KiB (1 client, 1 worker, against
 * gearmand and gearman-ts alike), so gearbench would measure itself.
 */
const measures = (g: Gen, wl: string) => (g === "C" ? wl !== "f" : !"de".includes(wl));
/** Every metric once per generator that measures it, key `metric.gen`, grouped by workload. */
const METRICS = [...new Set(BASE_METRICS.map((m) => m.wl))].flatMap((wl) =>
  gens.filter((g) => measures(g, wl)).flatMap((gen) =>
    BASE_METRICS.filter((m) => m.wl === wl).map((m) => ({ ...m, gen, key: `${m.key}.${gen}` }))
  )
);
type Metric = (typeof METRICS)[number];
type Sample = Record<string, number>;
const num = (f: Fields, k: string) => (f[k] === undefined ? NaN : Number(f[k]));

interface Running { child: ChildProcess; port: number }

/** Runs a generator and also returns the server's CPU time per job in us (user + system, 10 ms ticks). */
async function timed(srv: Running, run: () => Promise<Fields>): Promise<[Fields, number]> {
  const j0 = procJiffies(srv.child.pid!);
  const f = await run();
  return [f, (((procJiffies(srv.child.pid!) - j0) / HZ) * 1e6) / num(f, "jobs")];
}

/** One workload shape, as arguments for either generator. */
function gen(g: Gen, port: number, fn: string, w: { mode: "submit" | "drain" | "roundtrip"; n?: number; size?: number; secs?: number }) {
  const n = String(w.n ?? 0), size = String(w.size ?? 8), secs = String(w.secs ?? 0);
  if (g === "C") {
    const mode = w.mode === "submit" ? ["submit", "-n", n, "-c", "2", "-b", "1000"]
      : w.mode === "drain" ? ["drain", "-n", n, "-w", "4"]
      : ["roundtrip", "-c", "8", "-w", "4", "-d", secs];
    return () => gearbench(port, fn, ["-s", size, ...mode]);
  }
  const mode = w.mode === "submit" ? ["-t", "a", "-n", n, "--connections", "2", "-P", "1000", "-T", String(MAXT)]
    : w.mode === "drain" ? ["-t", "b", "-n", n, "-w", "4", "-T", String(MAXT)]
    : ["-t", "c", "-c", "8", "-w", "4", "-T", secs, "--warmup", "0.5", "-n", "1000000000"];
  return () => tsbench(port, fn, ["-s", size, ...mode]);
}

/**
 * One fresh server per group, as ../shared/bench/bench.sh does; within a
 * group each generator runs in turn (`order`). Returns what was measured
 * and the most "other CPU" (in cores) seen during a group.
 */
async function measure(t: Target, order: readonly Gen[]): Promise<{ s: Sample; other: number }> {
  const s: Sample = {};
  let other = 0;
  const group = async (run: (srv: Running) => Promise<void>) => {
    await waitQuiet();
    const srv = await startServer(t);
    // "Ours" is the server, this script, and the generator runs it has reaped meanwhile.
    const pid = srv.child.pid!, t0 = Date.now();
    const b0 = busyJiffies(), p0 = procJiffies(pid), s0 = procJiffies("self", true);
    try {
      await run(srv);
      const ours = procJiffies(pid) - p0 + procJiffies("self", true) - s0;
      const foreign = busyJiffies() - b0 - ours;
      other = Math.max(other, Math.max(0, foreign) / HZ / ((Date.now() - t0) / 1000));
    } finally { await stop(srv.child); }
    if (opt["cpu-prof"] && (t === "node" || t === "bun")) reportProfile(t);
  };
  const roundtrip = async (srv: Running, g: Gen, wl: "c" | "f") => {
    const secs = wl === "c" ? D : DF;
    const size = wl === "c" ? 8 : BIG;
    // The server's RSS, sampled every 100 ms: what large payloads in flight cost it.
    let peakKb = 0;
    const sampler = wl === "f"
      ? setInterval(() => (peakKb = Math.max(peakKb, treeRssKb(srv.child.pid!))), 100)
      : undefined;
    const [r, cpu] = await timed(srv, gen(g, srv.port, `bench_${wl}_${g}`, { mode: "roundtrip", size, secs }));
    clearInterval(sampler);
    const ok = num(r, "errors") === 0 && num(r, "jobs") > 0;
    const scale = wl === "c" ? 1 : 1000; // f's latencies in ms
    s[`${wl}.${g}`] = ok ? num(r, "rate") : NaN;
    s[`${wl}_p50.${g}`] = ok ? num(r, "p50_us") / scale : NaN;
    s[`${wl}_p99.${g}`] = ok ? num(r, "p99_us") / scale : NaN;
    // The jobs counted exclude the 0.5 s warm-up; the CPU figures cover it too.
    const all = num(r, "rate") * (secs + 0.5);
    s[`${wl}_cpu.${g}`] = ok ? (cpu * num(r, "jobs")) / all : NaN;
    s[`${wl}_gen.${g}`] = ok ? (num(r, "gen_cpu_s") * 1e6) / all : NaN;
    if (wl === "f") s[`f_rss.${g}`] = ok && peakKb > 0 ? peakKb / 1024 : NaN;
  };
  if (/[ab]/.test(WL)) {
    await group(async (srv) => {
      for (const g of order) {
        const fn = `bench_ab_${g}`;
        const [a, aCpu] = await timed(srv, gen(g, srv.port, fn, { mode: "submit", n: K }));
        const jobs = num(a, "jobs"), aOk = num(a, "errors") === 0 && jobs === K;
        if (WL.includes("a")) {
          [s[`a.${g}`], s[`a_cpu.${g}`]] = aOk ? [num(a, "rate"), aCpu] : [NaN, NaN];
          s[`a_gen.${g}`] = aOk ? (num(a, "gen_cpu_s") * 1e6) / jobs : NaN;
        }
        if (WL.includes("b") && jobs > 0) {
          const [b, bCpu] = await timed(srv, gen(g, srv.port, fn, { mode: "drain", n: jobs }));
          const bOk = num(b, "jobs") >= jobs;
          [s[`b.${g}`], s[`b_cpu.${g}`]] = bOk ? [num(b, "rate"), bCpu] : [NaN, NaN];
          s[`b_gen.${g}`] = bOk ? (num(b, "gen_cpu_s") * 1e6) / num(b, "jobs") : NaN;
        }
      }
    });
  }
  if (/[cf]/.test(WL)) {
    await group(async (srv) => {
      for (const wl of ["c", "f"] as const) {
        if (WL.includes(wl)) for (const g of order.filter((g) => measures(g, wl))) await roundtrip(srv, g, wl);
      }
    });
  }
  if (WL.includes("d") && gens.includes("C")) {
    await group(async ({ child, port }) => {
      await sleep(300);
      const rss0 = treeRssKb(child.pid!);
      const d = await gearbench(port, "bench_d", ["submit", "-n", String(RSS_JOBS), "-c", "2", "-b", "1000"]);
      await sleep(500);
      s["d.C"] = ((treeRssKb(child.pid!) - rss0) * 1024) / num(d, "jobs");
    });
  }
  if (WL.includes("e") && gens.includes("C")) {
    await group(async ({ child, port }) => {
      await sleep(300);
      const args = ["idle", "-n", String(IDLE), "-k", "20", "-i", "16", "-P", String(child.pid)];
      const e = await gearbench(port, "bench_e", args);
      const all = num(e, "acked") === IDLE && num(e, "ok") === 20;
      s["e_connect.C"] = all ? num(e, "connect_secs") : NaN;
      s["e_kib.C"] = all ? (num(e, "rss_idle_kb") - num(e, "rss0_kb")) / IDLE : NaN;
      s["e_rt.C"] = all ? num(e, "rt_p50_us") / 1000 : NaN;
    });
  }
  return { s, other };
}

// ---------------------------------------------------------------- profiles

interface ProfNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Prints the top self-time functions of the newest .cpuprofile (kept in .bench/prof/). */
function reportProfile(t: Target): void {
  const files = existsSync(PROF_DIR) ? readdirSync(PROF_DIR).filter((f) => f.endsWith(".cpuprofile")) : [];
  const newest = files.map((f) => join(PROF_DIR, f)).sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
  if (!newest) return log(`bench: ${t} wrote no .cpuprofile (does it support --cpu-prof?)`);
  const { nodes, samples } = JSON.parse(readFileSync(newest, "utf8")) as { nodes: ProfNode[]; samples?: number[] };
  const hits = new Map<number, number>();
  for (const id of samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const self = new Map<string, number>();
  for (const n of nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === "(idle)") continue;
    const where = url.replace(/^file:\/\//, "").replace(ROOT + "/", "");
    const key = `${functionName || "(anonymous)"}  ${where}${where ? `:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + (samples ? hits.get(n.id) ?? 0 : n.hitCount ?? 0));
  }
  const total = [...self.values()].reduce((x, y) => x + y, 0) || 1;
  const top = (filter: (k: string) => boolean) =>
    [...self].filter(([k]) => filter(k)).sort((x, y) => y[1] - x[1]).slice(0, 10)
      .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join("\n");
  log(`# cpu profile ${t} (${newest.replace(ROOT + "/", "")}), self time, % of busy samples\n` +
    `top 10 overall:\n${top(() => true)}\ntop 10 in src/:\n${top((k) => k.includes(" src/"))}`);
}

// ---------------------------------------------------------------- report

function versions(targets: Target[]): Record<string, string> {
  const argv = (t: Target) => (t === "gearmand" ? ["gearmand", "--version"] : [join(BIN, t), "--version"]);
  return Object.fromEntries(targets.map((t) => {
    const r = spawnSync(argv(t)[0]!, argv(t).slice(1), { encoding: "utf8", timeout: 10_000 });
    return [t, /\d+\.\d+\.\d+\S*/.exec(r.stdout ?? "")?.[0] ?? "?"];
  }));
}

const median = (xs: number[]) => {
  const v = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const fmtRatio = (x: number) => (!Number.isFinite(x) ? "n/a" : x < 0.01 ? x.toPrecision(1) : fmt(x));
const fmt = (x: number) =>
  !Number.isFinite(x) ? "n/a" : x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x >= 10 ? 1 : 2);

async function main(): Promise<void> {
  if (gens.includes("C")) buildGearbench();
  if (runtimes.includes("binary")) buildBinary();
  rmSync(PROF_DIR, { recursive: true, force: true });
  if (opt["cpu-prof"] && runtimes.some((t) => t === "deno" || t === "binary")) {
    log("bench: note: --cpu-prof profiles node and bun only");
  }
  const targets: Target[] = ["gearmand", ...runtimes];
  const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]));
  const others: { round: number; target: Target; cores: number }[] = [];
  const t0 = Date.now();
  for (let r = 0; r < ROUNDS; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    const genOrder = r % 2 === 0 ? gens : [...gens].reverse();
    for (const t of order) {
      let { s, other } = await measure(t, genOrder);
      if (other > NOISY && reruns > 0) {
        reruns--;
        log(`round ${r + 1}/${ROUNDS} ${t}: other CPU ${other.toFixed(2)} cores, measuring again`);
        const again = await measure(t, genOrder);
        if (again.other < other) ({ s, other } = again);
      }
      samples.get(t)!.push(s);
      others.push({ round: r + 1, target: t, cores: other });
      log(`round ${r + 1}/${ROUNDS} ${t.padEnd(8)} ` + Object.entries(s).map(([k, v]) => `${k}=${fmt(v)}`).join(" ") +
        `  (other CPU ${other.toFixed(2)} cores)`);
    }
  }
  const metrics = METRICS.filter((m) => WL.includes(m.wl));
  const series = (t: Target, k: string) => samples.get(t)!.map((s) => s[k] ?? NaN);
  const med = (t: Target, k: string) => median(series(t, k));
  // Rounds pair each runtime with the gearmand run of the same round (A B A B): the median of those ratios.
  const ratios = (t: Target, k: string) => series(t, k).map((v, i) => v / (series("gearmand", k)[i] ?? NaN));
  const ratio = (t: Target, k: string) => median(ratios(t, k));
  const throughput = (g?: Gen) => metrics.filter((m) => m.unit === "jobs/s" && (g === undefined || m.gen === g));
  const score = (t: Target, g?: Gen) => {
    const ms = throughput(g).filter((m) => Number.isFinite(ratio(t, m.key)));
    return ms.length === 0 ? NaN : Math.exp(ms.reduce((acc, m) => acc + Math.log(ratio(t, m.key)), 0) / ms.length);
  };
  const ranked = (g?: Gen) =>
    runtimes.filter((t) => Number.isFinite(score(t, g))).sort((x, y) => score(y, g) - score(x, g));
  // How our generator's jobs/s compare with gearbench's on the same server: is either the bottleneck?
  const agree = gens.length < 2 ? [] : [...new Set(throughput("C").map((m) => m.wl))].map((wl) => ({
    wl,
    byTarget: Object.fromEntries(targets.map((t) => [
      t,
      median(series(t, `${wl}.ts`).map((v, i) => v / (series(t, `${wl}.C`)[i] ?? NaN))),
    ])),
  }));
  // A CPU-bound run does (cores / CPU per job) jobs/s, CPU per job = generator + server. A server
  // using no CPU at all would leave the generator's share alone: this bounds the ratio any server
  // could reach against gearmand in the same run.
  const ceiling = (t: Target, m: Metric) =>
    (med("gearmand", `${m.wl}_gen.${m.gen}`) + med("gearmand", `${m.wl}_cpu.${m.gen}`)) / med(t, `${m.wl}_gen.${m.gen}`);
  const ceilings = throughput().map((m) => ({
    key: m.key,
    byRuntime: Object.fromEntries(runtimes.map((t) => [t, ceiling(t, m)])),
  }));
  const meta = {
    date: new Date().toISOString(), cores: cpus().length, rounds: ROUNDS, jobs: K, roundtripSeconds: D,
    bigRoundtripSeconds: DF, bigPayloadBytes: BIG, generators: gens, generatorRuntime: GEN_RT,
    gearmandThreads: THREADS, versions: versions(targets),
    elapsedSeconds: Math.round((Date.now() - t0) / 1000), cpuProfiled: opt["cpu-prof"],
    otherCpuCores: others,
  };
  const worst = others.reduce((x, y) => (y.cores > x.cores ? y : x), others[0]!);
  const otherMean = others.reduce((acc, o) => acc + o.cores, 0) / others.length;
  const best = (m: Metric) =>
    runtimes.filter((t) => Number.isFinite(med(t, m.key)))
      .sort((x, y) => (m.higher ? med(y, m.key) - med(x, m.key) : med(x, m.key) - med(y, m.key)))[0];
  if (opt.json) {
    const entry = (t: Target, m: Metric) => ({
      unit: m.unit, better: m.higher ? "higher" : "lower", median: med(t, m.key),
      samples: series(t, m.key).map((v) => (Number.isFinite(v) ? v : null)),
      ...(t === "gearmand" ? {} : { ratio: ratio(t, m.key), ratios: ratios(t, m.key) }),
    });
    const byMetric = (t: Target) => Object.fromEntries(metrics.map((m) => [m.key, entry(t, m)]));
    const results = Object.fromEntries(targets.map((t) => [t, byMetric(t)]));
    const bestRuntime = Object.fromEntries(metrics.map((m) => [m.key, best(m) ?? null]));
    const geomean = (g?: Gen) => Object.fromEntries(runtimes.map((t) => [t, score(t, g)]));
    const report = {
      meta, results, bestRuntime, fastest: ranked()[0] ?? null, throughputGeomeanRatio: geomean(),
      byGenerator: Object.fromEntries(gens.map((g) => [g, { fastest: ranked(g)[0] ?? null, geomean: geomean(g) }])),
      tsOverC: agree, zeroCpuCeiling: ceilings,
    };
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return;
  }
  const cols: [string, number][] = [
    ["gearmand", 10],
    ...runtimes.flatMap((t): [string, number][] => [[t, 10], ["x gm", 6]]),
    ["best", 6],
  ];
  const line = (first: string, gen: string, unit: string, cells: string[]) =>
    first.padEnd(44) + gen.padEnd(4) + unit.padEnd(7) + cells.map((c, i) => c.padStart(cols[i]![1])).join(" ");
  const cells = (m: Metric) => [
    fmt(med("gearmand", m.key)),
    ...runtimes.flatMap((t) => [fmt(med(t, m.key)), fmtRatio(ratio(t, m.key))]),
    best(m) ?? "",
  ];
  const shared = worst.cores > NOISY ? "; the machine was shared: rerun for cleaner figures" : "";
  const fastest = (g?: Gen) => ranked(g).map((t) => `${t} ${score(t, g).toFixed(2)}`).join(", ");
  const out = [
    `# gearman-ts vs gearmand: ${ROUNDS} round(s), medians; ${meta.cores} cores; gearmand -t ${THREADS}; ` +
    `K=${K} jobs, round trips ${D}s, 1 MiB round trips ${DF}s; generators ${gens.join(", ")}` +
    (gens.includes("ts") ? ` (ts on ${GEN_RT})` : "") + `; took ${meta.elapsedSeconds}s`,
    `# ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    line("workload", "gen", "unit", cols.map(([n]) => n)),
    ...metrics.map((m) => line(m.label, m.gen, m.unit, cells(m))),
    "gen: C = gearbench (libgearman), ts = gearman-ts bench (raw pipelined connections).",
    "x gm = gearman-ts / gearmand, the median of the per-round ratios: above 1 is better for jobs/s,",
    "below 1 for us, ms, B, s and KiB; read 0.9-1.1 as no difference. best = the best gearman-ts runtime.",
    ...(agree.length > 0
      ? ["ts/C jobs/s on the same server (how much faster our generator drives it): " +
        agree.map((a) => `${a.wl} ` + targets.map((t) => `${t} ${fmtRatio(a.byTarget[t] ?? NaN)}`).join(" "))
          .join("; ")]
      : []),
    ...(ceilings.length > 0
      ? [
        "ceiling = the x gm a server using no CPU at all would reach in this run, (generator + gearmand CPU",
        "per job) / generator CPU per job against gearman-ts, where the run is CPU-bound: " +
        ceilings.map((c) => `${c.key} ` + runtimes.map((t) => `${t} ${fmtRatio(c.byRuntime[t] ?? NaN)}`).join(" "))
          .join("; "),
      ]
      : []),
    `other CPU during the measurements: mean ${otherMean.toFixed(2)} cores, ` +
    `most ${worst.cores.toFixed(2)} (round ${worst.round}, ${worst.target})${shared}`,
    ...(throughput().length > 0 && ranked().length > 0
      ? [`fastest runtime: ${ranked()[0]} (geometric mean of the throughput ratios: ${fastest()}` +
        (gens.length > 1 ? `; with C alone: ${fastest("C")}; with ts alone: ${fastest("ts")}` : "") + ")"]
      : []),
  ];
  process.stdout.write(out.join("\n") + "\n");
}

try {
  await main();
} catch (err: unknown) {
  log(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await Promise.all([...live].map((c) => stop(c, 2000)));
}
