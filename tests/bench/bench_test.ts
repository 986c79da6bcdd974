import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runBench, type WorkloadResult } from "../../src/bench/bench.ts";
import { runBenchCommand } from "../../src/bench/bench_command.ts";
import { formatTable } from "../../src/bench/report.ts";
import { createServer, type GearmanServer } from "../../src/server/server.ts";
import { ConnectionError, InvalidArgumentError } from "../../src/errors.ts";
import { createAdminClient } from "../../src/client/admin_client.ts";

/** Fields every workload result carries, with sane values. */
function assertShape(w: WorkloadResult): void {
  assert.ok(Number.isInteger(w.jobs) && w.jobs >= 0);
  assert.ok(w.seconds > 0 && w.seconds < 10, `seconds ${w.seconds}`);
  assert.ok(Math.abs(w.jobsPerSecond - w.jobs / w.seconds) < 1e-6 * w.jobsPerSecond + 1e-9);
  assert.equal(w.errors, 0);
}

describe("runBench", () => {
  let server: GearmanServer;
  let servers: string;
  before(async () => {
    server = createServer({ port: 0 });
    const [addr] = await server.listen();
    servers = `127.0.0.1:${addr?.port}`;
  });
  after(() => server.close());

  it("runBench() submits, drains and round-trips exactly --jobs jobs when no time limit is hit", {
    timeout: 10_000,
  }, async () => {
    const progress: string[] = [];
    const r = await runBench({
      servers,
      jobs: 2000,
      warmup: 0,
      functions: 3,
      idle: 20,
      onProgress: (p) => void progress.push(p.workload),
      progressIntervalMs: 5,
    });
    assert.deepEqual(r.workloads.map((w) => w.workload), ["submit", "drain", "roundtrip"]);
    for (const w of r.workloads) {
      assertShape(w);
      assert.equal(w.jobs, 2000, `${w.workload} jobs`);
      assert.equal(w.stoppedBy, "jobs");
    }
    const [submit, drain, rt] = r.workloads as [WorkloadResult, WorkloadResult, WorkloadResult];
    assert.equal(submit.connections, 2);
    assert.equal(drain.workers, 4);
    assert.deepEqual([rt.connections, rt.workers], [8, 4]);
    const lat = rt.latencyUs;
    assert.ok(lat !== undefined && submit.latencyUs === undefined);
    assert.ok(lat.p50 > 0 && lat.p50 <= lat.p99 && lat.p99 <= lat.p999 && lat.p999 <= lat.max);
    assert.deepEqual(r.idle.connections, 20);
    assert.deepEqual(r.servers, [servers]);
    assert.equal(r.settings.functions, 3);
    assert.ok(progress.length > 0, "onProgress was called");
    // Every job was taken and every connection closed: nothing queued, no worker left.
    const admin = createAdminClient({ server: servers });
    try {
      const ours = (await admin.status()).filter((f) => f.name.startsWith("gearman-ts-bench"));
      assert.ok(ours.length > 0);
      for (const f of ours) {
        assert.deepEqual([f.name, f.total, f.running, f.workers], [f.name, 0, 0, 0]);
      }
    } finally {
      admin.close();
    }
    assert.match(formatTable(r), /roundtrip \(8 clients x 4 workers\)\s+2,000/);
  });

  it(
    "runBench() echoes 1 MiB payloads without errors when --size is 1 MiB",
    { timeout: 10_000 },
    async () => {
      const r = await runBench({
        servers,
        jobs: 20,
        size: 1024 * 1024,
        warmup: 0,
        clients: 2,
        workers: 2,
        unique: false,
      });
      for (const w of r.workloads) {
        assertShape(w);
        assert.equal(w.jobs, 20);
      }
    },
  );

  it(
    "runBench() stops at --seconds when the drain backlog never comes",
    { timeout: 10_000 },
    async () => {
      const t0 = performance.now();
      const r = await runBench({
        servers,
        workloads: ["drain"],
        jobs: 10,
        seconds: 0.3,
        function: "bench-empty",
      });
      const [drain] = r.workloads;
      assert.equal(drain?.stoppedBy, "seconds");
      assert.equal(drain?.jobs, 0);
      assert.ok(performance.now() - t0 < 3000);
    },
  );

  it("runBench() ends the workload early and skips the rest when its signal aborts", {
    timeout: 10_000,
  }, async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const r = await runBench({
      servers,
      workloads: ["submit", "roundtrip"],
      jobs: 10_000_000,
      function: "bench-abort",
      signal: abort.signal,
    });
    assert.deepEqual(r.workloads.map((w) => [w.workload, w.stoppedBy]), [["submit", "aborted"]]);
    assert.ok((r.workloads[0]?.jobs ?? 0) > 0);
  });

  it("runBench() rejects with ConnectionError, leaving nothing running, when no server listens", {
    timeout: 10_000,
  }, async () => {
    const probe = createServer({ port: 0 });
    const [addr] = await probe.listen();
    await probe.close();
    await assert.rejects(
      runBench({ servers: `127.0.0.1:${addr?.port}`, seconds: 60 }),
      ConnectionError,
    );
  });

  it("runBench() rejects with InvalidArgumentError when an option is out of range", async () => {
    await assert.rejects(runBench({ servers, size: -1 }), InvalidArgumentError);
    await assert.rejects(runBench({ servers, clients: 0 }), InvalidArgumentError);
    await assert.rejects(runBench({ servers, function: "a b" }), InvalidArgumentError);
  });

  it(
    "runBenchCommand() prints JSON whose counts add up when given --json",
    { timeout: 10_000 },
    async () => {
      let stdout = "", stderr = "";
      const out = {
        stdout: (t: string) => void (stdout += t),
        stderr: (t: string) => void (stderr += t),
        write() {},
      };
      const port = servers.split(":")[1] as string;
      const code = await runBenchCommand([
        "-p",
        port,
        "-t",
        "a,b",
        "-n",
        "1500",
        "-s",
        "1K",
        "--json",
        "-q",
      ], out);
      assert.equal(code, 0, stderr);
      const r = JSON.parse(stdout) as { workloads: WorkloadResult[]; settings: { size: number } };
      assert.equal(r.settings.size, 1024);
      assert.deepEqual(r.workloads.map((w) => [w.workload, w.jobs]), [["submit", 1500], [
        "drain",
        1500,
      ]]);
    },
  );
});
