import { ConnectionError } from "../errors.ts";
import { utf8Bytes } from "../util/bytes.ts";
import { crc32 } from "../util/crc32.ts";
import type { Link } from "./link.ts";

/**
 * Chooses the server for each request of a client. A request with a unique
 * id goes to the server the id hashes to (as Perl's Gearman::Client does, so
 * coalescing works across servers); others are spread round-robin. Servers
 * in backoff are tried last, and on a connection failure the next server is
 * tried, so a request fails only when every server is down.
 */
export class Router<S extends { readonly link: Link }> {
  /** Every server, in the order given. */
  readonly servers: readonly S[];
  #next = 0;

  constructor(servers: readonly S[]) {
    this.servers = servers;
  }

  /**
   * Runs `attempt` on the server chosen for `unique` (`-` hashes `data`),
   * then on each other server in turn while the error is a connection failure.
   */
  route<R>(unique: string, data: Uint8Array, attempt: (s: S) => Promise<R>): Promise<R> {
    // One server: nothing to choose or fall back to, so no extra promise.
    if (this.servers.length === 1) {
      try {
        return attempt(this.servers[0] as S);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#routeMany(unique, data, attempt);
  }

  async #routeMany<R>(
    unique: string,
    data: Uint8Array,
    attempt: (s: S) => Promise<R>,
  ): Promise<R> {
    const servers = this.servers;
    const n = servers.length;
    let first: number;
    if (unique.length > 0) {
      const key = unique === "-" ? data : utf8Bytes(unique);
      first = ((crc32(key) >>> 16) & 0x7fff) % n;
    } else {
      first = this.#next++ % n;
    }
    // Servers in backoff go last: they are tried only when no other is left.
    const order: S[] = [];
    const later: S[] = [];
    for (let i = 0; i < n; i++) {
      const server = servers[(first + i) % n] as S;
      (server.link.available ? order : later).push(server);
    }
    let lastError: unknown;
    for (const server of [...order, ...later]) {
      try {
        return await attempt(server);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        lastError = err;
      }
    }
    throw new ConnectionError(
      `every server is down (${servers.map((s) => s.link.name).join(", ")})`,
      { cause: lastError, code: (lastError as ConnectionError).code },
    );
  }
}
