import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { encodeRequest } from "../../src/protocol/encoder.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { functionStatus, waitForWorkers } from "../_admin_text.ts";
import { waitFor } from "../_wait.ts";
import type { RawClient } from "../_raw_client.ts";
import { startServer, type TestServer } from "./_server.ts";

/**
 * A worker whose CAN_DO and empty GRAB_JOB arrive in one write: once the
 * server lists the worker, it has processed the grab too.
 */
async function grabbingWorker(s: TestServer, fn: string, after: Uint8Array[] = []): Promise<RawClient> {
  const w = await s.connect();
  w.sendRaw(concatBytes([encodeRequest(T.CAN_DO, [fn]), encodeRequest(T.GRAB_JOB_UNIQ), ...after]));
  await waitForWorkers(s.port, fn, 1);
  return w;
}

describe("GearmanServer grab wait", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ grabWait: 60_000 });
  });
  after(() => s.stop());

  it("a job submitted while a worker's grab waits is that grab's answer, with no NO_JOB or NOOP", async () => {
    const w = await grabbingWorker(s, "gw-direct");
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["gw-direct", "u1", "payload"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const assigned = await w.expect(T.JOB_ASSIGN_UNIQ);
    assert.deepEqual(assigned.args, [h, "gw-direct", "u1", "payload"]);
    w.send(T.WORK_COMPLETE, [h, "done"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "done"]);
  });

  it("anything else the worker sends answers the waiting grab first, in request order", async () => {
    const w = await grabbingWorker(s, "gw-order", [encodeRequest(T.ECHO_REQ, ["ping"])]);
    await w.expect(T.NO_JOB, 1000);
    assert.deepEqual((await w.expect(T.ECHO_RES, 1000)).args, ["ping"]);
  });

  it("a worker that leaves while its grab waits does not take the next job", async () => {
    const gone = await grabbingWorker(s, "gw-gone");
    gone.close();
    await waitFor(async () => (await functionStatus(s.port, "gw-gone"))?.workers === 0, {
      timeoutMs: 5000,
      what: "the server to drop the worker",
    });
    const sleeper = await s.sleepingWorker("gw-gone");
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["gw-gone", "", "d"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    await sleeper.expect(T.NOOP);
    sleeper.send(T.GRAB_JOB);
    assert.equal((await sleeper.expect(T.JOB_ASSIGN)).args[0], h);
    sleeper.send(T.WORK_COMPLETE, [h, ""]);
    await client.expect(T.WORK_COMPLETE);
  });
});

describe("GearmanServer grab wait defaults", () => {
  it("an empty grab gets NO_JOB after the default wait, then the worker sleeps as usual", async () => {
    const s = await startServer();
    try {
      const w = await grabbingWorker(s, "gw-default");
      await w.expect(T.NO_JOB, 1000);
      w.send(T.PRE_SLEEP);
      const client = await s.connect();
      client.send(T.SUBMIT_JOB_BG, ["gw-default", "", "d"]);
      await client.expect(T.JOB_CREATED);
      await w.expect(T.NOOP);
    } finally {
      await s.stop();
    }
  });

  it("grabWait 0 answers an empty grab with NO_JOB at once, as gearmand does", async () => {
    const s = await startServer({ grabWait: 0 });
    try {
      const w = await grabbingWorker(s, "gw-zero");
      const client = await s.connect();
      client.send(T.SUBMIT_JOB_BG, ["gw-zero", "", "d"]);
      await client.expect(T.JOB_CREATED);
      await w.expect(T.NO_JOB);
      assert.ok(await w.silent(50), "no JOB_ASSIGN without a new grab");
    } finally {
      await s.stop();
    }
  });
});
