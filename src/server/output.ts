import type { Conn } from "../net/net.ts";
import { HEADER_SIZE, MAGIC_RES } from "../protocol/constants.ts";
import { writeHeader } from "../protocol/encoder.ts";
import { Fifo } from "../util/fifo.ts";
import { type Slab, SLAB_SIZE } from "../util/slab.ts";
import { ReplySlot } from "./job.ts";

/** Writes smaller than this are copied into one buffer per flush. */
const COALESCE_LIMIT = 65536;
/** Queued output above this is flushed at once instead of at the end of the turn. */
const FLUSH_THRESHOLD = 262144;
/** Packet bodies up to this size are written into the slab; larger tails are sent as they are. */
export const INLINE_LIMIT = SLAB_SIZE / 16;

/**
 * The coalesced, ordered output of one connection. Packets are written
 * straight into the server's {@link Slab}; consecutive packets of one
 * connection usually sit side by side there, so a turn's output is one
 * range of it and goes out in one `write` without a copy. Everything queued
 * in one turn is flushed together in a microtask.
 */
export class Output {
  readonly conn: Conn;
  closed = false;
  readonly #slab: Slab;
  /** Complete pieces, in order, before the open range. */
  #pieces: Uint8Array[] = [];
  /** The open range `#buf[#from..#to)`, which the next packet may extend. */
  #buf: Uint8Array | undefined = undefined;
  #from = 0;
  #to = 0;
  #size = 0;
  #scheduled = false;
  /** Replies queued behind a {@link ReplySlot} not filled yet, in request order. */
  #held: Fifo<Uint8Array | ReplySlot> | undefined = undefined;
  readonly #flushLater = (): void => this.flush();

  constructor(conn: Conn, slab: Slab) {
    this.conn = conn;
    this.#slab = slab;
  }

  /** The buffer {@link startPacket} returns offsets into (valid until the next call). */
  get out(): Uint8Array {
    return this.#slab.buf;
  }

