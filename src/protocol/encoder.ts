import { HEADER_SIZE, type Magic, MAGIC_REQ, MAGIC_RES } from "./constants.ts";
import { latin1Bytes } from "../util/bytes.ts";

const EMPTY = new Uint8Array(0);

/** One packet argument: bytes, or a string sent one byte per char. */
export type Arg = Uint8Array | string;

function toBytes(arg: Arg): Uint8Array {
  return typeof arg === "string" ? (arg.length === 0 ? EMPTY : latin1Bytes(arg)) : arg;
}

/**
 * Encodes one binary packet into a single new array: header, then the
 * arguments joined by NUL bytes, with none after the last.
 */
export function encodePacket(magic: Magic, type: number, args: readonly Arg[] = []): Uint8Array {
  let size = args.length > 0 ? args.length - 1 : 0;
  const parts: Uint8Array[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const bytes = toBytes(args[i] as Arg);
    parts[i] = bytes;
    size += bytes.length;
  }
  const out = new Uint8Array(HEADER_SIZE + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, type);
  view.setUint32(8, size);
  let off = HEADER_SIZE;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) off++; // the NUL separator is already zero
    const part = parts[i] as Uint8Array;
    out.set(part, off);
    off += part.length;
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
