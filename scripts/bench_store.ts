/**
 * Background jobs with and without a durable store, against gearmand's
 * `builtin` (memory) and `libsqlite3` queues, all in one run with the shared
 * C load generator (../shared/bench/gearbench.c, built into .bench/).
 * Each target gets a fresh server (and a fresh database file) per round:
 *
 *   gearmand -q builtin              gearmand's in-memory queue
 *   gearmand -q libsqlite3           gearmand's SQLite queue
 *   <runtime> memory                 gearman-ts --store memory
 *   <runtime> sqlite                 gearman-ts --store sqlite:FILE (--fsync os, the default)
 *   <runtime> sqlite+fsync           gearman-ts --store sqlite:FILE --fsync always (with --fsync-always)
 *
 * Workloads: (a) background submit, 2 connections pipelined in batches of
 * 1000 (jobs/s, each JOB_CREATED counted when it arrives); (b) drain of those
 * jobs by 4 workers (jobs/s). gearmand's libsqlite3 queue syncs every job, so
 * it gets fewer jobs (--slow-jobs) to stay within gearbench's 20 s bound.
 *
 * Usage: node scripts/bench_store.ts [options]
 *   --rounds N         rounds, medians reported (1)
 *   --runtimes LIST    gearman-ts runtimes, comma-separated (node,deno,bun)
 *   --jobs N           jobs per workload (100000)
 *   --slow-jobs N      jobs for gearmand's libsqlite3 queue (3000)
 *   --fsync-always     also measure the SQLite store with --fsync always
 *   --json             print JSON instead of a table
 *
 * Needs cc, libgearman-dev and gearmand (Debian: gearman-job-server).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect, createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const SOURCE = resolve(ROOT, "../shared/bench/gearbench.c");
const SCRATCH = join(ROOT, ".bench");
const GEARBENCH = join(SCRATCH, "gearbench");
const BIN = join(ROOT, "node_modules/.bin");
const HOST = "127.0.0.1";
const MAXT = 20;
const RUNTIMES = ["node", "deno", "bun"] as const;
type Runtime = (typeof RUNTIMES)[number];

const log = (s: string) => void process.stderr.write(s + "\n");
const fail = (problem: string): never => {
  log(`bench_store: ${problem}`);
  process.exit(2);
};

const { values: opt } = (() => {
  try {
    return parseArgs({
      options: {
        rounds: { type: "string", default: "1" },
        runtimes: { type: "string", default: RUNTIMES.join(",") },
        jobs: { type: "string", default: "100000" },
        "slow-jobs": { type: "string", default: "3000" },
        "fsync-always": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err: unknown) {
    return fail(err instanceof Error ? err.message : String(err));
  }
})();
if (opt.help) {
  const doc = readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]!;
  process.stdout.write(doc.replace(/^\/\*\*\n| \* ?/gm, "").replace("@module\n", ""));
  process.exit(0);
}
const int = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
};
const ROUNDS = int("rounds", opt.rounds, 1);
const K = int("jobs", opt.jobs, 1);
const SLOW_K = int("slow-jobs", opt["slow-jobs"], 1);
const runtimes = opt.runtimes.split(",").filter(Boolean).map((r) =>
  (RUNTIMES as readonly string[]).includes(r) ? (r as Runtime) : fail(`unknown runtime ${r}`)
);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- targets

interface Target {
  readonly name: string;
  readonly jobs: number;
  argv(port: number, db: string): string[];
}

const ours = (rt: Runtime, store: "memory" | "sqlite", fsync: "os" | "always"): Target => ({
  name: `${rt} ${store}${fsync === "always" ? "+fsync" : ""}`,
  jobs: K,
  argv: (port, db) => {
    const launch = rt === "deno" ? [join(BIN, "deno"), "run", "-A"] : [join(BIN, rt)];
    const spec = store === "memory" ? "memory" : `sqlite:${db}`;
    return [
      ...launch,
      "cli.ts",
      "server",
      "-L",
      HOST,
      "-p",
      String(port),
      "--log-file",
      "none",
      "--store",
      spec,
      "--fsync",
      fsync,
    ];
  },
});

const targets: Target[] = [
  {
    name: "gearmand builtin",
    jobs: K,
    argv: (
      port,
    ) => ["gearmand", "-L", HOST, "-p", String(port), "-l", "none", "-t", "0", "-q", "builtin"],
  },
  {
    name: "gearmand libsqlite3",
    jobs: SLOW_K,
    argv: (
      port,
      db,
    ) => [
      "gearmand",
      "-L",
      HOST,
      "-p",
      String(port),
      "-l",
      "none",
      "-t",
      "0",
      "-q",
      "libsqlite3",
      `--libsqlite3-db=${db}`,
    ],
  },
  ...runtimes.flatMap((rt) => [
    ours(rt, "memory", "os"),
    ours(rt, "sqlite", "os"),
    ...(opt["fsync-always"] ? [ours(rt, "sqlite", "always")] : []),
  ]),
];

// ---------------------------------------------------------------- processes

const live = new Set<ChildProcess>();
const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function start(argv: readonly string[]): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  const gone = new Promise<void>((r) => (exited(child) ? r() : child.once("exit", () => r())));
  if (!exited(child)) child.kill("SIGTERM");
  if (await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)])) return;
  child.kill("SIGKILL");
  await Promise.race([gone, sleep(2000)]);
}

const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer().once("error", rej);
    s.listen(0, HOST, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

const canConnect = (port: number) =>
  new Promise<boolean>((res) => {
    const s = connect(port, HOST).once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });

function buildGearbench(): void {
  if (
    existsSync(GEARBENCH) &&
    (!existsSync(SOURCE) || statSync(GEARBENCH).mtimeMs >= statSync(SOURCE).mtimeMs)
  ) {
    return;
  }
  if (!existsSync(SOURCE)) throw new Error(`no load generator at ${SOURCE}`);
  mkdirSync(SCRATCH, { recursive: true });
  const cc = spawnSync(process.env.CC ?? "cc", [
    "-O2",
    "-o",
    GEARBENCH,
    SOURCE,
    "-lgearman",
    "-lpthread",
  ], {
    stdio: "inherit",
    timeout: 120_000,
  });
  if (cc.status !== 0) throw new Error("building gearbench failed (needs cc and libgearman-dev)");
}

type Fields = Record<string, string>;

async function gearbench(port: number, args: string[]): Promise<Fields> {
  const child = start([
    GEARBENCH,
    "-p",
    String(port),
    "-t",
    String(MAXT),
    "-f",
    "bench_store",
    ...args,
  ]);
  let out = "";
  child.stdout!.on("data", (b: Uint8Array) => (out += b));
  const timer = setTimeout(() => child.kill("SIGKILL"), (MAXT + 25) * 1000);
  await new Promise<void>((r) => (exited(child) ? r() : child.once("exit", () => r())));
  clearTimeout(timer);
  const line = out.split("\n").filter((l) => l.startsWith("RESULT ")).pop();
  if (!line) return {};
  return Object.fromEntries(
    line.slice(7).split(" ").map((kv) => kv.split("=") as [string, string]),
  );
}

/** Busy jiffies of all CPUs (user, nice, system, irq, softirq, steal), from /proc/stat. */
function busyJiffies(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(
    Number,
  );
  return [0, 1, 2, 5, 6, 7].reduce((acc, i) => acc + (f[i] ?? 0), 0);
}

