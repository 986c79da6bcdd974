import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { delay } from "../_wait.ts";
import { startServer, type TestServer } from "./_server.ts";

describe("GearmanServer worker loss", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ jobRetries: 0 });
  });
  after(() => s.stop());

  it("a job whose worker disconnects runs on another worker and the client gets the result", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["lost", "", "data"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const w1 = await s.connect();
    w1.send(T.CAN_DO, ["lost"]);
    w1.send(T.GRAB_JOB);
    await w1.expect(T.JOB_ASSIGN);
    const w2 = await s.sleepingWorker("lost");
    w1.close();
    await w2.expect(T.NOOP);
    w2.send(T.GRAB_JOB);
    assert.deepEqual((await w2.expect(T.JOB_ASSIGN)).args, [h, "lost", "data"]);
    w2.send(T.WORK_COMPLETE, [h, "ok"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "ok"]);
    const admin = await s.connect();
    const jobs = await admin.admin("show jobs", true);
    assert.ok(!jobs.some((l) => l.startsWith(`${h}\t`)));
  });

  it("CANT_DO puts a held job back and the late WORK_COMPLETE gets JOB_NOT_FOUND", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["cant", "", "d"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const w = await s.connect();
    w.send(T.CAN_DO, ["cant"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.JOB_ASSIGN);
    w.send(T.CANT_DO, ["cant"]);
    w.send(T.WORK_COMPLETE, [h, ""]);
    assert.equal((await w.expect(T.ERROR)).args[0], "JOB_NOT_FOUND");
    const admin = await s.connect();
    assert.deepEqual(
      (await admin.admin("show jobs", true)).filter((l) => l.startsWith(`${h}\t`)),
      [`${h}\t1\t0\t1`],
    );
    const w2 = await s.connect();
    w2.send(T.CAN_DO, ["cant"]);
    w2.send(T.GRAB_JOB);
    assert.equal((await w2.expect(T.JOB_ASSIGN)).args[0], h);
    w2.send(T.WORK_COMPLETE, [h, ""]);
  });

  it("CAN_DO_TIMEOUT requeues a job whose worker took too long", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["slow", "", "d"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const w = await s.connect();
    w.send(T.CAN_DO_TIMEOUT, ["slow", "1000"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.JOB_ASSIGN);
    const w2 = await s.sleepingWorker("slow");
    await w2.expect(T.NOOP, 5000);
    w2.send(T.GRAB_JOB);
    assert.equal((await w2.expect(T.JOB_ASSIGN)).args[0], h);
    w.send(T.WORK_COMPLETE, [h, "late"]);
    assert.equal((await w.expect(T.ERROR)).args[0], "JOB_NOT_FOUND");
    w2.send(T.WORK_COMPLETE, [h, "on time"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "on time"]);
  });

  it("a CAN_DO_TIMEOUT beyond what a timer can hold (2^31-1 ms) is held to that, not fired at once", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["patient", "", "d"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const w = await s.connect();
    w.send(T.CAN_DO_TIMEOUT, ["patient", "3000000000"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.JOB_ASSIGN);
    // A timeout that overflowed would have requeued the job after 1 ms.
    await delay(50);
    w.send(T.WORK_COMPLETE, [h, "done"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "done"]);
  });
});

describe("GearmanServer -j", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ jobRetries: 2 });
  });
  after(() => s.stop());

  it("a job that lost its worker -j times fails with WORK_FAIL to its client", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["retry", "", "d"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const w1 = await s.connect();
    w1.send(T.CAN_DO, ["retry"]);
    w1.send(T.GRAB_JOB);
    assert.equal((await w1.expect(T.JOB_ASSIGN)).args[0], h);
    // The second attempt's worker sleeps first, so the requeue's NOOP says the server saw w1 go.
    const w2 = await s.sleepingWorker("retry");
    w1.close();
    await w2.expect(T.NOOP);
    w2.send(T.GRAB_JOB);
    assert.equal((await w2.expect(T.JOB_ASSIGN)).args[0], h);
    w2.close();
    assert.deepEqual((await client.expect(T.WORK_FAIL)).args, [h]);
  });
});
