/**
 * The single executable (`bun build --compile`, dist/bin/gearman-ts) in all
 * of its modes: server, worker, client and admin are the same binary, copied
 * out of the repository so that it can only use what is inside it. Skipped
 * when the binary has not been built (`node scripts/build_binary.ts`, which
 * `npm test` runs first).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ROOT } from "./_cli.ts";
import { Procs, type RunResult, waitFor, withTimeout } from "../_helpers.ts";

const exe = process.platform === "win32" ? ".exe" : "";
const built = join(ROOT, "dist", "bin", `gearman-ts${exe}`);
const version =
  (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const skip = existsSync(built)
  ? undefined
  : "dist/bin/gearman-ts is not built (node scripts/build_binary.ts; npm test builds it)";
const T = { timeout: 45_000, ...(skip === undefined ? {} : { skip }) };
const MODES = ["server", "client", "worker", "admin"] as const;

describe("dist/bin/gearman-ts (single executable)", () => {
  const procs = new Procs();
  let tmp = "";
  let binary = "";
  /** Copies the binary out on first use (in a test: bun gives hooks 5 s at most). */
  const copied = () => {
    if (binary === "") {
      tmp = mkdtempSync(join(tmpdir(), "gearman-ts-binary-"));
      copyFileSync(built, join(tmp, `gearman-ts${exe}`));
      binary = join(tmp, `gearman-ts${exe}`);
    }
    return binary;
  };
  after(async () => {
    await procs.killAll();
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs the copied binary in the temp dir, away from the repository. */
  const bin = (args: readonly string[], timeoutMs = 20_000): Promise<RunResult> =>
    procs.run(copied(), args, { cwd: tmp, timeoutMs, env: { NO_COLOR: "1" } });

  /** Starts `gearman-ts server` on a free port; resolves once it listens. */
  async function server(): Promise<{ port: number; stopped: Promise<RunResult> }> {
    const proc = procs.start(copied(), ["server", "-p", "0", "--config-file=/dev/null"], {
      cwd: tmp,
      env: { NO_COLOR: "1" },
    });
    const m = await waitFor(() => {
      if (proc.hasExited) throw new Error(`server exited early: ${proc.stderr}`);
      return /listening on 127\.0\.0\.1:(\d+)/.exec(proc.stderr);
    }, { timeoutMs: 15_000, what: "the server's startup line" });
    const stopped = proc.exited.then(({ code, signal }) => ({
      code,
      signal,
      stdout: proc.stdout,
      stderr: proc.stderr,
      timedOut: false,
    }));
    return { port: Number(m[1]), stopped };
  }

  it("--version prints the package version in every mode", T, async () => {
    for (const args of [["--version"], ["-V"], ...MODES.map((m) => [m, "--version"])]) {
      const r = await bin(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, `gearman-ts ${version}\n`, args.join(" "));
    }
  });

  it("--help lists the modes and each mode's --help starts with its usage", T, async () => {
    const main = await bin(["--help"]);
    assert.equal(main.code, 0, main.stderr);
    for (const mode of MODES) assert.match(main.stdout, new RegExp(`^  ${mode}\\s`, "m"));
    for (const mode of MODES) {
      const r = await bin([mode, "--help"]);
      assert.equal(r.code, 0, `${mode} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: gearman-ts ${mode} `));
      assert.match(r.stdout, /--version/, `${mode} --help documents --version`);
    }
  });

  it("server, worker and client from the one binary turn hello into HELLO", T, async () => {
    const { port, stopped } = await server();
    const at = ["-h", "127.0.0.1", "-p", String(port)];
    const worker = bin(["worker", ...at, "-f", "upper", "-c", "1", "--", "tr", "a-z", "A-Z"]);
    const client = await bin(["client", ...at, "-f", "upper", "hello"]);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout, "HELLO");
    const w = await worker;
    assert.equal(w.code, 0, `worker -c 1 exits after its job: ${w.stderr}`);
    const down = await bin(["admin", ...at, "--shutdown"]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await withTimeout(stopped, 10_000, "the server to stop")).code, 0);
  });

  it("admin from the binary reports the server's version, workers and queue", T, async () => {
    const { port } = await server();
    const at = ["-h", "127.0.0.1", "-p", String(port)];
    procs.start(copied(), ["worker", ...at, "-f", "idle", "-i", "binary-worker"], { cwd: tmp });
    const queued = await bin(["client", ...at, "-f", "nobody", "-b", "job"]);
    assert.equal(queued.code, 0, queued.stderr);
    const status = await waitFor(async () => {
      const r = await bin(["admin", ...at, "--status"]);
      return /^idle\t0\t0\t1$/m.test(r.stdout) ? r.stdout : null;
    }, { timeoutMs: 15_000, what: "the worker in admin --status" });
    assert.match(status, /^nobody\t1\t0\t0$/m);
    const json = await bin(["admin", ...at, "--server-version", "--workers", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const [workers, serverVersion] = JSON.parse(json.stdout) as [
      Array<{ clientId: string; functions: string[] }>,
      string,
    ];
    assert.ok(
      workers.some((w) => w.clientId === "binary-worker" && w.functions.includes("idle")),
      json.stdout,
    );
    assert.match(serverVersion, new RegExp(version.replaceAll(".", "\\.")));
  });
});
