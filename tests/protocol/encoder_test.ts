import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeRequest, encodeResponse } from "../../src/protocol/encoder.ts";
import { PacketType } from "../../src/protocol/constants.ts";

describe("encodePacket()", () => {
  it("encodeRequest() matches the bytes of PROTOCOL.md's example background submit", () => {
    const frame = encodeRequest(PacketType.SUBMIT_JOB_BG, ["f", "u1", "hi"]);
    assert.deepEqual(
      Array.from(frame),
      [0, 0x52, 0x45, 0x51, 0, 0, 0, 0x12, 0, 0, 0, 7, 0x66, 0, 0x75, 0x31, 0, 0x68, 0x69],
    );
  });

  it("encodeResponse() writes a bare header for a packet with no arguments", () => {
    assert.deepEqual(
      Array.from(encodeResponse(PacketType.NOOP)),
      [0, 0x52, 0x45, 0x53, 0, 0, 0, 6, 0, 0, 0, 0],
    );
  });

  it("encodeResponse() keeps empty arguments as adjacent NULs", () => {
    const frame = encodeResponse(PacketType.STATUS_RES, ["H:a:1", "", "", "", ""]);
    assert.equal(new DataView(frame.buffer).getUint32(8), 9);
    assert.deepEqual(Array.from(frame.subarray(17)), [0, 0, 0, 0]);
  });

  it("encodePacket() sends string chars as single bytes", () => {
    const frame = encodeRequest(PacketType.ECHO_REQ, ["\xff\x00a"]);
    assert.deepEqual(Array.from(frame.subarray(12)), [0xff, 0, 0x61]);
  });
});
