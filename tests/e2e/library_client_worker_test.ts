/**
 * End-to-end tests of `createClient()` and `createWorker()` together, on our
 * server and on a real gearmand 1.1.20 with the same assertions, so each test
 * also shows the two servers agree. Each group starts its own server on a free
 * port of 127.0.0.1 and each test uses its own function names.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AbortedError, JobExceptionError, JobFailedError, TimeoutError } from "../../mod.ts";
import { delay, waitFor } from "../_helpers.ts";
import {
  errorOf,
  eventsAndResult,
  gate,
  resultOf,
  reverse,
  SERVERS,
  TEST_TIMEOUT,
  text,
  useServer,
} from "./_library.ts";
import { HANDLE } from "./_peers.ts";

for (const { kind, start, skip } of SERVERS) {
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

    it("coalesced submits from one client each see every progress event once", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const client = fx.client();
      const a = client.submit("lib.once", "x", { unique: "lib-once" });
      const b = client.submit("lib.once", "x", { unique: "lib-once" });
      assert.equal(await b.handle, await a.handle);
      fx.worker().register("lib.once", (job) => {
        job.status(1, 2);
        job.data("d");
        job.warning("w");
        return "r";
      }).start();
      const [ea, eb] = await Promise.all([eventsAndResult(a), eventsAndResult(b)]);
      const once = { events: [["status", 1, 2], ["data", "d"], ["warning", "w"]], result: "r" };
      assert.deepEqual([ea, eb], [once, once]);
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
}
