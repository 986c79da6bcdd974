/**
 * {@link Net} over `node:net`. Native on Node, and the fallback on Deno and
 * Bun, whose Node compatibility layers provide `node:net` too.
 *
 * @module
 */

import * as net from "node:net";
import { asError, ConnectionError } from "../errors.ts";
import type {
  Addr,
  Conn,
  ConnectOptions,
  ConnHandlers,
  Listener,
  ListenOptions,
  Net,
  Runtime,
} from "./net.ts";

/** Options of {@link NodeNet}. */
export interface NodeNetOptions {
  /** `write()` returns false once this many bytes are buffered (default 1 MiB). */
  readonly highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const DEFAULT_BACKLOG = 1024;

/**
 * A {@link Net} over `node:net`. Sockets get `setNoDelay(true)`; `'data'`
 * Buffers are passed to `onData` as they are (a Buffer is a Uint8Array, and
 * Node allocates a new one per read). Errors carrying a Node `code`
 * (`ECONNREFUSED`, `ECONNRESET`, `EADDRINUSE`, ...) become a
 * {@link ConnectionError} with that `code` and the original as `cause`.
 *
 * @example
 * ```ts
 * import { NodeNet } from "./node_net.ts";
 * const net = new NodeNet({ highWaterMark: 4 * 1024 * 1024 });
 * const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, {
 *   onData: (conn, chunk) => conn.write(chunk),
 *   onClose() {},
 * });
 * await listener.close();
 * ```
 */
export class NodeNet implements Net {
  /** The runtime this adapter is written for. */
  readonly runtime: Runtime = "node";
  readonly #hwm: number;

  constructor(options: NodeNetOptions = {}) {
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** Listens on `addr`; see {@link Net.listen}. */
  listen(addr: Addr, handlers: ConnHandlers, opts: ListenOptions = {}): Promise<Listener> {
    const keepalive = opts.keepalive ?? false;
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      if (keepalive) socket.setKeepAlive(true);
      const conn = new NodeConn(socket, handlers, this.#hwm);
      conn.opened();
    });
    return new Promise<Listener>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(ConnectionError.from(err, `listen on ${addr.hostname}:${addr.port}`));
      };
      server.once("error", onError);
      server.listen({
        host: addr.hostname,
        port: addr.port,
        backlog: opts.backlog ?? DEFAULT_BACKLOG,
      }, () => {
        server.off("error", onError);
        // Accept errors (EMFILE, ECONNABORTED) concern one connection that never
        // became a Conn; the listener keeps going, and there is nobody to tell.
        server.on("error", () => {});
        const bound = server.address() as net.AddressInfo;
        resolve(new NodeListener(server, { hostname: bound.address, port: bound.port }));
      });
    });
  }

  /** Connects to `addr`; see {@link Net.connect}. */
  connect(addr: Addr, handlers: ConnHandlers, opts: ConnectOptions = {}): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) => {
      const socket = net.connect({ host: addr.hostname, port: addr.port, allowHalfOpen: true });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onError = (err: Error) => {
        if (timer !== undefined) clearTimeout(timer);
        socket.destroy();
        reject(ConnectionError.from(err, `connect to ${addr.hostname}:${addr.port}`));
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        if (timer !== undefined) clearTimeout(timer);
        socket.off("error", onError);
        resolve(new NodeConn(socket, handlers, this.#hwm));
      });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          socket.destroy();
          const message =
            `connect to ${addr.hostname}:${addr.port}: timed out after ${opts.timeoutMs} ms`;
          reject(new ConnectionError(message, { code: "ETIMEDOUT" }));
        }, opts.timeoutMs);
      }
    });
  }
}

class NodeListener implements Listener {
  readonly addr: Addr;
  readonly #server: net.Server;
  #closed = false;

  constructor(server: net.Server, addr: Addr) {
    this.#server = server;
    this.addr = addr;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // server.close() closes the listening socket at once, but its callback
      // waits for every accepted connection to end: do not wait for it.
      this.#server.close(() => {});
    }
    return Promise.resolve();
  }
}

