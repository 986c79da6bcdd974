/**
 * Builds the single-file executable:
 *
 *   node scripts/build_binary.ts          dist/bin/gearman-ts for this machine (offline-safe)
 *   node scripts/build_binary.ts --all    plus dist/bin/gearman-ts-<os>-<arch>[.exe] for
 *                                         linux-x64, linux-arm64, darwin-x64, darwin-arm64,
 *                                         windows-x64 (release artefacts)
 *   node scripts/build_binary.ts --deno   dist/bin/gearman-ts-deno via deno compile (with --all,
 *                                         also dist/bin/gearman-ts-deno-<os>-<arch>[.exe])
 *
 * `bun build --compile` embeds the Bun runtime it runs on, so the native build
 * needs no network. Bun's cross targets come from the npm registry (the
 * `@oven/bun-*` packages) the first time. `deno compile` downloads its `denort`
 * runtime from Deno's own server, which a machine that reaches only the npm
 * registry cannot do: it fails, and this script says why.
 *
 * deno compile embeds the node_modules folder of a project that has a
 * package.json; this script excludes everything there but the runtime
 * dependencies (`postgres`), or the binary would carry Deno, Bun, esbuild and
 * TypeScript (360 MB instead of 0.9 MB of files).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

const root = join(import.meta.dirname ?? ".", "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** Release targets for `--all`: suffix of the output name -> bun's `--target`. */
export const RELEASE_TARGETS = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
  "windows-x64": "bun-windows-x64",
} as const;

/** `deno compile --target` for each release target, by the same suffixes. */
export const DENO_TARGETS = {
  "linux-x64": "x86_64-unknown-linux-gnu",
  "linux-arm64": "aarch64-unknown-linux-gnu",
  "darwin-x64": "x86_64-apple-darwin",
  "darwin-arm64": "aarch64-apple-darwin",
  "windows-x64": "x86_64-pc-windows-msvc",
} as const satisfies Record<keyof typeof RELEASE_TARGETS, string>;

/**
 * The node_modules entries a compiled program needs: package.json's
 * `dependencies` and theirs, transitively. Everything else there is a
 * development tool.
 */
export function runtimePackages(dir: string = root): Set<string> {
  const needed = new Set<string>();
  const visit = (manifest: string) => {
    const deps = (JSON.parse(readFileSync(manifest, "utf8")) as {
      dependencies?: Record<string, string>;
    }).dependencies ?? {};
    for (const name of Object.keys(deps)) {
      if (needed.has(name)) continue;
      needed.add(name);
      const own = join(dir, "node_modules", name, "package.json");
      if (existsSync(own)) visit(own);
    }
  };
  visit(join(dir, "package.json"));
  return needed;
}

/** `--exclude` arguments for every node_modules entry that is not a runtime package. */
function denoExcludes(): string[] {
  const modules = join(root, "node_modules");
  if (!existsSync(modules)) return [];
  const keep = runtimePackages();
  const args: string[] = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith("@") && statSync(join(modules, entry)).isDirectory()) {
      const inScope = readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`);
      const drop = inScope.filter((n) => !keep.has(n));
      if (drop.length === inScope.length) args.push("--exclude", `node_modules/${entry}`);
      else for (const n of drop) args.push("--exclude", `node_modules/${n}`);
    } else if (!keep.has(entry)) {
      args.push("--exclude", `node_modules/${entry}`);
    }
  }
  return args;
}

/** Runs a command with inherited stdio, capturing stderr too; resolves to its exit code. */
function run(cmd: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr += text;
      process.stderr.write(text);
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

const OFFLINE =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network|fetch|download|dns|resolve host/i;

/** One build; returns an error line on failure, mentioning the network when it looks like that. */
async function build(
  what: string,
  cmd: string,
  args: readonly string[],
): Promise<string | undefined> {
  process.stdout.write(`build_binary: ${what}\n`);
  const { code, stderr } = await run(cmd, args);
  if (code === 0) return undefined;
  const offline = OFFLINE.test(stderr)
    ? " (it needs to download a runtime, and this machine looks offline)"
    : "";
  return `${what} failed with exit code ${code}${offline}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { all: { type: "boolean" }, deno: { type: "boolean" } },
  });
  mkdirSync(join(root, "dist", "bin"), { recursive: true });
  const failures: string[] = [];
  const outputs: string[] = [];
  const bunBuild = async (outfile: string, target?: string) => {
    // --bytecode: JavaScriptCore bytecode compiled ahead, so start-up skips
    // parsing (about 20 ms instead of 50 for --version, for 3 MB more).
    const args = [
      "build",
      "cli.ts",
      "--compile",
      "--minify",
      "--bytecode",
      "--format=esm",
      "--outfile",
      outfile,
    ];
    if (target !== undefined) args.push("--target", target);
    const failed = await build(
      `bun build --compile${target ? ` --target ${target}` : ""} -> ${outfile}`,
      bin("bun"),
      args,
    );
    if (failed === undefined) outputs.push(outfile);
    else failures.push(failed);
  };

  await bunBuild("dist/bin/gearman-ts");
  if (values.all) {
    for (const [suffix, target] of Object.entries(RELEASE_TARGETS)) {
      const exe = suffix.startsWith("windows") ? ".exe" : "";
      await bunBuild(`dist/bin/gearman-ts-${suffix}${exe}`, target);
    }
  }
  if (values.deno) {
    const denoCompile = async (outfile: string, target?: string) => {
      const args = ["compile", "-A", ...denoExcludes(), "--output", outfile];
      if (target !== undefined) args.push("--target", target);
      const failed = await build(
        `deno compile${target ? ` --target ${target}` : ""} -> ${outfile}`,
        bin("deno"),
        [...args, "cli.ts"],
      );
      if (failed === undefined) outputs.push(outfile);
      else failures.push(failed);
    };
    await denoCompile("dist/bin/gearman-ts-deno");
    if (values.all) {
      for (const [suffix, target] of Object.entries(DENO_TARGETS)) {
        const exe = suffix.startsWith("windows") ? ".exe" : "";
        await denoCompile(`dist/bin/gearman-ts-deno-${suffix}${exe}`, target);
      }
    }
  }
  for (const file of outputs) {
    const mib = statSync(join(root, file)).size / 2 ** 20;
    process.stdout.write(`build_binary: ${file}: ${mib.toFixed(1)} MiB\n`);
  }
  for (const f of failures) process.stderr.write(`build_binary: ${f}\n`);
  return failures.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());
