/**
 * The npm package as its users get it. In a copy of the repository (so the
 * repository's own dist/ and its compiled binary are left alone), `npm pack`
 * runs the prepack build and writes the tarball; an empty folder installs it
 * with `npm install --offline` and an empty npm cache, the `postgres`
 * dependency coming from a tarball packed out of node_modules/. Every
 * registry is pointed at a closed port, so nothing here uses the network.
 * Then `npx gearman-ts`, `bunx gearman-ts` (which honours the #!/usr/bin/env
 * node line) and `bunx --bun gearman-ts` (Bun itself) each run a server, a
 * worker and a client, and the library is imported by its package name.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import process from "node:process";
import { ROOT } from "./_cli.ts";
import { hasCommand, Procs, type RunResult, waitFor } from "../_helpers.ts";

const BIN = join(ROOT, "node_modules", ".bin");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
/** Node 24, Bun and Deno from devDependencies come first, as in `npm test`. */
const PATH = `${BIN}${delimiter}${process.env.PATH ?? ""}`;
const hasNpm = hasCommand("npm") && hasCommand("npx");
const hasBun = existsSync(join(BIN, "bun")) && existsSync(join(BIN, "bunx"));
const skip = !hasNpm
  ? "npm is not installed (npm pack, npm install and npx come with it)"
  : !existsSync(join(ROOT, "node_modules", "postgres", "package.json"))
  ? "node_modules/postgres is missing (npm ci installs it)"
  : undefined;
const T = { timeout: 50_000, ...(skip === undefined ? {} : { skip }) };

/** What a repository copy needs for `npm pack`: sources, scripts, manifests. */
const SOURCES = [
  "package.json",
  "deno.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "mod.ts",
  "cli.ts",
  "README.md",
  "LICENSE",
  "src",
  "scripts",
];

