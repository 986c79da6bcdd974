// What a server with a durable store leaves behind and finds again: rows that
// go when jobs end, and a restart that replays the queue as it was.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { startServer } from "../server/_server.ts";
import { waitFor } from "../_wait.ts";
import { ControlledStore, handleOf, sqliteRows, sync, tempDir } from "./_store.ts";

const dir = tempDir();
after(() => dir.remove());
let files = 0;
const newDb = () => dir.file(`replay-${++files}.db`);

describe("GearmanServer restarted on its store", () => {
  it(
    "restart replays the queue with the same handles, priorities, uniques, run-at times and retries",
    {
      timeout: 15000,
    },
    async () => {
      const path = newDb();
      let s = await startServer({ store: `sqlite:${path}` });
      let low: string, high: string, later: string, retry: string, done: string;
      try {
        const c = await s.connect();
        c.send(T.SUBMIT_JOB_LOW_BG, ["r", "u-low", "low"]);
        c.send(T.SUBMIT_JOB_HIGH_BG, ["r", "u-high", "high"]);
        c.send(T.SUBMIT_JOB_EPOCH, ["r", "u-later", "4102444800", "later"]);
        c.send(T.SUBMIT_JOB_BG, ["rr", "u-retry", "retry"]);
        c.send(T.SUBMIT_JOB_BG, ["rd", "", "done"]);
        [low, high, later, retry, done] = [
          await handleOf(c),
          await handleOf(c),
          await handleOf(c),
          await handleOf(c),
          await handleOf(c),
        ];
        // One job loses its worker (retries 1), one runs to completion.
        const w = await s.connect();
        w.send(T.CAN_DO, ["rr"]);
        w.send(T.GRAB_JOB);
        assert.equal((await w.expect(T.JOB_ASSIGN)).args[0], retry);
        w.close();
        await waitFor(
          async () => (await c.admin("show jobs", true)).includes(`${retry}\t1\t0\t1`),
          {
            timeoutMs: 3000,
            what: "the server to requeue the job of the closed worker",
          },
        );
        const w2 = await s.connect();
        w2.send(T.CAN_DO, ["rd"]);
        w2.send(T.GRAB_JOB);
        assert.equal((await w2.expect(T.JOB_ASSIGN)).args[0], done);
        w2.send(T.WORK_COMPLETE, [done, ""]);
        await sync(w2);
      } finally {
        await s.stop();
      }

      s = await startServer({ store: `sqlite:${path}` });
      try {
        const c = await s.connect();
        const jobs = await c.admin("show jobs", true);
        const expected = [low, high, later, retry].map((h) => `${h}\t${h === retry ? 1 : 0}\t0\t1`);
        assert.deepEqual(jobs.sort(), expected.sort());
        c.send(T.GET_STATUS, [high]);
        assert.deepEqual((await c.expect(T.STATUS_RES)).args, [high, "1", "0", "0", "0"]);
        c.send(T.GET_STATUS, [done]);
        assert.deepEqual((await c.expect(T.STATUS_RES)).args, [done, "0", "0", "0", "0"]);
        c.send(T.SUBMIT_JOB_BG, ["r", "", "new"]);
        const fresh = await handleOf(c);
        assert.ok(
          Number(fresh.split(":").at(-1)) > Number(done.split(":").at(-1)),
          `${fresh} after ${done}`,
        );
        const worker = await s.connect();
        worker.send(T.CAN_DO, ["r"]);
        const got: string[][] = [];
        for (let i = 0; i < 3; i++) {
          worker.send(T.GRAB_JOB_UNIQ);
          got.push((await worker.expect(T.JOB_ASSIGN_UNIQ)).args);
        }
        assert.deepEqual(got, [[high, "r", "u-high", "high"], [fresh, "r", "", "new"], [
          low,
          "r",
          "u-low",
          "low",
        ]]);
        worker.send(T.GRAB_JOB_UNIQ);
        assert.equal((await worker.next()).type, T.NO_JOB, "the epoch job waits for its time");
        worker.send(T.CAN_DO, ["rr"]);
        worker.send(T.GRAB_JOB_UNIQ);
        assert.deepEqual((await worker.expect(T.JOB_ASSIGN_UNIQ)).args, [
          retry,
          "rr",
          "u-retry",
          "retry",
        ]);
      } finally {
        await s.stop();
      }
    },
  );

  it("new handles continue after the highest ever committed even when the queue was empty", {
    timeout: 10000,
  }, async () => {
    const path = newDb();
    let s = await startServer({ store: `sqlite:${path}` });
    let first: string;
    try {
      const c = await s.connect();
      c.send(T.SUBMIT_JOB_BG, ["e", "", "1"]);
      first = await handleOf(c);
      c.send(T.CAN_DO, ["e"]);
      c.send(T.GRAB_JOB);
      await c.expect(T.JOB_ASSIGN);
      c.send(T.WORK_COMPLETE, [first, ""]);
      await sync(c);
    } finally {
      await s.stop();
    }
    s = await startServer({ store: `sqlite:${path}` });
    try {
      const c = await s.connect();
      c.send(T.GET_STATUS, [first]);
      assert.deepEqual((await c.expect(T.STATUS_RES)).args, [first, "0", "0", "0", "0"]);
      c.send(T.SUBMIT_JOB_BG, ["e", "", "2"]);
      assert.notEqual(await handleOf(c), first);
    } finally {
      await s.stop();
    }
  });

  it("rows go on WORK_COMPLETE, WORK_FAIL, WORK_EXCEPTION, -j exhaustion and cancel job", {
    timeout: 15000,
  }, async () => {
    const path = newDb();
    const s = await startServer({ store: `sqlite:${path}`, jobRetries: 2 });
    const names = ["complete", "fail", "exception", "retry", "cancel", "stays"];
    const handles: Record<string, string> = {};
    try {
      const c = await s.connect();
      for (const name of names) {
        c.send(T.SUBMIT_JOB_BG, [name === "retry" ? "dr" : "d", name, name]);
      }
      for (const name of names) handles[name] = await handleOf(c);
      assert.deepEqual(await c.admin(`cancel job ${handles.cancel}`), ["OK"]);
      const w = await s.connect();
      w.send(T.CAN_DO, ["d"]);
      for (const end of [T.WORK_COMPLETE, T.WORK_FAIL, T.WORK_EXCEPTION]) {
        w.send(T.GRAB_JOB);
        const h = (await w.expect(T.JOB_ASSIGN)).args[0] as string;
        w.send(end, end === T.WORK_FAIL ? [h] : [h, "x"]);
      }
      await sync(w);
      for (let attempt = 1; attempt <= 2; attempt++) {
        const lost = await s.connect();
        lost.send(T.CAN_DO, ["dr"]);
        lost.send(T.GRAB_JOB);
        assert.equal((await lost.expect(T.JOB_ASSIGN)).args[0], handles.retry);
        lost.close();
        // Until the server has seen the close, the job is still running.
        await waitFor(async () => {
          const listed = (await c.admin("show jobs", true)).find((l) =>
            l.startsWith(`${handles.retry}\t`)
          );
          return attempt === 2 ? listed === undefined : listed === `${handles.retry}\t1\t0\t1` &&
            (await c.admin("status", true)).includes("dr\t1\t0\t0");
        }, {
          timeoutMs: 3000,
          what: `the server to requeue ${handles.retry} (attempt ${attempt})`,
        });
      }
    } finally {
      await s.stop();
    }
    assert.deepEqual((await sqliteRows(path)).map((j) => j.handle), [handles.stays]);
  });

  it("every background job with an empty unique has its own row", { timeout: 10000 }, async () => {
    const path = newDb();
    const s = await startServer({ store: `sqlite:${path}` });
    const handles: string[] = [];
    try {
      const c = await s.connect();
      for (let i = 0; i < 3; i++) c.send(T.SUBMIT_JOB_BG, ["same", "", "data"]);
      for (let i = 0; i < 3; i++) handles.push(await handleOf(c));
    } finally {
      await s.stop();
    }
    assert.equal(new Set(handles).size, 3);
    assert.deepEqual((await sqliteRows(path)).map((j) => j.handle), handles);
  });

  it("storeQueueOnShutdown writes the queue only when the server stops and replays it at start", {
    timeout: 10000,
  }, async () => {
    const path = newDb();
    const store = new ControlledStore(new SqliteStore(path));
    let s = await startServer({ store, storeQueueOnShutdown: true });
    const handles: string[] = [];
    try {
      const c = await s.connect();
      c.send(T.SUBMIT_JOB_BG, ["snap", "", "1"]);
      c.send(T.SUBMIT_JOB_HIGH_BG, ["snap", "", "2"]);
      handles.push(await handleOf(c), await handleOf(c));
      assert.equal(store.batches.length, 0, "no commit per job");
    } finally {
      await s.stop();
    }
    assert.deepEqual((await sqliteRows(path)).map((j) => j.handle), handles);
    s = await startServer({ store: `sqlite:${path}`, storeQueueOnShutdown: true });
    try {
      const c = await s.connect();
      assert.deepEqual(
        (await c.admin("show jobs", true)).sort(),
        handles.map((h) => `${h}\t0\t0\t1`).sort(),
      );
    } finally {
      await s.stop();
    }
  });
});