let quietBudgetMs = 60_000;
/** The machine may be shared: wait (within a budget) until under 0.25 cores are busy. */
async function waitQuiet(): Promise<void> {
  if (!existsSync("/proc/stat")) return;
  while (quietBudgetMs > 0) {
    const b0 = busyJiffies(), t0 = Date.now();
    await sleep(500);
    const cores = (busyJiffies() - b0) / 100 / ((Date.now() - t0) / 1000);
    quietBudgetMs -= Date.now() - t0;
    if (cores < 0.25) return;
    if (quietBudgetMs <= 0) {
      log(`bench_store: note: the machine stayed busy (${cores.toFixed(2)} cores)`);
    }
  }
}

// ---------------------------------------------------------------- measuring

interface Sample {
  submit: number;
  drain: number;
}

async function measure(t: Target, scratch: string, round: number): Promise<Sample> {
  const db = join(scratch, `${t.name.replaceAll(/\W+/g, "_")}-${round}.db`);
  await waitQuiet();
  const port = await freePort();
  const child = start(t.argv(port, db));
  let stderr = "";
  child.stderr!.on("data", (b: Uint8Array) => (stderr += b));
  try {
    const deadline = Date.now() + 20_000;
    while (!(await canConnect(port))) {
      if (exited(child) || Date.now() > deadline) {
        throw new Error(`${t.name} did not start: ${stderr.trim()}`);
      }
      await sleep(50);
    }
    const a = await gearbench(port, ["submit", "-n", String(t.jobs), "-c", "2", "-b", "1000"]);
    const submitted = Number(a.jobs ?? 0);
    const submit = Number(a.errors) === 0 && submitted === t.jobs ? Number(a.rate) : NaN;
    const b = submitted > 0
      ? await gearbench(port, ["drain", "-n", String(submitted), "-w", "4"])
      : {};
    const drain = Number(b.jobs ?? 0) >= submitted && submitted > 0 ? Number(b.rate) : NaN;
    return { submit, drain };
  } finally {
    await stop(child);
  }
}

