/**
 * The public types of the worker (`GearmanWorker`): its settings, a job
 * handler, and the options of a registered function.
 *
 * @module
 */
import type { Net } from "../net/net.ts";
import type { Payload } from "../client/client_types.ts";
import type { JobContext } from "./job_context.ts";

/**
 * Settings of a {@link GearmanWorker}.
 *
 * @example
 * ```ts
 * import { createWorker, type WorkerOptions } from "./mod.ts";
 * const options: WorkerOptions = { servers: ["10.0.0.1:4730", "10.0.0.2"], concurrency: 8, clientId: "resizer-1" };
 * createWorker(options).register("resize", (job) => job.workload).start();
 * ```
 */
export interface WorkerOptions {
  /** Servers as `host:port`, a list or comma-separated (default `127.0.0.1:4730`). */
  readonly servers?: string | readonly string[];
  /** Socket implementation; defaults to the runtime's. */
  readonly net?: Net;
  /** Jobs run at once, across all servers (default 1). */
  readonly concurrency?: number;
  /** Shown by the server's `workers` listing; sent as UTF-8, so it must not contain NUL. */
  readonly clientId?: string;
  /** A throwing handler sends WORK_EXCEPTION with the message instead of WORK_FAIL. */
  readonly exceptions?: boolean;
  /** Give up connecting to a server after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * Runs one job; what it returns or resolves with (bytes, UTF-8 text, or
 * undefined for an empty result) is the result (WORK_COMPLETE). A throw or
 * rejection fails the job (WORK_FAIL, or WORK_EXCEPTION with the error's
 * message when `exceptions: true`), and so does any other result, such as a
 * number, null or an ArrayBuffer (its message says what was returned).
 *
 * @example
 * ```ts
 * import { createWorker, type JobHandler } from "./mod.ts";
 * const upper: JobHandler = (job) => job.text().toUpperCase();
 * const slow: JobHandler = async (job) => {
 *   await new Promise((r) => setTimeout(r, 100));
 *   return job.workload;
 * };
 * createWorker().register("upper", upper).register("slow", slow).start();
 * ```
 */
export type JobHandler = (job: JobContext) => Payload | void | Promise<Payload | void>;

/**
 * Options of one registered function.
 *
 * @example
 * ```ts
 * import { createWorker, type RegisterOptions } from "./mod.ts";
 * const options: RegisterOptions = { timeoutMs: 30_000 };
 * createWorker().register("resize", (job) => job.workload, options).start();
 * ```
 */
export interface RegisterOptions {
  /** The server requeues the job if it runs longer than this (CAN_DO_TIMEOUT). */
  readonly timeoutMs?: number;
}
