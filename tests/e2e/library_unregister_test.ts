/**
 * End-to-end tests of `GearmanWorker.unregister()` on our server and on a
 * real gearmand 1.1.20: a function dropped while jobs of it run is withdrawn
 * only once they end (servers requeue the running jobs of a dropped
 * function), and jobs a server assigns in between are neither failed nor
 * lost.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AdminClient, FunctionStatus } from "../../mod.ts";
import { waitFor } from "../_helpers.ts";
import { gate, resultOf, SERVERS, TEST_TIMEOUT, useServer } from "./_library.ts";

/** Waits until the `status` row of `fn` has the given fields (a missing row counts as all 0). */
async function waitStatus(
  admin: AdminClient,
  fn: string,
  want: Partial<Omit<FunctionStatus, "name">>,
): Promise<void> {
  let last: FunctionStatus | undefined;
  try {
    await waitFor(async () => {
      last = (await admin.status()).find((row) => row.name === fn);
      const row = last ?? { total: 0, running: 0, workers: 0 };
      return Object.entries(want).every(([k, v]) => row[k as keyof typeof want] === v);
    }, { what: `status of ${fn} to be ${JSON.stringify(want)}` });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last)}`);
  }
}

for (const { kind, start, skip } of SERVERS) {
  describe(`GearmanWorker.unregister() on ${kind}`, { skip, timeout: 60_000 }, () => {
    const fx = useServer(start);

    it(
      "withdraws an idle function from the server at once",
      { timeout: TEST_TIMEOUT },
      async () => {
        const worker = fx.worker().register("un.idle", () => "x").register("un.kept", () => "y");
        worker.start();
        const admin = fx.admin();
        await waitStatus(admin, "un.idle", { workers: 1 });
        worker.unregister("un.idle");
        await waitStatus(admin, "un.idle", { workers: 0 });
        assert.equal(await resultOf(fx.client().submit("un.kept", "")), "y");
      },
    );

    it("registering a name again replaces its handler and counts the worker once", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const worker = fx.worker().register("un.twice", () => "first");
      worker.start();
      const admin = fx.admin();
      await waitStatus(admin, "un.twice", { workers: 1 });
      worker.register("un.twice", () => "second");
      assert.equal(await resultOf(fx.client().submit("un.twice", "")), "second");
      await waitStatus(admin, "un.twice", { workers: 1 });
    });

    /**
     * A worker of 2 slots runs job "1" of `fn` (held by a gate), then drops
     * `fn`; the server, which still counts the worker as able (its CANT_DO
     * waits for the running job), assigns job "2" to the free slot too.
     */
    async function unregisterWhileRunning(fn: string) {
      const slow = gate();
      const worker = fx.worker({ concurrency: 2 })
        .register(fn, async (job) => {
          await slow.wait();
          return `old:${job.text()}`;
        })
        .register(`${fn}.other`, () => "other");
      worker.start();
      const admin = fx.admin();
      const client = fx.client();
      const first = client.submit(fn, "1");
      await waitStatus(admin, fn, { running: 1 });
      worker.unregister(fn);
      const second = client.submit(fn, "2");
      await waitStatus(admin, fn, { total: 2, running: 2 });
      return { slow, worker, admin, client, first, second };
    }

    it("lets a running job finish, and hands back unanswered a job assigned meanwhile", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const { slow, admin, first, second } = await unregisterWhileRunning("un.slow");
      slow.open();
      assert.equal(await resultOf(first), "old:1");
      // The CANT_DO has put the second job back in the queue, with nobody to do it.
      await waitStatus(admin, "un.slow", { total: 1, running: 0, workers: 0 });
      fx.worker().register("un.slow", (job) => `new:${job.text()}`).start();
      assert.equal(await resultOf(second), "new:2");
    });

    it("registering again before the running jobs end keeps the function, and runs the job held", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const { slow, worker, admin, client, first, second } = await unregisterWhileRunning(
        "un.again",
      );
      worker.register("un.again", (job) => `new:${job.text()}`);
      assert.equal(await resultOf(second), "new:2");
      slow.open();
      assert.equal(await resultOf(first), "old:1");
      // No CANT_DO follows the last old job: the function is still this worker's.
      assert.equal(await resultOf(client.submit("un.again", "3")), "new:3");
      await waitStatus(admin, "un.again", { total: 0, workers: 1 });
    });
  });
}
