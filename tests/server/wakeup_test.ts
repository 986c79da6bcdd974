import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { startServer, type TestServer } from "./_server.ts";
import type { RawClient } from "../_raw_client.ts";

/** Resolves with the first of `workers` to receive a NOOP. */
function firstNoop(workers: RawClient[]): Promise<RawClient> {
  return Promise.any(workers.map(async (w) => {
    await w.expect(T.NOOP, 5000);
    return w;
  }));
}

describe("GearmanServer wake-up", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.stop());

  it("PRE_SLEEP is answered with NOOP at once when a job is already waiting", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["wk-now", "", "d"]);
    await client.expect(T.JOB_CREATED);
    const w = await s.connect();
    w.send(T.CAN_DO, ["wk-now"]);
    w.send(T.PRE_SLEEP);
    await w.expect(T.NOOP);
    w.send(T.GRAB_JOB);
    const job = await w.expect(T.JOB_ASSIGN);
    w.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
  });

  it("a woken worker that sends PRE_SLEEP again without grabbing gets another NOOP, as from gearmand", async () => {
    const w = await s.sleepingWorker("wk-again");
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["wk-again", "", "d"]);
    await client.expect(T.JOB_CREATED);
    await w.expect(T.NOOP);
    w.send(T.PRE_SLEEP);
    await w.expect(T.NOOP);
    w.send(T.GRAB_JOB);
    const job = await w.expect(T.JOB_ASSIGN);
    w.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
  });

  it("one job wakes one of many sleeping workers, not all of them", async () => {
    const sleepers: RawClient[] = [];
    for (let i = 0; i < 20; i++) sleepers.push(await s.sleepingWorker("wk-one"));
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["wk-one", "", "d"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const woken = await firstNoop(sleepers);
    woken.send(T.GRAB_JOB);
    woken.send(T.WORK_COMPLETE, [h, "r"]);
    await client.expect(T.WORK_COMPLETE);
    for (const w of sleepers) {
      if (w !== woken) assert.ok(await w.silent(0), "only one sleeper got a NOOP");
    }
  });

  it("a woken worker that does not grab in time makes the server wake another", async () => {
    const a = await s.sleepingWorker("wk-late");
    const b = await s.sleepingWorker("wk-late");
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["wk-late", "", "d"]);
    await client.expect(T.JOB_CREATED);
    const first = await firstNoop([a, b]);
    const second = first === a ? b : a;
    await second.expect(T.NOOP, 2000);
    second.send(T.GRAB_JOB);
    const job = await second.expect(T.JOB_ASSIGN);
    second.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
  });

  it("as many sleepers wake as there are jobs", async () => {
    const sleepers: RawClient[] = [];
    for (let i = 0; i < 4; i++) sleepers.push(await s.sleepingWorker("wk-many"));
    const client = await s.connect();
    for (let i = 0; i < 3; i++) client.send(T.SUBMIT_JOB_BG, ["wk-many", "", `d${i}`]);
    for (let i = 0; i < 3; i++) await client.expect(T.JOB_CREATED);
    // Checked together, well inside the delay after which late wakers are replaced.
    const quiet = await Promise.all(sleepers.map((w) => w.silent(20)));
    assert.equal(quiet.filter((q) => !q).length, 3);
  });

  it("an epoch job wakes a sleeping worker when it falls due", async () => {
    const w = await s.sleepingWorker("wk-epoch");
    const client = await s.connect();
    const due = Math.floor(Date.now() / 1000) + 1;
    client.send(T.SUBMIT_JOB_EPOCH, ["wk-epoch", "", String(due), "later"]);
    await client.expect(T.JOB_CREATED);
    w.send(T.GRAB_JOB);
    await w.expect(T.NO_JOB);
    w.send(T.PRE_SLEEP);
    await w.expect(T.NOOP, 3000);
    assert.ok(Date.now() >= due * 1000 - 5);
    w.send(T.GRAB_JOB);
    const job = await w.expect(T.JOB_ASSIGN);
    assert.equal(job.args[2], "later");
  });
});

describe("GearmanServer -w", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ workerWakeup: 1 });
  });
  after(() => s.stop());

  it("-w 1 keeps at most one sleeper woken at a time", async () => {
    const sleepers: RawClient[] = [];
    for (let i = 0; i < 3; i++) sleepers.push(await s.sleepingWorker("wk-cap"));
    const client = await s.connect();
    for (let i = 0; i < 3; i++) client.send(T.SUBMIT_JOB_BG, ["wk-cap", "", `d${i}`]);
    for (let i = 0; i < 3; i++) await client.expect(T.JOB_CREATED);
    const quiet = await Promise.all(sleepers.map((w) => w.silent(20)));
    assert.equal(quiet.filter((q) => !q).length, 1);
  });
});
