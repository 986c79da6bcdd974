import { ProtocolError } from "../errors.ts";
import { concatBytes, latin1, view } from "../util/bytes.ts";
import { Frame, MAX_PINNED, NO_BYTES, NO_PIECES, PIECES_FROM } from "./frame.ts";
import {
  ARG_COUNTS,
  HEADER_SIZE,
  type Magic,
  MAGIC_REQ,
  MAGIC_RES,
  MAX_PACKET_TYPE,
} from "./constants.ts";

/** What a {@link Decoder} reports. Argument views are valid during the call only. */
export interface DecoderHandlers {
  onPacket(magic: Magic, type: number, args: Uint8Array[]): void;
  onAdminLine(line: string): void;
  /** A well-framed packet whose arguments do not fit its type; decoding goes on. */
  onBadPacket(magic: Magic, type: number, problem: string): void;
}

/**
 * Handlers that take a packet as a {@link Frame}, argument offsets instead
 * of one view per argument (the server's hot path).
 */
export interface FrameHandlers {
  onFrame(magic: Magic, type: number, frame: Frame): void;
  onAdminLine(line: string): void;
  onBadPacket(magic: Magic, type: number, problem: string): void;
}

/** Number of NUL bytes in `bytes`, counting up to `most` (no scan past the last one counted). */
function countNuls(bytes: Uint8Array, most: number): number {
  let n = 0;
  for (let at = -1; n < most; n++) {
    at = bytes.indexOf(0, at + 1);
    if (at < 0) break;
  }
  return n;
}

/** Bytes of the chunks that views in `pieces` keep alive (each piece is of another chunk). */
function pinnedBytes(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (const piece of pieces) n += piece.buffer.byteLength;
  return n;
}

/** Longest admin line accepted before the peer is cut off. */
export const MAX_ADMIN_LINE = 65536;

const STATE_START = 0;
const STATE_HEADER = 1;
const STATE_BODY = 2;
const STATE_LINE = 3;
const STATE_DEAD = 4;

const NO_ARGS: Uint8Array[] = [];

/**
 * Streaming decoder for one connection: binary packets and text admin lines
 * on the same stream (PROTOCOL.md §1-2). A frame that fits in the chunk is
 * parsed as offsets into it; one that spans chunks is copied once into a
 * buffer of its declared size, allocated only after the header passed its
 * checks, except that frame handlers get a large one as the chunks' views
 * when that keeps little else alive ({@link PIECES_FROM}). Handlers get
 * either argument views ({@link DecoderHandlers}) or the offsets themselves
 * ({@link FrameHandlers}).
 */
export class Decoder {
  readonly #handlers: DecoderHandlers | undefined;
  readonly #frameHandlers: FrameHandlers | undefined;
  readonly #maxPacketSize: number;
  readonly #frame = new Frame();
  #state = STATE_START;
  /** A header split across chunks (allocated the first time one is). */
  #header: Uint8Array | undefined = undefined;
  #filled = 0;
  #magic: Magic = MAGIC_REQ;
  #type = 0;
  #body: Uint8Array = NO_BYTES;
  /** A large split frame kept as the chunks' views (frame handlers only), and its size. */
  #pieces: Uint8Array[] | undefined = undefined;
  #size = 0;
  #lineParts: Uint8Array[] = [];
  #lineSize = 0;

  constructor(handlers: DecoderHandlers | FrameHandlers, maxPacketSize: number) {
    if ("onFrame" in handlers) this.#frameHandlers = handlers;
    else this.#handlers = handlers;
    this.#maxPacketSize = maxPacketSize;
  }

  /** Stops decoding: later pushes are ignored. */
  stop(): void {
    this.#state = STATE_DEAD;
  }

