/**
 * The public types of the admin client (`AdminClient`): its settings, and
 * one row of each listing it parses.
 *
 * @module
 */
import type { Net } from "../net/net.ts";

/**
 * One line of `status`: a function's jobs and workers.
 *
 * @example
 * ```ts
 * import { createAdminClient, type FunctionStatus } from "./mod.ts";
 * const admin = createAdminClient();
 * const busy: FunctionStatus[] = (await admin.status()).filter((f) => f.running > 0);
 * console.log(busy.map((f) => `${f.name}: ${f.running}/${f.total}, ${f.workers} workers`));
 * admin.close();
 * ```
 */
export interface FunctionStatus {
  /** The function name. */
  readonly name: string;
  /** Jobs queued or running. */
  readonly total: number;
  /** Jobs running. */
  readonly running: number;
  /** Connected workers that registered the function. */
  readonly workers: number;
}

/**
 * One line of `prioritystatus`: a function's queued jobs per priority.
 *
 * @example
 * ```ts
 * import { createAdminClient, type PriorityStatus } from "./mod.ts";
 * const admin = createAdminClient();
 * const rows: PriorityStatus[] = await admin.priorityStatus();
 * for (const p of rows) console.log(p.name, p.high, p.normal, p.low);
 * admin.close();
 * ```
 */
export interface PriorityStatus {
  /** The function name. */
  readonly name: string;
  /** Queued high-priority jobs. */
  readonly high: number;
  /** Queued normal-priority jobs. */
  readonly normal: number;
  /** Queued low-priority jobs. */
  readonly low: number;
  /** Connected workers that registered the function. */
  readonly workers: number;
}

/**
 * One line of `workers`: a connection, its client id and its functions.
 *
 * @example
 * ```ts
 * import { createAdminClient, type WorkerInfo } from "./mod.ts";
 * const admin = createAdminClient();
 * const workers: WorkerInfo[] = (await admin.workers()).filter((w) => w.functions.length > 0);
 * for (const w of workers) console.log(w.ip, w.clientId, w.functions.join(","));
 * admin.close();
 * ```
 */
export interface WorkerInfo {
  /** The server's number for the connection (gearmand: its file descriptor). */
  readonly fd: number;
  /** The peer's address. */
  readonly ip: string;
  /** What the peer set with SET_CLIENT_ID, or `-`. */
  readonly clientId: string;
  /** The functions it registered. */
  readonly functions: string[];
}

/**
 * One line of `show jobs`.
 *
 * @example
 * ```ts
 * import { createAdminClient, type JobInfo } from "./mod.ts";
 * const admin = createAdminClient();
 * const background: JobInfo[] = (await admin.showJobs()).filter((j) => j.background);
 * console.log(background.map((j) => j.handle));
 * admin.close();
 * ```
 */
export interface JobInfo {
  /** The job handle. */
  readonly handle: string;
  /** Times the job was handed out again after its worker was lost. */
  readonly retries: number;
  /** gearmand's "ignore job" flag. */
  readonly ignored: boolean;
  /** True for a background job. */
  readonly background: boolean;
}

/**
 * Settings of an {@link AdminClient}.
 *
 * @example
 * ```ts
 * import { type AdminOptions, createAdminClient } from "./mod.ts";
 * const options: AdminOptions = { server: "10.0.0.1:4730", timeoutMs: 2000 };
 * const admin = createAdminClient(options);
 * console.log(await admin.version());
 * admin.close();
 * ```
 */
export interface AdminOptions {
  /** The server, `host:port` (default `127.0.0.1:4730`). */
  readonly server?: string;
  /** Socket implementation; defaults to the runtime's. */
  readonly net?: Net;
  /**
   * Give up on connecting, and on each line of an answer, after this long
   * (default 5000 ms); the connection is then dropped, and the next command
   * connects again.
   */
  readonly timeoutMs?: number;
}