const median = (xs: number[]) => {
  const v = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");

async function main(): Promise<void> {
  buildGearbench();
  const scratch = mkdtempSync(join(tmpdir(), "gearman-ts-bench-store-"));
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  const t0 = Date.now();
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of targets) {
        const s = await measure(t, scratch, r);
        samples.get(t.name)!.push(s);
        log(
          `round ${r + 1}/${ROUNDS} ${t.name.padEnd(22)} submit ${fmt(s.submit)} jobs/s, drain ${
            fmt(s.drain)
          } jobs/s`,
        );
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const med = (name: string, k: keyof Sample) => median(samples.get(name)!.map((s) => s[k]));
  const rows = targets.map((t) => ({
    target: t.name,
    jobs: t.jobs,
    submit: med(t.name, "submit"),
    drain: med(t.name, "drain"),
  }));
  const base = (k: keyof Sample) => med("gearmand builtin", k);
  const slow = (k: keyof Sample) => med("gearmand libsqlite3", k);
  if (opt.json) {
    process.stdout.write(
      JSON.stringify(
        { date: new Date().toISOString(), cores: cpus().length, rounds: ROUNDS, rows },
        null,
        2,
      ) + "\n",
    );
    return;
  }
  const out = [
    `# background jobs by store: ${ROUNDS} round(s), medians; ${cpus().length} cores; ` +
    `${K} jobs (${SLOW_K} for gearmand libsqlite3); took ${Math.round((Date.now() - t0) / 1000)}s`,
    `${"target".padEnd(22)} ${"jobs".padStart(7)} ${"submit/s".padStart(10)} ${
      "x builtin".padStart(9)
    } ` +
    `${"x libsqlite3".padStart(12)} ${"drain/s".padStart(10)} ${"x builtin".padStart(9)} ${
      "x libsqlite3".padStart(12)
    }`,
    ...rows.map((r) =>
      `${r.target.padEnd(22)} ${String(r.jobs).padStart(7)} ${fmt(r.submit).padStart(10)} ` +
      `${(r.submit / base("submit")).toFixed(2).padStart(9)} ${
        (r.submit / slow("submit")).toFixed(1).padStart(12)
      } ` +
      `${fmt(r.drain).padStart(10)} ${(r.drain / base("drain")).toFixed(2).padStart(9)} ` +
      `${(r.drain / slow("drain")).toFixed(1).padStart(12)}`
    ),
    "x builtin / x libsqlite3: throughput relative to gearmand's in-memory and SQLite queues (above 1 is faster).",
  ];
  process.stdout.write(out.join("\n") + "\n");
}

try {
  await main();
} catch (err: unknown) {
  log(`bench_store: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await Promise.all([...live].map((c) => stop(c)));
}
