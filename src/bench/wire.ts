/**
 * Pre-encoded packets for the load generator: the fixed requests are
 * encoded once, and a submit is a template copied into the write slab with
 * only the counter in its unique id patched, so a job costs one copy of its
 * header and no allocation.
 *
 * @module
 */
import { HEADER_SIZE, PacketType as T } from "../protocol/constants.ts";
import { encodeRequest } from "../protocol/encoder.ts";
import type { Peer } from "./peer.ts";

/** GRAB_JOB_UNIQ, as libgearman's workers send it. */
export const GRAB_JOB_UNIQ: Uint8Array = encodeRequest(T.GRAB_JOB_UNIQ);
/** PRE_SLEEP: "wake me with NOOP when there is work". */
export const PRE_SLEEP: Uint8Array = encodeRequest(T.PRE_SLEEP);

/** Payloads this large are sent as their own write instead of being copied per job. */
const INLINE_PAYLOAD = 16 * 1024;
/** Digits at the end of a unique id that carry the job counter. */
const COUNTER_DIGITS = 23;

/** Writes a `\0REQ` header for `type` and `size` at `at`. */
export function writeHeader(buf: Uint8Array, at: number, type: number, size: number): void {
  buf[at] = 0;
  buf[at + 1] = 0x52; // R
  buf[at + 2] = 0x45; // E
  buf[at + 3] = 0x51; // Q
  buf[at + 4] = 0;
  buf[at + 5] = 0;
  buf[at + 6] = (type >>> 8) & 0xff;
  buf[at + 7] = type & 0xff;
  buf[at + 8] = (size >>> 24) & 0xff;
  buf[at + 9] = (size >>> 16) & 0xff;
  buf[at + 10] = (size >>> 8) & 0xff;
  buf[at + 11] = size & 0xff;
}

/**
 * A 36-byte unique id base, as long as libgearman's UUIDs: 12 random hex
 * digits (so two runs never coalesce with each other's queued jobs), a dash
 * and a zero-filled counter field.
 */
export function uniqueBase(): string {
  const rnd = crypto.getRandomValues(new Uint8Array(6));
  const hex = Array.from(rnd, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex}-${"0".repeat(COUNTER_DIGITS)}`;
}

/** One function's SUBMIT_JOB* packet, ready to be copied per job. */
export interface SubmitTemplate {
  /** The header and arguments, with the payload too when it is small. */
  readonly prefix: Uint8Array;
  /** Offset in `prefix` just past the counter digits; 0 when jobs carry no unique id. */
  readonly counterEnd: number;
  /** The payload, sent after `prefix` when it is not part of it. */
  readonly tail: Uint8Array | undefined;
}

/** Builds the template of `type` (SUBMIT_JOB or SUBMIT_JOB_BG) for `fn`. */
export function submitTemplate(
  type: number,
  fn: string,
  unique: string,
  payload: Uint8Array,
): SubmitTemplate {
  const inline = payload.length < INLINE_PAYLOAD;
  const full = encodeRequest(type, [fn, unique, inline ? payload : ""]);
  const size = fn.length + 1 + unique.length + 1 + payload.length;
  new DataView(full.buffer).setUint32(8, size);
  return {
    prefix: full,
    counterEnd: unique.length === 0 ? 0 : HEADER_SIZE + fn.length + 1 + unique.length,
    tail: inline ? undefined : payload,
  };
}

/** Queues one job built from `tpl` on `peer`, numbered `counter` in its unique id. */
export function putSubmit(peer: Peer, tpl: SubmitTemplate, counter: number): void {
  const at = peer.putPatchable(tpl.prefix);
  if (tpl.counterEnd > 0) {
    const slab = peer.slab;
    let i = at + tpl.counterEnd - 1;
    let n = counter;
    do {
      slab[i--] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }
  if (tpl.tail !== undefined) peer.put(tpl.tail);
}

/** A payload of `size` bytes: printable, not all equal, cheap to spot-check. */
export function makePayload(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = 97 + (i % 26);
  return out;
}