  /**
   * Queues a `\0RES` packet whose payload is `head` bytes the caller writes
   * at once, at the returned offset of {@link out}, followed by `tail` (sent
   * as it is, so it must stay unchanged). A `reply` keeps its place behind
   * replies that wait for a store commit (see {@link reply}).
   * `head` must be at most {@link INLINE_LIMIT}.
   */
  startPacket(
    type: number,
    head: number,
    reply = false,
    tail?: Uint8Array | readonly Uint8Array[],
  ): number {
    let tailSize = 0;
    if (tail instanceof Uint8Array) tailSize = tail.length;
    else if (tail !== undefined) { for (const piece of tail) tailSize += piece.length; }
    const size = head + tailSize;
    const n = HEADER_SIZE + head;
    // Flush before claiming, never after: the caller has yet to write the bytes.
    if (this.#size + n >= FLUSH_THRESHOLD) this.flush();
    const slab = this.#slab;
    slab.fit(n);
    const buf = slab.buf;
    const at = slab.pos;
    slab.pos = at + n;
    writeHeader(buf, at, MAGIC_RES, type, size);
    const held = this.#held;
    if (reply && held !== undefined && held.length > 0) {
      held.push(new Uint8Array(buf.buffer, at, n));
      if (tail instanceof Uint8Array) held.push(tail);
      else if (tail !== undefined) { for (const piece of tail) held.push(piece); }
      return at + HEADER_SIZE;
    }
    if (this.closed) return at + HEADER_SIZE;
    if (buf === this.#buf && at === this.#to) {
      this.#to = at + n;
    } else {
      if (this.#buf !== undefined) this.#close();
      this.#buf = buf;
      this.#from = at;
      this.#to = at + n;
    }
    this.#size += n;
    if (tailSize > 0) {
      this.#close();
      if (tail instanceof Uint8Array) this.#pieces.push(tail);
      else for (const piece of tail as readonly Uint8Array[]) this.#pieces.push(piece);
      this.#size += tailSize;
    }
    this.#schedule();
    return at + HEADER_SIZE;
  }

  /** Queues bytes as they are; everything queued in one turn goes out in one write. */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.#buf !== undefined) this.#close();
    this.#pieces.push(bytes);
    this.#size += bytes.length;
    if (this.#size >= FLUSH_THRESHOLD) this.flush();
    else this.#schedule();
  }

  /**
   * Queues the reply to a request (SUBMIT, GET_STATUS, ECHO, OPTION, admin
   * lines, ERROR). Replies leave in request order (PROTOCOL.md §3), so one
   * that follows a reserved slot waits until the slot is filled.
   */
  reply(bytes: Uint8Array): void {
    const held = this.#held;
    if (held === undefined || held.length === 0) this.send(bytes);
    else held.push(bytes);
  }

  /** True while replies wait behind a reserved place not filled yet. */
  get repliesHeld(): boolean {
    return this.#held !== undefined && this.#held.length > 0;
  }

  /** Holds the next place in the reply order for bytes known later (see {@link fill}). */
  reserve(): ReplySlot {
    const slot = new ReplySlot(this);
    (this.#held ??= new Fifo()).push(slot);
    return slot;
  }

  /** Gives a reserved slot its bytes and sends every reply that no longer waits. */
  fill(slot: ReplySlot, bytes: Uint8Array): void {
    slot.bytes = bytes;
    const held = this.#held;
    if (held === undefined) return;
    for (let head = held.peek(); head !== undefined; head = held.peek()) {
      if (!(head instanceof ReplySlot)) this.send(head);
      else if (head.bytes !== undefined) this.send(head.bytes);
      else return;
      held.shift();
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#size === 0 || this.closed) return;
    const size = this.#size;
    this.#size = 0;
    const buf = this.#buf;
    if (this.#pieces.length === 0 && buf !== undefined) {
      this.#buf = undefined;
      this.conn.write(new Uint8Array(buf.buffer, this.#from, this.#to - this.#from));
      return;
    }
    if (buf !== undefined) this.#close();
    const out = this.#pieces;
    this.#pieces = [];
    if (out.length === 1) {
      this.conn.write(out[0] as Uint8Array);
    } else if (size <= COALESCE_LIMIT) {
      this.conn.write(join(out, 0, out.length, size));
    } else {
      // Large pieces go as they are, runs of small ones between them joined, all in one writev.
      const parts: Uint8Array[] = [];
      let start = 0;
      let run = 0;
      for (let i = 0; i < out.length; i++) {
        const piece = out[i] as Uint8Array;
        if (piece.length < INLINE_LIMIT && run + piece.length <= COALESCE_LIMIT) {
          run += piece.length;
          continue;
        }
        if (i > start) parts.push(join(out, start, i, run));
        if (piece.length < INLINE_LIMIT) {
          start = i;
          run = piece.length;
        } else {
          parts.push(piece);
          start = i + 1;
          run = 0;
        }
      }
      if (out.length > start) parts.push(join(out, start, out.length, run));
      this.conn.writev(parts);
    }
  }

  /** Drops queued output (the connection is gone). */
  protected discard(): void {
    this.#pieces = [];
    this.#buf = undefined;
    this.#size = 0;
    this.#held = undefined;
  }

  /** Moves the open range to the pieces. */
  #close(): void {
    const buf = this.#buf as Uint8Array;
    this.#pieces.push(new Uint8Array(buf.buffer, this.#from, this.#to - this.#from));
    this.#buf = undefined;
  }

  #schedule(): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushLater);
    }
  }
}

/** `pieces[from..to)` joined into one array of `size` bytes (or the piece itself). */
function join(pieces: readonly Uint8Array[], from: number, to: number, size: number): Uint8Array {
  if (to - from === 1) return pieces[from] as Uint8Array;
  const out = new Uint8Array(size);
  let off = 0;
  for (let i = from; i < to; i++) {
    const p = pieces[i] as Uint8Array;
    out.set(p, off);
    off += p.length;
  }
  return out;
}
