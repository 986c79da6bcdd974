/**
 * {@link Net} over `Deno.listen` / `Deno.connect`.
 *
 * @module
 */

import { asError, ConnectionError } from "../errors.ts";
import type { DenoApi, DenoTcpConn, DenoTcpListener } from "./deno_types.d.ts";
import type { Addr, Conn, ConnectOptions, ConnHandlers } from "./net.ts";
import type { Listener, ListenOptions, Net, Runtime } from "./net.ts";
import type { NodeNet } from "./node_net.ts";

/** Options of {@link DenoNet}. */
export interface DenoNetOptions {
  /** `write()` returns false once this many bytes are buffered (default 1 MiB). */
  readonly highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** Read buffers start small (idle connections are common) and grow when a read fills one. */
const FIRST_READ_SIZE = 4 * 1024;
const READ_SIZE = 64 * 1024;
/** Reads shorter than this are copied out, so the read buffer can be reused. */
const COPY_BELOW = 16 * 1024;
/** Queued writes are merged into one `conn.write` of up to this size. */
const MERGE_UP_TO = 64 * 1024;

const deno = (): DenoApi => (globalThis as unknown as { Deno: DenoApi }).Deno;

/**
 * A {@link Net} over Deno's own TCP API, for Deno programs that want it
 * (`createServer({ net: new DenoNet() })`); the default on Deno is
 * {@link NodeNet}, which needs less memory per idle connection because no
 * read buffer waits on each one. Each connection runs one read loop
 * (no promise per chunk reaches the core) and one sequential writer that
 * loops until `conn.write` has taken every byte. Every chunk passed to
 * `onData` has memory of its own: no later read reuses it.
 *
 * @example
 * ```ts
 * import { DenoNet } from "./deno_net.ts";
 * const net = new DenoNet({ highWaterMark: 4 * 1024 * 1024 });
 * const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, {
 *   onData: (conn, chunk) => conn.write(chunk),
 *   onClose() {},
 * });
 * await listener.close();
 * ```
 */
export class DenoNet implements Net {
  /** The runtime this adapter is written for. */
  readonly runtime: Runtime = "deno";
  readonly #hwm: number;

  constructor(options: DenoNetOptions = {}) {
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** Listens on `addr`; see {@link Net.listen}. */
  listen(addr: Addr, handlers: ConnHandlers, opts: ListenOptions = {}): Promise<Listener> {
    const { hostname, port } = addr;
    const tcpBacklog = opts.backlog ?? 1024;
    let listener: DenoTcpListener;
    try {
      listener = deno().listen({ hostname, port, transport: "tcp", tcpBacklog });
    } catch (err) {
      return Promise.reject(ConnectionError.from(err, `listen on ${hostname}:${port}`));
    }
    const state = { closed: false, wake: () => {} };
    const done = (async () => {
      for (let backoff = 0; !state.closed;) {
        let socket: DenoTcpConn;
        try {
          socket = await listener.accept();
          backoff = 0;
        } catch {
          if (state.closed) return;
          // EMFILE and the like: back off (do not spin), then keep accepting.
          backoff = Math.min(Math.max(backoff * 2, 5), 1000);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, backoff);
            state.wake = () => (clearTimeout(timer), resolve());
          });
          continue;
        }
        if (opts.keepalive === true) socket.setKeepAlive?.(true);
        new DenoConn(socket, handlers, this.#hwm, true);
      }
    })();
    return Promise.resolve({
      addr: { hostname: listener.addr.hostname, port: listener.addr.port },
      close(): Promise<void> {
        if (!state.closed) listener.close();
        state.closed = true;
        state.wake();
        // Settles once the pending accept() has failed: then Deno frees the port.
        return done;
      },
    });
  }

  /** Connects to `addr`; see {@link Net.connect}. */
  async connect(addr: Addr, handlers: ConnHandlers, opts: ConnectOptions = {}): Promise<Conn> {
    const { hostname, port } = addr;
    const abort = new AbortController();
    const ms = opts.timeoutMs;
    const timer = ms === undefined ? undefined : setTimeout(() => abort.abort(), ms);
    let socket: DenoTcpConn;
    try {
      socket = await deno().connect({ hostname, port, transport: "tcp", signal: abort.signal });
    } catch (err) {
      if (!abort.signal.aborted) throw ConnectionError.from(err, `connect to ${hostname}:${port}`);
      const message = `connect to ${hostname}:${port}: timed out after ${ms} ms`;
      throw new ConnectionError(message, { code: "ETIMEDOUT", cause: err });
    } finally {
      clearTimeout(timer);
    }
    return new DenoConn(socket, handlers, this.#hwm, false);
  }
}

class DenoConn implements Conn {
  readonly remote: Addr;
  readonly #socket: DenoTcpConn;
  readonly #handlers: ConnHandlers;
  readonly #hwm: number;
  readonly #where: string;
  #queue: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #writing = false;
  #needDrain = false;
  /** end() was called (or the peer's FIN came a turn ago): writes are refused. */
  #ending = false;
  #peerEnded = false;
  #writeShut = false;
  /** Closed: no more callbacks but the one onClose. */
  #dead = false;

