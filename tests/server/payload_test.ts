import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { detectRuntime } from "../../src/net/runtime.ts";
import { startServer, type TestServer } from "./_server.ts";

/** A latin1 payload of `n` bytes with every byte value and NULs in it. */
function payload(n: number, seed: number): string {
  let out = "";
  for (let i = 0; i < n; i += 1024) {
    let part = "";
    for (let k = 0; k < 1024 && i + k < n; k++) part += String.fromCharCode((i + k) * seed & 0xff);
    out += part;
  }
  return out;
}

/** A full collection, done twice around a turn so that freed buffers are released (V8 only). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc();
}

describe("GearmanServer payloads", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.stop());

  // Small payloads are kept as strings, mid-size ones as bytes, large ones as the chunks they came in.
  for (const size of [0, 1, 64, 65, 4096, 4097, 70000, 300000, 1 << 20]) {
    it(`a ${size}-byte payload reaches the worker and its ${size}-byte result the client unchanged`, async () => {
      const client = await s.connect();
      const worker = await s.connect();
      const data = payload(size, 7);
      const result = payload(size, 13);
      client.send(T.SUBMIT_JOB, [`size${size}`, "", data]);
      const handle = (await client.expect(T.JOB_CREATED, 10000)).args[0] as string;
      worker.send(T.CAN_DO, [`size${size}`]);
      worker.send(T.GRAB_JOB_UNIQ);
      const assign = await worker.expect(T.JOB_ASSIGN_UNIQ, 10000);
      assert.equal(assign.args[0], handle);
      assert.equal(assign.args[3], data);
      worker.send(T.WORK_DATA, [handle, result]);
      worker.send(T.WORK_COMPLETE, [handle, result]);
      assert.deepEqual((await client.expect(T.WORK_DATA, 10000)).args, [handle, result]);
      assert.deepEqual((await client.expect(T.WORK_COMPLETE, 10000)).args, [handle, result]);
    });
  }

  it("keeps no memory for a client's finished 1 MiB jobs while the client stays connected", {
    // Only Node reports the memory held by array buffers (process.memoryUsage().arrayBuffers).
    skip: detectRuntime() === "node" ? false : "array buffer memory is reported by Node alone",
  }, async () => {
    const client = await s.connect();
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["finished"]);
    const data = payload(1 << 20, 5);
    await collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 24; i++) {
      client.send(T.SUBMIT_JOB, ["finished", "", data]);
      const handle = (await client.expect(T.JOB_CREATED, 10000)).args[0] as string;
      worker.send(T.GRAB_JOB);
      await worker.expect(T.JOB_ASSIGN, 10000);
      worker.send(T.WORK_COMPLETE, [handle, "done"]);
      await client.expect(T.WORK_COMPLETE, 10000);
    }
    await collectGarbage();
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(
      grown < 8 << 20,
      `array buffers grew by ${(grown / 2 ** 20).toFixed(1)} MiB over 24 jobs`,
    );
  });

  it("a large background job is assigned unchanged after other jobs were queued around it", async () => {
    const client = await s.connect();
    const worker = await s.connect();
    const big = payload(600000, 3);
    client.send(T.SUBMIT_JOB_BG, ["mixed", "", "before"]);
    client.send(T.SUBMIT_JOB_BG, ["mixed", "", big]);
    client.send(T.SUBMIT_JOB_BG, ["mixed", "", "after"]);
    for (let i = 0; i < 3; i++) await client.expect(T.JOB_CREATED, 10000);
    worker.send(T.CAN_DO, ["mixed"]);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      worker.send(T.GRAB_JOB);
      const assign = await worker.expect(T.JOB_ASSIGN, 10000);
      got.push(assign.args[2] as string);
      worker.send(T.WORK_COMPLETE, [assign.args[0] as string, ""]);
    }
    assert.deepEqual(got, ["before", big, "after"]);
  });

  it("two clients coalesced on a unique both get a large result", async () => {
    const a = await s.connect();
    const b = await s.connect();
    const worker = await s.connect();
    a.send(T.SUBMIT_JOB, ["shared", "same", "x"]);
    const handle = (await a.expect(T.JOB_CREATED)).args[0] as string;
    b.send(T.SUBMIT_JOB, ["shared", "same", "x"]);
    assert.equal((await b.expect(T.JOB_CREATED)).args[0], handle);
    worker.send(T.CAN_DO, ["shared"]);
    worker.send(T.GRAB_JOB);
    await worker.expect(T.JOB_ASSIGN);
    const result = payload(500000, 11);
    worker.send(T.WORK_COMPLETE, [handle, result]);
    assert.deepEqual((await a.expect(T.WORK_COMPLETE, 10000)).args, [handle, result]);
    assert.deepEqual((await b.expect(T.WORK_COMPLETE, 10000)).args, [handle, result]);
  });

  it("a large last argument of any packet is read whole (ECHO_REQ, SET_CLIENT_ID)", async () => {
    const c = await s.connect();
    const big = payload(700000, 5);
    c.send(T.ECHO_REQ, [big]);
    assert.deepEqual((await c.expect(T.ECHO_RES, 10000)).args, [big]);
    c.send(T.SET_CLIENT_ID, ["x".repeat(400000)]);
    const lines = await c.admin("workers", true);
    assert.ok(
      lines.some((l) => l.includes(` ${"x".repeat(127)} :`)),
      lines.join("\n").slice(0, 300),
    );
  });
});
