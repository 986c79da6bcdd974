import { InvalidArgumentError } from "../errors.ts";
import type { Addr } from "../net/net.ts";

/** The default Gearman port. */
export const GEARMAN_PORT = 4730;

/**
 * Parses server addresses: `host`, `host:port`, `[v6]:port`, as a list or a
 * comma-separated string. The default is `127.0.0.1:4730`.
 *
 * @param servers addresses; `undefined` means the default
 * @returns one address per server, in the order given
 * @throws {InvalidArgumentError} when an address has a bad port or none is given
 *
 * @example
 * ```ts
 * import { parseServers } from "./mod.ts";
 * parseServers("a:4730,b"); // [{hostname: "a", port: 4730}, {hostname: "b", port: 4730}]
 * ```
 */
export function parseServers(servers?: string | readonly string[]): Addr[] {
  const list = servers === undefined
    ? ["127.0.0.1"]
    : (typeof servers === "string" ? servers.split(",") : servers);
  const out: Addr[] = [];
  for (const raw of list) {
    const text = raw.trim();
    if (text.length === 0) continue;
    out.push(parseServer(text));
  }
  if (out.length === 0) throw InvalidArgumentError.format("servers", "no server given");
  return out;
}

function parseServer(text: string): Addr {
  let host = text;
  let port = GEARMAN_PORT;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6 !== null) {
    host = v6[1] as string;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (text.includes(":") && text.indexOf(":") === text.lastIndexOf(":")) {
    const at = text.lastIndexOf(":");
    host = text.slice(0, at);
    const portText = text.slice(at + 1);
    if (!/^\d+$/.test(portText)) {
      throw InvalidArgumentError.format("server", `${JSON.stringify(text)} has a bad port`);
    }
    port = Number(portText);
  }
  if (host.length === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw InvalidArgumentError.format("server", `${JSON.stringify(text)} is not host:port`);
  }
  return { hostname: host, port };
}

/** `host:port` for messages. */
export function formatAddr(addr: Addr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
