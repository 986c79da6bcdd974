/** The gearman-ts version; kept equal to package.json and deno.json by scripts/check_manifests.ts. */
export const VERSION = "0.1.0";
