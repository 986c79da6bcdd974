/**
 * {@link Net} over `Bun.listen` / `Bun.connect`.
 *
 * @module
 */

import { asError, ConnectionError } from "../errors.ts";
import type { BunApi, BunSocket, BunSocketHandler } from "./bun_types.d.ts";
import type { Addr, Conn, ConnectOptions, ConnHandlers } from "./net.ts";
import type { Listener, ListenOptions, Net, Runtime } from "./net.ts";

/** Options of {@link BunNet}. */
export interface BunNetOptions {
  /** `write()` returns false once this many bytes are buffered (default 1 MiB). */
  readonly highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const EMPTY = new Uint8Array(0);
type Socket = BunSocket<BunConn | undefined>;
type Handler = BunSocketHandler<BunConn | undefined>;

const bun = (): BunApi => (globalThis as unknown as { Bun: BunApi }).Bun;

/**
 * A {@link Net} over Bun's native TCP API: one handler object per listener,
 * each socket's state in `socket.data`. Bun's `socket.write` is unbuffered and
 * may take only part of the bytes: the tail is kept, in order, and sent on
 * `drain`. Bun hands each `data` callback a fresh buffer (the conformance test
 * checks), so chunks go on uncopied. `ListenOptions.backlog` is not supported.
 *
 * @example
 * ```ts
 * import { BunNet } from "./bun_net.ts";
 * const net = new BunNet({ highWaterMark: 4 * 1024 * 1024 });
 * const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, {
 *   onData: (conn, chunk) => conn.write(chunk),
 *   onClose() {},
 * });
 * await listener.close();
 * ```
 */
export class BunNet implements Net {
  readonly runtime: Runtime = "bun";
  readonly #hwm: number;

