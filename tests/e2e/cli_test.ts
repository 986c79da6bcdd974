/**
 * The `gearman-ts` command as users run it: cli.ts under the runtime running
 * this test (Deno needs `run -A`), and the compiled binaries when they have
 * been built (`node scripts/build_binary.ts [--deno]`). Servers bind a free
 * port on 127.0.0.1 (`-p 0`, the port is read from the startup line) and read
 * no /etc/gearmand.conf (`--config-file=/dev/null`).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { cliCommand, ROOT, RUNTIME } from "./_cli.ts";
import { hasCommand, type Proc, Procs, type RunResult, waitFor, withTimeout } from "../_helpers.ts";

const root = ROOT;
const version =
  (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const runtime = RUNTIME;

interface Target {
  readonly name: string;
  readonly cmd: string;
  readonly pre: readonly string[];
  /** Why the target's tests are skipped, if they are. */
  readonly skip?: string;
}

const binary = join(root, "dist", "bin", "gearman-ts");
const denoBinary = join(root, "dist", "bin", "gearman-ts-deno");
const targets: Target[] = [
  {
    name: `cli.ts under ${runtime}`,
    cmd: cliCommand()[0],
    pre: cliCommand()[1],
  },
  {
    name: "dist/bin/gearman-ts (bun build --compile)",
    cmd: binary,
    pre: [],
    ...(existsSync(binary)
      ? {}
      : { skip: "dist/bin/gearman-ts not built (node scripts/build_binary.ts)" }),
  },
  {
    name: "dist/bin/gearman-ts-deno (deno compile)",
    cmd: denoBinary,
    pre: [],
    ...(existsSync(denoBinary) ? {} : {
      skip: "dist/bin/gearman-ts-deno not built: deno compile downloads its runtime (offline here)",
    }),
  },
];

const hasGearman = hasCommand("gearman");
const procs = new Procs();
const tmp = mkdtempSync(join(tmpdir(), "gearman-ts-cli-e2e-"));
after(async () => {
  await procs.killAll();
  rmSync(tmp, { recursive: true, force: true });
});

const T = { timeout: 60_000 };
let seq = 0;
const tempPath = (name: string) => join(tmp, `${++seq}-${name}`);

/** A started `gearman-ts server` with the port from its startup line. */
interface Started {
  readonly proc: Proc;
  readonly port: number;
}

