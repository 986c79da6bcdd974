/**
 * The gearman-ts version; kept equal to package.json and deno.json by
 * scripts/check_manifests.ts.
 *
 * @example
 * ```ts
 * import { VERSION } from "./mod.ts";
 * console.log(`gearman-ts ${VERSION}`); // "gearman-ts 0.1.0"
 * ```
 */
export const VERSION = "0.1.0";
