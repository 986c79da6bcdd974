/**
 * Builds the npm package into dist/:
 *   1. checks that package.json, deno.json and src/version.ts agree;
 *   2. esbuild bundles cli.ts -> dist/cli.js (shebang kept, chmod +x) and
 *      mod.ts -> dist/mod.js: ESM for Node, with code splitting so the Deno
 *      and Bun socket adapters stay separate chunks behind their dynamic
 *      import() and are never evaluated on Node;
 *   3. `tsc -p tsconfig.build.json` emits the .d.ts files only, whose
 *      relative `.ts` imports are then pointed at `.js`; the ones that
 *      dist/mod.d.ts and dist/cli.d.ts do not reach are deleted.
 *
 * Run: `node scripts/build_npm.ts` (also npm's `prepack`).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import * as esbuild from "esbuild";
import { checkManifests, readManifests } from "./check_manifests.ts";

const root = join(import.meta.dirname ?? ".", "..");
const dist = join(root, "dist");

function fail(message: string): never {
  process.stderr.write(`build_npm: ${message}\n`);
  process.exit(1);
}

/** Runs a command with inherited stdio; resolves to its exit code. */
export function run(cmd: string, args: readonly string[], cwd = root): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: "inherit" });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

/** Files under `dir`, recursively, as absolute paths. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]
  );
}

/**
 * Deletes the .d.ts files that no entry point's declarations reach through
 * relative imports (tsc emits one per source file, CLI internals included),
 * then the folders left empty. Returns how many files went.
 */
function pruneDeclarations(entries: readonly string[]): number {
  const reached = new Set<string>();
  const queue = entries.filter((f) => existsSync(f));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (reached.has(file)) continue;
    reached.add(file);
    const text = readFileSync(file, "utf8");
    const specs = text.matchAll(
      /(?:from\s+|import\s*\(\s*|<reference\s+path=)(["'])(\.{1,2}\/[^"']+)\1/g,
    );
    for (const [, , spec] of specs) {
      const target = join(dirname(file), spec!.replace(/\.js$/, ".d.ts"));
      if (existsSync(target)) queue.push(target);
    }
  }
  let removed = 0;
  for (const file of walk(dist).filter((f) => f.endsWith(".d.ts") && !reached.has(f))) {
    rmSync(file);
    removed++;
  }
  const removeEmpty = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) removeEmpty(join(dir, e.name));
    }
    if (dir !== dist && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  };
  removeEmpty(dist);
  return removed;
}

async function main(): Promise<void> {
  const problems = checkManifests(readManifests(root));
  if (problems.length > 0) fail(`manifests disagree:\n  ${problems.join("\n  ")}`);

  // The npm package ships dist/ whole, so a stale compiled binary must not stay in it.
  rmSync(dist, { recursive: true, force: true });

  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["cli.ts", "mod.ts"],
    outdir: "dist",
    entryNames: "[name]",
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // npm dependencies stay imports (installed beside the package), and so do
    // modules that only exist on Bun or Deno, resolved there.
    packages: "external",
    external: ["bun", "bun:*", "npm:*", "jsr:*"],
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
  });
  if (result.errors.length > 0) fail("esbuild failed");
  const cli = join(dist, "cli.js");
  if (!readFileSync(cli, "utf8").startsWith("#!/usr/bin/env node\n")) {
    fail("dist/cli.js lost its #!/usr/bin/env node line");
  }
  chmodSync(cli, 0o755);

  const tsc = join(root, "node_modules", ".bin", process.platform === "win32" ? "tsc.cmd" : "tsc");
  const code = await run(tsc, ["-p", "tsconfig.build.json"]);
  if (code !== 0) fail(`tsc -p tsconfig.build.json exited with ${code}`);
  // Declaration emit keeps `./x.ts` specifiers as written; consumers need `./x.js`.
  for (const file of walk(dist).filter((f) => f.endsWith(".d.ts"))) {
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(
      /(from\s+|import\s*\(\s*)(["'])(\.{1,2}\/[^"']+)\.ts\2/g,
      "$1$2$3.js$2",
    );
    if (fixed !== text) writeFileSync(file, fixed);
  }

  const pruned = pruneDeclarations(["mod.d.ts", "cli.d.ts"].map((f) => join(dist, f)));

  const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
  process.stdout.write(
    `build_npm: wrote ${outputs.join(", ")} and .d.ts files (${pruned} unreachable ones removed)\n`,
  );
}

if (import.meta.main) await main();
