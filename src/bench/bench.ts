/**
 * A load generator for any Gearman job server, in the spirit of
 * `redis-benchmark`: pipelined background submits, the drain of the queued
 * backlog, and foreground round trips with latency percentiles. It speaks
 * the protocol on raw connections (pre-encoded packets, one write per turn,
 * pipelining) so that it is not the bottleneck.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { formatAddr, parseServers } from "../client/servers.ts";
import { defaultNet } from "../net/default_net.ts";
import type { Net, Runtime } from "../net/net.ts";
import { detectRuntime } from "../net/runtime.ts";
import { type Ctx, type Latency, release, type StopReason } from "./context.ts";
import { openIdle } from "./workers.ts";
import { runDrain, runRoundtrip, runSubmit } from "./workloads.ts";
import { makePayload, uniqueBase } from "./wire.ts";

export type { Latency, StopReason } from "./context.ts";

/** A workload {@link runBench} can run. */
export type Workload = "submit" | "drain" | "roundtrip";
/** Every workload, in the order they run. */
export const WORKLOADS: readonly Workload[] = ["submit", "drain", "roundtrip"];
/** Largest `size` accepted (16 MiB; gearmand and gearman-ts take 64 MiB packets). */
export const MAX_BENCH_SIZE = 16 * 1024 * 1024;

/** Settings of {@link runBench}; every field has a default. */
export interface BenchOptions {
  /** `host:port` list (or one comma-separated string); default `127.0.0.1:4730`. */
  readonly servers?: string | readonly string[];
  /** Socket implementation; defaults to the current runtime's. */
  readonly net?: Net;
  /** What to run, in {@link WORKLOADS} order (default all three). */
  readonly workloads?: readonly Workload[];
  /** Jobs per workload (default 100,000); drain takes what submit queued when both run. */
  readonly jobs?: number;
  /** Time limit per workload in seconds, after the warm-up (default 30). */
  readonly seconds?: number;
  /** Submitting connections of `submit` (default 2). */
  readonly connections?: number;
  /** Background submits in flight per connection (default 1000; fewer for big payloads). */
  readonly pipeline?: number;
  /** Clients of `roundtrip`, one job in flight each (default 8). */
  readonly clients?: number;
  /** Workers of `drain` and `roundtrip`, each connected to every server (default 4). */
  readonly workers?: number;
  /** Payload bytes per job, 0 to {@link MAX_BENCH_SIZE} (default 8). */
  readonly size?: number;
  /** Number of functions jobs are spread over, round-robin (default 1). */
  readonly functions?: number;
  /** Function name, or prefix `NAME-i` when there are several (default `gearman-ts-bench`). */
  readonly function?: string;
  /** Idle worker connections held open during the run (default 0). */
  readonly idle?: number;
  /** Give every job its own 36-byte unique id, as libgearman does (default true). */
  readonly unique?: boolean;
  /** Seconds of round trips not counted at the start of `roundtrip` (default 0.5). */
  readonly warmup?: number;
  /** Stops the run: the current workload ends early and the rest are skipped. */
  readonly signal?: AbortSignal;
  /** Called every `progressIntervalMs` while a workload runs. */
  readonly onProgress?: (progress: BenchProgress) => void;
  /** Default 250. */
  readonly progressIntervalMs?: number;
}

/** A snapshot of the running workload. */
export interface BenchProgress {
  readonly workload: Workload;
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSecond: number;
}

/** What one workload measured. */
export interface WorkloadResult {
  readonly workload: Workload;
  /** Jobs created (submit), completed (drain) or timed after the warm-up (roundtrip). */
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSecond: number;
  /** ERROR packets, failed jobs, wrong echoes, dropped connections, jobs lost at the end. */
  readonly errors: number;
  readonly stoppedBy: StopReason;
  /** Submitting connections, draining workers or round-trip clients. */
  readonly connections: number;
  readonly workers: number;
  /** Round-trip latency from submit to WORK_COMPLETE (roundtrip only). */
  readonly latencyUs?: Latency;
}

/** The settings used, with defaults filled in. */
export type BenchSettings = Required<
  Omit<BenchOptions, "servers" | "net" | "signal" | "onProgress" | "progressIntervalMs">
>;

/** What {@link runBench} measured. */
export interface BenchResult {
  readonly servers: readonly string[];
  /** The runtime the load generator ran on. */
  readonly runtime: Runtime;
  readonly settings: BenchSettings;
  /** The idle connections, and how long opening them all took. */
  readonly idle: { readonly connections: number; readonly connectSeconds: number };
  readonly workloads: readonly WorkloadResult[];
}

