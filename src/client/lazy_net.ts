import type { Net } from "../net/net.ts";
import { defaultNet, defaultNetRuntime } from "../net/default_net.ts";

/**
 * `net`, or when it is undefined a Net that stands for the runtime's
 * default: that is loaded on the first connect, so creating a client or
 * worker stays synchronous (`defaultNet` loads it once and shares it).
 */
export function lazyNet(net: Net | undefined): Net {
  if (net !== undefined) return net;
  return {
    runtime: defaultNetRuntime(),
    listen: async (addr, handlers, opts) => (await defaultNet()).listen(addr, handlers, opts),
    connect: async (addr, handlers, opts) => (await defaultNet()).connect(addr, handlers, opts),
  };
}
