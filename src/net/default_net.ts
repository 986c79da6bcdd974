/**
 * The {@link Net} used when none is injected: the current runtime's own.
 *
 * @module
 */

import type { Net, Runtime } from "./net.ts";
import { detectRuntime } from "./runtime.ts";

let loading: Promise<Net> | undefined;

/**
 * Returns the adapter for the current runtime: `BunNet` on Bun, `NodeNet`
 * elsewhere, Deno included. On Deno, `node:net` measured lighter and faster
 * than `Deno.listen` (`DenoNet`): 8.8 against 16.5 KiB per idle worker in
 * the server and 10-20 % more foreground round trips (a pending
 * `conn.read()` holds a buffer for every connection). Adapters are loaded with a dynamic `import()`, so
 * Node never loads Bun code. The instance is created once and shared.
 *
 * @returns The adapter for this runtime.
 * @example
 * ```ts
 * import { defaultNet } from "./default_net.ts";
 * const net = await defaultNet();
 * console.log(net.runtime); // "node" (on Node and Deno) or "bun"
 * ```
 */
export function defaultNet(): Promise<Net> {
  loading ??= load().catch((err: unknown) => {
    // Let a later call try again instead of caching a failure forever.
    loading = undefined;
    throw err;
  });
  return loading;
}

/** The runtime of the adapter {@link defaultNet} loads: `"bun"` on Bun, `"node"` elsewhere. */
export function defaultNetRuntime(): Runtime {
  return detectRuntime() === "bun" ? "bun" : "node";
}

async function load(): Promise<Net> {
  if (defaultNetRuntime() === "bun") {
    const { BunNet } = await import("./bun_net.ts");
    return new BunNet();
  }
  const { NodeNet } = await import("./node_net.ts");
  return new NodeNet();
}
