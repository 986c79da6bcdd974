// How tests start the gearman-ts command under the runtime that runs them.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import process from "node:process";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The runtime running the tests. */
export const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** Command and leading arguments that run cli.ts under this runtime. */
export function cliCommand(): [string, string[]] {
  const cli = join(ROOT, "cli.ts");
  return [process.execPath, RUNTIME === "deno" ? ["run", "-A", cli] : [cli]];
}
