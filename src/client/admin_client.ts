import { AdminConnection } from "./admin_connection.ts";
import {
  parseCount,
  parseJobLine,
  parsePriorityStatusLine,
  parseStatusLine,
  parseWorkerLine,
} from "./admin_parse.ts";
import type {
  AdminOptions,
  FunctionStatus,
  JobInfo,
  PriorityStatus,
  WorkerInfo,
} from "./admin_types.ts";

// The admin types stay importable from here, where they were declared before.
export type * from "./admin_types.ts";

/**
 * The text admin protocol of gearmand and gearman-ts, with typed answers.
 *
 * Commands go out one at a time, in call order, on one connection that is
 * opened on first use. Names travel as UTF-8 both ways, as the client and
 * worker send them. When the server drops the connection (a restart, an idle
 * close, `shutdown`), when an answer times out or has the wrong shape, the
 * connection is dropped and the next command connects again, so a late or
 * left-over answer is never taken for another command's.
 *
 * @example
 * ```ts
 * import { createAdminClient } from "./mod.ts";
 * const admin = createAdminClient({ server: "127.0.0.1:4730" });
 * for (const fn of await admin.status()) console.log(fn.name, fn.total);
 * admin.close();
 * ```
 */
export class AdminClient {
  readonly #connection: AdminConnection;

  /**
   * Creates an admin client; it connects on first use.
   * @param options the server, socket implementation and answer timeout
   * @throws {InvalidArgumentError} when the server address is malformed
   */
  constructor(options: AdminOptions = {}) {
    this.#connection = new AdminConnection(options);
  }

  /**
   * `status`: queued+running totals, running jobs and workers per function.
   * The counts are the last three columns, so a name may contain a tab.
   * @returns one entry per function
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * for (const f of await admin.status()) console.log(f.name, f.total, f.running, f.workers);
   * admin.close();
   * ```
   */
  async status(): Promise<FunctionStatus[]> {
    return (await this.listing("status")).map(parseStatusLine);
  }

  /**
   * `prioritystatus`: queued jobs per priority (gearmand 1.1.19 and later, gearman-ts).
   * The counts are the last four columns, so a name may contain a tab.
   * @returns one entry per function
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * for (const p of await admin.priorityStatus()) console.log(p.name, p.high, p.normal, p.low);
   * admin.close();
   * ```
   */
  async priorityStatus(): Promise<PriorityStatus[]> {
    return (await this.listing("prioritystatus")).map(parsePriorityStatusLine);
  }

  /**
   * `workers`: every connection with its client id and functions.
   * @returns one entry per connection (clients too, with no functions)
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * for (const w of await admin.workers()) console.log(w.ip, w.clientId, w.functions);
   * admin.close();
   * ```
   */
  async workers(): Promise<WorkerInfo[]> {
    return (await this.listing("workers")).map(parseWorkerLine);
  }

  /**
   * `show jobs`: every job the server holds.
   * @returns one entry per job
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log((await admin.showJobs()).length, "jobs");
   * admin.close();
   * ```
   */
  async showJobs(): Promise<JobInfo[]> {
    return (await this.listing("show jobs")).map(parseJobLine);
  }

  /**
   * `show unique jobs`: the unique ids of the jobs the server holds.
   *
   * A unique id that is exactly `.` cannot be told from the end of the list,
   * so the list stops there. The rest of such an answer may still be on its
   * way, so the connection is closed after this command and the next one
   * connects again.
   *
   * @returns the unique ids
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.showUniqueJobs());
   * admin.close();
   * ```
   */
  showUniqueJobs(): Promise<string[]> {
    return this.listing("show unique jobs");
  }

  /**
   * `cancel job HANDLE`: removes a queued job; its waiting clients get WORK_FAIL.
   * @param handle the job handle
   * @throws {ServerError} when the server does not know the job
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * await admin.cancelJob("H:host:12");
   * admin.close();
   * ```
   */
  async cancelJob(handle: string): Promise<void> {
    await this.command(`cancel job ${handle}`);
  }

  /**
   * `create function NAME`: makes a function known before any worker registers it.
   * @param name the function name
   * @throws {ServerError} when the server refuses
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * await admin.createFunction("resize");
   * admin.close();
   * ```
   */
  async createFunction(name: string): Promise<void> {
    await this.command(`create function ${name}`);
  }

