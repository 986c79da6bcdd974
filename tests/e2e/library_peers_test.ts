/**
 * End-to-end tests of our library against real peers: `createClient()`,
 * `createWorker()` and `createAdminClient()` against a real gearmand 1.1.20;
 * our client with PHP's GearmanWorker and Perl's Gearman::Worker; PHP's
 * GearmanClient and Perl's Gearman::Client with our worker. Every group runs
 * twice, on our server and on gearmand, with the same assertions, so each one
 * also shows the two servers agree.
 *
 * Each group starts its own server on a free port of 127.0.0.1, each test uses
 * its own function names, and a group is skipped with a reason when its tool
 * is missing. Tests that show a bug in src/ are skipped with the bug named.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AbortedError,
  createAdminClient,
  JobExceptionError,
  JobFailedError,
  ServerError,
  TimeoutError,
  VERSION,
} from "../../mod.ts";
import {
  admin,
  canConnect,
  delay,
  HOST,
  parseStatus,
  startGearmand,
  startGearmanTs,
  type Target,
  waitFor,
  waitForWorkers,
} from "../_helpers.ts";
import { errorOf, eventsAndResult, gate, resultOf, text, useServer } from "./_library.ts";
import {
  GEARMAN_SUCCESS,
  GEARMAN_WORK_EXCEPTION,
  GEARMAN_WORK_FAIL,
  GEARMAND_LOG_LEVELS,
  HANDLE,
  PERL_CLIENT,
  PERL_WORKER,
  PHP_CLIENT,
  PHP_WORKER,
  runJson,
  whyNoGearmand,
  whyNoPerl,
  whyNoPhp,
} from "./_peers.ts";

/** Every test gives up after this long; the whole file takes well under 60 s. */
const TEST_TIMEOUT = 15_000;

const noPhp = await whyNoPhp();
const noPerl = await whyNoPerl();

/** The two servers every group runs against. */
const SERVERS: readonly {
  readonly kind: Target["kind"];
  readonly start: () => Promise<Target>;
  readonly skip: string | false;
}[] = [
  { kind: "gearman-ts", start: () => startGearmanTs(), skip: false },
  { kind: "gearmand", start: () => startGearmand(), skip: whyNoGearmand() },
];

/** The first reason that applies, or false. */
function skipIf(...reasons: (string | false)[]): string | false {
  return reasons.find((r) => r !== false) ?? false;
}

const reverse = (s: string) => [...s].reverse().join("");