  /** Feeds bytes; throws {@link ProtocolError} when the stream cannot be followed any more. */
  push(chunk: Uint8Array): void {
    let off = 0;
    const end = chunk.length;
    while (off < end) {
      switch (this.#state) {
        case STATE_START: {
          if (chunk[off] !== 0) {
            off = this.#line(chunk, off);
            break;
          }
          if (end - off < HEADER_SIZE) {
            (this.#header ??= new Uint8Array(HEADER_SIZE)).set(view(chunk, off, end));
            this.#filled = end - off;
            this.#state = STATE_HEADER;
            return;
          }
          const size = this.#readHeader(chunk, off);
          const start = off + HEADER_SIZE;
          if (end - start >= size) {
            off = start + size;
            this.#emit(chunk, start, off, false);
          } else {
            off = this.#beginBody(chunk, start, size);
          }
          break;
        }
        case STATE_HEADER: {
          const take = Math.min(HEADER_SIZE - this.#filled, end - off);
          const header = this.#header as Uint8Array;
          header.set(view(chunk, off, off + take), this.#filled);
          this.#filled += take;
          off += take;
          if (this.#filled < HEADER_SIZE) return;
          const size = this.#readHeader(header, 0);
          if (end - off >= size) {
            this.#state = STATE_START;
            off += size;
            this.#emit(chunk, off - size, off, false);
          } else {
            off = this.#beginBody(chunk, off, size);
          }
          break;
        }
        case STATE_BODY: {
          const pieces = this.#pieces;
          const take = Math.min(this.#size - this.#filled, end - off);
          if (pieces !== undefined) pieces.push(view(chunk, off, off + take));
          else this.#body.set(view(chunk, off, off + take), this.#filled);
          this.#filled += take;
          off += take;
          if (this.#filled === this.#size && pieces !== undefined) {
            this.#pieces = undefined;
            this.#state = STATE_START;
            if (pinnedBytes(pieces) <= MAX_PINNED * this.#size) {
              this.#emitPieces(pieces);
            } else {
              const body = concatBytes(pieces, this.#size);
              this.#emit(body, 0, body.length, true);
            }
          } else if (this.#filled === this.#size) {
            const body = this.#body;
            this.#body = NO_BYTES;
            this.#state = STATE_START;
            this.#emit(body, 0, body.length, true);
          }
          break;
        }
        case STATE_LINE:
          off = this.#line(chunk, off);
          break;
        default:
          return;
      }
    }
  }

  /** Validates the header at `at` and returns the payload size. */
  #readHeader(b: Uint8Array, at: number): number {
    const magic = (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) |
      ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
    const type = (((b[at + 4] as number) << 24) | ((b[at + 5] as number) << 16) |
      ((b[at + 6] as number) << 8) | (b[at + 7] as number)) >>> 0;
    const size = (((b[at + 8] as number) << 24) | ((b[at + 9] as number) << 16) |
      ((b[at + 10] as number) << 8) | (b[at + 11] as number)) >>> 0;
    if (magic !== MAGIC_REQ && magic !== MAGIC_RES) {
      this.#state = STATE_DEAD;
      throw new ProtocolError(
        `protocol: expected magic \\0REQ, got 0x${magic.toString(16).padStart(8, "0")}`,
      );
    }
    if (type === 0 || type > MAX_PACKET_TYPE) {
      this.#state = STATE_DEAD;
      throw new ProtocolError(`protocol: invalid packet type ${type}`, { packetType: type });
    }
    if (size > this.#maxPacketSize) {
      this.#state = STATE_DEAD;
      throw new ProtocolError(
        `protocol: packet of ${size} bytes exceeds the limit of ${this.#maxPacketSize}`,
        { errorCode: "ARGUMENT_TOO_LARGE", packetType: type },
      );
    }
    this.#magic = magic;
    this.#type = type;
    return size;
  }

  #beginBody(chunk: Uint8Array, off: number, size: number): number {
    this.#size = size;
    this.#filled = chunk.length - off;
    this.#state = STATE_BODY;
    if (size >= PIECES_FROM && this.#frameHandlers !== undefined) {
      this.#pieces = off < chunk.length ? [view(chunk, off, chunk.length)] : [];
    } else {
      this.#body = new Uint8Array(size);
      this.#body.set(view(chunk, off, chunk.length));
    }
    return chunk.length;
  }

  /**
   * Emits a large split frame from its pieces. The arguments before the last
   * must lie in the first piece; the first pieces are joined until they do
   * (a copy of a chunk or two at most, in practice never).
   */
  #emitPieces(pieces: Uint8Array[]): void {
    const count = ARG_COUNTS[this.#type] ?? 0;
    let first = pieces[0] as Uint8Array;
    let used = 1;
    while (used < pieces.length && countNuls(first, count - 1) < count - 1) {
      const next = pieces[used++] as Uint8Array;
      const joined = new Uint8Array(first.length + next.length);
      joined.set(first);
      joined.set(next, first.length);
      first = joined;
    }
    const f = this.#frame;
    let restSize = 0;
    for (let i = used; i < pieces.length; i++) restSize += (pieces[i] as Uint8Array).length;
    f.rest = used < pieces.length ? pieces.slice(used) : NO_PIECES;
    f.restSize = restSize;
    this.#emit(first, 0, first.length, false);
    f.rest = NO_PIECES;
    f.restSize = 0;
  }

  /** Splits the payload `buf[start..end)` into the type's argument count, within it only. */
  #emit(buf: Uint8Array, start: number, end: number, owned: boolean): void {
    const type = this.#type;
    const count = ARG_COUNTS[type] ?? 0;
    const f = this.#frame;
    if (count === 0) {
      if (end !== start) {
        this.#badPacket(this.#magic, type, "expected no arguments");
        return;
      }
    } else {
      const starts = f.starts;
      const ends = f.ends;
      let pos = start;
      for (let i = 0; i < count - 1; i++) {
        // Names, uniques and handles are short: scan them here, hand long runs to indexOf.
        let nul = pos;
        const near = end - pos > 64 ? pos + 64 : end;
        while (nul < near && buf[nul] !== 0) nul++;
        if (nul === near && near < end) {
          const at = view(buf, near, end).indexOf(0);
          nul = at < 0 ? end : near + at;
        }
        if (nul === end) {
          this.#badPacket(this.#magic, type, `expected ${count} arguments, got ${i + 1}`);
          return;
        }
        starts[i] = pos;
        ends[i] = nul;
        pos = nul + 1;
      }
      starts[count - 1] = pos;
      ends[count - 1] = end;
    }
    f.buf = buf;
    f.owned = owned;
    f.count = count;
    f.start = start;
    f.end = end;
    if (this.#frameHandlers !== undefined) {
      this.#frameHandlers.onFrame(this.#magic, type, f);
      f.buf = NO_BYTES; // do not pin the chunk
      return;
    }
    const handlers = this.#handlers as DecoderHandlers;
    if (count === 0) {
      handlers.onPacket(this.#magic, type, NO_ARGS);
      return;
    }
    const args: Uint8Array[] = new Array(count);
    for (let i = 0; i < count; i++) args[i] = f.arg(i);
    f.buf = NO_BYTES;
    handlers.onPacket(this.#magic, type, args);
  }

  #badPacket(magic: Magic, type: number, problem: string): void {
    (this.#frameHandlers ?? this.#handlers as DecoderHandlers).onBadPacket(magic, type, problem);
  }

  /** Collects a text line starting at `off`; returns the offset after what was used. */
  #line(chunk: Uint8Array, off: number): number {
    const nl = chunk.indexOf(0x0a, off);
    // The limit counts the whole line, however it was split into reads.
    if (this.#lineSize + (nl < 0 ? chunk.length : nl) - off > MAX_ADMIN_LINE) {
      this.#state = STATE_DEAD;
      throw new ProtocolError(`protocol: admin line longer than ${MAX_ADMIN_LINE} bytes`, {
        errorCode: "LINE_TOO_LONG",
        adminLine: true,
      });
    }
    if (nl < 0) {
      this.#lineParts.push(chunk.subarray(off));
      this.#lineSize += chunk.length - off;
      this.#state = STATE_LINE;
      return chunk.length;
    }
    let text: string;
    if (this.#lineParts.length === 0) {
      text = latin1(chunk.subarray(off, nl));
    } else {
      this.#lineParts.push(chunk.subarray(off, nl));
      text = this.#lineParts.map(latin1).join("");
      this.#lineParts = [];
      this.#lineSize = 0;
    }
    this.#state = STATE_START;
    if (text.endsWith("\r")) text = text.slice(0, -1);
    this.#handlers === undefined
      ? (this.#frameHandlers as FrameHandlers).onAdminLine(text)
      : this.#handlers.onAdminLine(text);
    return nl + 1;
  }
}
