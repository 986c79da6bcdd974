import { view } from "../util/bytes.ts";

/** Most arguments a packet type has (SUBMIT_JOB_SCHED). */
const MAX_ARGS = 8;

/**
 * Frames at least this large that span chunks are passed to
 * `FrameHandlers` (decoder.ts) as the chunks themselves ({@link Frame.rest}),
 * without being copied into one buffer, when those chunks are mostly the
 * frame's: a receiver that keeps the pieces keeps the whole chunks, so at
 * most {@link MAX_PINNED} times the frame's size. Otherwise the frame is
 * copied once into a buffer of its own.
 */
export const PIECES_FROM = 16 * 1024;

/** Most bytes of chunks a frame passed as pieces may keep alive, per byte of the frame. */
export const MAX_PINNED = 2;

/** An empty {@link Frame.rest}. */
export const NO_PIECES: readonly Uint8Array[] = [];

/** What {@link Frame.buf} holds between packets, so that no chunk stays pinned. */
export const NO_BYTES: Uint8Array = new Uint8Array(0);

/**
 * One decoded packet as offsets: argument `i` is `buf[starts[i]..ends[i])`,
 * except that the last argument goes on with the chunks in {@link rest}
 * when a large frame spanned chunks ({@link PIECES_FROM}). The decoder
 * reuses it for every packet, so it is valid during the call only; the
 * chunks themselves are the receiver's (see `ConnHandlers.onData`) and may
 * be kept.
 */
export class Frame {
  /** The bytes the payload is in. */
  buf: Uint8Array = NO_BYTES;
  /** True when `buf` was allocated for this payload alone (a frame that spanned chunks). */
  owned = false;
  /** Number of arguments. */
  count = 0;
  /** The payload is `buf[start..end)`, then {@link rest}. */
  start = 0;
  end = 0;
  readonly starts: number[] = new Array<number>(MAX_ARGS).fill(0);
  readonly ends: number[] = new Array<number>(MAX_ARGS).fill(0);
  /** The rest of the last argument, when the frame spanned chunks; usually empty. */
  rest: readonly Uint8Array[] = NO_PIECES;
  /** Total length of {@link rest}. */
  restSize = 0;

  /** Argument `i` as one view (valid during the call only; the last one may be a copy). */
  arg(i: number): Uint8Array {
    const first = view(this.buf, this.starts[i] as number, this.ends[i] as number);
    if (i !== this.count - 1 || this.rest.length === 0) return first;
    const out = new Uint8Array(first.length + this.restSize);
    out.set(first);
    let at = first.length;
    for (const piece of this.rest) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Argument `i` as pieces: a view of `buf`, then {@link rest} for the last one. */
  pieces(i: number): Uint8Array[] {
    const first = view(this.buf, this.starts[i] as number, this.ends[i] as number);
    return i === this.count - 1 && this.rest.length > 0 ? [first, ...this.rest] : [first];
  }

  /** Length of argument `i`. */
  size(i: number): number {
    const n = (this.ends[i] as number) - (this.starts[i] as number);
    return i === this.count - 1 ? n + this.restSize : n;
  }
}
