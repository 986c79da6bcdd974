import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { functionStatus } from "../_admin_text.ts";
import type { RawClient } from "../_raw_client.ts";
import { waitFor } from "../_wait.ts";
import { startServer, type TestServer } from "./_server.ts";

/** Submits a foreground job and returns the job as its worker received it (grabs must wait). */
async function submitAndAssign(s: TestServer, fn: string, client: RawClient) {
  const worker = await s.connect();
  worker.send(T.CAN_DO, [fn]);
  client.send(T.SUBMIT_JOB, [fn, "", "payload"]);
  worker.send(T.GRAB_JOB);
  const assigned = await worker.expect(T.JOB_ASSIGN);
  return { worker, handle: assigned.args[0] as string };
}

describe("GearmanServer created wait", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ createdWait: 60_000, grabWait: 60_000 });
  });
  after(() => s.stop());

  it("a foreground job's JOB_CREATED waits for its result and leaves first, with it", async () => {
    const client = await s.connect();
    const { worker, handle } = await submitAndAssign(s, "cw-result", client);
    assert.ok(await client.silent(50), "JOB_CREATED waits while the job runs");
    worker.send(T.WORK_COMPLETE, [handle, "done"]);
    assert.deepEqual((await client.expect(T.JOB_CREATED)).args, [handle]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [handle, "done"]);
  });

  it("WORK_STATUS from the worker sends the held JOB_CREATED ahead of it", async () => {
    const client = await s.connect();
    const { worker, handle } = await submitAndAssign(s, "cw-status", client);
    worker.send(T.WORK_STATUS, [handle, "1", "2"]);
    assert.deepEqual((await client.expect(T.JOB_CREATED)).args, [handle]);
    assert.deepEqual((await client.expect(T.WORK_STATUS)).args, [handle, "1", "2"]);
    worker.send(T.WORK_FAIL, [handle]);
    await client.expect(T.WORK_FAIL);
  });

  it("the client's next request gets its reply after the held JOB_CREATED, in order", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["cw-order", "", "a"]);
    client.send(T.ECHO_REQ, ["ping"]);
    await client.expect(T.JOB_CREATED, 1000);
    assert.deepEqual((await client.expect(T.ECHO_RES, 1000)).args, ["ping"]);
  });

  it("closing the server sends every held JOB_CREATED before the connection ends", async () => {
    const own = await startServer({ createdWait: 60_000 });
    try {
      const client = await own.connect();
      client.send(T.SUBMIT_JOB, ["cw-close", "", "a"]);
      await waitFor(async () => (await functionStatus(own.port, "cw-close"))?.total === 1, {
        timeoutMs: 5000,
        what: "the server to queue the job",
      });
      await own.server.close();
      await client.expect(T.JOB_CREATED);
      await client.waitClosed();
    } finally {
      await own.stop();
    }
  });
});

describe("GearmanServer created wait defaults", () => {
  it("with no result in sight, JOB_CREATED follows after the default wait", async () => {
    const s = await startServer();
    try {
      const client = await s.connect();
      client.send(T.SUBMIT_JOB, ["cw-default", "", "a"]);
      await client.expect(T.JOB_CREATED, 1000);
    } finally {
      await s.stop();
    }
  });

  it("createdWait 0 sends JOB_CREATED at once, as gearmand does", async () => {
    const s = await startServer({ createdWait: 0, grabWait: 60_000 });
    try {
      const client = await s.connect();
      const { worker, handle } = await submitAndAssign(s, "cw-zero", client);
      assert.deepEqual((await client.expect(T.JOB_CREATED)).args, [handle]);
      worker.send(T.WORK_COMPLETE, [handle, ""]);
      await client.expect(T.WORK_COMPLETE);
    } finally {
      await s.stop();
    }
  });
});
