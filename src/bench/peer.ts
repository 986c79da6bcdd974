/**
 * One raw benchmark connection: a {@link Decoder} on the read side and, on
 * the write side, a slab that packets are appended to and flushed once per
 * `onData` call (or per burst the caller starts), so everything produced in
 * one turn goes out in one write.
 *
 * @module
 */
import type { Addr, Conn, Net } from "../net/net.ts";
import { Decoder } from "../protocol/decoder.ts";
import { HEADER_SIZE } from "../protocol/constants.ts";
import { writeHeader } from "./wire.ts";

/** Called for every packet; `args` are views valid during the call only. */
export type OnPacket = (peer: Peer, type: number, args: Uint8Array[]) => void;

/** Largest reply accepted from a server (the server's own default limit). */
const MAX_PACKET = 64 * 1024 * 1024;
const SLAB = 64 * 1024;
/** Arrays this large are written as they are rather than copied into the slab. */
const BIG = 16 * 1024;
const CLOSE_GRACE_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;

/** A benchmark connection to one server. */
export class Peer {
  /** Failures seen on this connection: ERROR packets, bad frames, a closed socket. */
  errors = 0;
  /** The error that closed the connection, if it closed before {@link close}. */
  failure: Error | undefined;
  #conn: Conn | undefined;
  #closed: Promise<void>;
  // Bytes [#start, #pos) of #buf are queued but not yet written; bytes before
  // #start were handed to conn.write and are never touched again.
  #buf = new Uint8Array(SLAB);
  #start = 0;
  #pos = 0;
  #closing = false;

  private constructor(closed: Promise<void>) {
    this.#closed = closed;
  }

  /**
   * Connects to `addr`. `onPacket` sees every packet, and what it queues is
   * flushed after each chunk; `onDead` is called when the connection closes
   * before {@link close} was called.
   */
  static async open(net: Net, addr: Addr, onPacket: OnPacket, onDead?: () => void): Promise<Peer> {
    let closed!: () => void;
    const peer = new Peer(new Promise<void>((resolve) => (closed = resolve)));
    const decoder = new Decoder({
      onPacket: (_magic, type, args) => onPacket(peer, type, args),
      onAdminLine: () => void peer.errors++,
      onBadPacket: () => void peer.errors++,
    }, MAX_PACKET);
    peer.#conn = await net.connect(addr, {
      onData(_conn, chunk) {
        decoder.push(chunk);
        peer.flush();
      },
      onDrain() {},
      onClose(_conn, err) {
        if (!peer.#closing) {
          peer.errors++;
          peer.failure = err ?? new Error(`${addr.hostname}:${addr.port} closed the connection`);
          onDead?.();
        }
        closed();
      },
    }, { timeoutMs: CONNECT_TIMEOUT_MS });
    return peer;
  }

  /** The connection. */
  get conn(): Conn {
    return this.#conn as Conn;
  }

  /** True once the connection has closed by itself. */
  get dead(): boolean {
    return this.failure !== undefined;
  }

  /** Queues bytes (a pre-encoded packet or part of one); the caller must never change them afterwards. */
  put(bytes: Uint8Array): void {
    if (bytes.length >= BIG) {
      this.flush();
      this.conn.write(bytes);
      return;
    }
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /**
   * Queues the prefix of a packet and returns where it starts in {@link slab},
   * so the caller can patch it (a counter in a unique id) before the flush.
   */
  putPatchable(prefix: Uint8Array): number {
    this.#reserve(prefix.length);
    const at = this.#pos;
    this.#buf.set(prefix, at);
    this.#pos += prefix.length;
    return at;
  }

  /** The current write slab, for patching what {@link putPatchable} queued. */
  get slab(): Uint8Array {
    return this.#buf;
  }

  /** Queues a request packet with two arguments, `a` NUL `b` (WORK_COMPLETE: handle, data). */
  putPacket2(type: number, a: Uint8Array, b: Uint8Array): void {
    const size = a.length + 1 + b.length;
    this.#reserve(HEADER_SIZE + a.length + 1);
    writeHeader(this.#buf, this.#pos, type, size);
    let p = this.#pos + HEADER_SIZE;
    this.#buf.set(a, p);
    p += a.length;
    this.#buf[p++] = 0;
    this.#pos = p;
    this.put(b);
  }

  /** Writes what is queued, in one `write`. */
  flush(): void {
    if (this.#pos === this.#start) return;
    this.conn.write(this.#buf.subarray(this.#start, this.#pos));
    this.#start = this.#pos;
  }

  /** Flushes, half-closes, and resolves once closed (destroying after a grace period). */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.flush();
      this.conn.end();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((
      resolve,
    ) => (timer = setTimeout(() => resolve(true), CLOSE_GRACE_MS)));
    const timedOut = await Promise.race([this.#closed.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) {
      this.conn.destroy();
      await Promise.race([
        this.#closed,
        new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS)),
      ]);
    }
  }

  #reserve(n: number): void {
    if (this.#buf.length - this.#pos >= n) return;
    this.flush();
    this.#buf = new Uint8Array(Math.max(SLAB, n));
    this.#start = this.#pos = 0;
  }
}
