/**
 * The servers scripts/bench_vs_gearmand.ts measures: gearmand and gearman-ts
 * on each runtime (or as the compiled binary), each started fresh on a free
 * port with its log in .bench/, and their versions for the report.
 *
 * @module
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { exited, spawnChild, stopChild } from "../bench_lib/children.ts";
import { log } from "../bench_lib/command_line.ts";
import { newestProfileSummary } from "../bench_lib/cpu_profile.ts";
import { BIN, ROOT, runtimeArgv, SCRATCH } from "../bench_lib/paths.ts";
import { freePort, HOST, waitListening } from "../bench_lib/ports.ts";
import type { Options, Target } from "./options.ts";

const BINARY = join(ROOT, "dist/bin/gearman-ts");
/** Where node and bun write their profiles with --cpu-prof. */
export const PROF_DIR: string = join(SCRATCH, "prof");

/** A server under test, listening. */
export interface Running {
  readonly child: ChildProcess;
  readonly port: number;
}

function serverArgv(t: Target, port: number, opts: Options): string[] {
  // gearmand keeps its queue in memory by default; so do we here (bench_store.ts measures stores).
  const listen = ["-L", HOST, "-p", String(port), "--log-file", "none"];
  const ours = ["server", ...listen, "--store", "memory"];
  const prof = opts.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : [];
  // `ulimit -n` first (the idle workload opens 5000 sockets); exec keeps the pid.
  const raise = 'ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const wrap = (argv: string[]) => ["sh", "-c", raise, "sh", ...argv];
  switch (t) {
    case "gearmand":
      return wrap(["gearmand", ...listen, "-t", String(opts.gearmandThreads)]);
    case "binary":
      return wrap([BINARY, ...ours]);
    default:
      return wrap(runtimeArgv(t, "cli.ts", ours, prof));
  }
}

/** Starts `t` on a free port (three attempts), its output appended to .bench/<t>.log. */
export async function startServer(t: Target, opts: Options): Promise<Running> {
  const logFile = join(SCRATCH, `${t}.log`);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const fd = openSync(logFile, "a");
    const argv = serverArgv(t, port, opts);
    const child = spawnChild(argv, {
      output: fd,
      onError: (err) => log(`bench: ${argv[0]}: ${err.message}`),
    });
    closeSync(fd);
    if (await waitListening(port, () => exited(child), 20_000, 50) === "listening") {
      return { child, port };
    }
    await stopChild(child, 1000);
    log(`bench: ${t} did not listen on ${port} (attempt ${attempt}); see ${logFile}`);
  }
  throw new Error(`${t} would not start; see ${logFile}`);
}

/** Builds dist/bin/gearman-ts from the working tree, so that the binary measured is this code. */
export function buildBinary(): void {
  const build = spawnSync(join(BIN, "node"), ["scripts/build_binary.ts"], {
    cwd: ROOT,
    stdio: "inherit",
    timeout: 300_000,
  });
  if (build.status !== 0 || !existsSync(BINARY)) {
    throw new Error("building dist/bin/gearman-ts failed");
  }
}

/** The version each target reports ("?" when it reports none). */
export function versions(targets: readonly Target[]): Record<string, string> {
  // The binary's own --version is gearman-ts's; BUN_BE_BUN makes it answer as the Bun inside.
  const command = (t: Target): string =>
    t === "gearmand" ? "gearmand" : t === "binary" ? BINARY : join(BIN, t);
  return Object.fromEntries(targets.map((t) => {
    const r = spawnSync(command(t), ["--version"], {
      encoding: "utf8",
      timeout: 10_000,
      env: t === "binary" ? { ...process.env, BUN_BE_BUN: "1" } : process.env,
    });
    return [t, /\d+\.\d+\.\d+\S*/.exec(r.stdout ?? "")?.[0] ?? "?"];
  }));
}

/** Logs the top self-time functions of `t`'s newest profile (kept in .bench/prof/). */
export function reportProfile(t: Target): void {
  const summary = newestProfileSummary(PROF_DIR, t);
  log(summary ?? `bench: ${t} wrote no .cpuprofile (does it support --cpu-prof?)`);
}
