/**
 * Builds the single-file executable:
 *
 *   node scripts/build_binary.ts          dist/bin/gearman-ts for this machine (offline-safe)
 *   node scripts/build_binary.ts --all    plus dist/bin/gearman-ts-<os>-<arch>[.exe] for
 *                                         linux-x64, linux-arm64, darwin-x64, darwin-arm64,
 *                                         windows-x64 (release artefacts)
 *   node scripts/build_binary.ts --deno   dist/bin/gearman-ts-deno via deno compile
 *
 * `bun build --compile` embeds the Bun runtime it runs on, so the native build
 * needs no network. Cross targets and `deno compile` download their runtime
 * the first time; offline they fail and this script says so.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
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
  const bunBuild = (outfile: string, target?: string) => {
    const args = ["build", "cli.ts", "--compile", "--minify", "--outfile", outfile];
    if (target !== undefined) args.push("--target", target);
    return build(
      `bun build --compile${target ? ` --target ${target}` : ""} -> ${outfile}`,
      bin("bun"),
      args,
    );
  };

  const native = await bunBuild("dist/bin/gearman-ts");
  if (native !== undefined) failures.push(native);
  if (values.all) {
    for (const [suffix, target] of Object.entries(RELEASE_TARGETS)) {
      const exe = suffix.startsWith("windows") ? ".exe" : "";
      const failed = await bunBuild(`dist/bin/gearman-ts-${suffix}${exe}`, target);
      if (failed !== undefined) failures.push(failed);
    }
  }
  if (values.deno) {
    const failed = await build(
      "deno compile -> dist/bin/gearman-ts-deno",
      bin("deno"),
      ["compile", "-A", "--output", "dist/bin/gearman-ts-deno", "cli.ts"],
    );
    if (failed !== undefined) failures.push(failed);
  }
  for (const f of failures) process.stderr.write(`build_binary: ${f}\n`);
  return failures.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());