for (const { kind, start, skip } of SERVERS) {
  // -------------------------------------------------------------------------
  describe(`createClient() and createWorker() on ${kind}`, { skip, timeout: 60_000 }, () => {
    const fx = useServer(start);

    it("submit() resolves with what a createWorker() handler returns", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      fx.worker().register("lib.rev", (job) => reverse(job.text())).start();
      const job = fx.client().submit("lib.rev", "hello");
      assert.equal(await resultOf(job), "olleh");
      assert.match(await job.handle, HANDLE);
      assert.equal((await job).handle, await job.handle);
    });

    it("submit() carries a 1 MiB binary payload to the worker and back intact", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      fx.worker().register("lib.invert", (job) => job.workload.map((b) => 255 - b)).start();
      const data = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7 + (i >> 8)) & 255);
      const result = await fx.client().submit("lib.invert", data);
      assert.equal(result.data.length, data.length);
      assert.ok(result.data.every((b, i) => b === 255 - data[i]!), "every byte inverted");
    });

    it("submit() of 500 jobs at once all complete with a worker of concurrency 4", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      fx.worker({ concurrency: 4 }).register("lib.many", (job) => `r:${job.text()}`).start();
      const client = fx.client();
      const words = Array.from({ length: 500 }, (_, i) => `w${i}`);
      const results = await Promise.all(words.map((w) => resultOf(client.submit("lib.many", w))));
      assert.deepEqual(results, words.map((w) => `r:${w}`));
    });

    it(
      "submit() yields WORK_DATA, WORK_STATUS and WORK_WARNING events in the order the handler sent them",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        fx.worker().register("lib.events", (job) => {
          job.data("d1");
          job.status(1, 3);
          job.warning("w1");
          job.status(3, 3);
          return `done:${job.text()}`;
        }).start();
        assert.deepEqual(await eventsAndResult(fx.client().submit("lib.events", "x")), {
          events: [["data", "d1"], ["status", 1, 3], ["warning", "w1"], ["status", 3, 3]],
          result: "done:x",
        });
      },
    );

    it("submitBackground() and status() follow a job through queued, running 1/4 and done", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const g = gate();
      try {
        const bg = await client.submitBackground("lib.bg", "payload");
        assert.match(bg.handle, HANDLE);
        assert.equal(bg.server, fx.servers());
        assert.deepEqual(await client.status(bg), {
          known: true,
          running: false,
          numerator: 0,
          denominator: 0,
        });
        fx.worker().register("lib.bg", async (job) => {
          job.status(1, 4);
          await g.wait();
        }).start();
        await waitFor(async () => (await client.status(bg)).running, { what: "the job to run" });
        assert.deepEqual(await client.status(bg), {
          known: true,
          running: true,
          numerator: 1,
          denominator: 4,
        });
        g.open();
        await waitFor(async () => !(await client.status(bg)).known, { what: "the job to end" });
      } finally {
        g.open();
      }
    });

    it("submitBackground() jobs are taken high before normal before low, FIFO within a priority", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const submits = [["low", "l1"], ["normal", "n1"], ["high", "h1"], ["low", "l2"], [
        "normal",
        "n2",
      ], ["high", "h2"]] as const;
      for (const [priority, data] of submits) {
        await client.submitBackground("lib.prio", data, { priority });
      }
      const prio = (await fx.admin().priorityStatus()).find((p) => p.name === "lib.prio");
      assert.deepEqual(prio, { name: "lib.prio", high: 2, normal: 2, low: 2, workers: 0 });
      const order: string[] = [];
      fx.worker().register("lib.prio", (job) => void order.push(job.text())).start();
      await waitFor(() => order.length === 6, { what: "all six jobs to run" });
      assert.deepEqual(order, ["h1", "h2", "n1", "n2", "l1", "l2"]);
    });

    it("submit() with the same unique coalesces: one run, the first payload, both get the result", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const first = client.submit("lib.uniq", "first", { unique: "lib-u1" });
      const second = client.submit("lib.uniq", "second", { unique: "lib-u1" });
      assert.equal(await second.handle, await first.handle);
      const byUnique = await client.statusByUnique("lib-u1");
      assert.deepEqual(byUnique, {
        known: true,
        running: false,
        numerator: 0,
        denominator: 0,
        waiting: 2,
      });
      assert.ok((await fx.admin().showUniqueJobs()).includes("lib-u1"));
      const runs: string[] = [];
      fx.worker().register("lib.uniq", (job) => {
        runs.push(`${job.text()}/${job.unique}`);
        return `r:${job.text()}`;
      }).start();
      assert.deepEqual([await resultOf(first), await resultOf(second)], ["r:first", "r:first"]);
      assert.deepEqual(runs, ["first/lib-u1"]);
    });

    it('submit() with unique "-" coalesces jobs whose payloads are equal', {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const a = client.submit("lib.dash", "same", { unique: "-" });
      const b = client.submit("lib.dash", "same", { unique: "-" });
      const c = client.submit("lib.dash", "other", { unique: "-" });
      assert.equal(await b.handle, await a.handle);
      assert.notEqual(await c.handle, await a.handle);
      const runs: string[] = [];
      fx.worker().register("lib.dash", (job) => {
        runs.push(job.text());
        return job.unique;
      }).start();
      assert.deepEqual(await Promise.all([a, b, c].map((j) => resultOf(j))), ["-", "-", "-"]);
      assert.deepEqual(runs.sort(), ["other", "same"]);
    });

    it("submit() rejects with JobFailedError naming the handle when a handler throws", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      fx.worker().register("lib.fail", () => {
        throw new Error("nope");
      }).start();
      const job = fx.client().submit("lib.fail", "x");
      const err = await errorOf(job);
      assert.ok(err instanceof JobFailedError, String(err));
      assert.equal(err.code, "JOB_FAILED");
      assert.equal(err.handle, await job.handle);
    });

    it(
      "submit() rejects with JobExceptionError carrying the message when both sides enable exceptions",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        fx.worker({ exceptions: true }).register("lib.exc", (job) => {
          throw new Error(`boom:${job.text()}`);
        }).start();
        const err = await errorOf(fx.client({ exceptions: true }).submit("lib.exc", "x"));
        assert.ok(err instanceof JobExceptionError, String(err));
        assert.equal(text(err.data), "boom:x");
        assert.match(err.handle, HANDLE);
      },
    );

    it(
      "submit() rejects with JobFailedError when the worker raises an exception the client did not ask for",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        fx.worker({ exceptions: true }).register("lib.excfail", () => {
          throw new Error("boom");
        }).start();
        const err = await errorOf(fx.client().submit("lib.excfail", "x", { timeoutMs: 3000 }));
        assert.ok(err instanceof JobFailedError, String(err));
        assert.match(err.handle, HANDLE);
      },
    );

    it(
      "submit() rejects with TimeoutError after timeoutMs, and AbortedError on abort, when no worker has the function",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        const client = fx.client();
        const started = Date.now();
        const err = await errorOf(client.submit("lib.nobody", "x", { timeoutMs: 300 }));
        assert.ok(err instanceof TimeoutError, String(err));
        assert.ok(Date.now() - started >= 250, `rejected after ${Date.now() - started} ms`);
        const controller = new AbortController();
        const job = client.submit("lib.nobody", "y", { signal: controller.signal });
        await job.handle;
        controller.abort();
        assert.ok((await errorOf(job)) instanceof AbortedError);
        // The client still works after giving up on those jobs.
        assert.equal(text(await client.echo("still here")), "still here");
      },
    );

    it(
      "register() with timeoutMs lets the server requeue an overrunning job, and the rerun's result arrives",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        let calls = 0;
        // Concurrency 1: a PRE_SLEEP from an idle slot would cancel gearmand's timer (§7.3).
        fx.worker({ concurrency: 1 }).register("lib.overrun", async () => {
          calls++;
          if (calls === 1) {
            await delay(1500);
            return "late";
          }
          return "rerun";
        }, { timeoutMs: 1000 }).start();
        assert.equal(await resultOf(fx.client().submit("lib.overrun", "x"), 8000), "rerun");
        assert.equal(calls, 2);
      },
    );

    it("stop() lets a running job finish and its result reach the client", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const g = gate();
      let running = false;
      const worker = fx.worker().register("lib.stop", async () => {
        running = true;
        await g.wait();
        return "finished";
      });
      worker.start();
      try {
        const job = fx.client().submit("lib.stop", "x");
        await waitFor(() => running, { what: "the job to start" });
        const stopped = worker.stop();
        g.open();
        await stopped;
        assert.equal(await resultOf(job, 3000), "finished");
      } finally {
        g.open();
      }
    });
  });

  // -------------------------------------------------------------------------
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

  // -------------------------------------------------------------------------
  describe(`createClient() with PHP's GearmanWorker on ${kind}`, {
    skip: skipIf(skip, noPhp),
    timeout: 60_000,
  }, () => {
    const fx = useServer(start);
    let output = () => "";

    before(async () => {
      const port = String(fx.target().port);
      const w = fx.procs.start("php", [PHP_WORKER, HOST, port, "phpw"], {
        env: { GEARMAN_TEST_SLEEP_MS: "0" },
      });
      output = () => w.stdout;
      await waitForWorkers(fx.target().port, "phpw.sleep", 1, 10_000);
    });

    it("submit() resolves with a PHP worker's result at every priority", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      assert.equal(await resultOf(client.submit("phpw.rev", "hello")), "olleh");
      assert.equal(await resultOf(client.submit("phpw.rev", "high", { priority: "high" })), "hgih");
      assert.equal(await resultOf(client.submit("phpw.rev", "low", { priority: "low" })), "wol");
    });

    it("submit() yields GearmanJob::sendData(), sendStatus() and sendWarning() in order", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      assert.deepEqual(await eventsAndResult(fx.client().submit("phpw.events", "x")), {
        events: [["data", "d1"], ["status", 1, 3], ["warning", "w1"], ["status", 3, 3]],
        result: "done:x",
      });
      assert.deepEqual(await eventsAndResult(fx.client().submit("phpw.sleep", "nap")), {
        events: [["status", 1, 4]],
        result: "slept:nap",
      });
    });

    it("submit() rejects with JobFailedError when the PHP worker calls sendFail()", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const job = fx.client().submit("phpw.fail", "x");
      const err = await errorOf(job);
      assert.ok(err instanceof JobFailedError, String(err));
      assert.equal(err.handle, await job.handle);
    });

    it("submit() with exceptions rejects with JobExceptionError carrying sendException()'s text", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const err = await errorOf(fx.client({ exceptions: true }).submit("phpw.exception", "x"));
      assert.ok(err instanceof JobExceptionError, String(err));
      assert.equal(text(err.data), "boom:x");
    });

    it(
      "submit() without exceptions rejects with JobFailedError when the PHP worker calls sendException()",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        const err = await errorOf(fx.client().submit("phpw.exception", "y", { timeoutMs: 3000 }));
        assert.ok(err instanceof JobFailedError, String(err));
      },
    );

    it("submitBackground() queues a job that the PHP worker runs", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const bg = await client.submitBackground("phpw.rev", "in-the-background");
      await waitFor(() => output().includes("job phpw.rev in-the-background\n"), {
        what: "the PHP worker to run the job",
      });
      await waitFor(async () => !(await client.status(bg)).known, { what: "the job to end" });
    });
  });

  // -------------------------------------------------------------------------
  describe(`createClient() with Perl's Gearman::Worker on ${kind}`, {
    skip: skipIf(skip, noPerl),
    timeout: 60_000,
  }, () => {
    const fx = useServer(start);
    let output = () => "";

    before(async () => {
      const port = String(fx.target().port);
      const w = fx.procs.start("perl", [PERL_WORKER, HOST, port, "perlw"], {
        env: { GEARMAN_TEST_SLEEP_MS: "0" },
      });
      output = () => w.stdout;
      await waitForWorkers(fx.target().port, "perlw.fail", 1, 10_000);
    });

    it("submit() resolves with a Perl worker's result", { timeout: TEST_TIMEOUT }, async () => {
      const client = fx.client();
      assert.equal(await resultOf(client.submit("perlw.rev", "hello")), "olleh");
      assert.equal(
        await resultOf(client.submit("perlw.rev", "high", { priority: "high" })),
        "hgih",
      );
    });

    it("submit() yields send_work_data(), set_status() and send_work_warning() in order", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      assert.deepEqual(await eventsAndResult(fx.client().submit("perlw.events", "x")), {
        events: [["data", "d1"], ["status", 1, 3], ["warning", "w1"], ["status", 3, 3]],
        result: "done:x",
      });
      assert.deepEqual(await eventsAndResult(fx.client().submit("perlw.sleep", "nap")), {
        events: [["status", 1, 4]],
        result: "slept:nap",
      });
    });

    it("submit() rejects with JobFailedError when the Perl handler returns undef", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const job = fx.client().submit("perlw.fail", "x");
      const err = await errorOf(job);
      assert.ok(err instanceof JobFailedError, String(err));
      assert.equal(err.handle, await job.handle);
    });

    it("submitBackground() queues a job that the Perl worker runs", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const bg = await client.submitBackground("perlw.rev", "perl-bg", { unique: "perl-bg-1" });
      await waitFor(() => output().includes("job perlw.rev perl-bg\n"), {
        what: "the Perl worker to run the job",
      });
      await waitFor(async () => !(await client.status(bg)).known, { what: "the job to end" });
    });
  });

  // -------------------------------------------------------------------------
  describe(`PHP's GearmanClient with createWorker() on ${kind}`, {
    skip: skipIf(skip, noPhp),
    timeout: 60_000,
  }, () => {
    const fx = useServer(start);
    const seen: string[] = [];
    const php = (mode: string, fn: string, ...args: string[]) =>
      runJson(fx.procs, "php", [PHP_CLIENT, HOST, String(fx.target().port), mode, fn, ...args]);

    before(async () => {
      fx.worker({ concurrency: 3 })
        .register("ours.rev", (job) => {
          seen.push(`${job.function} ${job.text()} ${job.unique}`);
          return reverse(job.text());
        })
        .register("ours.events", (job) => {
          job.data("d1");
          job.status(1, 3);
          job.warning("w1");
          job.status(3, 3);
          return `done:${job.text()}`;
        })
        .register("ours.fail", () => {
          throw new Error("nope");
        })
        .start();
      fx.worker({ exceptions: true }).register("ours.exception", (job) => {
        throw new Error(`boom:${job.text()}`);
      }).start();
      await waitForWorkers(fx.target().port, "ours.fail");
      await waitForWorkers(fx.target().port, "ours.exception");
    });

    it("GearmanClient::doNormal(), doHigh() and doLow() return our worker's result", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      assert.deepEqual(await php("normal", "ours.rev", "hello"), {
        result: "olleh",
        rc: GEARMAN_SUCCESS,
      });
      assert.deepEqual(await php("high", "ours.rev", "high"), {
        result: "hgih",
        rc: GEARMAN_SUCCESS,
      });
      assert.deepEqual(await php("low", "ours.rev", "low"), { result: "wol", rc: GEARMAN_SUCCESS });
      // libgearman sends a UUID as the unique of every job; JobContext.unique shows it.
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      for (const data of ["hello", "high", "low"]) {
        const line = seen.find((s) => s.startsWith(`ours.rev ${data} `));
        assert.match(line?.split(" ")[2] ?? "", uuid, JSON.stringify(seen));
      }
    });

    it(
      "GearmanClient::doBackground() returns a handle and our worker gets the job with its unique",
      {
        timeout: TEST_TIMEOUT,
      },
      async () => {
        const out = await php("background", "ours.rev", "bg-data", "php-unique-1");
        assert.equal(out.rc, GEARMAN_SUCCESS);
        assert.match(String(out.handle), HANDLE);
        await waitFor(() => seen.includes("ours.rev bg-data php-unique-1"), {
          what: "our worker to run the job",
        });
      },
    );

    it("GearmanClient::runTasks() gets every result from our worker", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const words = ["alpha", "bravo", "charlie", "delta"];
      assert.deepEqual(await php("tasks", "ours.rev", ...words), {
        results: Object.fromEntries(words.map((w) => [w, reverse(w)])),
        ran: true,
        rc: GEARMAN_SUCCESS,
      });
    });

    it("GearmanClient callbacks get JobContext.data(), status() and warning() in order", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      assert.deepEqual(await php("events", "ours.events", "x"), {
        ran: true,
        events: [["data", "d1"], ["status", 1, 3], ["warning", "w1"], ["status", 3, 3], [
          "complete",
          "done:x",
        ]],
        rc: GEARMAN_SUCCESS,
      });
    });

    it("a handler that throws reaches PHP as WORK_FAIL, or as WORK_EXCEPTION with exceptions on", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      assert.deepEqual(await php("normal", "ours.fail", "x"), {
        result: "",
        rc: GEARMAN_WORK_FAIL,
      });
      assert.deepEqual(await php("events", "ours.fail", "y"), {
        ran: true,
        events: [["fail"]],
        rc: GEARMAN_SUCCESS,
      });
      assert.deepEqual(await php("exception", "ours.exception", "x"), {
        ran: true,
        events: [["exception", "boom:x"]],
        rc: GEARMAN_SUCCESS,
      });
      assert.deepEqual(await php("normal", "ours.exception", "y"), {
        result: "",
        rc: GEARMAN_WORK_EXCEPTION,
      });
    });

    it("GearmanClient::jobStatus() follows a background job through queued, running 1/4 and done", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const g = gate();
      try {
        const { handle: h } = await php("background", "ours.gate", "g1");
        const handle = String(h);
        const status = async () => JSON.stringify((await php("status", "-", handle)).status);
        assert.equal(await status(), "[true,false,0,0]");
        fx.worker().register("ours.gate", async (job) => {
          job.status(1, 4);
          await g.wait();
        }).start();
        await waitFor(async () => (await status()) === "[true,true,1,4]", {
          what: "running 1/4",
        });
        g.open();
        await waitFor(async () => (await status()) === "[false,false,0,0]", { what: "done" });
      } finally {
        g.open();
      }
    });
  });

  // -------------------------------------------------------------------------
  describe(`Perl's Gearman::Client with createWorker() on ${kind}`, {
    skip: skipIf(skip, noPerl),
    timeout: 60_000,
  }, () => {
    const fx = useServer(start);
    const perl = (mode: string, fn: string, ...args: string[]) =>
      runJson(fx.procs, "perl", [PERL_CLIENT, HOST, String(fx.target().port), mode, fn, ...args]);

    before(async () => {
      fx.worker({ concurrency: 2 })
        .register("ours.rev", (job) => reverse(job.text()))
        .register("ours.fail", () => {
          throw new Error("nope");
        })
        .start();
      await waitForWorkers(fx.target().port, "ours.fail");
    });

    it("Gearman::Client->do_task() returns our worker's result", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      assert.deepEqual(await perl("do", "ours.rev", "hello"), { result: "olleh", failed: false });
    });

    it("Gearman::Client->do_task() fails when our handler throws", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const started = Date.now();
      assert.deepEqual(await perl("do", "ours.fail", "x"), { result: null, failed: true });
      assert.ok(
        Date.now() - started < 5000,
        "failed by WORK_FAIL, not by the client's 10 s timeout",
      );
    });

    it("Gearman::Client->dispatch_background() and get_status() follow our worker's progress", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const port = String(fx.target().port);
      const g = gate();
      try {
        const { handle: h } = await perl("background", "ours.gate", "nap", "perl-uniq-1");
        const handle = String(h);
        assert.match(handle, new RegExp(`^127\\.0\\.0\\.1:${port}//H:[^\\s:]+:\\d+$`));
        assert.deepEqual(await perl("status", "-", handle), {
          known: true,
          running: false,
          progress: [0, 0],
        });
        let unique = "";
        fx.worker().register("ours.gate", async (job) => {
          unique = job.unique;
          job.status(1, 4);
          await g.wait();
          return "ok";
        }).start();
        await waitFor(async () => {
          const st = await perl("status", "-", handle);
          return st.running === true && JSON.stringify(st.progress) === "[1,4]";
        }, { what: "running 1/4" });
        assert.equal(unique, "perl-uniq-1");
        g.open();
        await waitFor(async () => (await perl("status", "-", handle)).known === false, {
          what: "the job to end",
        });
      } finally {
        g.open();
      }
    });
  });
}
