// Starts an in-process server on a free loopback port for a test file.
import { createServer, type GearmanServer } from "../../src/server/server.ts";
import type { ServerOptions } from "../../src/server/options.ts";
import { RawClient } from "../_raw_client.ts";
import { PacketType as T } from "../../src/protocol/constants.ts";

export interface TestServer {
  readonly server: GearmanServer;
  readonly port: number;
  /** Opens a raw connection; it is closed by `stop()`. */
  connect(): Promise<RawClient>;
  /** A connection registered for `fns` that has sent PRE_SLEEP. */
  sleepingWorker(...fns: string[]): Promise<RawClient>;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ port: 0, jobHandlePrefix: "H:test", ...options });
  const [addr] = await server.listen();
  const port = addr?.port ?? 0;
  const clients: RawClient[] = [];
  const connect = async () => {
    const c = await RawClient.connect(port);
    clients.push(c);
    return c;
  };
  return {
    server,
    port,
    connect,
    async sleepingWorker(...fns) {
      const w = await connect();
      for (const fn of fns) w.send(T.CAN_DO, [fn]);
      w.send(T.PRE_SLEEP);
      // An echo round trip proves the server has processed the registration.
      w.send(T.ECHO_REQ, ["sync"]);
      await w.expect(T.ECHO_RES);
      return w;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}
