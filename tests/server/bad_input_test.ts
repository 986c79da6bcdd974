import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAGIC_RES, PacketType as T } from "../../src/protocol/constants.ts";
import { MAX_ADMIN_LINE } from "../../src/protocol/decoder.ts";
import { encodePacket, encodeRequest } from "../../src/protocol/encoder.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { delay } from "../_wait.ts";
import { startServer, type TestServer } from "./_server.ts";

function withHeader(type: number, size: number, magic = [0, 0x52, 0x45, 0x51]): Uint8Array {
  const out = new Uint8Array(12);
  out.set(magic);
  new DataView(out.buffer).setUint32(4, type);
  new DataView(out.buffer).setUint32(8, size);
  return out;
}

describe("GearmanServer on bad input", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ maxPacketSize: 1 << 20 });
  });
  after(() => s.stop());

  it("a \\0RES packet gets ERROR INVALID_MAGIC and the connection stays open", async () => {
    const c = await s.connect();
    c.sendRaw(encodePacket(MAGIC_RES, T.ECHO_REQ, ["x"]));
    assert.deepEqual((await c.expect(T.ERROR)).args, ["INVALID_MAGIC", "Request magic expected"]);
    c.send(T.ECHO_REQ, ["alive"]);
    await c.expect(T.ECHO_RES);
  });

  it("response-only and unused types get ERROR INVALID_COMMAND and the connection stays open", async () => {
    const c = await s.connect();
    const sent: [number, string[]][] = [
      [5, []],
      [T.NOOP, []],
      [T.JOB_CREATED, ["H:x:1"]],
      [T.NO_JOB, []],
      [T.ERROR, ["CODE", "text"]],
      [T.ALL_YOURS, []],
      [T.STATUS_RES, ["H:x:1", "0", "0", "0", "0"]],
      [T.SUBMIT_JOB_SCHED, ["f", "", "1", "2", "3", "4", "5", "d"]],
    ];
    for (const [type, args] of sent) c.send(type, args);
    for (let i = 0; i < sent.length; i++) {
      assert.deepEqual((await c.expect(T.ERROR)).args, ["INVALID_COMMAND", "Command not expected"]);
    }
    c.send(T.ECHO_REQ, ["alive"]);
    await c.expect(T.ECHO_RES);
  });

  it("a packet with too few arguments gets an ERROR and the stream stays in step", async () => {
    const c = await s.connect();
    c.sendRaw(encodeRequest(T.SUBMIT_REDUCE_JOB_BACKGROUND, ["f", "u", "r", "data"]));
    c.send(T.ECHO_REQ, ["after"]);
    assert.equal((await c.expect(T.ERROR)).args[0], "INVALID_PACKET");
    assert.deepEqual((await c.expect(T.ECHO_RES)).args, ["after"]);
  });

  it("an unknown magic closes the connection", async () => {
    const c = await s.connect();
    c.sendRaw(withHeader(T.ECHO_REQ, 0, [0, 0x58, 0x59, 0x5a]));
    await c.waitClosed();
  });

  it("a type above 42 closes the connection", async () => {
    const c = await s.connect();
    c.sendRaw(withHeader(43, 0));
    await c.waitClosed();
  });

  it("a packet larger than --max-packet-size is refused from its header and closes the connection", async () => {
    const c = await s.connect();
    c.sendRaw(withHeader(T.SUBMIT_JOB_BG, 0xfffffff0));
    assert.equal((await c.expect(T.ERROR)).args[0], "ARGUMENT_TOO_LARGE");
    await c.waitClosed();
  });

  it("an admin line over 64 KiB gets ERR LINE_TOO_LONG and a close, in one write or two", async () => {
    const long = "x".repeat(MAX_ADMIN_LINE);
    const oneWrite = await s.connect();
    const [reply] = await oneWrite.admin(`status ${long}`);
    assert.match(reply ?? "", /^ERR LINE_TOO_LONG /);
    await oneWrite.waitClosed();
    const twoWrites = await s.connect();
    twoWrites.sendRaw(`status ${long.slice(0, 40_000)}`);
    await delay(50);
    assert.match((await twoWrites.admin(long.slice(40_000)))[0] ?? "", /^ERR LINE_TOO_LONG /);
    await twoWrites.waitClosed();
    const admin = await s.connect();
    assert.deepEqual(await admin.admin("status", true), []);
  });

  it("a packet refused from its header is answered after the JOB_CREATED of a submit before it", async () => {
    const c = await s.connect();
    c.sendRaw(concatBytes([
      encodeRequest(T.SUBMIT_JOB, ["held", "", "small"]),
      withHeader(T.SUBMIT_JOB_BG, 0xfffffff0),
    ]));
    assert.equal((await c.expect(T.JOB_CREATED)).args[0]?.startsWith("H:test:"), true);
    assert.equal((await c.expect(T.ERROR)).args[0], "ARGUMENT_TOO_LARGE");
    await c.waitClosed();
  });

  it("random bytes on one connection leave the others served", async () => {
    const junk = await s.connect();
    const bytes = new Uint8Array(65536);
    let seed = 12345;
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    bytes[0] = 0;
    junk.sendRaw(bytes);
    const client = await s.connect();
    const worker = await s.connect();
    worker.send(T.CAN_DO, ["after-junk"]);
    client.send(T.SUBMIT_JOB, ["after-junk", "", "ping"]);
    const h = (await client.expect(T.JOB_CREATED)).args[0] as string;
    worker.send(T.GRAB_JOB);
    await worker.expect(T.JOB_ASSIGN);
    worker.send(T.WORK_COMPLETE, [h, "pong"]);
    assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [h, "pong"]);
  });
});
