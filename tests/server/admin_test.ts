import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { VERSION } from "../../src/version.ts";
import { withTimeout } from "../_wait.ts";
import { startServer, type TestServer } from "./_server.ts";

describe("GearmanServer admin protocol", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ pid: 4242 });
  });
  after(() => s.stop());

  it("status lists name, total, running and workers for every function", async () => {
    const c = await s.connect();
    c.send(T.SUBMIT_JOB_BG, ["ad-st", "", "a"]);
    c.send(T.SUBMIT_JOB_BG, ["ad-st", "", "b"]);
    await c.expect(T.JOB_CREATED);
    await c.expect(T.JOB_CREATED);
    const w = await s.connect();
    w.send(T.CAN_DO, ["ad-st"]);
    w.send(T.CAN_DO, ["ad-st"]);
    w.send(T.GRAB_JOB);
    const job = await w.expect(T.JOB_ASSIGN);
    const status = await c.admin("status", true);
    assert.ok(status.includes("ad-st\t2\t1\t2"), status.join("|"));
    assert.ok(status.every((l) => l.split("\t").length === 4));
    w.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
  });

  it("prioritystatus counts queued jobs per level", async () => {
    const c = await s.connect();
    for (
      const type of [T.SUBMIT_JOB_HIGH_BG, T.SUBMIT_JOB_BG, T.SUBMIT_JOB_BG, T.SUBMIT_JOB_LOW_BG]
    ) {
      c.send(type, ["ad-prio", "", "x"]);
      await c.expect(T.JOB_CREATED);
    }
    const lines = await c.admin("prioritystatus", true);
    assert.ok(lines.includes("ad-prio\t1\t2\t1\t0"), lines.join("|"));
  });

  it("workers lists every connection with its client id and functions", async () => {
    const w = await s.connect();
    w.send(T.SET_CLIENT_ID, ["my id with spaces"]);
    w.send(T.CAN_DO, ["ad-w1"]);
    w.send(T.CAN_DO, ["ad-w2"]);
    const c = await s.connect();
    const lines = await c.admin("workers", true);
    assert.ok(
      lines.some((l) => /^\d+ 127\.0\.0\.1 my id with spaces : ad-w1 ad-w2$/.test(l)),
      lines.join("|"),
    );
    assert.ok(
      lines.some((l) => /^\d+ 127\.0\.0\.1 - :$/.test(l)),
      "the asking connection is listed",
    );
  });

  it("show jobs and show unique jobs list live jobs", async () => {
    const c = await s.connect();
    c.send(T.SUBMIT_JOB_BG, ["ad-show", "uniq-1", "x"]);
    const h = (await c.expect(T.JOB_CREATED)).args[0] as string;
    assert.ok((await c.admin("show jobs", true)).includes(`${h}\t0\t0\t1`));
    assert.ok((await c.admin("SHOW UNIQUE JOBS", true)).includes("uniq-1"));
    assert.deepEqual(await c.admin("show foo"), ["ERR UNKNOWN_SHOW_ARGUMENTS"]);
    assert.deepEqual(await c.admin("show jobs extra"), ["ERR UNKNOWN_SHOW_ARGUMENTS"]);
  });

  it("cancel job fails the job for its client and answers OK", async () => {
    const c = await s.connect();
    c.send(T.SUBMIT_JOB, ["ad-cancel", "", "x"]);
    const h = (await c.expect(T.JOB_CREATED)).args[0] as string;
    const admin = await s.connect();
    assert.deepEqual(await admin.admin(`cancel job ${h}`), ["OK"]);
    assert.deepEqual((await c.expect(T.WORK_FAIL)).args, [h]);
    assert.deepEqual(await admin.admin("cancel job H:test:999999"), ["ERR UNKNOWN_JOB"]);
    const w = await s.connect();
    w.send(T.CAN_DO, ["ad-cancel"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.NO_JOB);
  });

  it("create function and drop function manage the function list", async () => {
    const c = await s.connect();
    assert.deepEqual(await c.admin("create function ad-made"), ["OK"]);
    assert.ok((await c.admin("status", true)).includes("ad-made\t0\t0\t0"));
    assert.deepEqual(await c.admin("drop function ad-made"), ["OK"]);
    assert.ok(!(await c.admin("status", true)).some((l) => l.startsWith("ad-made\t")));
    assert.deepEqual(await c.admin("drop function ad-made"), ["ERR function not found"]);
    const w = await s.connect();
    w.send(T.CAN_DO, ["ad-busy"]);
    w.send(T.ECHO_REQ, ["sync"]);
    await w.expect(T.ECHO_RES);
    assert.deepEqual(await c.admin("drop function ad-busy"), [
      "ERR there are still connected workers or executing clients",
    ]);
    assert.match((await c.admin("create function"))[0] as string, /^ERR INVALID_ARGUMENTS /);
  });

  it("maxqueue limits a function and a full queue answers QUEUE_ERROR", async () => {
    const c = await s.connect();
    assert.deepEqual(await c.admin("create function ad-mq"), ["OK"]);
    assert.deepEqual(await c.admin("maxqueue ad-mq 0 2 2"), ["OK"]);
    for (let i = 0; i < 2; i++) {
      c.send(T.SUBMIT_JOB_BG, ["ad-mq", "", `n${i}`]);
      await c.expect(T.JOB_CREATED);
    }
    c.send(T.SUBMIT_JOB_LOW_BG, ["ad-mq", "", "full"]);
    assert.deepEqual((await c.expect(T.ERROR)).args, ["QUEUE_ERROR", "Job queue is full"]);
    c.send(T.SUBMIT_JOB_HIGH_BG, ["ad-mq", "", "high is unlimited"]);
    await c.expect(T.JOB_CREATED);
    assert.deepEqual(await c.admin("maxqueue ad-mq"), ["OK"]);
    c.send(T.SUBMIT_JOB_LOW_BG, ["ad-mq", "", "unlimited again"]);
    await c.expect(T.JOB_CREATED);
    assert.deepEqual(await c.admin("maxqueue nosuchfn 3"), ["OK"]);
    assert.match((await c.admin("maxqueue"))[0] as string, /^ERR INVALID_ARGUMENTS /);
  });

  it("getpid, verbose and version answer OK with their value", async () => {
    const c = await s.connect();
    assert.deepEqual(await c.admin("getpid"), ["OK 4242"]);
    assert.match((await c.admin("verbose"))[0] as string, /^OK [A-Z]+$/);
    assert.deepEqual(await c.admin("version"), [`OK ${VERSION}`]);
  });

  it("unknown commands get gearmand's ERR UNKNOWN_COMMAND and the connection stays open", async () => {
    const c = await s.connect();
    assert.deepEqual(await c.admin("foo"), ["ERR UNKNOWN_COMMAND Unknown+server+commandfoo"]);
    assert.deepEqual(await c.admin(""), ["ERR UNKNOWN_COMMAND Unknown+server+command"]);
    assert.deepEqual(await c.admin("  status"), ["ERR UNKNOWN_COMMAND Unknown+server+command"]);
    assert.deepEqual(await c.admin("cancel job"), [
      "ERR UNKNOWN_COMMAND Unknown+server+commandcancel",
    ]);
    assert.ok(Array.isArray(await c.admin("STATUS extra args", true)));
  });

  it("pipelined admin lines are answered in order", async () => {
    const c = await s.connect();
    c.sendRaw("version\r\ngetpid\r\n");
    assert.deepEqual(await c.admin("verbose"), [`OK ${VERSION}`]);
  });
});

