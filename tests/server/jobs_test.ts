import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { encodeRequest } from "../../src/protocol/encoder.ts";
import { delay } from "../_wait.ts";
import { startServer, type TestServer } from "./_server.ts";

describe("GearmanServer jobs", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.stop());

  it("relays WORK_DATA, WORK_WARNING, WORK_STATUS and WORK_COMPLETE to the client in order", async () => {
    const client = await s.connect();
    const worker = await s.connect();
    client.send(T.SUBMIT_JOB, ["relay", "", "in\0put"]);
    const handle = (await client.expect(T.JOB_CREATED)).args[0] as string;
    assert.match(handle, /^H:test:\d+$/);
    worker.send(T.CAN_DO, ["relay"]);
    worker.send(T.GRAB_JOB_UNIQ);
    const assign = await worker.expect(T.JOB_ASSIGN_UNIQ);
    assert.deepEqual(assign.args, [handle, "relay", "", "in\0put"]);
    worker.send(T.WORK_DATA, [handle, "d\x001"]);
    worker.send(T.WORK_WARNING, [handle, "w1"]);
    worker.send(T.WORK_STATUS, [handle, "1", "2"]);
    worker.send(T.WORK_COMPLETE, [handle, "done\0!"]);
    assert.deepEqual((await client.expect(T.WORK_DATA)).args, [handle, "d\x001"]);
    assert.deepEqual((await client.expect(T.WORK_WARNING)).args, [handle, "w1"]);
    assert.deepEqual((await client.expect(T.WORK_STATUS)).args, [handle, "1", "2"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [handle, "done\0!"]);
  });

  it("GET_STATUS reports a background job as queued, running with progress, then unknown", async () => {
    const client = await s.connect();
    const worker = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["bgstat", "", "x"]);
    const handle = (await client.expect(T.JOB_CREATED)).args[0] as string;
    client.send(T.GET_STATUS, [handle]);
    assert.deepEqual((await client.expect(T.STATUS_RES)).args, [handle, "1", "0", "0", "0"]);
    worker.send(T.CAN_DO, ["bgstat"]);
    worker.send(T.GRAB_JOB);
    assert.deepEqual((await worker.expect(T.JOB_ASSIGN)).args, [handle, "bgstat", "x"]);
    worker.send(T.WORK_STATUS, [handle, "3", "10"]);
    client.send(T.GET_STATUS, [handle]);
    assert.deepEqual((await client.expect(T.STATUS_RES)).args, [handle, "1", "1", "3", "10"]);
    worker.send(T.WORK_COMPLETE, [handle, ""]);
    worker.send(T.ECHO_REQ, ["sync"]);
    await worker.expect(T.ECHO_RES);
    client.send(T.GET_STATUS, [handle]);
    assert.deepEqual((await client.expect(T.STATUS_RES)).args, [handle, "0", "0", "0", "0"]);
    assert.ok(await client.silent(50), "a background submitter gets no WORK_* packets");
  });

  it("GET_STATUS of a handle with 20,000 bytes after it is unknown, however TCP splits the packet", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["longstat", "", "x"]);
    const handle = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const long = handle + "Z".repeat(20_000);
    const packet = encodeRequest(T.GET_STATUS, [long]);
    const cut = 12 + handle.length;
    for (const parts of [[packet], [packet.subarray(0, cut), packet.subarray(cut)]]) {
      for (const part of parts) {
        client.sendRaw(part);
        // Apart in time, the two parts reach the server in two reads.
        if (parts.length > 1) await delay(50);
      }
      assert.deepEqual((await client.expect(T.STATUS_RES)).args, [long, "0", "0", "0", "0"]);
    }
  });

  it("GRAB_JOB serves high before normal before low, FIFO within a level", async () => {
    const client = await s.connect();
    const order = ["low1", "normal1", "high1", "low2", "normal2", "high2"];
    const types = [T.SUBMIT_JOB_LOW_BG, T.SUBMIT_JOB_BG, T.SUBMIT_JOB_HIGH_BG];
    for (const [i, name] of order.entries()) {
      client.send(types[i % 3] as number, ["prio", "", name]);
      await client.expect(T.JOB_CREATED);
    }
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["prio"]);
    const got: string[] = [];
    for (let i = 0; i < order.length; i++) {
      worker.send(T.GRAB_JOB);
      const job = await worker.expect(T.JOB_ASSIGN);
      got.push(job.args[2] as string);
      worker.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
    }
    assert.deepEqual(got, ["high1", "high2", "normal1", "normal2", "low1", "low2"]);
    worker.send(T.GRAB_JOB);
    await worker.expect(T.NO_JOB);
  });

  it("GRAB_JOB treats priority as global across a worker's functions", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["ga", "", "a-normal"]);
    client.send(T.SUBMIT_JOB_LOW_BG, ["gb", "", "b-low"]);
    client.send(T.SUBMIT_JOB_HIGH_BG, ["ga", "", "a-high"]);
    client.send(T.SUBMIT_JOB_HIGH_BG, ["gb", "", "b-high"]);
    for (let i = 0; i < 4; i++) await client.expect(T.JOB_CREATED);
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["ga"]);
    worker.send(T.CAN_DO, ["gb"]);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      worker.send(T.GRAB_JOB);
      const job = await worker.expect(T.JOB_ASSIGN);
      got.push(job.args[2] as string);
      worker.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
    }
    assert.deepEqual(got.slice(0, 2).sort(), ["a-high", "b-high"]);
    assert.deepEqual(got.slice(2), ["a-normal", "b-low"]);
  });

  it("GRAB_JOB alternates between a worker's functions at the same priority", async () => {
    const client = await s.connect();
    for (const data of ["a1", "a2", "a3"]) client.send(T.SUBMIT_JOB_BG, ["rra", "", data]);
    for (const data of ["b1", "b2", "b3"]) client.send(T.SUBMIT_JOB_BG, ["rrb", "", data]);
    for (let i = 0; i < 6; i++) await client.expect(T.JOB_CREATED);
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["rra"]);
    worker.send(T.CAN_DO, ["rrb"]);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      worker.send(T.GRAB_JOB);
      const job = await worker.expect(T.JOB_ASSIGN);
      got.push(job.args[2] as string);
      worker.send(T.WORK_COMPLETE, [job.args[0] as string, ""]);
    }
    assert.deepEqual(got, ["a1", "b1", "a2", "b2", "a3", "b3"]);
  });

  it("GRAB_JOB_ALL returns JOB_ASSIGN_ALL with the reducer; GRAB_JOB hides it", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_REDUCE_JOB_BACKGROUND, ["rd", "ru1", "myreducer", "", "payload"]);
    client.send(T.SUBMIT_REDUCE_JOB_BACKGROUND, ["rd", "ru2", "myreducer", "", "p2"]);
    const h1 = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const h2 = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["rd"]);
    worker.send(T.GRAB_JOB_ALL);
    assert.deepEqual((await worker.expect(T.JOB_ASSIGN_ALL)).args, [
      h1,
      "rd",
      "ru1",
      "myreducer",
      "payload",
    ]);
    worker.send(T.GRAB_JOB);
    assert.deepEqual((await worker.expect(T.JOB_ASSIGN)).args, [h2, "rd", "p2"]);
    worker.send(T.WORK_COMPLETE, [h1, ""]);
    worker.send(T.WORK_COMPLETE, [h2, ""]);
  });

  it("GRAB_JOB_ALL on a job without reducer returns JOB_ASSIGN_UNIQ", async () => {
    const client = await s.connect();
    client.send(T.SUBMIT_JOB_BG, ["gall", "u-all", "d"]);
    const handle = (await client.expect(T.JOB_CREATED)).args[0] as string;
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["gall"]);
    worker.send(T.GRAB_JOB_ALL);
    assert.deepEqual((await worker.expect(T.JOB_ASSIGN_UNIQ)).args, [handle, "gall", "u-all", "d"]);
    worker.send(T.WORK_COMPLETE, [handle, ""]);
  });

  it("WORK_* from a connection that does not hold the job gets ERROR JOB_NOT_FOUND", async () => {
    const other = await s.connect();
    other.send(T.WORK_COMPLETE, ["H:test:999999", "x"]);
    assert.deepEqual((await other.expect(T.ERROR)).args, [
      "JOB_NOT_FOUND",
      "Job given in work result not found",
    ]);
    other.send(T.WORK_DATA, ["H:test:999999", "x"]);
    assert.deepEqual((await other.expect(T.ERROR)).args, [
      "JOB_NOT_FOUND",
      "Job does not exist on server",
    ]);
    other.send(T.WORK_EXCEPTION, ["H:test:999999", "x"]);
    assert.deepEqual((await other.expect(T.ERROR)).args, [
      "JOB_NOT_FOUND",
      "An exception was received for a job that does not exist",
    ]);
  });

  it("WORK_EXCEPTION reaches clients that asked for exceptions; others get a plain WORK_FAIL", async () => {
    const wants = await s.connect();
    const plain = await s.connect();
    wants.send(T.OPTION_REQ, ["exceptions"]);
    assert.deepEqual((await wants.expect(T.OPTION_RES)).args, ["exceptions"]);
    wants.send(T.SUBMIT_JOB, ["exc", "same", "x"]);
    const handle = (await wants.expect(T.JOB_CREATED)).args[0] as string;
    plain.send(T.SUBMIT_JOB, ["exc", "same", "x"]);
    assert.equal((await plain.expect(T.JOB_CREATED)).args[0], handle);
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["exc"]);
    worker.send(T.GRAB_JOB);
    await worker.expect(T.JOB_ASSIGN);
    worker.send(T.WORK_EXCEPTION, [handle, "boom"]);
    assert.deepEqual((await wants.expect(T.WORK_EXCEPTION)).args, [handle, "boom"]);
    assert.deepEqual((await plain.expect(T.WORK_FAIL)).args, [handle]);
  });

  it("OPTION_REQ echoes the name as sent and rejects unknown options", async () => {
    const c = await s.connect();
    c.send(T.OPTION_REQ, ["EXCEPTIONS"]);
    assert.deepEqual((await c.expect(T.OPTION_RES)).args, ["EXCEPTIONS"]);
    c.send(T.OPTION_REQ, ["bogus"]);
    assert.deepEqual((await c.expect(T.ERROR)).args, [
      "UNKNOWN_OPTION",
      "Server does not recognize given option",
    ]);
  });

  it("ECHO_REQ returns the same bytes, NULs included", async () => {
    const c = await s.connect();
    c.send(T.ECHO_REQ, ["a\0b\0\xff"]);
    assert.deepEqual((await c.expect(T.ECHO_RES)).args, ["a\0b\0\xff"]);
  });

  it("SUBMIT_JOB with a unique over 64 bytes gets ERROR ARGUMENT_TOO_LARGE", async () => {
    const c = await s.connect();
    c.send(T.SUBMIT_JOB, ["big", "u".repeat(65), "x"]);
    assert.deepEqual((await c.expect(T.ERROR)).args, [
      "ARGUMENT_TOO_LARGE",
      "Unique value too large",
    ]);
    c.send(T.SUBMIT_JOB_BG, ["big", "u".repeat(64), "x"]);
    await c.expect(T.JOB_CREATED);
  });
});
