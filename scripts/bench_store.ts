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
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  exited,
  killChildrenOnExit,
  spawnChild,
  stopAll,
  stopChild,
} from "./bench_lib/children.ts";
import { type Fail, log, numberOption, parseCommandLine } from "./bench_lib/command_line.ts";
import { buildGearbench, type Fields, runGearbench } from "./bench_lib/gearbench.ts";
import { isRuntime, type Runtime, runtimeArgv, RUNTIMES } from "./bench_lib/paths.ts";
import { freePort, HOST, waitListening } from "./bench_lib/ports.ts";
import { idleWait } from "./bench_lib/proc_stats.ts";
import { formatWhole as fmt, median } from "./bench_lib/stats.ts";

const fail: Fail = (problem) => {
  log(`bench_store: ${problem}`);
  process.exit(2);
};

const opt = parseCommandLine(
  {
    rounds: { type: "string" },
    runtimes: { type: "string", default: RUNTIMES.join(",") },
    jobs: { type: "string" },
    "slow-jobs": { type: "string" },
    "fsync-always": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  import.meta.url,
  fail,
);
const int = numberOption(opt, fail);
const ROUNDS = int("rounds", 1, 1);
const K = int("jobs", 100_000, 1);
const SLOW_K = int("slow-jobs", 3000, 1);
const runtimes = opt.runtimes.split(",").filter(Boolean).map((r) =>
  isRuntime(r) ? r : fail(`unknown runtime ${r}`)
);

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
    const spec = store === "memory" ? "memory" : `sqlite:${db}`;
    const args = ["server", "-L", HOST, "-p", String(port), "--log-file", "none"];
    return runtimeArgv(rt, "cli.ts", [...args, "--store", spec, "--fsync", fsync]);
  },
});

function gearmand(port: number, ...queue: string[]): string[] {
  return ["gearmand", "-L", HOST, "-p", String(port), "-l", "none", "-t", "0", "-q", ...queue];
}

const targets: Target[] = [
  { name: "gearmand builtin", jobs: K, argv: (port) => gearmand(port, "builtin") },
  {
    name: "gearmand libsqlite3",
    jobs: SLOW_K,
    argv: (port, db) => gearmand(port, "libsqlite3", `--libsqlite3-db=${db}`),
  },
  ...runtimes.flatMap((rt) => [
    ours(rt, "memory", "os"),
    ours(rt, "sqlite", "os"),
    ...(opt["fsync-always"] ? [ours(rt, "sqlite", "always")] : []),
  ]),
];

// ---------------------------------------------------------------- measuring

/** The machine may be shared: wait (within a budget) until under 0.25 cores are busy. */
const waitQuiet = idleWait(60_000, (cores) => {
  log(`bench_store: note: the machine stayed busy (${cores.toFixed(2)} cores)`);
});

const gearbench = async (port: number, args: string[]): Promise<Fields> =>
  (await runGearbench(port, "bench_store", args)).fields;

interface Sample {
  submit: number;
  drain: number;
}

async function measure(t: Target, scratch: string, round: number): Promise<Sample> {
  const db = join(scratch, `${t.name.replaceAll(/\W+/g, "_")}-${round}.db`);
  await waitQuiet();
  const port = await freePort();
  const child = spawnChild(t.argv(port, db));
  let stderr = "";
  child.stderr!.on("data", (b: Uint8Array) => (stderr += b));
  try {
    if (await waitListening(port, () => exited(child), 20_000, 50) !== "listening") {
      throw new Error(`${t.name} did not start: ${stderr.trim()}`);
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
    await stopChild(child, 10_000);
  }
}

// ---------------------------------------------------------------- report

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

killChildrenOnExit("bench_store");
try {
  await main();
} catch (err: unknown) {
  log(`bench_store: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await stopAll(10_000);
}
