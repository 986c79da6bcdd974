import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Decoder, MAX_ADMIN_LINE } from "../../src/protocol/decoder.ts";
import { type Frame, PIECES_FROM } from "../../src/protocol/frame.ts";
import { encodeRequest, encodeResponse } from "../../src/protocol/encoder.ts";
import {
  ARG_COUNTS,
  MAGIC_REQ,
  MAGIC_RES,
  MAX_PACKET_TYPE,
  PacketType,
} from "../../src/protocol/constants.ts";
import { ProtocolError } from "../../src/errors.ts";
import { latin1 } from "../../src/util/bytes.ts";

interface Seen {
  packets: { magic: number; type: number; args: string[] }[];
  lines: string[];
  bad: string[];
}

function collect(maxPacketSize = 1 << 20): { decoder: Decoder; seen: Seen } {
  const seen: Seen = { packets: [], lines: [], bad: [] };
  const decoder = new Decoder({
    onPacket: (magic, type, args) => seen.packets.push({ magic, type, args: args.map(latin1) }),
    onAdminLine: (line) => seen.lines.push(line),
    onBadPacket: (_m, type, problem) => seen.bad.push(`${type}:${problem}`),
  }, maxPacketSize);
  return { decoder, seen };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe("Decoder", () => {
  it("push() splits SUBMIT_JOB into function, unique and data with NULs kept in data", () => {
    const { decoder, seen } = collect();
    decoder.push(encodeRequest(PacketType.SUBMIT_JOB, ["rev", "u1", "a\0b\0c"]));
    assert.deepEqual(seen.packets, [
      { magic: MAGIC_REQ, type: PacketType.SUBMIT_JOB, args: ["rev", "u1", "a\0b\0c"] },
    ]);
  });

  it("push() decodes every packet type with its argument count", () => {
    const { decoder, seen } = collect();
    const frames: Uint8Array[] = [];
    const expected: string[][] = [];
    for (let type = 1; type <= MAX_PACKET_TYPE; type++) {
      const count = ARG_COUNTS[type] ?? 0;
      const args = Array.from(
        { length: count },
        (_, i) => i === count - 1 ? `d\0${type}` : `a${i}`,
      );
      frames.push(encodeResponse(type, args));
      expected.push(args);
    }
    decoder.push(concat(...frames));
    assert.equal(seen.packets.length, MAX_PACKET_TYPE);
    assert.deepEqual(seen.packets.map((p) => p.args), expected);
    assert.ok(seen.packets.every((p) => p.magic === MAGIC_RES));
  });

  it("push() emits the same packets when a stream is split at every byte boundary", () => {
    const stream = concat(
      encodeRequest(PacketType.SUBMIT_JOB_BG, ["f", "", "payload"]),
      new TextEncoder().encode("status\r\n"),
      encodeRequest(PacketType.GRAB_JOB_ALL),
      encodeRequest(PacketType.WORK_COMPLETE, ["H:x:1", "res\0ult"]),
    );
    const whole = collect();
    whole.decoder.push(stream);
    for (let cut = 1; cut < stream.length; cut++) {
      const split = collect();
      split.decoder.push(stream.slice(0, cut));
      split.decoder.push(stream.slice(cut));
      assert.deepEqual(split.seen, whole.seen, `split at ${cut}`);
    }
    const bytewise = collect();
    for (const byte of stream) bytewise.decoder.push(Uint8Array.of(byte));
    assert.deepEqual(bytewise.seen, whole.seen);
    assert.equal(whole.seen.packets.length, 3);
    assert.deepEqual(whole.seen.lines, ["status"]);
  });

  it("push() passes views into the chunk when a frame fits, without copying", () => {
    const frame = encodeRequest(PacketType.ECHO_REQ, ["hello"]);
    let arg: Uint8Array | undefined;
    const decoder = new Decoder({
      onPacket: (_m, _t, args) => (arg = args[0]),
      onAdminLine: () => {},
      onBadPacket: () => {},
    }, 1024);
    decoder.push(frame);
    assert.equal(arg?.buffer, frame.buffer);
  });

  it("push() reports a packet with too few arguments and keeps decoding", () => {
    const { decoder, seen } = collect();
    decoder.push(concat(
      encodeRequest(PacketType.SUBMIT_REDUCE_JOB_BACKGROUND, ["f", "u", "r", "data"]),
      encodeRequest(PacketType.ECHO_REQ, ["next"]),
    ));
    assert.deepEqual(seen.bad, [
      `${PacketType.SUBMIT_REDUCE_JOB_BACKGROUND}:expected 5 arguments, got 4`,
    ]);
    assert.deepEqual(seen.packets.map((p) => p.args), [["next"]]);
  });

  it("push() reports a payload on a packet that takes no arguments", () => {
    const { decoder, seen } = collect();
    const frame = encodeRequest(PacketType.ECHO_REQ, ["x"]);
    new DataView(frame.buffer).setUint32(4, PacketType.GRAB_JOB);
    decoder.push(frame);
    assert.equal(seen.bad.length, 1);
    assert.equal(seen.packets.length, 0);
  });

  it("push() throws ProtocolError on an unknown magic", () => {
    const { decoder } = collect();
    const frame = encodeRequest(PacketType.ECHO_REQ, ["x"]);
    frame[1] = 0x58;
    assert.throws(() => decoder.push(frame), ProtocolError);
  });

  it("push() throws ProtocolError on type 0 and on types above 42", () => {
    for (const type of [0, 43, 0xffffffff]) {
      const { decoder } = collect();
      const frame = encodeRequest(PacketType.NOOP);
      new DataView(frame.buffer).setUint32(4, type);
      assert.throws(() => decoder.push(frame), ProtocolError);
    }
  });

  it("push() rejects a declared size over the limit from the header alone", () => {
    const { decoder } = collect(100);
    const header = encodeRequest(PacketType.ECHO_REQ, ["x"]).subarray(0, 12);
    new DataView(header.buffer).setUint32(8, 0xfffffff0);
    assert.throws(
      () => decoder.push(header),
      (err: unknown) => err instanceof ProtocolError && err.errorCode === "ARGUMENT_TOO_LARGE",
    );
  });

  it("push() ignores input after a fatal error", () => {
    const { decoder, seen } = collect();
    const bad = encodeRequest(PacketType.NOOP);
    bad[2] = 0;
    assert.throws(() => decoder.push(bad));
    decoder.push(encodeRequest(PacketType.ECHO_REQ, ["x"]));
    assert.equal(seen.packets.length, 0);
  });

  it("push() reassembles a 16 MiB payload sent in 64 KiB chunks", () => {
    const { decoder, seen } = collect(32 << 20);
    const data = new Uint8Array(16 << 20);
    for (let i = 0; i < data.length; i += 4093) data[i] = i & 0xff;
    let got: Uint8Array | undefined;
    const d = new Decoder({
      onPacket: (_m, _t, args) => (got = args[1]),
      onAdminLine: () => {},
      onBadPacket: () => {},
    }, 32 << 20);
    const frame = encodeRequest(PacketType.WORK_COMPLETE, [
      new TextEncoder().encode("H:x:1"),
      data,
    ]);
    for (let off = 0; off < frame.length; off += 65536) d.push(frame.subarray(off, off + 65536));
    assert.ok(got !== undefined);
    assert.equal(got.length, data.length);
    assert.deepEqual(got, data);
    assert.equal(seen.packets.length, 0);
    decoder.stop();
  });

  it("push() gives frame handlers offsets into the chunk, with no views made", () => {
    const frame = encodeRequest(PacketType.SUBMIT_JOB, ["fn", "uniq", "a\0b"]);
    const seen: string[][] = [];
    const d = new Decoder({
      onFrame: (_m: number, _t: number, f: Frame) => {
        assert.equal(f.buf, frame);
        assert.equal(f.rest.length, 0);
        seen.push([0, 1, 2].map((i) => latin1(f.buf.subarray(f.starts[i], f.ends[i]))));
      },
      onAdminLine: () => {},
      onBadPacket: () => {},
    }, 1024);
    d.push(frame);
    assert.deepEqual(seen, [["fn", "uniq", "a\0b"]]);
  });

  it("push() passes a large split frame to frame handlers as the chunks, uncopied", () => {
    const data = new Uint8Array(PIECES_FROM + 100000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const frame = encodeRequest(PacketType.WORK_COMPLETE, ["H:x:1", data]);
    for (const step of [65536, 1000, 13]) {
      const chunks: Uint8Array[] = [];
      for (let off = 0; off < frame.length; off += step) chunks.push(frame.slice(off, off + step));
      let got: { handle: string; pieces: Uint8Array[]; size: number; arg: Uint8Array } | undefined;
      const d = new Decoder({
        onFrame: (_m: number, _t: number, f: Frame) => {
          got = { handle: latin1(f.arg(0)), pieces: f.pieces(1), size: f.size(1), arg: f.arg(1) };
        },
        onAdminLine: () => {},
        onBadPacket: () => {},
      }, 1 << 22);
      for (const chunk of chunks) d.push(chunk);
      assert.ok(got !== undefined);
      assert.equal(got.handle, "H:x:1");
      assert.equal(got.size, data.length);
      assert.deepEqual(got.arg, data);
      assert.ok(got.pieces.length > 1);
      // The pieces are views of the chunks pushed, not copies.
      const last = got.pieces[got.pieces.length - 1]!;
      assert.equal(last.buffer, chunks[chunks.length - 1]!.buffer);
    }
  });

  it("push() copies a split frame whose chunks are mostly other packets rather than keep them alive", () => {
    const data = new Uint8Array(PIECES_FROM).fill(5);
    const frame = encodeRequest(PacketType.SUBMIT_JOB, ["function", "", data]);
    const other = encodeRequest(PacketType.ECHO_REQ, [new Uint8Array(4 * PIECES_FROM)]);
    // [other | frame's first half] [frame's second half | other]
    const half = frame.length >> 1;
    const first = new Uint8Array(other.length + half);
    first.set(other);
    first.set(frame.subarray(0, half), other.length);
    const second = new Uint8Array(frame.length - half + other.length);
    second.set(frame.subarray(half));
    second.set(other, frame.length - half);
    const got: { owned: boolean; pieces: number; fill: boolean; buffers: ArrayBufferLike[] }[] = [];
    const d = new Decoder({
      onFrame: (_m: number, type: number, f: Frame) => {
        if (type !== PacketType.SUBMIT_JOB) return;
        const last = f.pieces(2);
        got.push({
          owned: f.owned,
          pieces: last.length,
          fill: f.arg(2).every((b) => b === 5) && f.size(2) === data.length,
          buffers: last.map((p) => p.buffer),
        });
      },
      onAdminLine: () => {},
      onBadPacket: () => {},
    }, 1 << 22);
    d.push(first);
    d.push(second);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.owned, true);
    assert.equal(got[0]!.pieces, 1);
    assert.equal(got[0]!.fill, true);
    assert.ok(!got[0]!.buffers.includes(first.buffer) && !got[0]!.buffers.includes(second.buffer));
  });

  it("push() joins the first pieces of a large split frame when its arguments span them", () => {
    const data = new Uint8Array(PIECES_FROM).fill(9);
    const frame = encodeRequest(PacketType.SUBMIT_JOB, ["function", "unique", data]);
    let got: string[] | undefined;
    const d = new Decoder({
      onFrame: (_m: number, _t: number, f: Frame) => {
        got = [
          latin1(f.arg(0)),
          latin1(f.arg(1)),
          String(f.size(2)),
          String(f.arg(2).every((b) => b === 9)),
        ];
      },
      onAdminLine: () => {},
      onBadPacket: () => {},
    }, 1 << 22);
    // Header, then the arguments a few bytes at a time, then the rest.
    d.push(frame.slice(0, 12));
    for (let off = 12; off < 40; off += 3) d.push(frame.slice(off, Math.min(off + 3, 40)));
    d.push(frame.slice(40));
    assert.deepEqual(got, ["function", "unique", String(PIECES_FROM), "true"]);
  });

  it("push() reads pipelined admin lines, stripping \\r", () => {
    const { decoder, seen } = collect();
    decoder.push(new TextEncoder().encode("workers\r\nstatus\nver"));
    decoder.push(new TextEncoder().encode("sion\r\n"));
    assert.deepEqual(seen.lines, ["workers", "status", "version"]);
  });

  it("push() throws when an admin line never ends", () => {
    const { decoder } = collect();
    const junk = new Uint8Array(MAX_ADMIN_LINE + 10).fill(0x41);
    assert.throws(() => decoder.push(junk), ProtocolError);
  });

  it("push() refuses an admin line over the limit whether its end comes in the same read or a later one", () => {
    const line = new Uint8Array(MAX_ADMIN_LINE + 3).fill(0x41);
    line[line.length - 1] = 0x0a;
    const tooLong = (err: unknown) => err instanceof ProtocolError && err.adminLine;
    assert.throws(() => collect().decoder.push(line), tooLong);
    const split = collect().decoder;
    split.push(line.subarray(0, 1000));
    assert.throws(() => split.push(line.subarray(1000)), tooLong);
    const { decoder, seen } = collect();
    const longest = new Uint8Array(MAX_ADMIN_LINE + 1).fill(0x41);
    longest[MAX_ADMIN_LINE] = 0x0a;
    decoder.push(longest);
    assert.equal(seen.lines[0]?.length, MAX_ADMIN_LINE);
  });
});
