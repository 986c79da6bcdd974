/**
 * The results of scripts/bench_vs_gearmand.ts, as a table or as JSON: medians
 * over the rounds, gearman-ts/gearmand ratios per round, the fastest runtime,
 * how the two generators agree, and the ratio a server using no CPU could reach.
 *
 * @module
 */
import { cpus } from "node:os";
import { formatFigure as fmt, formatRatio, median } from "../bench_lib/stats.ts";
import { BIG_PAYLOAD } from "./measure.ts";
import { chosenMetrics, type Metric, type Sample } from "./metrics.ts";
import { type Gen, NOISY, type Options, type Target } from "./options.ts";
import { versions } from "./servers.ts";

/** The "other CPU" of one server run, in cores. */
export interface OtherCpu {
  readonly round: number;
  readonly target: Target;
  readonly cores: number;
}

/** The report on stdout: a table, or JSON with --json. */
export function report(
  opts: Options,
  samples: ReadonlyMap<Target, readonly Sample[]>,
  others: readonly OtherCpu[],
  startedMs: number,
): string {
  const { runtimes, gens } = opts;
  const targets: Target[] = ["gearmand", ...runtimes];
  const metrics = chosenMetrics(opts);
  const series = (t: Target, k: string) => samples.get(t)!.map((s) => s[k] ?? NaN);
  const med = (t: Target, k: string) => median(series(t, k));
  // Rounds pair each runtime with the gearmand run of the same round (A B A B): the median of those ratios.
  const ratios = (t: Target, k: string) =>
    series(t, k).map((v, i) => v / (series("gearmand", k)[i] ?? NaN));
  const ratio = (t: Target, k: string) => median(ratios(t, k));
  const throughput = (g?: Gen) =>
    metrics.filter((m) => m.unit === "jobs/s" && (g === undefined || m.gen === g));
  const score = (t: Target, g?: Gen) => {
    const ms = throughput(g).filter((m) => Number.isFinite(ratio(t, m.key)));
    return ms.length === 0
      ? NaN
      : Math.exp(ms.reduce((acc, m) => acc + Math.log(ratio(t, m.key)), 0) / ms.length);
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
    (med("gearmand", `${m.wl}_gen.${m.gen}`) + med("gearmand", `${m.wl}_cpu.${m.gen}`)) /
    med(t, `${m.wl}_gen.${m.gen}`);
  const ceilings = throughput().map((m) => ({
    key: m.key,
    byRuntime: Object.fromEntries(runtimes.map((t) => [t, ceiling(t, m)])),
  }));
  const meta = {
    date: new Date().toISOString(),
    cores: cpus().length,
    rounds: opts.rounds,
    jobs: opts.jobs,
    roundtripSeconds: opts.seconds,
    bigRoundtripSeconds: opts.bigSeconds,
    bigPayloadBytes: BIG_PAYLOAD,
    generators: gens,
    generatorRuntime: opts.genRuntime,
    gearmandThreads: opts.gearmandThreads,
    versions: versions(targets),
    elapsedSeconds: Math.round((Date.now() - startedMs) / 1000),
    cpuProfiled: opts.cpuProf,
    otherCpuCores: others,
  };
  const worst = others.reduce((x, y) => (y.cores > x.cores ? y : x), others[0]!);
  const otherMean = others.reduce((acc, o) => acc + o.cores, 0) / others.length;
  const best = (m: Metric) =>
    runtimes.filter((t) => Number.isFinite(med(t, m.key)))
      .sort((
        x,
        y,
      ) => (m.higher ? med(y, m.key) - med(x, m.key) : med(x, m.key) - med(y, m.key)))[0];
  if (opts.json) {
    const entry = (t: Target, m: Metric) => ({
      unit: m.unit,
      better: m.higher ? "higher" : "lower",
      median: med(t, m.key),
      samples: series(t, m.key).map((v) => (Number.isFinite(v) ? v : null)),
      ...(t === "gearmand" ? {} : { ratio: ratio(t, m.key), ratios: ratios(t, m.key) }),
    });
    const byMetric = (t: Target) => Object.fromEntries(metrics.map((m) => [m.key, entry(t, m)]));
    const geomean = (g?: Gen) => Object.fromEntries(runtimes.map((t) => [t, score(t, g)]));
    return JSON.stringify(
      {
        meta,
        results: Object.fromEntries(targets.map((t) => [t, byMetric(t)])),
        bestRuntime: Object.fromEntries(metrics.map((m) => [m.key, best(m) ?? null])),
        fastest: ranked()[0] ?? null,
        throughputGeomeanRatio: geomean(),
        byGenerator: Object.fromEntries(
          gens.map((g) => [g, { fastest: ranked(g)[0] ?? null, geomean: geomean(g) }]),
        ),
        tsOverC: agree,
        zeroCpuCeiling: ceilings,
      },
      null,
      2,
    ) + "\n";
  }
  const cols: [string, number][] = [
    ["gearmand", 10],
    ...runtimes.flatMap((t): [string, number][] => [[t, 10], ["x gm", 6]]),
    ["best", 6],
  ];
  const line = (first: string, gen: string, unit: string, cells: string[]) =>
    first.padEnd(44) + gen.padEnd(4) + unit.padEnd(7) +
    cells.map((c, i) => c.padStart(cols[i]![1])).join(" ");
  const cells = (m: Metric) => [
    fmt(med("gearmand", m.key)),
    ...runtimes.flatMap((t) => [fmt(med(t, m.key)), formatRatio(ratio(t, m.key))]),
    best(m) ?? "",
  ];
  const shared = worst.cores > NOISY ? "; the machine was shared: rerun for cleaner figures" : "";
  const fastest = (g?: Gen) => ranked(g).map((t) => `${t} ${score(t, g).toFixed(2)}`).join(", ");
  const out = [
    `# gearman-ts vs gearmand: ${opts.rounds} round(s), medians; ${meta.cores} cores; ` +
    `gearmand -t ${opts.gearmandThreads}; K=${opts.jobs} jobs, round trips ${opts.seconds}s, ` +
    `1 MiB round trips ${opts.bigSeconds}s; generators ${gens.join(", ")}` +
    (gens.includes("ts") ? ` (ts on ${opts.genRuntime})` : "") + `; took ${meta.elapsedSeconds}s`,
    `# ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    line("workload", "gen", "unit", cols.map(([n]) => n)),
    ...metrics.map((m) => line(m.label, m.gen, m.unit, cells(m))),
    "gen: C = gearbench (libgearman), ts = gearman-ts bench (raw pipelined connections).",
    "x gm = gearman-ts / gearmand, the median of the per-round ratios: above 1 is better for jobs/s,",
    "below 1 for us, ms, B, s and KiB; read 0.9-1.1 as no difference. best = the best gearman-ts runtime.",
    ...(agree.length > 0
      ? [
        "ts/C jobs/s on the same server (how much faster our generator drives it): " +
        agree.map((a) =>
          `${a.wl} ` + targets.map((t) => `${t} ${formatRatio(a.byTarget[t] ?? NaN)}`).join(" ")
        ).join("; "),
      ]
      : []),
    ...(ceilings.length > 0
      ? [
        "ceiling = the x gm a server using no CPU at all would reach in this run, (generator + gearmand CPU",
        "per job) / generator CPU per job against gearman-ts, where the run is CPU-bound: " +
        ceilings.map((c) =>
          `${c.key} ` + runtimes.map((t) => `${t} ${formatRatio(c.byRuntime[t] ?? NaN)}`).join(" ")
        ).join("; "),
      ]
      : []),
    `other CPU during the measurements: mean ${otherMean.toFixed(2)} cores, ` +
    `most ${worst.cores.toFixed(2)} (round ${worst.round}, ${worst.target})${shared}`,
    ...(throughput().length > 0 && ranked().length > 0
      ? [
        `fastest runtime: ${ranked()[0]} (geometric mean of the throughput ratios: ${fastest()}` +
        (gens.length > 1
          ? `; with C alone: ${fastest("C")}; with ts alone: ${fastest("ts")}`
          : "") +
        ")",
      ]
      : []),
  ];
  return out.join("\n") + "\n";
}
