/**
 * End-to-end tests of `createAdminClient()` on our server and on a real
 * gearmand 1.1.20, with the same assertions where the servers agree.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createAdminClient, JobFailedError, ServerError, VERSION } from "../../mod.ts";
import { admin, canConnect, HOST, parseStatus, startGearmanTs, waitFor } from "../_helpers.ts";
import { errorOf, gate, SERVERS, TEST_TIMEOUT, useServer } from "./_library.ts";
import { GEARMAND_LOG_LEVELS } from "./_peers.ts";

for (const { kind, start, skip } of SERVERS) {
  describe(`createAdminClient() on ${kind}`, { skip, timeout: 60_000 }, () => {
    const fx = useServer(start);
    const g = gate();
    let running = "";
    let foreground = "";

    before(async () => {
      const client = fx.client();
      fx.worker({ clientId: "lib-admin-worker" })
        .register("adm.run", async () => {
          await g.wait();
        })
        .register("adm.idle", () => {})
        .start();
      fx.defer(() => g.open()); // before the worker's stop(), which waits for adm.run
      running = (await client.submitBackground("adm.run", "r", { unique: "adm-u1" })).handle;
      await client.submitBackground("adm.queued", "h", { priority: "high" });
      await client.submitBackground("adm.queued", "n");
      await client.submitBackground("adm.queued", "l", { priority: "low" });
      foreground = await client.submit("adm.cancel", "doomed").handle;
      await waitFor(async () => (await fx.admin().status()).some((s) => s.running === 1), {
        what: "adm.run to be running",
      });
    });

    it("status() types each line of status as name, total, running and workers", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const status = await fx.admin().status();
      const byName = new Map(status.map((s) => [s.name, s]));
      assert.deepEqual(byName.get("adm.run"), {
        name: "adm.run",
        total: 1,
        running: 1,
        workers: 1,
      });
      assert.deepEqual(byName.get("adm.queued"), {
        name: "adm.queued",
        total: 3,
        running: 0,
        workers: 0,
      });
      // The same numbers as the text the server sends.
      const raw = parseStatus(await admin(fx.target().port, "status"));
      for (const s of status) {
        assert.deepEqual(raw.get(s.name), {
          total: s.total,
          running: s.running,
          workers: s.workers,
        });
      }
      assert.equal(raw.size, status.length);
    });

    it("priorityStatus() counts queued jobs per priority", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const prio = await fx.admin().priorityStatus();
      assert.deepEqual(prio.find((p) => p.name === "adm.queued"), {
        name: "adm.queued",
        high: 1,
        normal: 1,
        low: 1,
        workers: 0,
      });
      assert.deepEqual(prio.find((p) => p.name === "adm.run"), {
        name: "adm.run",
        high: 0,
        normal: 0,
        low: 0,
        workers: 1,
      });
    });

    it("workers() lists the worker's fd, address, client id and functions", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const workers = await fx.admin().workers();
      const mine = workers.filter((w) => w.clientId === "lib-admin-worker");
      assert.equal(mine.length, 1, JSON.stringify(workers));
      assert.equal(mine[0]!.ip, HOST);
      assert.ok(Number.isInteger(mine[0]!.fd) && mine[0]!.fd >= 0, `fd ${mine[0]!.fd}`);
      assert.deepEqual([...mine[0]!.functions].sort(), ["adm.idle", "adm.run"]);
      assert.ok(workers.some((w) => w.clientId === "-" && w.functions.length === 0));
    });

    it("showJobs() and showUniqueJobs() list the jobs with their flags and unique ids", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const jobs = await fx.admin().showJobs();
      assert.deepEqual(jobs.find((j) => j.handle === running), {
        handle: running,
        retries: 0,
        ignored: false,
        background: true,
      });
      assert.deepEqual(jobs.find((j) => j.handle === foreground), {
        handle: foreground,
        retries: 0,
        ignored: false,
        background: false,
      });
      assert.equal(jobs.length, 5, JSON.stringify(jobs));
      assert.ok((await fx.admin().showUniqueJobs()).includes("adm-u1"));
    });

    it("version(), getPid() and verbose() answer the server's version, pid and log level", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const a = fx.admin();
      const version = await a.version();
      assert.equal(`OK ${version}\n`, await admin(fx.target().port, "version"));
      if (kind === "gearmand") assert.match(version, /^1\.1\.20/);
      else assert.equal(version, VERSION);
      assert.equal(await a.getPid(), fx.target().pid);
      assert.ok(GEARMAND_LOG_LEVELS.includes(await a.verbose()));
    });

    it("cancelJob() fails the waiting client's job; an unknown handle rejects with UNKNOWN_JOB", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const a = fx.admin();
      const client = fx.client();
      const job = client.submit("adm.cancel2", "doomed");
      const handle = await job.handle;
      await a.cancelJob(handle);
      const err = await errorOf(job);
      assert.ok(err instanceof JobFailedError, String(err));
      assert.equal(err.handle, handle);
      await assert.rejects(
        () => a.cancelJob("H:nowhere:999999"),
        (e: unknown) => e instanceof ServerError && e.serverCode === "UNKNOWN_JOB",
      );
    });

    it("createFunction() and dropFunction() add and remove an idle function", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const a = fx.admin();
      await a.createFunction("adm.created");
      assert.deepEqual((await a.status()).find((s) => s.name === "adm.created"), {
        name: "adm.created",
        total: 0,
        running: 0,
        workers: 0,
      });
      await a.dropFunction("adm.created");
      assert.equal((await a.status()).find((s) => s.name === "adm.created"), undefined);
      await assert.rejects(
        () => a.dropFunction("adm.never-seen"),
        (e: unknown) => e instanceof ServerError && /not found/.test(e.message),
      );
      await assert.rejects(
        () => a.dropFunction("adm.idle"),
        (e: unknown) => e instanceof ServerError && /still connected workers/.test(e.message),
      );
    });

    it("maxQueue() makes submitBackground() reject with QUEUE_ERROR once the queue is full", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      await client.submitBackground("adm.mq", "1");
      await fx.admin().maxQueue("adm.mq", 1);
      await assert.rejects(
        () => client.submitBackground("adm.mq", "2"),
        (e: unknown) => e instanceof ServerError && e.serverCode === "QUEUE_ERROR",
      );
    });

    it("shutdown() is refused with UNKNOWN_COMMAND by gearmand 1.1.20, which has no shutdown", {
      timeout: TEST_TIMEOUT,
      skip: kind === "gearmand" ? false : "gearmand only; our shutdown is the next test",
    }, async () => {
      await assert.rejects(
        () => fx.admin().shutdown(),
        (e: unknown) => e instanceof ServerError && e.serverCode === "UNKNOWN_COMMAND",
      );
      assert.equal(await canConnect(fx.target().port), true);
    });

    it("shutdown() stops gearman-ts", {
      timeout: TEST_TIMEOUT,
      skip: kind === "gearman-ts" ? false : "gearman-ts only; gearmand 1.1.20 has no shutdown",
    }, async () => {
      // A server of its own, so the rest of the group keeps its server.
      const own = await startGearmanTs();
      try {
        const a = createAdminClient({ server: `${HOST}:${own.port}` });
        await a.shutdown();
        a.close();
        await waitFor(async () => !(await canConnect(own.port)), { what: "the server to stop" });
      } finally {
        await own.close().catch(() => {});
      }
    });
  });
}
