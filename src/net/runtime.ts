/**
 * Which JavaScript runtime is running this code, detected once from globals.
 *
 * @module
 */

import type { Runtime } from "./net.ts";

let detected: Runtime | undefined;

/**
 * Returns the current runtime: `"deno"` when the `Deno` global is present,
 * `"bun"` when the `Bun` global is, and `"node"` otherwise. The answer is
 * computed on the first call and cached.
 *
 * @returns The runtime this process runs on.
 * @example
 * ```ts
 * import { detectRuntime } from "./runtime.ts";
 * console.log(detectRuntime()); // "node", "deno" or "bun"
 * ```
 */
export function detectRuntime(): Runtime {
  if (detected === undefined) {
    // Deno's Node compatibility defines `process` but never `Bun`; Bun never
    // defines `Deno`. Check `Deno.version` so a stray global named Deno
    // (a polyfill, a test double) does not fool us.
    const g = globalThis as { Deno?: { version?: { deno?: unknown } }; Bun?: unknown };
    if (typeof g.Deno?.version?.deno === "string") detected = "deno";
    else if (g.Bun !== undefined) detected = "bun";
    else detected = "node";
  }
  return detected;
}
