/**
 * gearman-ts: a Gearman job server wire-compatible with gearmand 1.1.x, and
 * a client and a worker, for Node 24, Deno 2 and Bun 1.
 *
 * @example
 * ```ts
 * import { createClient, createServer, createWorker } from "./mod.ts";
 *
 * const server = createServer({ port: 0 });
 * const [addr] = await server.listen();
 * const servers = `127.0.0.1:${addr!.port}`;
 *
 * const worker = createWorker({ servers });
 * worker.register("reverse", (job) => job.text().split("").reverse().join(""));
 * worker.start();
 *
 * const client = createClient({ servers });
 * console.log((await client.submit("reverse", "hello")).text()); // "olleh"
 *
 * client.close();
 * await worker.stop();
 * await server.close();
 * ```
 *
 * @module
 */
export { createServer, GearmanServer } from "./src/server/server.ts";
export { DEFAULT_MAX_PACKET_SIZE, DEFAULT_PORT, type ServerOptions } from "./src/server/options.ts";
export { createClient, GearmanClient } from "./src/client/client.ts";
export type {
  BackgroundJob,
  BackgroundOptions,
  ClientOptions,
  JobStatus,
  Payload,
  Priority,
  SubmitOptions,
} from "./src/client/client_types.ts";
export { ForegroundJob, type JobEvent, JobResult } from "./src/client/foreground_job.ts";
export { AdminClient, createAdminClient } from "./src/client/admin_client.ts";
export type {
  AdminOptions,
  FunctionStatus,
  JobInfo,
  PriorityStatus,
  WorkerInfo,
} from "./src/client/admin_types.ts";
export { parseServers } from "./src/client/servers.ts";
export { createWorker, GearmanWorker } from "./src/worker/worker.ts";
export type { JobHandler, RegisterOptions, WorkerOptions } from "./src/worker/worker_types.ts";
export { JobContext } from "./src/worker/job_context.ts";
export {
  AbortedError,
  ConnectionError,
  GearmanError,
  InvalidArgumentError,
  JobExceptionError,
  JobFailedError,
  ProtocolError,
  ServerError,
  TimeoutError,
} from "./src/errors.ts";
export { LOG_LEVELS, Logger, type LogLevel, type LogSink, parseLogLevel } from "./src/log.ts";
export type { Addr, Conn, ConnHandlers, Listener, Net, Runtime } from "./src/net/net.ts";
export { defaultNet } from "./src/net/default_net.ts";
export { NodeNet, type NodeNetOptions } from "./src/net/node_net.ts";
export { DenoNet, type DenoNetOptions } from "./src/net/deno_net.ts";
export { VERSION } from "./src/version.ts";