describe("GearmanServer admin shutdown", () => {
  it("shutdown from loopback answers OK and stops the server", async () => {
    const s = await startServer();
    const c = await s.connect();
    assert.deepEqual(await c.admin("shutdown"), ["OK"]);
    await s.server.stopped;
    await c.waitClosed();
    await s.stop();
  });

  it("shutdown graceful waits for running jobs to finish", async () => {
    const s = await startServer();
    const client = await s.connect();
    client.send(T.SUBMIT_JOB, ["sd", "", "x"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const w = await s.connect();
    w.send(T.CAN_DO, ["sd"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.JOB_ASSIGN);
    const admin = await s.connect();
    assert.deepEqual(await admin.admin("shutdown graceful"), ["OK"]);
    let stopped = false;
    void s.server.stopped.then(() => (stopped = true));
    w.send(T.ECHO_REQ, ["still served"]);
    await w.expect(T.ECHO_RES);
    assert.equal(stopped, false);
    w.send(T.WORK_COMPLETE, [h, "done"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "done"]);
    await s.server.stopped;
    await s.stop();
  });

  it("shutdown graceful stops once a grab has reaped the last, cancelled job", async () => {
    const s = await startServer();
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["sdc", "", "x"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const admin = await s.connect();
    const w = await s.connect(); // a graceful stop takes no new connections
    assert.deepEqual(await admin.admin(`cancel job ${h}`), ["OK"]);
    assert.deepEqual(await admin.admin("shutdown graceful"), ["OK"]);
    w.send(T.CAN_DO, ["sdc"]);
    w.send(T.GRAB_JOB);
    await w.expect(T.NO_JOB);
    await withTimeout(s.server.stopped, 2000, "the server to stop");
    await s.stop();
  });
});
