import type { Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";

/**
 * A Net that stands for `net`, or for the runtime's default when `net` is
 * undefined. The default is loaded on the first connect, so creating a
 * client or worker stays synchronous; it is loaded once and then shared.
 */
export function lazyNet(net: Net | undefined): Net {
  let real: Promise<Net> | undefined;
  const get = (): Promise<Net> => real ??= net !== undefined ? Promise.resolve(net) : defaultNet();
  return {
    runtime: "node",
    listen: async (addr, handlers, opts) => (await get()).listen(addr, handlers, opts),
    connect: async (addr, handlers, opts) => (await get()).connect(addr, handlers, opts),
  };
}