describe(`the npm package ${pkg.name}@${pkg.version}`, () => {
  const procs = new Procs();
  let tmp = "";
  let env: Record<string, string> = {};

  const sh = async (cmd: string, args: string[], cwd: string, timeoutMs = 40_000) => {
    const r = await procs.run(cmd, args, { cwd, env, timeoutMs });
    assert.equal(r.code, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  /**
   * Packs and installs once, on first use: inside a test, whose timeout
   * applies, since bun test gives hooks 5 s whatever they ask for.
   */
  let installed: Promise<{ app: string; files: string[] }> | undefined;
  const install = () => installed ??= packAndInstall();

  async function packAndInstall(): Promise<{ app: string; files: string[] }> {
    tmp = mkdtempSync(join(tmpdir(), "gearman-ts-package-"));
    const closed = "http://127.0.0.1:9/"; // discard port: any registry request fails at once
    env = {
      PATH,
      NO_COLOR: "1",
      npm_config_cache: join(tmp, "npm-cache"),
      npm_config_registry: closed,
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
      BUN_CONFIG_REGISTRY: closed,
      BUN_INSTALL_CACHE_DIR: join(tmp, "bun-cache"),
    };
    const copy = join(tmp, "repo");
    mkdirSync(copy);
    for (const name of SOURCES) {
      if (existsSync(join(ROOT, name))) {
        cpSync(join(ROOT, name), join(copy, name), { recursive: true });
      }
    }
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");

    // The prepack script builds dist/ in the copy (esbuild + tsc).
    const packed = await sh("npm", ["pack", "--json", "--pack-destination", tmp], copy, 60_000);
    const json = packed.stdout.slice(packed.stdout.search(/^\[/m));
    const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(info !== undefined, `npm pack --json printed ${packed.stdout}`);
    const files = info.files.map((f) => f.path);
    const postgres = await sh("npm", [
      "pack",
      "--ignore-scripts",
      "--json",
      "--pack-destination",
      tmp,
      join(ROOT, "node_modules", "postgres"),
    ], tmp);
    const [pg] = JSON.parse(postgres.stdout.slice(postgres.stdout.search(/^\[/m))) as Array<
      { filename: string }
    >;

    const app = join(tmp, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      '{ "name": "app", "private": true, "type": "module" }\n',
    );
    await sh("npm", [
      "install",
      "--offline",
      "--ignore-scripts",
      join(tmp, info.filename),
      join(tmp, pg!.filename),
    ], app);
    return { app, files };
  }

  after(async () => {
    await procs.killAll();
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  it("npm pack ships the built dist/ only: JavaScript, declarations, no binary", T, async () => {
    const { app, files } = await install();
    for (const f of ["dist/cli.js", "dist/mod.js", "dist/cli.d.ts", "dist/mod.d.ts"]) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    const stray = files.filter((f) =>
      !f.startsWith("dist/") && !["package.json", "README.md", "LICENSE"].includes(f)
    );
    assert.deepEqual(stray, [], "only dist/, package.json, README.md and LICENSE");
    assert.deepEqual(files.filter((f) => f.startsWith("dist/bin/")), [], "no compiled binary");
    assert.deepEqual(
      files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
      [],
      "no TypeScript sources: Node does not strip types under node_modules",
    );
    const cli = readFileSync(join(app, "node_modules", pkg.name, "dist", "cli.js"), "utf8");
    assert.ok(cli.startsWith("#!/usr/bin/env node\n"), "dist/cli.js starts with its shebang");
  });

  it("the installed package imports by name under Node and Bun, and type-checks", T, async () => {
    const { app } = await install();
    const script = `import { createClient, createServer, createWorker, VERSION } from "${pkg.name}";
const server = createServer({ port: 0 });
const [addr] = await server.listen();
const servers = \`127.0.0.1:\${addr.port}\`;
const worker = createWorker({ servers });
worker.register("reverse", (job) => job.text().split("").reverse().join(""));
worker.start();
const client = createClient({ servers });
const result = await client.submit("reverse", "hello");
console.log(VERSION, result.text());
client.close();
await worker.stop();
await server.close();
`;
    writeFileSync(join(app, "app.mjs"), script);
    const node = await sh(join(BIN, "node"), ["app.mjs"], app, 20_000);
    assert.equal(node.stdout, `${pkg.version} olleh\n`);
    if (hasBun) {
      const bun = await sh(join(BIN, "bun"), ["app.mjs"], app, 20_000);
      assert.equal(bun.stdout, `${pkg.version} olleh\n`);
    }
    // The declarations: a consumer's strict tsc sees real types, not any.
    writeFileSync(
      join(app, "check.ts"),
      `import { createClient, createServer, type JobResult, VERSION } from "${pkg.name}";
const server = createServer({ port: 0 });
const [addr] = await server.listen();
const client = createClient({ servers: \`127.0.0.1:\${addr.port}\` });
const result: JobResult = await client.submit("reverse", "hello");
const text: string = result.text() + VERSION;
// @ts-expect-error: the port is a number
createServer({ port: "4730" });
export { text };
`,
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2023",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(ROOT, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["check.ts"],
      }),
    );
    await sh(join(BIN, "tsc"), ["-p", "tsconfig.json"], app, 30_000);
  });

  const launchers: Array<
    { name: string; cmd: string; pre: string[]; runtime: string; skip?: string }
  > = [
    { name: "npx gearman-ts", cmd: "npx", pre: ["--offline", "gearman-ts"], runtime: "node" },
    {
      name: "bunx gearman-ts",
      cmd: join(BIN, "bunx"),
      pre: ["gearman-ts"],
      runtime: "node",
      ...(hasBun ? {} : { skip: "bunx is not in node_modules/.bin (npm ci installs bun)" }),
    },
    {
      name: "bunx --bun gearman-ts",
      cmd: join(BIN, "bunx"),
      pre: ["--bun", "gearman-ts"],
      runtime: "bun",
      ...(hasBun ? {} : { skip: "bunx is not in node_modules/.bin (npm ci installs bun)" }),
    },
  ];

  for (const l of launchers) {
    const opts = l.skip === undefined ? T : { ...T, skip: l.skip };
    it(
      `${l.name} runs server, worker and client: hello becomes HELLO on ${l.runtime}`,
      opts,
      async () => {
        const { app } = await install();
        const run = (args: string[]): Promise<RunResult> =>
          procs.run(l.cmd, [...l.pre, ...args], { cwd: app, env, timeoutMs: 30_000 });
        const version = await run(["--version"]);
        assert.equal(version.stdout, `gearman-ts ${pkg.version}\n`, version.stderr);

        const server = procs.start(l.cmd, [
          ...l.pre,
          "server",
          "-p",
          "0",
          "--config-file=/dev/null",
        ], {
          cwd: app,
          env,
        });
        const m = await waitFor(() => {
          if (server.hasExited) throw new Error(`server exited early: ${server.stderr}`);
          return /listening on 127\.0\.0\.1:(\d+) \(pid (\d+)\)/.exec(server.stderr);
        }, { timeoutMs: 20_000, what: `the startup line of ${l.name} server` });
        const [port, pid] = [m[1]!, m[2]!];
        // Which runtime really serves: the launcher may be a wrapper around it.
        if (existsSync(`/proc/${pid}/exe`)) {
          assert.match(basename(readlinkSync(`/proc/${pid}/exe`)), new RegExp(`^${l.runtime}`));
        }
        const at = ["-h", "127.0.0.1", "-p", port];
        const worker = run(["worker", ...at, "-f", "upper", "-c", "1", "--", "tr", "a-z", "A-Z"]);
        const client = await run(["client", ...at, "-f", "upper", "hello"]);
        assert.equal(client.code, 0, client.stderr);
        assert.equal(client.stdout, "HELLO");
        assert.equal((await worker).code, 0, "worker -c 1 exits after its job");
        await server.kill("SIGTERM");
      },
    );
  }
});
