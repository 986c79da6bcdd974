import { ProtocolError } from "../errors.ts";
import { latin1 } from "../util/bytes.ts";
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
 * parsed as views into it; one that spans chunks is copied once into a
 * buffer of its declared size, allocated only after the header passed its
 * checks.
 */
export class Decoder {
  readonly #handlers: DecoderHandlers;
  readonly #maxPacketSize: number;
  #state = STATE_START;
  readonly #header = new Uint8Array(HEADER_SIZE);
  readonly #headerView = new DataView(this.#header.buffer);
  #filled = 0;
  #magic: Magic = MAGIC_REQ;
  #type = 0;
  #body: Uint8Array = new Uint8Array(0);
  #lineParts: Uint8Array[] = [];
  #lineSize = 0;

  constructor(handlers: DecoderHandlers, maxPacketSize: number) {
    this.#handlers = handlers;
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
            this.#header.set(chunk.subarray(off));
            this.#filled = end - off;
            this.#state = STATE_HEADER;
            return;
          }
          const size = this.#readHeader(chunk, off);
          const start = off + HEADER_SIZE;
          if (end - start >= size) {
            this.#emit(chunk.subarray(start, start + size));
            off = start + size;
          } else {
            off = this.#beginBody(chunk, start, size);
          }
          break;
        }
        case STATE_HEADER: {
          const take = Math.min(HEADER_SIZE - this.#filled, end - off);
          this.#header.set(chunk.subarray(off, off + take), this.#filled);
          this.#filled += take;
          off += take;
          if (this.#filled < HEADER_SIZE) return;
          const size = this.#readHeader(this.#header, 0);
          if (end - off >= size) {
            this.#state = STATE_START;
            this.#emit(chunk.subarray(off, off + size));
            off += size;
          } else {
            off = this.#beginBody(chunk, off, size);
          }
          break;
        }
        case STATE_BODY: {
          const take = Math.min(this.#body.length - this.#filled, end - off);
          this.#body.set(chunk.subarray(off, off + take), this.#filled);
          this.#filled += take;
          off += take;
          if (this.#filled === this.#body.length) {
            const body = this.#body;
            this.#body = new Uint8Array(0);
            this.#state = STATE_START;
            this.#emit(body);
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
  #readHeader(bytes: Uint8Array, at: number): number {
    const view = bytes === this.#header
      ? this.#headerView
      : new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_SIZE);
    const magic = view.getUint32(0);
    const type = view.getUint32(4);
    const size = view.getUint32(8);
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
    this.#body = new Uint8Array(size);
    this.#body.set(chunk.subarray(off));
    this.#filled = chunk.length - off;
    this.#state = STATE_BODY;
    return chunk.length;
  }

  /** Splits the payload into the type's argument count, within the payload only. */
  #emit(payload: Uint8Array): void {
    const type = this.#type;
    const count = ARG_COUNTS[type] ?? 0;
    if (count === 0) {
      if (payload.length !== 0) {
        this.#handlers.onBadPacket(this.#magic, type, "expected no arguments");
        return;
      }
      this.#handlers.onPacket(this.#magic, type, NO_ARGS);
      return;
    }
    const args: Uint8Array[] = new Array(count);
    let pos = 0;
    for (let i = 0; i < count - 1; i++) {
      const nul = payload.indexOf(0, pos);
      if (nul < 0) {
        this.#handlers.onBadPacket(
          this.#magic,
          type,
          `expected ${count} arguments, got ${i + 1}`,
        );
        return;
      }
      args[i] = payload.subarray(pos, nul);
      pos = nul + 1;
    }
    args[count - 1] = payload.subarray(pos);
    this.#handlers.onPacket(this.#magic, type, args);
  }

  /** Collects a text line starting at `off`; returns the offset after what was used. */
  #line(chunk: Uint8Array, off: number): number {
    const nl = chunk.indexOf(0x0a, off);
    if (nl < 0) {
      this.#lineParts.push(chunk.subarray(off));
      this.#lineSize += chunk.length - off;
      this.#state = STATE_LINE;
      if (this.#lineSize > MAX_ADMIN_LINE) {
        this.#state = STATE_DEAD;
        throw new ProtocolError(`protocol: admin line longer than ${MAX_ADMIN_LINE} bytes`);
      }
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
    this.#handlers.onAdminLine(text);
    return nl + 1;
  }
}
