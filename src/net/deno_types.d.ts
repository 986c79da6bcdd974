/**
 * The few members of Deno's runtime API that `deno_net.ts` uses, so that
 * `tsc` type-checks it without Deno's types. Written as module exports, not
 * as a global `declare namespace Deno`: a global would clash with Deno's own
 * declarations whenever `deno check` or `deno test` type-checks this code.
 * `deno_net.ts` reads the real object as `globalThis.Deno`.
 *
 * @module
 */

/** `Deno.NetAddr`. */
export interface DenoNetAddr {
  readonly hostname: string;
  readonly port: number;
}

/** `Deno.TcpConn`: the members used. */
export interface DenoTcpConn {
  readonly remoteAddr: DenoNetAddr;
  /** Resolves to the byte count read, or null at EOF. */
  read(p: Uint8Array): Promise<number | null>;
  /** May write fewer bytes than given. */
  write(p: Uint8Array): Promise<number>;
  /** shutdown(SHUT_WR). */
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
}

/** `Deno.TcpListener`: the members used. */
export interface DenoTcpListener {
  readonly addr: DenoNetAddr;
  accept(): Promise<DenoTcpConn>;
  close(): void;
}

/** The `Deno` global: the members used. */
export interface DenoApi {
  listen(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    tcpBacklog?: number;
  }): DenoTcpListener;
  connect(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    signal?: AbortSignal;
  }): Promise<DenoTcpConn>;
}
