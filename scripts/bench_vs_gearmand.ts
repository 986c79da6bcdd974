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
import process from "node:process";

// Our generator runs as a child: this script again, as `gearman-ts bench`.
if (process.argv[2] === "--generator") {
  const { runBenchCommand } = await import("../src/bench/bench_command.ts");
  process.exit(await runBenchCommand(process.argv.slice(3)));
}

// Imported only now, so that the generator above starts no heavier than it must.
const { benchVsGearmand } = await import("./bench_vs_gearmand/rounds.ts");
await benchVsGearmand(import.meta.url);
