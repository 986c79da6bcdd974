/**
 * Deno users import gearman-ts by URL. This test serves the repository's
 * mod.ts, cli.ts and src/ over HTTP on 127.0.0.1 (a static file server in
 * this process), and `deno run` imports them from there with an empty
 * DENO_DIR, from a folder with no deno.json and no node_modules, as a user's
 * project would be. That only works when every module imports its neighbours
 * by relative `.ts` path, which the first test checks by reading the files.
 *
 * The postgres store under a URL import loads the driver as `npm:postgres`;
 * its test serves that package from node_modules/ as a one-package npm
 * registry, and runs only when GEARMAN_TS_PG_URL names a PostgreSQL server.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, relative, sep } from "node:path";
import process from "node:process";
import { ROOT, RUNTIME } from "./_cli.ts";
import { hasCommand, Procs, type RunResult, waitFor } from "../_helpers.ts";

const DENO = RUNTIME === "deno" ? process.execPath : join(ROOT, "node_modules", ".bin", "deno");
const version =
  (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const skip = existsSync(DENO) ? undefined : "deno is not in node_modules/.bin (npm ci installs it)";
const T = { timeout: 50_000, ...(skip === undefined ? {} : { skip }) };

/** The published modules: what deno.json's exports reach. */
function moduleFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
    );
  return ["mod.ts", "cli.ts", ...walk("src")];
}

/** Import specifiers of a module, outside comments. */
function importsOf(source: string): { literal: string[]; computed: string[] } {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const literal = [
    ...code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...code.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...code.matchAll(/\/\/\/\s*<reference\s+(?:path|types)\s*=\s*["']([^"']+)["']/g),
  ].map((m) => m[1]!);
  const computed = [...code.matchAll(/\bimport\s*\(\s*([A-Za-z_$][\w$]*)\s*\)/g)].map((m) => m[1]!);
  return { literal, computed };
}

