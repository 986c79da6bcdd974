import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Procs, startGearmanTs, type Target, waitFor } from "../_helpers.ts";
import { createAdminClient } from "../../src/client/admin_client.ts";
import { cliCommand } from "./_cli.ts";

const [cmd, pre] = cliCommand();
const T = { timeout: 30_000 };

describe("gearman-ts client, worker and admin", () => {
  const procs = new Procs();
  let target: Target;
  let hp: string[];
  before(async () => {
    target = await startGearmanTs();
    hp = ["-h", "127.0.0.1", "-p", String(target.port)];
  });
  after(async () => {
    await procs.killAll();
    await target.close();
  });

  const cli = (args: string[], input?: string) =>
    procs.run(cmd, [...pre, ...args], { timeoutMs: 20_000, ...(input === undefined ? {} : { input }) });

  async function workerFor(fn: string, ...command: string[]): Promise<void> {
    procs.start(cmd, [...pre, "worker", ...hp, "-f", fn, ...(command.length > 0 ? ["--", ...command] : [])]);
    const admin = createAdminClient({ server: `127.0.0.1:${target.port}` });
    try {
      await waitFor(async () => (await admin.status()).some((s) => s.name === fn && s.workers > 0), {
        timeoutMs: 15_000,
        what: `a worker for ${fn}`,
      });
    } finally {
      admin.close();
    }
  }

  it("client sends each argument as a job to a worker that runs a command", T, async () => {
    await workerFor("cm-upper", "tr", "a-z", "A-Z");
    const r = await cli(["client", ...hp, "-f", "cm-upper", "hello", "world"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "HELLOWORLD");
  });

  it("client reads standard input as one job, or one per line with -N, and -P prefixes", T, async () => {
    await workerFor("cm-echo");
    const whole = await cli(["client", ...hp, "-f", "cm-echo"], "a\nb\n");
    assert.equal(whole.stdout, "a\nb\n");
    const lines = await cli(["client", ...hp, "-f", "cm-echo", "-N", "-P"], "a\nb\n");
    assert.equal(lines.stdout, "cm-echo: a\ncm-echo: b\n");
  });

  it("client -b queues a background job that admin --status counts", T, async () => {
    const r = await cli(["client", ...hp, "-f", "cm-queued", "-b", "-L", "x"]);
    assert.equal(r.code, 0, r.stderr);
    const status = await cli(["admin", ...hp, "--status"]);
    assert.match(status.stdout, /^cm-queued\t1\t0\t0$/m);
    assert.match(status.stdout, /\n\.\n$/);
    const prio = await cli(["admin", ...hp, "--priority-status", "--json"]);
    const rows = JSON.parse(prio.stdout) as { name: string; low: number }[];
    assert.equal(rows.find((row) => row.name === "cm-queued")?.low, 1);
  });

  it("client exits 1 with a message when a job fails or times out", T, async () => {
    await workerFor("cm-false", "false");
    const failed = await cli(["client", ...hp, "-f", "cm-false", "x"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /cm-false: job .* failed/);
    const timedOut = await cli(["client", ...hp, "-f", "cm-nobody", "-t", "200", "x"]);
    assert.equal(timedOut.code, 1);
    assert.match(timedOut.stderr, /longer than 200 ms/);
  });

  it("client names the server that is down", T, async () => {
    const r = await cli(["client", "-h", "127.0.0.1", "-p", "1", "-f", "x", "y"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /server 127\.0\.0\.1:1 is down: connection refused/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  });

  it("worker -c N exits after N jobs", T, async () => {
    const worker = procs.start(cmd, [...pre, "worker", ...hp, "-f", "cm-count", "-c", "2"]);
    for (const data of ["one", "two"]) {
      assert.equal((await cli(["client", ...hp, "-f", "cm-count", data])).stdout, data);
    }
    const exit = await worker.exited;
    assert.equal(exit.code, 0);
  });

  it("admin answers --server-version, --getpid, --workers and --show-jobs", T, async () => {
    const r = await cli([
      "admin",
      ...hp,
      "--server-version",
      "--getpid",
      "--workers",
      "--show-jobs",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+$/m);
    assert.match(r.stdout, /^\d+$/m);
    assert.match(r.stdout, /^\d+ 127\.0\.0\.1 \S+ :/m);
  });

  it("admin with no action and client with no function explain what is missing", T, async () => {
    const admin = await cli(["admin", ...hp]);
    assert.equal(admin.code, 1);
    assert.match(admin.stderr, /nothing to do/);
    const client = await cli(["client", ...hp, "x"]);
    assert.equal(client.code, 1);
    assert.match(client.stderr, /no function given/);
  });
});
