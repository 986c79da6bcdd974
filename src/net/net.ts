/**
 * The socket abstraction. The protocol core sees nothing of the runtime but
 * these interfaces; adapters for Node, Deno and Bun live beside this file.
 *
 * @module
 */

/** The JavaScript runtime an adapter is written for. */
export type Runtime = "node" | "deno" | "bun";

/** A TCP endpoint. */
export interface Addr {
  readonly hostname: string;
  readonly port: number;
}

/** One connected TCP stream. */
export interface Conn {
  /** The peer's address. */
  readonly remote: Addr;
  /**
   * Queue bytes for sending. Never partial: the adapter keeps any unsent tail
   * and sends it when the socket drains. Returns false once buffered bytes
   * exceed the high-water mark (then wait for `onDrain`). The caller must not
   * reuse `bytes` afterwards. After `end()`, `destroy()` or close it does
   * nothing and returns false.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * As `write` for several arrays in order, in one system call where the
   * runtime has one (`writev`): large payloads go out without being joined.
   */
  writev(chunks: readonly Uint8Array[]): boolean;
  /**
   * Flush what is queued, then close. Adapters send FIN once the queue is
   * empty and close when the peer's FIN has come too (as `node:net` does), so
   * a peer that is still sending is not answered with a RST. When the peer
   * sends FIN first, adapters call `end()` themselves one event-loop turn
   * later, so replies written in that turn still go out.
   */
  end(): void;
  /** Close now; pending writes are dropped. `err` is passed on to `onClose`. */
  destroy(err?: Error): void;
}

/**
 * Callbacks shared by all connections of a listener or client. They are
 * called as methods of this object. A callback that throws closes its
 * connection, with the thrown error passed to `onClose`: no error escapes
 * into the runtime.
 */
export interface ConnHandlers {
  /** Called once when a connection is accepted (listeners only), before any data. */
  onOpen?(conn: Conn): void;
  /** `chunk` is owned by the receiver: the adapter must not reuse its memory afterwards. */
  onData(conn: Conn, chunk: Uint8Array): void;
  /** Buffered writes fell below the low-water mark after `write` returned false. */
  onDrain?(conn: Conn): void;
  /**
   * Called exactly once per connection, after which the Conn is dead; never
   * from inside the caller's own `end()`/`destroy()`. `err` is undefined for
   * a clean close, a `ConnectionError` (with the runtime's `code`) when the
   * socket failed, or the error given to `destroy()` or thrown by a handler.
   */
  onClose(conn: Conn, err?: Error): void;
}

/** Options for a listening socket. */
export interface ListenOptions {
  /** Pending-connection queue length (default 1024). */
  readonly backlog?: number;
  /** Enable TCP keepalive on accepted sockets. */
  readonly keepalive?: boolean;
}

/** A listening socket. */
export interface Listener {
  /** The bound address; `port` is the real one when 0 was asked for. */
  readonly addr: Addr;
  /** Stop accepting. Connections already accepted stay open. */
  close(): Promise<void>;
}

/** Options for an outgoing connection. */
export interface ConnectOptions {
  /** Give up connecting after this many milliseconds. */
  readonly timeoutMs?: number;
}

/** A runtime's TCP implementation. */
export interface Net {
  readonly runtime: Runtime;
  listen(addr: Addr, handlers: ConnHandlers, opts?: ListenOptions): Promise<Listener>;
  connect(addr: Addr, handlers: ConnHandlers, opts?: ConnectOptions): Promise<Conn>;
}