describe("imports, as a Deno URL import needs them", () => {
  it("every module of mod.ts, cli.ts and src/ imports by relative .ts path or node:", () => {
    const problems: string[] = [];
    for (const file of moduleFiles()) {
      const source = readFileSync(join(ROOT, file), "utf8");
      const { literal, computed } = importsOf(source);
      for (const spec of literal) {
        if (spec.startsWith("node:")) continue;
        if (/^\.\.?\//.test(spec) && spec.endsWith(".ts")) {
          if (!existsSync(join(ROOT, file, "..", spec))) {
            problems.push(`${file}: ${spec} does not exist`);
          }
          continue;
        }
        // The one npm dependency, optional: node_modules on Node and Bun; on
        // Deno without one the module falls back to npm:postgres itself.
        if (spec === "postgres" && file === join("src", "store", "postgres_store.ts")) continue;
        problems.push(`${file}: "${spec}" is not a relative .ts path or node:*`);
      }
      // import(name) is allowed for a runtime's own or an npm: module named by
      // a string constant, kept out of reach of bundlers and of other runtimes.
      for (const name of computed) {
        const value = new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`).exec(source)?.[1];
        if (value === undefined || !/^(node|bun|npm):/.test(value)) {
          problems.push(`${file}: import(${name}) is not a "node:", "bun:" or "npm:" constant`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe("deno run of mod.ts and cli.ts by URL", () => {
  const procs = new Procs();
  let http: Server | undefined;
  let base = "";
  let tmp = "";
  let app = "";
  let env: Record<string, string> = {};
  const served: string[] = [];
  const refused: string[] = [];
  const npmServed: string[] = [];
  /** The npm registry for the postgres test: packument and tarball, once packed. */
  const registry = new Map<string, { type: string; body: Uint8Array | string }>();

  before(async () => {
    if (skip !== undefined) return;
    tmp = mkdtempSync(join(tmpdir(), "gearman-ts-url-"));
    app = join(tmp, "app");
    mkdirSync(app);
    const types: Record<string, string> = {
      ".ts": "application/typescript; charset=utf-8",
      ".json": "application/json",
    };
    http = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const npm = registry.get(path);
      if (npm !== undefined) {
        npmServed.push(path);
        res.writeHead(200, { "content-type": npm.type }).end(npm.body);
        return;
      }
      const file = join(ROOT, path);
      const rel = relative(ROOT, file);
      const published = rel === "mod.ts" || rel === "cli.ts" || rel === "deno.json" ||
        (rel.startsWith(`src${sep}`) && !rel.includes(".."));
      if (!published || !existsSync(file) || !statSync(file).isFile()) {
        refused.push(path);
        res.writeHead(404).end();
        return;
      }
      served.push(rel.split(sep).join("/"));
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" })
        .end(readFileSync(file));
    });
    await new Promise<void>((resolve) => http!.listen(0, "127.0.0.1", resolve));
    const addr = http.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    env = {
      DENO_DIR: join(tmp, "deno-dir"), // empty: every module comes from the server
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      NPM_CONFIG_REGISTRY: `${base}/npm/`,
    };
  });

  after(async () => {
    await procs.killAll();
    http?.closeAllConnections();
    await new Promise<void>((resolve) =>
      http === undefined ? resolve() : http.close(() => resolve())
    );
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  const deno = (args: readonly string[], timeoutMs = 30_000): Promise<RunResult> =>
    procs.run(DENO, args, { cwd: app, env, timeoutMs });

  /** `deno run -A <base>/cli.ts server`; resolves with its port once it listens. */
  async function urlServer(
    args: readonly string[] = [],
  ): Promise<{ port: string; stop: () => Promise<void> }> {
    const proc = procs.start(DENO, [
      "run",
      "-A",
      `${base}/cli.ts`,
      "server",
      "-p",
      "0",
      "--config-file=/dev/null",
      ...args,
    ], {
      cwd: app,
      env,
    });
    const m = await waitFor(() => {
      if (proc.hasExited) throw new Error(`server exited early: ${proc.stderr}`);
      return /listening on 127\.0\.0\.1:(\d+)/.exec(proc.stderr);
    }, { timeoutMs: 30_000, what: "the startup line of the URL-imported server" });
    return { port: m[1]!, stop: () => proc.kill("SIGTERM") };
  }

  it(
    "a script importing mod.ts by URL runs a job through its own server, worker and client",
    T,
    async () => {
      writeFileSync(
        join(app, "app.ts"),
        `import { createClient, createServer, createWorker, VERSION } from "${base}/mod.ts";
const server = createServer({ port: 0 });
const [addr] = await server.listen();
const servers = \`127.0.0.1:\${addr!.port}\`;
const worker = createWorker({ servers });
worker.register("reverse", (job) => job.text().split("").reverse().join(""));
worker.start();
const client = createClient({ servers });
console.log(VERSION, (await client.submit("reverse", "hello")).text());
client.close();
await worker.stop();
await server.close();
`,
      );
      const r = await deno(["run", "-A", "app.ts"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version} olleh\n`);
      assert.ok(
        served.includes("mod.ts") && served.includes("src/server/server.ts"),
        served.join(" "),
      );
      assert.deepEqual(refused, [], "every module asked for is a published one");
    },
  );

  it("cli.ts by URL serves a job: server, worker and client all from the URL", T, async () => {
    const v = await deno(["run", "-A", `${base}/cli.ts`, "--version"]);
    assert.equal(v.stdout, `gearman-ts ${version}\n`, v.stderr);
    const { port, stop } = await urlServer();
    const at = ["-h", "127.0.0.1", "-p", port];
    const worker = deno([
      "run",
      "-A",
      `${base}/cli.ts`,
      "worker",
      ...at,
      "-f",
      "upper",
      "-c",
      "1",
      "--",
      "tr",
      "a-z",
      "A-Z",
    ]);
    const client = await deno([
      "run",
      "-A",
      `${base}/cli.ts`,
      "client",
      ...at,
      "-f",
      "upper",
      "hello",
    ]);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout, "HELLO");
    assert.equal((await worker).code, 0, "worker -c 1 exits after its job");
    await stop();
    assert.deepEqual(refused, []);
  });

  it("deno publish --dry-run accepts deno.json's package (JSR-ready; no network)", T, async () => {
    const r = await procs.run(DENO, ["publish", "--dry-run", "--allow-dirty"], {
      cwd: ROOT,
      env,
      timeoutMs: 40_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /Dry run complete/);
  });

  it(
    "cli.ts by URL loads the postgres driver as npm:postgres for --store postgres://",
    T,
    async (t) => {
      const pgUrl = process.env.GEARMAN_TS_PG_URL;
      if (pgUrl === undefined || pgUrl === "") {
        return t.skip("GEARMAN_TS_PG_URL is not set (no PostgreSQL server to store jobs in)");
      }
      if (!hasCommand("npm")) return t.skip("npm is not installed (it packs the postgres package)");
      // A one-package registry: node_modules/postgres, packed, under /npm/.
      const packed = await procs.run("npm", [
        "pack",
        "--ignore-scripts",
        "--json",
        "--pack-destination",
        tmp,
        join(ROOT, "node_modules", "postgres"),
      ], { cwd: tmp, timeoutMs: 30_000, env: { npm_config_cache: join(tmp, "npm-cache") } });
      assert.equal(packed.code, 0, packed.stderr);
      const [info] = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[/m))) as Array<
        { filename: string; version: string }
      >;
      const tarball = readFileSync(join(tmp, info!.filename));
      const manifest = JSON.parse(
        readFileSync(join(ROOT, "node_modules", "postgres", "package.json"), "utf8"),
      ) as Record<string, unknown>;
      const tgzPath = `/npm/postgres/-/${info!.filename}`;
      registry.set(tgzPath, { type: "application/octet-stream", body: tarball });
      registry.set("/npm/postgres", {
        type: "application/json",
        body: JSON.stringify({
          name: "postgres",
          "dist-tags": { latest: info!.version },
          versions: {
            [info!.version]: {
              ...manifest,
              dist: {
                tarball: `${base}${tgzPath}`,
                integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
                shasum: createHash("sha1").update(tarball).digest("hex"),
              },
            },
          },
        }),
      });

      const { port, stop } = await urlServer([`--store=${pgUrl}`]);
      const at = ["-h", "127.0.0.1", "-p", port];
      const worker = deno([
        "run",
        "-A",
        `${base}/cli.ts`,
        "worker",
        ...at,
        "-f",
        "pg-url-upper",
        "-c",
        "1",
        "--",
        "tr",
        "a-z",
        "A-Z",
      ]);
      const client = await deno([
        "run",
        "-A",
        `${base}/cli.ts`,
        "client",
        ...at,
        "-f",
        "pg-url-upper",
        "hello",
      ]);
      assert.equal(client.stdout, "HELLO", client.stderr);
      assert.equal((await worker).code, 0);
      await stop();
      assert.ok(
        npmServed.includes(tgzPath),
        `deno fetched npm:postgres here: ${npmServed.join(" ")}`,
      );
    },
  );
});
