import { ConnectionError, ServerError } from "../errors.ts";
import type { Conn, Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { latin1, latin1Bytes } from "../util/bytes.ts";
import { formatAddr, parseServers } from "./servers.ts";

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
  /** Give up on an answer after this long (default 5000 ms). */
  readonly timeoutMs?: number;
}

const num = (text: string | undefined): number => Number(text ?? 0) || 0;

/**
 * An `ERR` answer as a ServerError: `ERR CODE text+with+pluses`, or, for
 * gearmand's lower-case answers (`ERR function not found`), code `ERR`.
 */
function adminError(line: string): ServerError {
  const rest = line.slice(4);
  const space = rest.indexOf(" ");
  const first = space < 0 ? rest : rest.slice(0, space);
  if (/^[A-Z][A-Z_]*$/.test(first)) {
    return ServerError.fromPacket(first, space < 0 ? "" : rest.slice(space + 1).replaceAll("+", " "));
  }
  return ServerError.fromPacket("ERR", rest);
}

/**
 * The text admin protocol of gearmand and gearman-ts, with typed answers.
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
  readonly #options: AdminOptions;
  readonly #name: string;
  #conn: Promise<Conn> | undefined;
  #buffer = "";
  #waiters: (() => void)[] = [];
  #closedError: Error | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Creates an admin client; it connects on first use.
   * @param options the server, socket implementation and answer timeout
   * @throws {InvalidArgumentError} when the server address is malformed
   */
  constructor(options: AdminOptions = {}) {
    this.#options = options;
    this.#name = formatAddr(parseServers(options.server)[0] as { hostname: string; port: number });
  }

  /**
   * `status`: queued+running totals, running jobs and workers per function.
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
    return (await this.listing("status")).map((line) => {
      const [name = "", total, running, workers] = line.split("\t");
      return { name, total: num(total), running: num(running), workers: num(workers) };
    });
  }

  /**
   * `prioritystatus`: queued jobs per priority (gearmand 1.1.19 and later, gearman-ts).
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
    return (await this.listing("prioritystatus")).map((line) => {
      const [name = "", high, normal, low, workers] = line.split("\t");
      return { name, high: num(high), normal: num(normal), low: num(low), workers: num(workers) };
    });
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
    return (await this.listing("workers")).map((line) => {
      const colon = line.indexOf(" :");
      const head = line.slice(0, colon < 0 ? line.length : colon).split(" ");
      const fns = colon < 0 ? "" : line.slice(colon + 2).trim();
      return {
        fd: num(head[0]),
        ip: head[1] ?? "",
        clientId: head.slice(2).join(" "),
        functions: fns.length > 0 ? fns.split(" ") : [],
      };
    });
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
    return (await this.listing("show jobs")).map((line) => {
      const [handle = "", retries, ignored, background] = line.split("\t");
      return { handle, retries: num(retries), ignored: ignored === "1", background: background === "1" };
    });
  }

  /**
   * `show unique jobs`: the unique ids of the jobs the server holds.
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
    return num(await this.command("getpid"));
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
   * are sent one at a time, in call order.
   *
   * @param line the command, without the line end
   * @returns the rest of the `OK` line (for `version`, the version itself)
   * @throws {ServerError} on an `ERR` answer
   * @throws {ConnectionError} when the server is down or does not answer in time
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
    return this.#serial(async () => {
      await this.#send(line);
      const answer = await this.#line();
      if (answer.startsWith("OK")) return answer.slice(3);
      throw adminError(answer);
    });
  }

  /**
   * Sends a listing command; resolves with its lines, without the final `.`.
   *
   * @param line the command, without the line end
   * @returns the lines of the answer
   * @throws {ServerError} on an `ERR` answer
   * @throws {ConnectionError} when the server is down or does not answer in time
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
    return this.#serial(async () => {
      await this.#send(line);
      const lines: string[] = [];
      for (;;) {
        const next = await this.#line();
        if (next === ".") return lines;
        if (lines.length === 0 && next.startsWith("ERR ")) throw adminError(next);
        lines.push(next);
      }
    });
  }

  /**
   * Closes the connection.
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
    void this.#conn?.then((c) => c.end(), () => {});
  }

  #serial<R>(run: () => Promise<R>): Promise<R> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }

  async #send(line: string): Promise<void> {
    const conn = await (this.#conn ??= this.#connect());
    conn.write(latin1Bytes(`${line}\r\n`));
  }

  async #connect(): Promise<Conn> {
    const net = this.#options.net ?? await defaultNet();
    const addr = parseServers(this.#options.server)[0] as { hostname: string; port: number };
    try {
      return await net.connect(addr, {
        onData: (_c, chunk) => {
          this.#buffer += latin1(chunk);
          this.#wake();
        },
        onClose: () => {
          this.#closedError = new ConnectionError(`server ${this.#name} closed the connection`);
          this.#wake();
        },
      }, { timeoutMs: this.#options.timeoutMs ?? 5000 });
    } catch (err) {
      this.#conn = undefined;
      const code = (err as { code?: string }).code ?? "CONNECTION";
      throw new ConnectionError(`server ${this.#name} is down: ${(err as Error).message}`, { cause: err, code });
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #line(): Promise<string> {
    const deadline = Date.now() + (this.#options.timeoutMs ?? 5000);
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (this.#closedError !== undefined) throw this.#closedError;
      const left = deadline - Date.now();
      if (left <= 0) throw new ConnectionError(`server ${this.#name} did not answer in time`, { code: "TIMEOUT" });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
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
