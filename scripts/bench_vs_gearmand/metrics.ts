/**
 * What scripts/bench_vs_gearmand.ts reports: one metric per workload figure
 * and generator, keyed `metric.gen` (`c_p99.C`), in the order of the table.
 *
 * @module
 */
import type { Gen, Options } from "./options.ts";

/** One server run's figures, by metric key. */
export type Sample = Record<string, number>;

export interface Metric {
  readonly key: string;
  readonly wl: string;
  readonly label: string;
  readonly unit: string;
  readonly higher: boolean;
  readonly gen: Gen;
}

function baseMetrics(rssJobs: number, idleWorkers: number): Omit<Metric, "gen">[] {
  const m = (key: string, label: string, unit: string, higher = false) => ({
    key,
    wl: key[0]!,
    label,
    unit,
    higher,
  });
  return [
    m("a", "(a) bg submit, 2 conns, pipelined", "jobs/s", true),
    m("a_cpu", "    server CPU per job", "us"),
    m("a_gen", "    generator CPU per job", "us"),
    m("b", "(b) drain by 4 workers", "jobs/s", true),
    m("b_cpu", "    server CPU per job", "us"),
    m("b_gen", "    generator CPU per job", "us"),
    m("c", "(c) fg round trips, 8 clients x 4 workers", "jobs/s", true),
    m("c_cpu", "    server CPU per job", "us"),
    m("c_gen", "    generator CPU per job", "us"),
    m("c_p50", "    p50 latency", "us"),
    m("c_p99", "    p99 latency", "us"),
    m("f", "(f) fg round trips, 1 MiB payloads, 8 x 4", "jobs/s", true),
    m("f_cpu", "    server CPU per job", "us"),
    m("f_gen", "    generator CPU per job", "us"),
    m("f_p50", "    p50 latency", "ms"),
    m("f_p99", "    p99 latency", "ms"),
    m("f_rss", "    server peak RSS", "MiB"),
    m("d", `(d) RSS per queued job (${rssJobs} jobs)`, "B/job"),
    m("e_connect", `(e) ${idleWorkers} idle workers: connect`, "s"),
    m("e_kib", "    RSS per idle connection", "KiB"),
    m("e_rt", "    round trip via the idle crowd, p50", "ms"),
  ];
}

/**
 * Which generator measures what: d and e need gearbench's RSS probes; f is ours alone, because
 * libgearman itself takes 0.2-0.7 s per round trip above 128 KiB (1 client, 1 worker, against
 * gearmand and gearman-ts alike), so gearbench would measure itself.
 */
export const measures = (g: Gen, wl: string): boolean =>
  g === "C" ? wl !== "f" : !"de".includes(wl);

/** Every metric of the chosen workloads once per generator that measures it, grouped by workload. */
export function chosenMetrics(opts: Options): Metric[] {
  const base = baseMetrics(opts.rssJobs, opts.idleWorkers);
  return [...new Set(base.map((m) => m.wl))].filter((wl) => opts.workloads.includes(wl)).flatMap(
    (wl) =>
      opts.gens.filter((g) => measures(g, wl)).flatMap((gen) =>
        base.filter((m) => m.wl === wl).map((m) => ({ ...m, gen, key: `${m.key}.${gen}` }))
      ),
  );
}