  /**
   * `drop function NAME`: forgets an idle function.
   * @param name the function name
   * @throws {ServerError} when the function is unknown or still in use
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * await admin.dropFunction("resize");
   * admin.close();
   * ```
   */
  async dropFunction(name: string): Promise<void> {
    await this.command(`drop function ${name}`);
  }

  /**
   * `maxqueue NAME [N | HIGH NORMAL LOW]`: limits how many jobs of a function may be queued.
   * @param name the function name
   * @param limits one limit for every priority, or one per priority (high, normal, low)
   * @throws {ServerError} when the server refuses
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * await admin.maxQueue("resize", 1000);
   * admin.close();
   * ```
   */
  async maxQueue(name: string, ...limits: number[]): Promise<void> {
    await this.command(["maxqueue", name, ...limits.map(String)].join(" "));
  }

  /**
   * `getpid`: the server's process id.
   * @returns the process id
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.getPid());
   * admin.close();
   * ```
   */
  async getPid(): Promise<number> {
    return parseCount(await this.command("getpid"));
  }

  /**
   * `version`: the server's version.
   * @returns the version text, e.g. `1.1.20` or `0.1.0`
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.version());
   * admin.close();
   * ```
   */
  version(): Promise<string> {
    return this.command("version");
  }

  /**
   * `verbose`: the server's log level.
   * @returns the level name, e.g. `ERROR`
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.verbose());
   * admin.close();
   * ```
   */
  verbose(): Promise<string> {
    return this.command("verbose");
  }

  /**
   * `shutdown` (gearman-ts, from loopback only); `graceful` waits for jobs.
   * @param graceful stop taking jobs and exit once none is queued or running
   * @throws {ServerError} when refused (gearmand 1.1.20 answers UNKNOWN_COMMAND)
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * await admin.shutdown(true);
   * admin.close();
   * ```
   */
  async shutdown(graceful = false): Promise<void> {
    await this.command(graceful ? "shutdown graceful" : "shutdown");
  }

  /**
   * Sends a one-line command; resolves with the text after `OK`. Commands
   * are sent one at a time, in call order. An answer that is neither `OK`
   * nor `ERR` (such as the first row of a listing) rejects, and the
   * connection is dropped with the rest of it.
   *
   * @param line the command, without the line end
   * @returns the rest of the `OK` line (for `version`, the version itself)
   * @throws {ServerError} on an `ERR` answer
   * @throws {ProtocolError} on an answer that is neither `OK` nor `ERR`
   * @throws {ConnectionError} when the server is down, does not answer in time,
   * or closes the connection before answering; code `CLOSED` after {@link close}
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.command("getpid"));
   * admin.close();
   * ```
   */
  command(line: string): Promise<string> {
    return this.#connection.command(line);
  }

  /**
   * Sends a listing command; resolves with its lines, without the final `.`.
   *
   * @param line the command, without the line end
   * @returns the lines of the answer
   * @throws {ServerError} on an `ERR` answer
   * @throws {ConnectionError} when the server is down, does not answer in time,
   * or closes the connection before answering; code `CLOSED` after {@link close}
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.listing("status"));
   * admin.close();
   * ```
   */
  listing(line: string): Promise<string[]> {
    return this.#connection.listing(line);
  }

  /**
   * Closes the connection. A command already sent may still get its answer;
   * the others, queued or later, reject with ConnectionError (code `CLOSED`)
   * and do not connect again.
   *
   * @example
   * ```ts
   * import { createAdminClient } from "./mod.ts";
   * const admin = createAdminClient();
   * console.log(await admin.version());
   * admin.close();
   * ```
   */
  close(): void {
    this.#connection.close();
  }
}

/**
 * Creates an admin client; it connects on first use.
 *
 * @param options the server (default `127.0.0.1:4730`), socket implementation, timeout
 * @returns a new {@link AdminClient}
 * @throws {InvalidArgumentError} when the server address is malformed
 *
 * @example
 * ```ts
 * import { createAdminClient } from "./mod.ts";
 * const admin = createAdminClient({ server: "127.0.0.1:4730" });
 * console.log(await admin.version());
 * admin.close();
 * ```
 */
export function createAdminClient(options: AdminOptions = {}): AdminClient {
  return new AdminClient(options);
}