function forTarget(target: Target) {
  const cli = (args: readonly string[], timeoutMs = 20_000): Promise<RunResult> =>
    procs.run(target.cmd, [...target.pre, ...args], { timeoutMs, env: { NO_COLOR: "1" } });

  const server = async (args: readonly string[]): Promise<Started> => {
    // In the temp dir: the default store is gearman-ts.db in the working directory.
    const proc = procs.start(target.cmd, [...target.pre, "server", ...args], {
      env: { NO_COLOR: "1" },
      cwd: tmp,
    });
    const m = await waitFor(() => {
      if (proc.hasExited) throw new Error(`server exited early: ${proc.stderr}`);
      return /listening on 127\.0\.0\.1:(\d+)/.exec(proc.stderr);
    }, { timeoutMs: 20_000, what: `the startup line of ${target.name}` });
    return { proc, port: Number(m[1]) };
  };

  const exitOf = (s: Started) => withTimeout(s.proc.exited, 10_000, `${target.name} to exit`);

  const oneLineError = (r: RunResult, code: number, pattern: RegExp) => {
    assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `one line on stderr, got ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  };

  return { cli, server, exitOf, oneLineError };
}

for (const target of targets) {
  describe(`gearman-ts (${target.name})`, () => {
    const { cli, server, exitOf, oneLineError } = forTarget(target);
    const opts = target.skip === undefined ? T : { ...T, skip: target.skip };

    it("--version prints the package version and exits 0", opts, async () => {
      for (const flag of ["--version", "-V"]) {
        const r = await cli([flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `gearman-ts ${version}\n`);
      }
      assert.equal((await cli(["server", "--version"])).stdout, `gearman-ts ${version}\n`);
    });

    it("--help lists the modes and server --help the gearmand flags", opts, async () => {
      const main = await cli(["--help"]);
      assert.equal(main.code, 0, main.stderr);
      assert.match(main.stdout, /Usage: gearman-ts <mode>/);
      assert.match(main.stdout, /server +run a job server/);
      const srv = await cli(["server", "--help"]);
      assert.equal(srv.code, 0, srv.stderr);
      for (
        const flag of [
          "--port",
          "--listen",
          "--job-retries",
          "--verbose",
          "--pid-file",
          "--config-file",
        ]
      ) {
        assert.match(srv.stdout, new RegExp(flag));
      }
    });

    it("an unknown flag exits 1 with one clear line and a --help hint", opts, async () => {
      oneLineError(
        await cli(["server", "--bogus"]),
        1,
        /^gearman-ts: unknown option '--bogus' \(see gearman-ts server --help\)$/,
      );
      oneLineError(
        await cli(["server", "-p", "http"]),
        1,
        /invalid --port: expected an integer 0-65535, got 'http'/,
      );
      oneLineError(await cli(["--bogus"]), 1, /unknown option '--bogus'.*gearman-ts --help/);
      oneLineError(await cli(["server", "-d"]), 1, /--daemon is not supported/);
    });

    it(
      "client, worker and admin modes print their usage with --help and exit 1 with one line when idle",
      opts,
      async () => {
        for (const mode of ["client", "worker", "admin"]) {
          const help = await cli([mode, "--help"]);
          assert.equal(help.code, 0, help.stderr);
          assert.match(help.stdout, new RegExp(`^Usage: gearman-ts ${mode} `));
          oneLineError(await cli([mode]), 1, new RegExp(`gearman-ts ${mode}: `));
        }
      },
    );

    it(
      "--check-args exits 0 on valid flags and 1 on invalid ones, without starting",
      opts,
      async () => {
        const ok = await cli([
          "server",
          "--config-file=/dev/null",
          "-p",
          "4730",
          "-L",
          "0.0.0.0",
          "--check-args",
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout + ok.stderr, "");
        const threads = await cli(["server", "--config-file=/dev/null", "-t", "4", "--check-args"]);
        assert.equal(threads.code, 0, threads.stderr);
        assert.match(threads.stderr, /note: .*-t\/--threads is ignored/);
        oneLineError(
          await cli(["server", "--config-file=/dev/null", "--verbose=LOUD", "--check-args"]),
          1,
          /invalid --verbose/,
        );
        oneLineError(
          await cli(["server", "--config-file=/nonexistent/gearmand.conf", "--check-args"]),
          1,
          /config file \/nonexistent\/gearmand.conf does not exist/,
        );
      },
    );

    it(
      "server writes its pid file, says it listens on loopback only, and exits 0 on SIGTERM",
      opts,
      async () => {
        const pidFile = tempPath("server.pid");
        const s = await server(["--config-file=/dev/null", "-p", "0", "-P", pidFile]);
        await waitFor(() => /loopback only; .*-L 0\.0\.0\.0/.test(s.proc.stderr), {
          what: "the loopback notice",
        });
        await waitFor(() => existsSync(pidFile), { what: "the pid file" });
        assert.equal(readFileSync(pidFile, "utf8"), `${s.proc.pid}\n`);
        process.kill(s.proc.pid, "SIGTERM");
        assert.deepEqual(await exitOf(s), { code: 0, signal: null });
        assert.equal(existsSync(pidFile), false, "pid file removed");
      },
    );

    it(
      "server exits 0 on SIGINT and after a graceful SIGUSR1 with no job queued",
      opts,
      async () => {
        for (const signal of ["SIGINT", "SIGUSR1"] as const) {
          const s = await server(["--config-file=/dev/null", "-p", "0"]);
          process.kill(s.proc.pid, signal);
          assert.deepEqual(await exitOf(s), { code: 0, signal: null }, signal);
        }
      },
    );

    it("server applies the flags of its config file", opts, async () => {
      const pidFile = tempPath("cfg.pid");
      const logFile = tempPath("cfg.log");
      const conf = tempPath("gearmand.conf");
      writeFileSync(
        conf,
        `# test config\n--port=0\n--pid-file=${pidFile}\n--log-file=${logFile}  --verbose=NOTICE\n`,
      );
      const s = await server([`--config-file=${conf}`]);
      await waitFor(() => existsSync(pidFile), { what: "the pid file named in the config file" });
      process.kill(s.proc.pid, "SIGTERM");
      assert.deepEqual(await exitOf(s), { code: 0, signal: null });
      assert.match(readFileSync(logFile, "utf8"), /^ NOTICE SIGTERM received, shutting down$/m);
      assert.equal(existsSync(pidFile), false);
    });

    it(
      "server runs a job from the gearman CLI worker to the gearman CLI client",
      opts,
      async (t) => {
        if (!hasGearman) {
          return t.skip("the gearman command (Debian gearman-tools) is not installed");
        }
        const s = await server(["--config-file=/dev/null", "-p", "0"]);
        const where = ["-h", "127.0.0.1", "-p", String(s.port)];
        const worker = procs.run("gearman", [
          ...where,
          "-w",
          "-f",
          "upper",
          "-c",
          "1",
          "--",
          "tr",
          "a-z",
          "A-Z",
        ], {
          timeoutMs: 20_000,
        });
        const client = await procs.run("gearman", [...where, "-f", "upper", "hello"], {
          timeoutMs: 20_000,
        });
        assert.equal(client.code, 0, client.stderr);
        assert.equal(client.stdout.trim(), "HELLO");
        assert.equal((await worker).code, 0);
        process.kill(s.proc.pid, "SIGTERM");
        assert.equal((await exitOf(s)).code, 0);
      },
    );
  });
}
