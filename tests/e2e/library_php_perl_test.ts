/**
 * End-to-end tests of our library with the other libraries: our client with
 * PHP's GearmanWorker and Perl's Gearman::Worker, PHP's GearmanClient and
 * Perl's Gearman::Client with our worker, each on our server and on a real
 * gearmand 1.1.20. A group is skipped with a reason when its tool is missing.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { JobExceptionError, JobFailedError } from "../../mod.ts";
import { HOST, waitFor, waitForWorkers } from "../_helpers.ts";
import {
  errorOf,
  eventsAndResult,
  gate,
  resultOf,
  reverse,
  SERVERS,
  skipIf,
  TEST_TIMEOUT,
  text,
  useServer,
} from "./_library.ts";
import {
  GEARMAN_SUCCESS,
  GEARMAN_WORK_EXCEPTION,
  GEARMAN_WORK_FAIL,
  HANDLE,
  PERL_CLIENT,
  PERL_WORKER,
  PHP_CLIENT,
  PHP_WORKER,
  runJson,
  whyNoPerl,
  whyNoPhp,
} from "./_peers.ts";

const noPhp = await whyNoPhp();
const noPerl = await whyNoPerl();

for (const { kind, start, skip } of SERVERS) {
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
