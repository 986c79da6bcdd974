/**
 * Where the benchmark scripts find the checkout, its runtimes and their
 * scratch folder, and how they start a TypeScript file on each runtime.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Runtime } from "../../src/net/net.ts";

export type { Runtime };

/** The root of this checkout. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** node, deno and bun as the checkout pins them (never the system's). */
export const BIN: string = join(ROOT, "node_modules", ".bin");
/** Builds, logs and profiles of the benchmarks (git-ignored). */
export const SCRATCH: string = join(ROOT, ".bench");

export const RUNTIMES = ["node", "deno", "bun"] as const satisfies readonly Runtime[];

export const isRuntime = (name: string): name is Runtime =>
  (RUNTIMES as readonly string[]).includes(name);

/** The command that runs `file` on `rt`; `flags` (such as --cpu-prof) go to node and bun only. */
export function runtimeArgv(
  rt: Runtime,
  file: string,
  args: readonly string[],
  flags: readonly string[] = [],
): string[] {
  const bin = join(BIN, rt);
  return rt === "deno" ? [bin, "run", "-A", file, ...args] : [bin, ...flags, file, ...args];
}
