/**
 * `gearman-ts bench`: a load generator for any Gearman job server, in the
 * spirit of `redis-benchmark`. It prints a progress line while it runs
 * (on a terminal, or with --progress) and a table or JSON at the end.
 *
 * @module
 */
import process from "node:process";
import { InvalidArgumentError } from "../errors.ts";
import { parseByteSize, parseFlags, parseInteger } from "../cli/args.ts";
import { type Output, processOutput, serverList } from "../cli/io.ts";
import { VERSION_LINE } from "../cli/usage.ts";
import { MAX_BENCH_SIZE, runBench, type Workload, WORKLOADS } from "./bench.ts";
import { formatTable, progressLine } from "./report.ts";

/** `gearman-ts bench --help`. */
export const BENCH_HELP = `Usage: gearman-ts bench [options]

Measures a Gearman job server (gearmand, gearman-ts or any other) the way
redis-benchmark measures Redis, on raw pipelined connections:
  submit     background jobs submitted on --connections connections, with
             up to --pipeline in flight on each: jobs/s
  drain      the jobs submit queued, taken by --workers workers: jobs/s
  roundtrip  foreground jobs, --clients clients x --workers workers, one
             job in flight per client: jobs/s and p50/p99/p999 latency
Each workload ends after --jobs jobs or --seconds seconds, whichever comes
first. Workers echo the payload and grab jobs as libgearman's do
(GRAB_JOB_UNIQ, PRE_SLEEP, NOOP).

Server (-h is the host, as in gearman; help is -H or --help):
  -h, --host HOST        server host (default 127.0.0.1)
  -p, --port PORT        server port (default 4730)
      --servers LIST     host:port,host:port,... instead of -h and -p;
                         connections are spread over the servers

Workloads:
  -t, --tests LIST       submit,drain,roundtrip or letters a,b,c (default all)
  -n, --jobs N           jobs per workload (default 100000)
  -T, --seconds S        time limit per workload (default 30)
  -s, --size BYTES       payload per job, 0 to 16M, K/M suffixes (default 8)
  -c, --clients N        round-trip clients (default 8)
  -w, --workers N        workers of drain and roundtrip (default 4)
      --connections N    background submit connections (default 2)
  -P, --pipeline N       submits in flight per connection (default 1000;
                         fewer when they would pass 8 MiB)
      --functions N      spread the jobs over N functions (default 1)
  -f, --function NAME    function name, or prefix NAME-i (default gearman-ts-bench)
      --idle N           idle worker connections held open during the run
  -U, --no-unique        send no unique ids (default: 36 bytes per job, as
                         libgearman sends)
      --warmup S         round trips not counted at the start (default 0.5)

Output:
      --json             print the result as JSON on standard output
      --progress         progress line on standard error even when it is
                         not a terminal
  -q, --quiet            no progress line
  -H, --help             show this help and exit
  -V, --version          print the version and exit

Exit status: 0 when every job succeeded, 1 on errors or bad options, 130
when interrupted (the workloads measured so far are still printed).

Examples:
  gearman-ts bench -p 4730                           all three workloads
  gearman-ts bench -t roundtrip -c 32 -w 8 -T 5      32 clients for 5 s
  gearman-ts bench -t a,b -n 1000000 --functions 100
  gearman-ts bench -t roundtrip -s 1M -n 2000 --json
`;

const LETTERS: Record<string, Workload> = { a: "submit", b: "drain", c: "roundtrip" };

/** Runs bench mode; resolves to the exit code. */
export async function runBenchCommand(
  argv: readonly string[],
  out: Output = processOutput,
): Promise<number> {
  const { values: v } = parseFlags({
    args: [...argv],
    options: {
      host: { type: "string", short: "h" },
      port: { type: "string", short: "p" },
      servers: { type: "string" },
      tests: { type: "string", short: "t" },
      jobs: { type: "string", short: "n" },
      seconds: { type: "string", short: "T" },
      size: { type: "string", short: "s" },
      clients: { type: "string", short: "c" },
      workers: { type: "string", short: "w" },
      connections: { type: "string" },
      pipeline: { type: "string", short: "P" },
      functions: { type: "string" },
      function: { type: "string", short: "f" },
      idle: { type: "string" },
      "no-unique": { type: "boolean", short: "U" },
      warmup: { type: "string" },
      json: { type: "boolean" },
      progress: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "H" },
      version: { type: "boolean", short: "V" },
    },
  });
  if (v.help === true || v.version === true) {
    out.stdout(v.help === true ? BENCH_HELP : `${VERSION_LINE}\n`);
    return 0;
  }
  const count = (flag: string, text: string | undefined, min: number) =>
    text === undefined ? undefined : parseInteger(flag, text, min);
  const seconds = (flag: string, text: string | undefined, min: number) => {
    if (text === undefined) return undefined;
    const n = /^\s*\d*\.?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min)) {
      throw InvalidArgumentError.format(flag, `expected seconds >= ${min}, got '${text}'`);
    }
    return n;
  };
  const size = v.size === undefined ? undefined : parseByteSize("--size", v.size, 0);
  if (size !== undefined && size > MAX_BENCH_SIZE) {
    throw InvalidArgumentError.format("--size", `at most 16M, got '${v.size}'`);
  }
  const showProgress = v.quiet !== true && (v.progress === true || process.stderr.isTTY === true);
  let shown = 0;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const result = await runBench({
      servers: serverList(v),
      workloads: parseWorkloads(v.tests),
      ...defined({
        jobs: count("--jobs", v.jobs, 0),
        seconds: seconds("--seconds", v.seconds, 0.001),
        size,
        clients: count("--clients", v.clients, 1),
        workers: count("--workers", v.workers, 1),
        connections: count("--connections", v.connections, 1),
        pipeline: count("--pipeline", v.pipeline, 1),
        functions: count("--functions", v.functions, 1),
        function: v.function,
        idle: count("--idle", v.idle, 0),
        warmup: seconds("--warmup", v.warmup, 0),
      }),
      unique: v["no-unique"] !== true,
      signal: abort.signal,
      ...(showProgress
        ? {
          onProgress: (p) => {
            const text = progressLine(p);
            out.stderr(`\r${text.padEnd(shown)}`);
            shown = text.length;
          },
        }
        : {}),
    });
    if (shown > 0) out.stderr(`\r${" ".repeat(shown)}\r`);
    out.stdout(v.json === true ? JSON.stringify(result, null, 2) + "\n" : formatTable(result));
    if (abort.signal.aborted) return 130;
    return result.workloads.some((w) => w.errors > 0 || w.stoppedBy === "failed") ? 1 : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** `submit,drain` or `a,b` (or `ab`) into workloads. */
function parseWorkloads(text: string | undefined): Workload[] {
  if (text === undefined) return [...WORKLOADS];
  const parts = /^[abc]+$/.test(text)
    ? text.split("")
    : text.split(",").map((t) => t.trim()).filter(Boolean);
  const out = parts.map((p) => {
    const w = LETTERS[p] ?? WORKLOADS.find((x) => x === p);
    if (w === undefined) {
      throw InvalidArgumentError.format(
        "--tests",
        `expected submit, drain, roundtrip or a, b, c, got '${p}'`,
      );
    }
    return w;
  });
  if (out.length === 0) throw InvalidArgumentError.format("--tests", "no workload given");
  return out;
}

/** Drops the undefined fields (exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