/**
 * Runs the chosen workloads against one or more Gearman servers and closes
 * every connection it opened, whatever happens. Each workload stops after
 * `jobs` jobs or `seconds` seconds, whichever comes first.
 *
 * @param options What to run, where, and how hard.
 * @returns The measurements, one entry per workload run.
 * @throws {InvalidArgumentError} when an option is out of range.
 * @throws {ConnectionError} when a server cannot be reached.
 * @throws {TimeoutError} when workers or idle connections are not acknowledged within 15 s.
 * @example
 * ```ts
 * import { runBench } from "./bench.ts";
 * const r = await runBench({ servers: "127.0.0.1:4730", jobs: 10_000, workloads: ["roundtrip"] });
 * console.log(r.workloads[0]?.jobsPerSecond, r.workloads[0]?.latencyUs?.p99);
 * ```
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const s = settings(options);
  const addrs = parseServers(options.servers ?? "127.0.0.1:4730");
  const fns = s.functions === 1
    ? [s.function]
    : Array.from({ length: s.functions }, (_, i) => `${s.function}-${i}`);
  const ctx: Ctx = {
    net: options.net ?? await defaultNet(),
    addrs,
    fns,
    payload: makePayload(s.size),
    unique: s.unique ? uniqueBase() : "",
    signal: options.signal,
    peers: new Set(),
    counter: 0,
    now: () => performance.now(),
    progress: { workload: "submit", jobs: 0, since: 0 },
  };
  const report = options.onProgress;
  const ticker = report === undefined ? undefined : setInterval(() => {
    const { workload, jobs, since } = ctx.progress;
    const seconds = (ctx.now() - since) / 1000;
    report({
      workload: workload as Workload,
      jobs,
      seconds,
      jobsPerSecond: seconds > 0 ? jobs / seconds : 0,
    });
  }, options.progressIntervalMs ?? 250);
  const results: WorkloadResult[] = [];
  let idle = { connections: 0, connectSeconds: 0 };
  try {
    if (s.idle > 0) {
      const t0 = ctx.now();
      await openIdle(ctx, s.idle, `${s.function}-idle`);
      idle = { connections: s.idle, connectSeconds: (ctx.now() - t0) / 1000 };
    }
    let backlog = s.jobs;
    for (const w of WORKLOADS) {
      if (!s.workloads.includes(w) || options.signal?.aborted) continue;
      ctx.progress = { workload: w, jobs: 0, since: ctx.now() };
      const r = w === "submit"
        ? await runSubmit(ctx, s)
        : w === "drain"
        ? await runDrain(ctx, { ...s, jobs: backlog })
        : await runRoundtrip(ctx, s);
      if (w === "submit") backlog = r.jobs;
      results.push(r);
    }
  } finally {
    clearInterval(ticker);
    await release(ctx, [...ctx.peers]);
  }
  return {
    servers: addrs.map(formatAddr),
    runtime: detectRuntime(),
    settings: s,
    idle,
    workloads: results,
  };
}

function settings(o: BenchOptions): BenchSettings {
  const int = (field: string, v: number | undefined, dflt: number, min: number, max = 1e9) => {
    const n = v ?? dflt;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw InvalidArgumentError.format(
        field,
        `expected an integer from ${min} to ${max}, got ${n}`,
      );
    }
    return n;
  };
  const real = (field: string, v: number | undefined, dflt: number, min: number) => {
    const n = v ?? dflt;
    if (!Number.isFinite(n) || n < min) {
      throw InvalidArgumentError.format(field, `expected a number >= ${min}, got ${n}`);
    }
    return n;
  };
  const workloads = o.workloads ?? WORKLOADS;
  for (const w of workloads) {
    if (!WORKLOADS.includes(w)) {
      throw InvalidArgumentError.format(
        "workloads",
        `expected ${WORKLOADS.join(", ")}, got ${JSON.stringify(w)}`,
      );
    }
  }
  const fn = o.function ?? "gearman-ts-bench";
  if (!/^[\x21-\x7e\xa1-\xff]+$/.test(fn)) {
    throw InvalidArgumentError.format(
      "function",
      `expected a name of printable latin1 characters, got ${JSON.stringify(fn)}`,
    );
  }
  return {
    workloads: [...workloads],
    jobs: int("jobs", o.jobs, 100_000, 0),
    seconds: real("seconds", o.seconds, 30, 0.001),
    connections: int("connections", o.connections, 2, 1, 10_000),
    pipeline: int("pipeline", o.pipeline, 1000, 1, 1_000_000),
    clients: int("clients", o.clients, 8, 1, 10_000),
    workers: int("workers", o.workers, 4, 1, 10_000),
    size: int("size", o.size, 8, 0, MAX_BENCH_SIZE),
    functions: int("functions", o.functions, 1, 1, 1_000_000),
    function: fn,
    idle: int("idle", o.idle, 0, 0, 1_000_000),
    unique: o.unique ?? true,
    warmup: real("warmup", o.warmup, 0.5, 0),
  };
}
