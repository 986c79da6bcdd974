/**
 * scripts/bench_vs_gearmand.ts from its command line to its report: builds
 * what it needs, then runs the rounds, rotating the server order per round
 * and alternating the generator order, so that runs interleave A B A B.
 *
 * @module
 */
import { rmSync } from "node:fs";
import process from "node:process";
import { killChildrenOnExit, stopAll } from "../bench_lib/children.ts";
import { log } from "../bench_lib/command_line.ts";
import { buildGearbench, GEARBENCH } from "../bench_lib/gearbench.ts";
import { idleWait } from "../bench_lib/proc_stats.ts";
import { formatFigure } from "../bench_lib/stats.ts";
import { measure } from "./measure.ts";
import type { Sample } from "./metrics.ts";
import { NOISY, type Options, parseOptions, type Target } from "./options.ts";
import { type OtherCpu, report } from "./report.ts";
import { buildBinary, PROF_DIR } from "./servers.ts";

async function rounds(opts: Options): Promise<void> {
  const { rounds: ROUNDS, runtimes, gens } = opts;
  if (gens.includes("C") && buildGearbench()) log(`bench: built ${GEARBENCH}`);
  if (runtimes.includes("binary")) buildBinary();
  rmSync(PROF_DIR, { recursive: true, force: true });
  if (opts.cpuProf && runtimes.some((t) => t === "deno" || t === "binary")) {
    log("bench: note: --cpu-prof profiles node and bun only");
  }
  const waitQuiet = idleWait(opts.maxWaitMs, (cores) => {
    log(`bench: note: the machine stayed busy (${cores.toFixed(2)} cores); measuring anyway`);
  });
  const targets: Target[] = ["gearmand", ...runtimes];
  const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]));
  const others: OtherCpu[] = [];
  let reruns = opts.reruns;
  const t0 = Date.now();
  for (let r = 0; r < ROUNDS; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    const genOrder = r % 2 === 0 ? gens : [...gens].reverse();
    for (const t of order) {
      let { s, other } = await measure(t, genOrder, opts, waitQuiet);
      if (other > NOISY && reruns > 0) {
        reruns--;
        log(`round ${r + 1}/${ROUNDS} ${t}: other CPU ${other.toFixed(2)} cores, measuring again`);
        const again = await measure(t, genOrder, opts, waitQuiet);
        if (again.other < other) ({ s, other } = again);
      }
      samples.get(t)!.push(s);
      others.push({ round: r + 1, target: t, cores: other });
      const figures = Object.entries(s).map(([k, v]) => `${k}=${formatFigure(v)}`).join(" ");
      log(
        `round ${r + 1}/${ROUNDS} ${t.padEnd(8)} ${figures}  (other CPU ${other.toFixed(2)} cores)`,
      );
    }
  }
  process.stdout.write(report(opts, samples, others, t0));
}

/** Runs the benchmark the command line asks for; the script at `entryUrl` documents it. */
export async function benchVsGearmand(entryUrl: string): Promise<void> {
  killChildrenOnExit("bench");
  const opts = parseOptions(entryUrl);
  try {
    await rounds(opts);
  } catch (err: unknown) {
    log(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    await stopAll(2000);
  }
}