/** Where a socket keeps its NodeConn, so one set of listeners serves every socket. */
const CONN = Symbol("NodeConn");
type OwnedSocket = net.Socket & { [CONN]: NodeConn };

class NodeConn implements Conn {
  readonly remote: Addr;
  readonly #socket: net.Socket;
  readonly #handlers: ConnHandlers;
  readonly #hwm: number;
  /** No more onData/onDrain, and write() is refused. */
  #dead = false;
  #ending = false;
  #needDrain = false;
  #closeEmitted = false;
  #err: Error | undefined;

  constructor(socket: net.Socket, handlers: ConnHandlers, hwm: number) {
    this.#socket = socket;
    this.#handlers = handlers;
    // Node's 'drain' only follows a socket.write() that returned false, which
    // happens at writableHighWaterMark: ours must not be lower.
    this.#hwm = Math.max(hwm, socket.writableHighWaterMark);
    this.remote = { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    socket.setNoDelay(true);
    (socket as OwnedSocket)[CONN] = this;
    // Shared listeners (`this` is the socket): no closures per connection.
    socket.on("data", NodeConn.#data);
    socket.on("drain", NodeConn.#drain);
    socket.on("end", NodeConn.#end);
    socket.on("error", NodeConn.#error);
    socket.on("close", NodeConn.#close);
  }

  static readonly #data = function (this: OwnedSocket, chunk: Buffer): void {
    this[CONN].#onData(chunk);
  };
  static readonly #drain = function (this: OwnedSocket): void {
    this[CONN].#onDrain();
  };
  // allowHalfOpen is on so that a peer's FIN does not end our side before a
  // write deferred to the next turn (a write coalescer) has gone out.
  static readonly #end = function (this: OwnedSocket): void {
    const conn = this[CONN];
    if (!conn.#ending) setTimeout(() => conn.end(), 0);
  };
  static readonly #error = function (this: OwnedSocket, err: Error): void {
    const conn = this[CONN];
    conn.#err ??= ConnectionError.from(err, `connection ${conn.#peer()}`);
  };
  static readonly #close = function (this: OwnedSocket): void {
    this[CONN].#onClose();
  };

  /** Calls `onOpen` for an accepted connection. */
  opened(): void {
    if (this.#handlers.onOpen === undefined) return;
    try {
      this.#handlers.onOpen(this);
    } catch (err) {
      this.destroy(asError(err));
    }
  }

  write(bytes: Uint8Array): boolean {
    if (this.#dead || this.#ending || this.#socket.destroyed) return false;
    this.#socket.write(bytes);
    if (this.#socket.writableLength < this.#hwm) return true;
    this.#needDrain = true;
    return false;
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    if (this.#dead || this.#ending || this.#socket.destroyed) return false;
    // Corked writes leave in one writev when uncorked.
    this.#socket.cork();
    for (const chunk of chunks) this.#socket.write(chunk);
    this.#socket.uncork();
    if (this.#socket.writableLength < this.#hwm) return true;
    this.#needDrain = true;
    return false;
  }

  /** Sends what is queued, then FIN; Node destroys the socket once the peer's FIN is in too. */
  end(): void {
    if (this.#dead || this.#ending) return;
    this.#ending = true;
    this.#socket.end();
  }

  destroy(err?: Error): void {
    if (this.#dead) return;
    this.#dead = true;
    if (err !== undefined) this.#err ??= err;
    // 'close' follows on a later tick and reports #err through onClose.
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#dead) return;
    try {
      this.#handlers.onData(this, chunk);
    } catch (err) {
      this.destroy(asError(err));
    }
  }

  #onDrain(): void {
    if (this.#dead || !this.#needDrain) return;
    this.#needDrain = false;
    try {
      this.#handlers.onDrain?.(this);
    } catch (err) {
      this.destroy(asError(err));
    }
  }

  #onClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#dead = true;
    try {
      this.#handlers.onClose(this, this.#err);
    } catch {
      // An onClose that throws has nobody left to report to; the socket is
      // gone either way, and throwing here would crash the process.
    }
  }

  #peer(): string {
    return `${this.remote.hostname}:${this.remote.port}`;
  }
}
