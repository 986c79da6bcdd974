/**
 * One server's measurements in scripts/bench_vs_gearmand.ts: a fresh server
 * per group of workloads (as ../shared/bench/bench.sh does), each generator
 * in turn, with the CPU used meanwhile by anything else on the machine.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { stopChild } from "../bench_lib/children.ts";
import { type Fields, num } from "../bench_lib/gearbench.ts";
import { busyJiffies, cpuJiffies, HZ, treeRssKb } from "../bench_lib/proc_stats.ts";
import { gearbench, generator, type Shape } from "./generators.ts";
import { measures, type Sample } from "./metrics.ts";
import type { Gen, Options, Target } from "./options.ts";
import { reportProfile, type Running, startServer } from "./servers.ts";

/** The payload of (f). */
export const BIG_PAYLOAD = 1024 * 1024;

/** What one server measured, and the most "other CPU" (in cores) seen during a group. */
export interface Measured {
  readonly s: Sample;
  readonly other: number;
}

/** Runs a generator and also returns the server's CPU time per job in us. */
async function timed(srv: Running, run: () => Promise<Fields>): Promise<[Fields, number]> {
  const j0 = cpuJiffies(srv.child.pid!);
  const f = await run();
  return [f, (((cpuJiffies(srv.child.pid!) - j0) / HZ) * 1e6) / num(f, "jobs")];
}

/**
 * Measures server `t` on the chosen workloads, each generator in turn
 * (`order`); `waitQuiet` runs before each server start.
 */
export async function measure(
  t: Target,
  order: readonly Gen[],
  opts: Options,
  waitQuiet: () => Promise<void>,
): Promise<Measured> {
  const WL = opts.workloads;
  const s: Sample = {};
  let other = 0;
  const gen = (g: Gen, port: number, fn: string, w: Shape) =>
    generator(g, opts.genRuntime, port, fn, w);
  const group = async (run: (srv: Running) => Promise<void>) => {
    await waitQuiet();
    const srv = await startServer(t, opts);
    // "Ours" is the server, this script, and the generator runs it has reaped meanwhile.
    const pid = srv.child.pid!, t0 = Date.now();
    const b0 = busyJiffies(), p0 = cpuJiffies(pid), s0 = cpuJiffies("self", true);
    try {
      await run(srv);
      const ours = cpuJiffies(pid) - p0 + cpuJiffies("self", true) - s0;
      const foreign = busyJiffies() - b0 - ours;
      other = Math.max(other, Math.max(0, foreign) / HZ / ((Date.now() - t0) / 1000));
    } finally {
      await stopChild(srv.child, 5000);
    }
    if (opts.cpuProf && (t === "node" || t === "bun")) reportProfile(t);
  };
  const roundtrip = async (srv: Running, g: Gen, wl: "c" | "f") => {
    const secs = wl === "c" ? opts.seconds : opts.bigSeconds;
    const size = wl === "c" ? 8 : BIG_PAYLOAD;
    // The server's RSS, sampled every 100 ms: what large payloads in flight cost it.
    let peakKb = 0;
    const sampler = wl === "f"
      ? setInterval(() => (peakKb = Math.max(peakKb, treeRssKb(srv.child.pid!))), 100)
      : undefined;
    const shape: Shape = { mode: "roundtrip", size, secs };
    const [r, cpu] = await timed(srv, gen(g, srv.port, `bench_${wl}_${g}`, shape));
    clearInterval(sampler);
    const ok = num(r, "errors") === 0 && num(r, "jobs") > 0;
    const scale = wl === "c" ? 1 : 1000; // f's latencies in ms
    s[`${wl}.${g}`] = ok ? num(r, "rate") : NaN;
    s[`${wl}_p50.${g}`] = ok ? num(r, "p50_us") / scale : NaN;
    s[`${wl}_p99.${g}`] = ok ? num(r, "p99_us") / scale : NaN;
    // The jobs counted exclude the 0.5 s warm-up; the CPU figures cover it too.
    const all = num(r, "rate") * (secs + 0.5);
    s[`${wl}_cpu.${g}`] = ok ? (cpu * num(r, "jobs")) / all : NaN;
    s[`${wl}_gen.${g}`] = ok ? (num(r, "gen_cpu_s") * 1e6) / all : NaN;
    if (wl === "f") s[`f_rss.${g}`] = ok && peakKb > 0 ? peakKb / 1024 : NaN;
  };
  if (/[ab]/.test(WL)) {
    await group(async (srv) => {
      for (const g of order) {
        const fn = `bench_ab_${g}`;
        const K = opts.jobs;
        const [a, aCpu] = await timed(srv, gen(g, srv.port, fn, { mode: "submit", n: K }));
        const jobs = num(a, "jobs"), aOk = num(a, "errors") === 0 && jobs === K;
        if (WL.includes("a")) {
          [s[`a.${g}`], s[`a_cpu.${g}`]] = aOk ? [num(a, "rate"), aCpu] : [NaN, NaN];
          s[`a_gen.${g}`] = aOk ? (num(a, "gen_cpu_s") * 1e6) / jobs : NaN;
        }
        if (WL.includes("b") && jobs > 0) {
          const [b, bCpu] = await timed(srv, gen(g, srv.port, fn, { mode: "drain", n: jobs }));
          const bOk = num(b, "jobs") >= jobs;
          [s[`b.${g}`], s[`b_cpu.${g}`]] = bOk ? [num(b, "rate"), bCpu] : [NaN, NaN];
          s[`b_gen.${g}`] = bOk ? (num(b, "gen_cpu_s") * 1e6) / num(b, "jobs") : NaN;
        }
      }
    });
  }
  if (/[cf]/.test(WL)) {
    await group(async (srv) => {
      for (const wl of ["c", "f"] as const) {
        if (!WL.includes(wl)) continue;
        for (const g of order.filter((g) => measures(g, wl))) await roundtrip(srv, g, wl);
      }
    });
  }
  if (WL.includes("d") && opts.gens.includes("C")) {
    await group(async ({ child, port }) => {
      await sleep(300);
      const rss0 = treeRssKb(child.pid!);
      const args = ["submit", "-n", String(opts.rssJobs), "-c", "2", "-b", "1000"];
      const d = await gearbench(port, "bench_d", args);
      await sleep(500);
      s["d.C"] = ((treeRssKb(child.pid!) - rss0) * 1024) / num(d, "jobs");
    });
  }
  if (WL.includes("e") && opts.gens.includes("C")) {
    await group(async ({ child, port }) => {
      await sleep(300);
      const IDLE = opts.idleWorkers;
      const args = ["idle", "-n", String(IDLE), "-k", "20", "-i", "16", "-P", String(child.pid)];
      const e = await gearbench(port, "bench_e", args);
      const all = num(e, "acked") === IDLE && num(e, "ok") === 20;
      s["e_connect.C"] = all ? num(e, "connect_secs") : NaN;
      s["e_kib.C"] = all ? (num(e, "rss_idle_kb") - num(e, "rss0_kb")) / IDLE : NaN;
      s["e_rt.C"] = all ? num(e, "rt_p50_us") / 1000 : NaN;
    });
  }
  return { s, other };
}