  constructor(options: BunNetOptions = {}) {
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  listen(addr: Addr, handlers: ConnHandlers, opts: ListenOptions = {}): Promise<Listener> {
    const { hostname, port } = addr;
    const socket = BunConn.handler(handlers, this.#hwm, true, opts.keepalive === true);
    try {
      // allowHalfOpen: a peer's FIN is BunConn's to handle (answer, then close).
      const server = bun().listen({ hostname, port, allowHalfOpen: true, socket });
      return Promise.resolve({
        addr: { hostname: server.hostname, port: server.port },
        close: () => Promise.resolve(server.stop(false)), // stop() again is a no-op
      });
    } catch (err) {
      return Promise.reject(ConnectionError.from(err, `listen on ${hostname}:${port}`));
    }
  }

  async connect(addr: Addr, handlers: ConnHandlers, opts: ConnectOptions = {}): Promise<Conn> {
    const { hostname, port } = addr;
    // Bun keeps a handler set per outgoing socket anyway: no point sharing one.
    const socket = BunConn.handler(handlers, this.#hwm, false);
    const connecting = bun().connect({
      hostname,
      port,
      allowHalfOpen: true,
      data: undefined,
      socket,
    });
    const ms = opts.timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<undefined>((resolve) => {
      if (ms !== undefined) timer = setTimeout(resolve, ms, undefined);
    });
    let conn: Socket | undefined;
    try {
      conn = await Promise.race([connecting, expired]);
    } catch (err) {
      throw ConnectionError.from(err, `connect to ${hostname}:${port}`);
    } finally {
      clearTimeout(timer);
    }
    if (conn === undefined) {
      // A connect that completes after all is closed without a word.
      connecting.then(BunConn.abandon, () => {});
      const message = `connect to ${hostname}:${port}: timed out after ${ms} ms`;
      throw new ConnectionError(message, { code: "ETIMEDOUT" });
    }
    return conn.data ?? BunConn.attach(conn, handlers, this.#hwm);
  }
}

class BunConn implements Conn {
  readonly remote: Addr;
  readonly #socket: Socket;
  readonly #handlers: ConnHandlers;
  readonly #hwm: number;
  /** Unsent bytes, in order; `#queue[#head]` may be the tail of a partial write. */
  #queue: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #needDrain = false;
  /** end() was called (or the peer's FIN came a turn ago): writes are refused. */
  #ending = false;
  #writeShut = false;
  /** No more callbacks but the one onClose; write() is refused. */
  #dead = false;
  #closeEmitted = false;
  #err: Error | undefined;

  constructor(socket: Socket, handlers: ConnHandlers, hwm: number) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#hwm = hwm;
    this.remote = { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  }

  /** Creates the Conn of a socket and keeps it in `socket.data`. */
  static attach(socket: Socket, handlers: ConnHandlers, hwm: number): BunConn {
    socket.setNoDelay(true);
    return (socket.data = new BunConn(socket, handlers, hwm));
  }

  /** Closes a socket whose connect() timed out, with no callback to anyone. */
  static abandon(this: void, socket: Socket): void {
    if (socket.data !== undefined) socket.data.#closeEmitted = socket.data.#dead = true;
    socket.close();
  }

  /** The handler object shared by every socket of a listener (or of one ConnHandlers). */
  static handler(
    handlers: ConnHandlers,
    hwm: number,
    accepted: boolean,
    keepalive = false,
  ): Handler {
    return {
      binaryType: "uint8array",
      open(socket) {
        const conn = BunConn.attach(socket, handlers, hwm);
        if (keepalive) socket.setKeepAlive(true);
        if (accepted) conn.#signal("onOpen");
      },
      data(socket, chunk) {
        const conn = socket.data;
        if (conn === undefined || conn.#dead) return;
        try {
          handlers.onData(conn, chunk);
        } catch (err) {
          conn.destroy(asError(err));
        }
      },
      drain(socket) {
        if (socket.data !== undefined) socket.data.#flush();
      },
      end(socket) {
        // The peer's FIN. Its last request may be answered by a write deferred
        // to the next turn (a write coalescer): end a turn later, not now.
        const conn = socket.data;
        if (conn !== undefined && !conn.#ending) setTimeout(() => conn.end(), 0);
      },
      close(socket, error) {
        const conn = socket.data;
        if (conn === undefined) return;
        const where = `connection ${conn.remote.hostname}:${conn.remote.port}`;
        conn.#emitClose(error === undefined ? undefined : ConnectionError.from(error, where));
      },
      error(socket, error) {
        socket.data?.destroy(error);
      },
    };
  }

  write(bytes: Uint8Array): boolean {
    if (this.#dead || this.#ending) return false;
    const len = bytes.byteLength;
    if (len > 0 && this.#head < this.#queue.length) {
      // A tail still waits for drain: queue behind it, never beside it.
      this.#queue.push(bytes);
      this.#buffered += len;
    } else if (len > 0) {
      const n = this.#socket.write(bytes);
      if (n < 0) {
        this.#lost();
        return false;
      }
      if (n < len) {
        this.#queue.push(bytes.subarray(n));
        this.#buffered += len - n;
      }
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
    this.#shutdownIfFlushed();
  }

  destroy(err?: Error): void {
    if (this.#dead) return;
    this.#err = err;
    this.#closeSocket();
  }

  /**
   * Once the tail is sent: FIN, but read on; Bun calls `close` once the peer's FIN is in too.
   * Closing at once could answer late input with a RST that kills our last bytes in flight.
   */
  #shutdownIfFlushed(): void {
    if (this.#dead || !this.#ending || this.#writeShut || this.#head < this.#queue.length) return;
    this.#writeShut = true;
    this.#socket.shutdown();
  }

  /** On `drain`: send queued bytes until the kernel pushes back again. */
  #flush(): void {
    if (this.#dead) return;
    const q = this.#queue;
    while (this.#head < q.length) {
      const bytes = q[this.#head] as Uint8Array;
      const n = this.#socket.write(bytes);
      if (n < 0) return this.#lost();
      this.#buffered -= n;
      if (n < bytes.byteLength) {
        q[this.#head] = bytes.subarray(n);
        break;
      }
      q[this.#head++] = EMPTY;
    }
    if (this.#head === q.length) [this.#queue, this.#head] = [[], 0];
    if (this.#needDrain && this.#buffered <= this.#hwm / 2) {
      this.#needDrain = false;
      this.#signal("onDrain");
    }
    this.#shutdownIfFlushed();
  }

  /** `socket.write` returned -1: Bun already considers the socket closed. */
  #lost(): void {
    const where = `${this.remote.hostname}:${this.remote.port}`;
    this.#err ??= new ConnectionError(`write to ${where}: socket is closed`, { code: "EPIPE" });
    this.#closeSocket();
  }

  #closeSocket(): void {
    this.#dead = true;
    this.#socket.close(); // Bun calls the close handler from in here.
    this.#emitClose(undefined);
  }

  #emitClose(err: Error | undefined): void {
    this.#dead = true;
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    [this.#queue, this.#head, this.#buffered] = [[], 0, 0];
    const reason = this.#err ?? err;
    // Never call onClose from inside the caller's destroy(), end() or onData.
    queueMicrotask(() => {
      try {
        this.#handlers.onClose(this, reason);
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
      this.destroy(asError(err));
    }
  }
}
