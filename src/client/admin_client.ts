import { ConnectionError, ServerError } from "../errors.ts";
import type { Conn, Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { latin1, latin1Bytes } from "../util/bytes.ts";
import { formatAddr, parseServers } from "./servers.ts";

/** One line of `status`. */
export interface FunctionStatus {
  readonly name: string;
  readonly total: number;
  readonly running: number;
  readonly workers: number;
}

/** One line of `prioritystatus`. */
export interface PriorityStatus {
  readonly name: string;
  readonly high: number;
  readonly normal: number;
  readonly low: number;
  readonly workers: number;
}

/** One line of `workers`. */
export interface WorkerInfo {
  readonly fd: number;
  readonly ip: string;
  readonly clientId: string;
  readonly functions: string[];
}

/** One line of `show jobs`. */
export interface JobInfo {
  readonly handle: string;
  readonly retries: number;
  readonly ignored: boolean;
  readonly background: boolean;
}

/** Settings of an {@link AdminClient}. */
export interface AdminOptions {
  /** The server, `host:port` (default `127.0.0.1:4730`). */
  readonly server?: string;
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

  constructor(options: AdminOptions = {}) {
    this.#options = options;
    this.#name = formatAddr(parseServers(options.server)[0] as { hostname: string; port: number });
  }

  /** `status`: queued+running totals, running jobs and workers per function. */
  async status(): Promise<FunctionStatus[]> {
    return (await this.listing("status")).map((line) => {
      const [name = "", total, running, workers] = line.split("\t");
      return { name, total: num(total), running: num(running), workers: num(workers) };
    });
  }

  /** `prioritystatus`: queued jobs per priority. */
  async priorityStatus(): Promise<PriorityStatus[]> {
    return (await this.listing("prioritystatus")).map((line) => {
      const [name = "", high, normal, low, workers] = line.split("\t");
      return { name, high: num(high), normal: num(normal), low: num(low), workers: num(workers) };
    });
  }

  /** `workers`: every connection with its client id and functions. */
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

  /** `show jobs`. */
  async showJobs(): Promise<JobInfo[]> {
    return (await this.listing("show jobs")).map((line) => {
      const [handle = "", retries, ignored, background] = line.split("\t");
      return { handle, retries: num(retries), ignored: ignored === "1", background: background === "1" };
    });
  }

  /** `show unique jobs`. */
  showUniqueJobs(): Promise<string[]> {
    return this.listing("show unique jobs");
  }

  /** `cancel job HANDLE`. */
  async cancelJob(handle: string): Promise<void> {
    await this.command(`cancel job ${handle}`);
  }

  /** `create function NAME`. */
  async createFunction(name: string): Promise<void> {
    await this.command(`create function ${name}`);
  }

  /** `drop function NAME`. */
  async dropFunction(name: string): Promise<void> {
    await this.command(`drop function ${name}`);
  }

  /** `maxqueue NAME [N | HIGH NORMAL LOW]`. */
  async maxQueue(name: string, ...limits: number[]): Promise<void> {
    await this.command(["maxqueue", name, ...limits.map(String)].join(" "));
  }

  /** `getpid`. */
  async getPid(): Promise<number> {
    return num(await this.command("getpid"));
  }

  /** `version`. */
  version(): Promise<string> {
    return this.command("version");
  }

  /** `verbose`: the server's log level. */
  verbose(): Promise<string> {
    return this.command("verbose");
  }

  /** `shutdown` (gearman-ts, from loopback only); `graceful` waits for jobs. */
  async shutdown(graceful = false): Promise<void> {
    await this.command(graceful ? "shutdown graceful" : "shutdown");
  }

  /**
   * Sends a one-line command; resolves with the text after `OK`.
   * @throws {ServerError} on an `ERR` answer
   */
  command(line: string): Promise<string> {
    return this.#serial(async () => {
      await this.#send(line);
      const answer = await this.#line();
      if (answer.startsWith("OK")) return answer.slice(3);
      throw adminError(answer);
    });
  }

  /** Sends a listing command; resolves with its lines, without the final `.`. */
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

  /** Closes the connection. */
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
