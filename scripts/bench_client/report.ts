/**
 * The results of scripts/bench_client.ts: a progress line per run, then
 * medians over the rounds with ours/PHP ratios, as Markdown tables or JSON.
 *
 * @module
 */
import { median } from "../bench_lib/stats.ts";
import type { Kind, Run, Settings } from "./runs.ts";

const sizeName = (n: number): string =>
  n >= 1 << 20 ? `${n / (1 << 20)}MiB` : n >= 1024 ? `${n / 1024}KiB` : `${n}B`;

/** The stderr line for one run. */
export function progressLine(run: Run, round: number): string {
  const { client, worker, server } = run.cpuUs;
  return `round ${round + 1} ${run.server.padEnd(10)} ${sizeName(run.size).padStart(5)} ` +
    `${run.workload.padEnd(10)} ${run.jobsPerSec.toFixed(0).padStart(7)} jobs/s  ` +
    `cpu us/job client ${client.toFixed(1)} worker ${worker.toFixed(1)} server ${
      server.toFixed(1)
    }`;
}

interface Summary {
  server: Kind;
  size: number;
  workload: string;
  rounds: number;
  jobsPerSec: number;
  cpuUs: { client: number; worker: number; server: number };
}

function summarize(runs: readonly Run[]): Summary[] {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = `${r.server}|${r.size}|${r.workload}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    server: g[0]!.server,
    size: g[0]!.size,
    workload: g[0]!.workload,
    rounds: g.length,
    jobsPerSec: median(g.map((r) => r.jobsPerSec)),
    cpuUs: {
      client: median(g.map((r) => r.cpuUs.client)),
      worker: median(g.map((r) => r.cpuUs.worker)),
      server: median(g.map((r) => r.cpuUs.server)),
    },
  }));
}

/** The report on stdout: Markdown tables, or JSON with `json`. */
export function report(runs: readonly Run[], rounds: number, set: Settings, json: boolean): string {
  const rows = summarize(runs);
  const find = (s: Summary, workload: string) =>
    rows.find((r) => r.server === s.server && r.size === s.size && r.workload === workload);
  const comparisons = rows
    .filter((r) => r.workload === "fg ts/ts" || r.workload === "bg ts")
    .map((ours) => {
      const php = find(ours, ours.workload === "bg ts" ? "bg php" : "fg php/php");
      return { ours, php, ratio: php === undefined ? NaN : ours.jobsPerSec / php.jobsPerSec };
    });
  const { concurrency: C, workers: W, phpClients: P } = set;
  if (json) {
    const settings = {
      rounds,
      concurrency: C,
      workers: W,
      phpClients: P,
      seconds: set.seconds,
      runtime: set.runtime,
      serverRuntime: set.serverRuntime,
      gearmandThreads: Number(set.gearmandThreads),
      bgJobs: set.bgJobs,
      bgJobsBig: set.bgJobsBig,
      bgWindow: set.bgWindow,
    };
    return JSON.stringify(
      {
        settings,
        results: rows,
        ratios: comparisons.map((c) => ({
          server: c.ours.server,
          size: c.ours.size,
          workload: c.ours.workload.slice(0, 2),
          ratio: c.ratio,
        })),
      },
      null,
      2,
    );
  }
  const f = (n: number, d = 0) => Number.isFinite(n) ? n.toFixed(d) : "-";
  const both = (ours: number, php: number | undefined) => `${f(ours, 1)} / ${f(php ?? NaN, 1)}`;
  const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const out: string[] = [];
  out.push(
    `ours = mod.ts on ${set.runtime} (1 client process; worker: 1 process, concurrency ${W}); ` +
      `PHP = ${P} client processes, ${W} worker processes; C=${C}; medians of ${rounds} round(s)`,
  );
  out.push("");
  const cpu = ["client", "worker", "server"].map((p) => `${p} CPU µs/job ours / PHP`);
  out.push(row(["server", "size", "workload", "ours jobs/s", "PHP jobs/s", "ours/PHP", ...cpu]));
  out.push("|---|---|---|---:|---:|---:|---:|---:|---:|");
  for (const { ours, php, ratio } of comparisons) {
    const kind = ours.workload.startsWith("fg") ? "foreground" : "background submit";
    out.push(row([
      ours.server,
      sizeName(ours.size),
      kind,
      f(ours.jobsPerSec),
      f(php?.jobsPerSec ?? NaN),
      f(ratio, 2),
      both(ours.cpuUs.client, php?.cpuUs.client),
      kind === "foreground" ? both(ours.cpuUs.worker, php?.cpuUs.worker) : "",
      both(ours.cpuUs.server, php?.cpuUs.server),
    ]));
  }
  const mixed = rows.filter((r) => r.workload === "fg ts/php" || r.workload === "fg php/ts");
  if (mixed.length > 0) {
    out.push("");
    out.push("| server | size | client/worker | jobs/s |");
    out.push("|---|---|---|---:|");
    for (const r of mixed) {
      out.push(row([r.server, sizeName(r.size), r.workload.slice(3), f(r.jobsPerSec)]));
    }
  }
  return out.join("\n");
}