  /** Calls `onOpen` if `accepted`, then starts reading. */
  constructor(socket: DenoTcpConn, handlers: ConnHandlers, hwm: number, accepted: boolean) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#hwm = hwm;
    this.remote = { hostname: socket.remoteAddr.hostname, port: socket.remoteAddr.port };
    this.#where = `${this.remote.hostname}:${this.remote.port}`;
    socket.setNoDelay?.(true);
    if (accepted) this.#signal("onOpen");
    if (!this.#dead) this.#readLoop().catch((err: unknown) => this.#close(asError(err)));
  }

  write(bytes: Uint8Array): boolean {
    if (this.#dead || this.#ending) return false;
    if (bytes.byteLength > 0) {
      this.#queue.push(bytes);
      this.#buffered += bytes.byteLength;
      if (!this.#writing) this.#flush().catch((err: unknown) => this.#close(asError(err)));
    }
    if (this.#buffered < this.#hwm) return true;
    this.#needDrain = true;
    return false;
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    let ok = true;
    for (const chunk of chunks) ok = this.write(chunk);
    return ok;
  }

  end(): void {
    if (this.#dead || this.#ending) return;
    this.#ending = true;
    this.#finishIfFlushed();
  }

  destroy(err?: Error): void {
    this.#close(err);
  }

  async #readLoop(): Promise<void> {
    let size = FIRST_READ_SIZE;
    let buf = new Uint8Array(size);
    while (!this.#dead) {
      let n: number | null;
      try {
        n = await this.#socket.read(buf);
      } catch (err) {
        return this.#close(ConnectionError.from(err, `read from ${this.#where}`));
      }
      if (this.#dead) return;
      if (n === null) {
        // Peer FIN. Its last request may be answered by a write deferred to
        // the next turn (a write coalescer): end a turn later, not now.
        this.#peerEnded = true;
        if (this.#ending) this.#finishIfFlushed();
        else setTimeout(() => this.end(), 0);
        return;
      }
      if (n === 0) continue;
      // The receiver owns the chunk, so no later read may write into it: copy
      // a short read (and reuse buf), hand over a long one (and replace buf).
      const full = n === size && size < READ_SIZE;
      if (full) size = READ_SIZE;
      const chunk = n < COPY_BELOW && !full ? buf.slice(0, n) : buf.subarray(0, n);
      if (n >= COPY_BELOW || full) buf = new Uint8Array(size);
      try {
        this.#handlers.onData(this, chunk);
      } catch (err) {
        return this.#close(asError(err));
      }
    }
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#head < this.#queue.length) {
        // Deno's write may take only part of the bytes: loop on the rest.
        for (let bytes = this.#take(); bytes.byteLength > 0;) {
          const n = await this.#socket.write(bytes);
          if (this.#dead) return;
          bytes = bytes.subarray(n);
          this.#buffered -= n;
        }
        if (this.#needDrain && this.#buffered <= this.#hwm / 2) {
          this.#needDrain = false;
          this.#signal("onDrain");
        }
      }
    } catch (err) {
      return this.#close(ConnectionError.from(err, `write to ${this.#where}`));
    } finally {
      this.#writing = false;
    }
    this.#finishIfFlushed();
  }

  /** Dequeues the next write, merging a run of small ones into one buffer: one op, not many. */
  #take(): Uint8Array {
    const q = this.#queue;
    const start = this.#head++;
    let size = (q[start] as Uint8Array).byteLength;
    for (let next = q[this.#head]; next && size + next.byteLength <= MERGE_UP_TO;) {
      size += next.byteLength;
      next = q[++this.#head];
    }
    let out = q[start] as Uint8Array;
    if (this.#head > start + 1) {
      out = new Uint8Array(size);
      for (let i = start, at = 0; i < this.#head; at += (q[i++] as Uint8Array).byteLength) {
        out.set(q[i] as Uint8Array, at);
      }
    }
    if (this.#head === q.length || (this.#head > 1024 && this.#head * 2 > q.length)) {
      [this.#queue, this.#head] = [q.slice(this.#head), 0];
    }
    return out;
  }

  /** After end() or FIN, once all is written: close, or half-close and read on until FIN. */
  #finishIfFlushed(): void {
    if (this.#dead || !this.#ending || this.#writing || this.#head < this.#queue.length) return;
    if (this.#peerEnded) return this.#close(undefined);
    if (this.#writeShut) return;
    // FIN, but keep reading: closing with unread input would send a RST that
    // can destroy our last bytes before the peer has read them.
    this.#writeShut = true;
    this.#socket.closeWrite().catch((err: unknown) => {
      this.#close(ConnectionError.from(err, `shutdown ${this.#where}`));
    });
  }

  #close(err: Error | undefined): void {
    if (this.#dead) return;
    this.#dead = true;
    [this.#queue, this.#head, this.#buffered] = [[], 0, 0];
    try {
      this.#socket.close();
    } catch {
      // Deno already closed it after a failed read or write.
    }
    // Never call onClose from inside the caller's destroy(), end() or onData.
    queueMicrotask(() => {
      try {
        this.#handlers.onClose(this, err);
      } catch {
        // An onClose that throws has nobody left to report to.
      }
    });
  }

  /** Calls an optional handler; one that throws closes this connection with its error. */
  #signal(name: "onOpen" | "onDrain"): void {
    try {
      this.#handlers[name]?.(this);
    } catch (err) {
      this.#close(asError(err));
    }
  }
}
