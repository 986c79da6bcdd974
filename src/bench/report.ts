/**
 * Text output of `gearman-ts bench`: the progress line and the final table.
 *
 * @module
 */
import type { BenchProgress, BenchResult, WorkloadResult } from "./bench.ts";

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const us = (x: number | undefined) => (x === undefined ? "" : x >= 100 ? int(x) : x.toFixed(1));

/** Human size: 0 B, 8 B, 4 KiB, 1 MiB, 1.5 MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [n, unit] = bytes < 1024 * 1024 ? [bytes / 1024, "KiB"] : [bytes / 1024 / 1024, "MiB"];
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
}

/** One progress line, without `\r`. */
export function progressLine(p: BenchProgress): string {
  return `${p.workload}: ${int(p.jobs)} jobs, ${int(p.jobsPerSecond)} jobs/s, ${
    p.seconds.toFixed(1)
  } s`;
}

function label(w: WorkloadResult, pipeline: number): string {
  switch (w.workload) {
    case "submit":
      return `submit (${w.connections} conns, pipeline ${pipeline})`;
    case "drain":
      return `drain (${w.workers} workers)`;
    case "roundtrip":
      return `roundtrip (${w.connections} clients x ${w.workers} workers)`;
  }
}

/** The table printed at the end of a run. */
export function formatTable(r: BenchResult): string {
  const s = r.settings;
  const fns = s.functions === 1
    ? `function ${s.function}`
    : `${s.functions} functions ${s.function}-*`;
  const head =
    `gearman-ts bench: ${r.servers.join(",")} from ${r.runtime}; ${formatSize(s.size)} payload, ` +
    `${fns}, ${s.unique ? "unique ids" : "no unique ids"}` +
    (r.idle.connections > 0
      ? `, ${int(r.idle.connections)} idle connections (opened in ` +
        `${r.idle.connectSeconds.toFixed(2)} s)`
      : "");
  const withMiB = s.size > 0;
  const cols = [
    "jobs",
    "seconds",
    "jobs/s",
    ...(withMiB ? ["MiB/s"] : []),
    "p50 us",
    "p99 us",
    "p999 us",
    "errors",
  ];
  const rows = r.workloads.map((w) => [
    label(w, s.pipeline) + (w.stoppedBy === "jobs" ? "" : ` [${w.stoppedBy}]`),
    int(w.jobs),
    w.seconds.toFixed(3),
    int(w.jobsPerSecond),
    ...(withMiB ? [(w.jobsPerSecond * s.size / 1024 / 1024).toFixed(1)] : []),
    us(w.latencyUs?.p50),
    us(w.latencyUs?.p99),
    us(w.latencyUs?.p999),
    String(w.errors),
  ]);
  const first = Math.max(8, ...rows.map((row) => (row[0] ?? "").length));
  const widths = cols.map((c, i) =>
    Math.max(c.length, ...rows.map((row) => (row[i + 1] ?? "").length))
  );
  const line = (cells: string[]) =>
    [(cells[0] ?? "").padEnd(first), ...cells.slice(1).map((c, i) => c.padStart(widths[i] ?? 0))]
      .join("  ")
      .trimEnd();
  const stopped = r.workloads.some((w) => w.stoppedBy === "seconds")
    ? [`[seconds]: stopped at the --seconds limit before --jobs jobs`]
    : [];
  return [head, line(["workload", ...cols]), ...rows.map(line), ...stopped].join("\n") + "\n";
}
