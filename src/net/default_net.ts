/**
 * The {@link Net} used when none is injected: the current runtime's own.
 *
 * @module
 */

import type { Net } from "./net.ts";
import { detectRuntime } from "./runtime.ts";

let loading: Promise<Net> | undefined;

/**
 * Returns the current runtime's adapter: `DenoNet` on Deno, `BunNet` on Bun,
 * `NodeNet` elsewhere. Adapters are loaded with a dynamic `import()`, so Node
 * never loads Bun or Deno code. The instance is created once and shared.
 *
 * @returns The adapter for this runtime.
 * @example
 * ```ts
 * import { defaultNet } from "./default_net.ts";
 * const net = await defaultNet();
 * console.log(net.runtime); // "node", "deno" or "bun"
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

async function load(): Promise<Net> {
  switch (detectRuntime()) {
    case "deno": {
      const { DenoNet } = await import("./deno_net.ts");
      return new DenoNet();
    }
    case "bun": {
      const { BunNet } = await import("./bun_net.ts");
      return new BunNet();
    }
    case "node": {
      const { NodeNet } = await import("./node_net.ts");
      return new NodeNet();
    }
  }
}
