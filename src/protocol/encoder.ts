import { HEADER_SIZE, type Magic, MAGIC_REQ, MAGIC_RES } from "./constants.ts";
import { writeLatin1 } from "../util/bytes.ts";

/** One packet argument: bytes, or a string sent one byte per char. */
export type Arg = Uint8Array | string;

/**
 * Writes a packet header at `buf[at]` with byte stores (no DataView: on V8
 * and JavaScriptCore, `.buffer` of a small array costs an allocation).
 */
export function writeHeader(
  buf: Uint8Array,
  at: number,
  magic: Magic,
  type: number,
  size: number,
): void {
  buf[at] = 0;
  buf[at + 1] = 0x52; // R
  buf[at + 2] = 0x45; // E
  buf[at + 3] = magic & 0xff; // Q or S
  buf[at + 4] = type >>> 24;
  buf[at + 5] = (type >>> 16) & 0xff;
  buf[at + 6] = (type >>> 8) & 0xff;
  buf[at + 7] = type & 0xff;
  buf[at + 8] = size >>> 24;
  buf[at + 9] = (size >>> 16) & 0xff;
  buf[at + 10] = (size >>> 8) & 0xff;
  buf[at + 11] = size & 0xff;
}

/**
 * Encodes one binary packet into a single new array: header, then the
 * arguments joined by NUL bytes, with none after the last.
 */
export function encodePacket(magic: Magic, type: number, args: readonly Arg[] = []): Uint8Array {
  const n = args.length;
  let size = n > 0 ? n - 1 : 0;
  for (let i = 0; i < n; i++) size += (args[i] as Arg).length;
  const out = new Uint8Array(HEADER_SIZE + size);
  writeHeader(out, 0, magic, type, size);
  let off = HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    if (i > 0) off++; // the NUL separator is already zero
    const arg = args[i] as Arg;
    if (typeof arg === "string") {
      off = writeLatin1(out, off, arg);
    } else {
      out.set(arg, off);
      off += arg.length;
    }
  }
  return out;
}

/** Encodes a packet from a server (`\0RES`). */
export function encodeResponse(type: number, args: readonly Arg[] = []): Uint8Array {
  return encodePacket(MAGIC_RES, type, args);
}

/** Encodes a packet to a server (`\0REQ`). */
export function encodeRequest(type: number, args: readonly Arg[] = []): Uint8Array {
  return encodePacket(MAGIC_REQ, type, args);
}
