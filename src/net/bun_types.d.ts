/**
 * The few members of Bun's TCP API that `bun_net.ts` uses, so that `tsc`
 * type-checks it without `bun-types`. Written as module exports rather than a
 * global `Bun` declaration, which would clash with `bun-types` in a project
 * that loads both. `bun_net.ts` reads the real object as `globalThis.Bun`.
 *
 * @module
 */

/** `Bun.Socket<Data>`: the members used. */
export interface BunSocket<Data> {
  /** Per-socket state, shared handlers find their connection here. */
  data: Data;
  /** Undefined when the peer reset the connection before Bun read its address. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Unbuffered: returns the bytes taken (maybe fewer than given), or -1 if closed. */
  write(data: Uint8Array): number;
  /** Sends FIN, keeps reading; `close` follows once the peer's FIN is in too. */
  shutdown(halfClose?: boolean): void;
  /** Closes now (FIN, no RST); calls the `close` handler synchronously. */
  close(): void;
  setNoDelay(noDelay?: boolean): boolean;
  setKeepAlive(enable?: boolean, initialDelay?: number): boolean;
}

/** `Bun.SocketHandler<Data, "uint8array">`: the members used. */
export interface BunSocketHandler<Data> {
  binaryType?: "uint8array";
  open?(socket: BunSocket<Data>): void;
  data?(socket: BunSocket<Data>, data: Uint8Array): void;
  drain?(socket: BunSocket<Data>): void;
  /** The peer sent FIN (only seen with `allowHalfOpen: true`). */
  end?(socket: BunSocket<Data>): void;
  close?(socket: BunSocket<Data>, error?: Error): void;
  /** A handler threw. */
  error?(socket: BunSocket<Data>, error: Error): void;
}

/** `Bun.TCPSocketListener<Data>`: the members used. */
export interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

/** The `Bun` global: the members used. */
export interface BunApi {
  listen<Data>(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler<Data>;
  }): BunTcpListener;
  connect<Data>(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    data?: Data;
    socket: BunSocketHandler<Data>;
  }): Promise<BunSocket<Data>>;
}
