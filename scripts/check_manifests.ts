/**
 * Fails when the npm and Deno manifests drift apart (hono's validate-exports
 * idea): the version in package.json, deno.json and src/version.ts, the
 * name (deno.json's may add a scope) and licence, and the export subpaths,
 * whose targets must match (`./x.ts` for Deno is `./dist/x.js` plus
 * `./dist/x.d.ts` for npm). Every npm `bin` must be one of the built exports,
 * and every npm script but npm's lifecycle hooks must have a deno task of
 * the same name (and the other way round).
 *
 * Run: `node scripts/check_manifests.ts` (exit 1 with one line per problem).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** The three files the check reads, already loaded. */
export interface Manifests {
  /** package.json, parsed. */
  readonly packageJson: unknown;
  /** deno.json, parsed. */
  readonly denoJson: unknown;
  /** The text of src/version.ts. */
  readonly versionTs: string;
}

/** Reads package.json, deno.json and src/version.ts under `root`. */
export function readManifests(root: string): Manifests {
  const read = (file: string) => readFileSync(join(root, file), "utf8");
  return {
    packageJson: JSON.parse(read("package.json")),
    denoJson: JSON.parse(read("deno.json")),
    versionTs: read("src/version.ts"),
  };
}

/** Scripts npm runs by itself around install, pack and publish. */
const NPM_LIFECYCLE = new Set([
  "preinstall",
  "install",
  "postinstall",
  "prepublish",
  "preprepare",
  "prepare",
  "postprepare",
  "prepublishOnly",
  "prepack",
  "postpack",
  "publish",
  "postpublish",
  "dependencies",
]);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Returns one message per disagreement; empty when the manifests agree. */
export function checkManifests(m: Manifests): string[] {
  const problems: string[] = [];
  const pkg = isObject(m.packageJson) ? m.packageJson : {};
  const deno = isObject(m.denoJson) ? m.denoJson : {};

  const versionTs = /export const VERSION\s*=\s*"([^"]*)"/.exec(m.versionTs)?.[1];
  if (typeof pkg.version !== "string") problems.push("package.json has no version");
  if (deno.version !== pkg.version) {
    problems.push(`version: package.json has ${pkg.version}, deno.json has ${deno.version}`);
  }
  if (versionTs !== pkg.version) {
    problems.push(`version: package.json has ${pkg.version}, src/version.ts has ${versionTs}`);
  }
  if (
    typeof pkg.name !== "string" || typeof deno.name !== "string" ||
    !(deno.name === pkg.name || deno.name.endsWith(`/${pkg.name}`))
  ) {
    problems.push(
      `name: deno.json's ${deno.name} is not package.json's ${pkg.name} (scoped or not)`,
    );
  }

  if (deno.license !== pkg.license) {
    problems.push(`license: package.json has ${pkg.license}, deno.json has ${deno.license}`);
  }

  // Every npm script a user runs has a deno task of the same name; npm's own
  // lifecycle hooks (prepack, postinstall, pretest, ...) do not.
  const scripts = isObject(pkg.scripts) ? pkg.scripts : {};
  const tasks = isObject(deno.tasks) ? deno.tasks : {};
  for (const name of Object.keys(scripts)) {
    const hook = NPM_LIFECYCLE.has(name) ||
      (/^(pre|post)./.test(name) && name.replace(/^(pre|post)/, "") in scripts);
    if (!hook && !(name in tasks)) {
      problems.push(`tasks: npm script "${name}" has no deno.json task`);
    }
  }
  for (const name of Object.keys(tasks)) {
    if (!(name in scripts)) problems.push(`tasks: deno.json task "${name}" has no npm script`);
  }

  const npmExports = isObject(pkg.exports) ? pkg.exports : {};
  const denoExports = isObject(deno.exports) ? deno.exports : {};
  for (const sub of Object.keys(denoExports)) {
    if (!(sub in npmExports)) {
      problems.push(`exports: "${sub}" is in deno.json but not package.json`);
    }
  }
  const builtJs = new Set<string>();
  for (const [sub, target] of Object.entries(npmExports)) {
    const denoTarget = denoExports[sub];
    if (denoTarget === undefined) {
      problems.push(`exports: "${sub}" is in package.json but not deno.json`);
      continue;
    }
    const stem = typeof denoTarget === "string"
      ? /^\.\/(.+)\.ts$/.exec(denoTarget)?.[1]
      : undefined;
    if (stem === undefined) {
      problems.push(
        `exports: deno.json "${sub}" should point at a ./<file>.ts, got ${
          JSON.stringify(denoTarget)
        }`,
      );
      continue;
    }
    const want = { types: `./dist/${stem}.d.ts`, default: `./dist/${stem}.js` };
    if (!isObject(target) || target.types !== want.types || target.default !== want.default) {
      problems.push(
        `exports: package.json "${sub}" should be ${JSON.stringify(want)} to match deno.json's ` +
          `${denoTarget}, got ${JSON.stringify(target)}`,
      );
    }
    builtJs.add(want.default);
  }

  const bins = typeof pkg.bin === "string"
    ? { [String(pkg.name)]: pkg.bin }
    : isObject(pkg.bin)
    ? pkg.bin
    : {};
  for (const [name, path] of Object.entries(bins)) {
    if (typeof path !== "string" || !builtJs.has(path.startsWith("./") ? path : `./${path}`)) {
      problems.push(`bin: "${name}" -> ${String(path)} is not one of the exported dist files`);
    }
  }
  return problems;
}

if (import.meta.main) {
  const root = join(import.meta.dirname ?? ".", "..");
  const problems = checkManifests(readManifests(root));
  for (const p of problems) process.stderr.write(`check_manifests: ${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write("check_manifests: package.json, deno.json and src/version.ts agree\n");
}
