import type { Frame } from "../protocol/frame.ts";
import { latin1, latin1At, latin1Bytes } from "../util/bytes.ts";

/** Payloads up to this size are kept as latin1 strings: far smaller than a typed array. */
export const SMALL_PAYLOAD = 64;

/**
 * A job's payload: a latin1 string when small, bytes, or, for a large one
 * that arrived in several chunks, those chunks in order (never joined).
 */
export type Payload = string | Uint8Array | readonly Uint8Array[];

/** Byte length of a payload. */
export function payloadSize(p: Payload): number {
  if (typeof p === "string" || p instanceof Uint8Array) return p.length;
  let n = 0;
  for (const piece of p) n += piece.length;
  return n;
}

/** A payload as one array of bytes (new unless it is one already). */
export function payloadBytes(p: Payload): Uint8Array {
  if (typeof p === "string") return latin1Bytes(p);
  if (p instanceof Uint8Array) return p;
  const out = new Uint8Array(payloadSize(p));
  let at = 0;
  for (const piece of p) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * The coalescing key of a submit (PROTOCOL.md §5.2): none for an empty
 * unique, the payload for `-`, else the unique itself.
 */
export function keyOf(unique: string, data: Payload): string | undefined {
  if (unique.length === 0) return undefined;
  if (unique !== "-") return unique;
  if (typeof data === "string") return data.length === 0 ? undefined : "-\0" + data;
  const bytes = payloadBytes(data);
  return bytes.length === 0 ? undefined : "-\0" + latin1(bytes);
}

/**
 * The frame's last argument in the form a job keeps: a string when small,
 * else bytes of its own. A view is kept only of a buffer the decoder
 * allocated for this packet alone (`owned`) that it mostly fills, or of
 * the chunks of a large frame ({@link Frame.rest}), so that a small job
 * never pins a large socket chunk.
 */
export function payloadOf(f: Frame): Payload {
  const last = f.count - 1;
  const start = f.starts[last] as number;
  const end = f.ends[last] as number;
  if (f.rest.length > 0) return f.pieces(last);
  const n = end - start;
  if (n <= SMALL_PAYLOAD) return latin1At(f.buf, start, end);
  if (f.owned && n * 2 >= f.buf.length) return f.buf.subarray(start, end);
  return f.buf.slice(start, end);
}
