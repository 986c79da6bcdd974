import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { startServer, type TestServer } from "./_server.ts";
import type { RawClient } from "../_raw_client.ts";

async function submit(c: RawClient, type: number, fn: string, unique: string, data: string) {
  c.send(type, [fn, unique, data]);
  return (await c.expect(T.JOB_CREATED)).args[0] as string;
}

describe("GearmanServer unique ids", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.stop());

  it("SUBMIT_JOB with the same unique joins the job and every client gets the result", async () => {
    const a = await s.connect();
    const b = await s.connect();
    const c = await s.connect();
    const h = await submit(a, T.SUBMIT_JOB, "co", "same", "first");
    assert.equal(await submit(b, T.SUBMIT_JOB_HIGH, "co", "same", "second"), h);
    const w = await s.connect();
    w.send(T.CAN_DO, ["co"]);
    w.send(T.GRAB_JOB);
    assert.deepEqual((await w.expect(T.JOB_ASSIGN)).args, [h, "co", "first"]);
    // A submit that joins a running job also gets what follows.
    assert.equal(await submit(c, T.SUBMIT_JOB, "co", "same", "third"), h);
    w.send(T.WORK_STATUS, [h, "1", "2"]);
    w.send(T.WORK_COMPLETE, [h, "r"]);
    for (const client of [a, b, c]) {
      assert.deepEqual((await client.expect(T.WORK_STATUS)).args, [h, "1", "2"]);
      assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "r"]);
    }
  });

  it("SUBMIT_JOB_BG with an empty unique never coalesces", async () => {
    const a = await s.connect();
    const h1 = await submit(a, T.SUBMIT_JOB_BG, "co-empty", "", "x");
    const h2 = await submit(a, T.SUBMIT_JOB_BG, "co-empty", "", "x");
    assert.notEqual(h1, h2);
  });

  it("SUBMIT_JOB_BG with unique '-' coalesces on the payload bytes", async () => {
    const a = await s.connect();
    const h1 = await submit(a, T.SUBMIT_JOB_BG, "co-dash", "-", "pay\0load");
    assert.equal(await submit(a, T.SUBMIT_JOB_BG, "co-dash", "-", "pay\0load"), h1);
    assert.notEqual(await submit(a, T.SUBMIT_JOB_BG, "co-dash", "-", "other"), h1);
    const e1 = await submit(a, T.SUBMIT_JOB_BG, "co-dash", "-", "");
    assert.notEqual(await submit(a, T.SUBMIT_JOB_BG, "co-dash", "-", ""), e1);
  });

  it("SUBMIT_JOB with the same unique under another function makes a separate job", async () => {
    const a = await s.connect();
    const h1 = await submit(a, T.SUBMIT_JOB_BG, "co-f1", "u", "x");
    assert.notEqual(await submit(a, T.SUBMIT_JOB_BG, "co-f2", "u", "x"), h1);
  });

  it("a background submit joined to a foreground job survives the foreground client leaving", async () => {
    const fg = await s.connect();
    const bg = await s.connect();
    const h = await submit(fg, T.SUBMIT_JOB, "co-keep", "k", "data");
    assert.equal(await submit(bg, T.SUBMIT_JOB_BG, "co-keep", "k", "ignored"), h);
    fg.close();
    await fg.waitClosed();
    const w = await s.connect();
    w.send(T.CAN_DO, ["co-keep"]);
    w.send(T.GRAB_JOB);
    assert.deepEqual((await w.expect(T.JOB_ASSIGN)).args, [h, "co-keep", "data"]);
    w.send(T.WORK_COMPLETE, [h, ""]);
  });

  it("a foreground job whose only client left is dropped before it runs", async () => {
    const fg = await s.connect();
    await submit(fg, T.SUBMIT_JOB, "co-drop", "", "data");
    fg.close();
    await fg.waitClosed();
    const admin = await s.connect();
    // Wait until the server has seen the close: the job shows as ignored.
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      const jobs = await admin.admin("show jobs", true);
      seen = jobs.some((line) => line.endsWith("\t0\t1\t0"));
    }
    assert.ok(seen, "the abandoned job is listed as ignored");
    const w = await s.connect();
    w.send(T.CAN_DO, ["co-drop"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.NO_JOB);
    const status = await admin.admin("status", true);
    assert.ok(status.includes("co-drop\t0\t0\t1"), status.join("|"));
  });

  it("GET_STATUS_UNIQUE reports the job, its progress and its waiting clients", async () => {
    const a = await s.connect();
    const b = await s.connect();
    const h = await submit(a, T.SUBMIT_JOB, "co-st", "UQ", "x");
    await submit(b, T.SUBMIT_JOB, "co-st", "UQ", "x");
    const w = await s.connect();
    w.send(T.CAN_DO, ["co-st"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.JOB_ASSIGN);
    w.send(T.WORK_STATUS, [h, "5", "9"]);
    await a.expect(T.WORK_STATUS);
    a.send(T.GET_STATUS_UNIQUE, ["UQ"]);
    assert.deepEqual((await a.expect(T.STATUS_RES_UNIQUE)).args, ["UQ", "1", "1", "5", "9", "2"]);
    a.send(T.GET_STATUS_UNIQUE, ["nouniq"]);
    assert.deepEqual((await a.expect(T.STATUS_RES_UNIQUE)).args, ["nouniq", "0", "0", "0", "0", "0"]);
    w.send(T.WORK_COMPLETE, [h, ""]);
  });
});
