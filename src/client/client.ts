import { AbortedError, ConnectionError, InvalidArgumentError, TimeoutError } from "../errors.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { latin1, payloadBytes } from "../util/bytes.ts";
import type {
  BackgroundJob,
  BackgroundOptions,
  ClientOptions,
  JobStatus,
  Payload,
  SubmitOptions,
} from "./client_types.ts";
import { ForegroundJob } from "./foreground_job.ts";
import { nameBytes } from "./names.ts";
import { lazyNet } from "./lazy_net.ts";
import { Link } from "./link.ts";
import { Router } from "./router.ts";
import { parseServers } from "./servers.ts";
import { parseStatus } from "./status_reply.ts";
import { WaitingJobs } from "./waiting_jobs.ts";

// The client's types stay importable from here, where they were declared before.
export type * from "./client_types.ts";

const SUBMIT = {
  high: [T.SUBMIT_JOB_HIGH, T.SUBMIT_JOB_HIGH_BG],
  normal: [T.SUBMIT_JOB, T.SUBMIT_JOB_BG],
  low: [T.SUBMIT_JOB_LOW, T.SUBMIT_JOB_LOW_BG],
} as const;

interface Server {
  readonly link: Link;
  /** Foreground jobs waiting for WORK_* packets. */
  readonly jobs: WaitingJobs;
}

/**
 * A Gearman client for one or many servers. Jobs with a unique id go to the
 * server the id hashes to (as Perl's Gearman::Client does, so coalescing
 * works across servers); others are spread round-robin. A server that is
 * down is skipped until its backoff passes, so a submit fails only when
 * every server is down. Connections are made on first use and again after a
 * server restarts.
 *
 * @example
 * ```ts
 * import { createClient } from "./mod.ts";
 * const client = createClient({ servers: ["127.0.0.1:4730"] });
 * const result = await client.submit("reverse", "hello");
 * console.log(result.text());
 * await client.submitBackground("resize", "image-1", { priority: "low" });
 * client.close();
 * ```
 */
export class GearmanClient {
  readonly #router: Router<Server>;

  /**
   * Creates a client; it connects to each server on first use.
   * @param options servers, socket implementation, timeouts
   * @throws {InvalidArgumentError} when a server address is malformed
   */
  constructor(options: ClientOptions = {}) {
    const net = lazyNet(options.net);
    const servers: Server[] = [];
    for (const addr of parseServers(options.servers)) {
      const jobs = new WaitingJobs();
      const link = new Link(
        net,
        addr,
        {
          onPacket: (reply) => jobs.onPacket(reply),
          onConnect: () =>
            options.exceptions === true
              ? [{ type: T.OPTION_REQ, args: ["exceptions"], answered: true }]
              : [],
          onDisconnect: (err) => jobs.failAll(err),
        },
        options.connectTimeoutMs === undefined
          ? {}
          : { connectTimeoutMs: options.connectTimeoutMs },
      );
      servers.push({ link, jobs });
    }
    this.#router = new Router(servers);
  }

  /**
   * Submits a foreground job and returns it at once: await it for the
   * result, iterate it for progress events. Failures reject the job, they
   * are never thrown from this call.
   *
   * @param fn the function name a worker registered
   * @param payload the workload, bytes or UTF-8 text
   * @param options priority, unique id, timeout and abort signal
   * @returns the job, a promise of its {@link JobResult}
   * @throws {ConnectionError} (through the job) when every server is down
   * @throws {JobFailedError} (through the job) on WORK_FAIL
   * @throws {JobExceptionError} (through the job) on WORK_EXCEPTION, with `exceptions: true`
   * @throws {TimeoutError} (through the job) when `timeoutMs` passes first
   * @throws {AbortedError} (through the job) when `signal` aborts first
   * @throws {InvalidArgumentError} (through the job) when `fn` or the unique id contains a NUL byte
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * const job = client.submit("reverse", "hello", { timeoutMs: 5000 });
   * for await (const event of job) console.log(event.type); // "status", "data", ...
   * console.log((await job).text());
   * client.close();
   * ```
   */
  submit(fn: string, payload: Payload, options: SubmitOptions = {}): ForegroundJob {
    const [job, control] = ForegroundJob.create(fn);
    const type = SUBMIT[options.priority ?? "normal"][0];
    const unique = options.unique ?? "";
    const data = payloadBytes(payload);
    let names: [Uint8Array, Uint8Array];
    try {
      names = [nameBytes("function", fn), nameBytes("unique", unique)];
    } catch (err) {
      control.fail(err as Error);
      return job;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let forget = (): void => {};
    const onAbort = () => {
      forget();
      control.fail(new AbortedError(`job ${fn} aborted`, { cause: options.signal?.reason }));
    };
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    if (options.signal !== undefined || options.timeoutMs !== undefined) job.then(cleanup, cleanup);
    if (options.signal?.aborted) {
      onAbort();
      return job;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        forget();
        control.fail(new TimeoutError(`job ${fn} took longer than ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    }
    this.#router.route(unique, data, (server) => {
      if (control.settled) return SETTLED;
      return server.link.request(type, [...names, data], (reply) => {
        const handle = latin1(reply.args[0] as Uint8Array);
        if (control.settled) return;
        server.jobs.add(handle, control);
        forget = () => server.jobs.remove(handle, control);
        control.created(handle);
      });
    }).catch((err: Error) => control.fail(err));
    return job;
  }

  /**
   * Submits a background job; resolves once the server created it (with a
   * durable store, once it is stored).
   *
   * @param fn the function name a worker registered
   * @param payload the workload, bytes or UTF-8 text
   * @param options priority, unique id, run-at time
   * @returns the job's handle and server, for {@link status}
   * @throws {ConnectionError} when every server is down
   * @throws {ServerError} when the server refuses it (e.g. `QUEUE_ERROR`)
   * @throws {InvalidArgumentError} when `runAt` is combined with a priority other than normal,
   *   or `fn` or the unique id contains a NUL byte
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * const job = await client.submitBackground("resize", "dog.png", { priority: "low" });
   * console.log(job.handle);
   * client.close();
   * ```
   */
  submitBackground(
    fn: string,
    payload: Payload,
    options: BackgroundOptions = {},
  ): Promise<BackgroundJob> {
    const unique = options.unique ?? "";
    const data = payloadBytes(payload);
    let names: [Uint8Array, Uint8Array];
    try {
      names = [nameBytes("function", fn), nameBytes("unique", unique)];
    } catch (err) {
      return Promise.reject(err);
    }
    let type: number = SUBMIT[options.priority ?? "normal"][1];
    let args: (string | Uint8Array)[] = [...names, data];
    if (options.runAt !== undefined) {
      if ((options.priority ?? "normal") !== "normal") {
        return Promise.reject(
          InvalidArgumentError.format("runAt", "epoch jobs run at normal priority"),
        );
      }
      const ms = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
      type = T.SUBMIT_JOB_EPOCH;
      args = [...names, String(Math.floor(ms / 1000)), data];
    }
    return this.#router.route(unique, data, async (server) => {
      const reply = await server.link.request(type, args);
      return { handle: latin1(reply.args[0] as Uint8Array), server: server.link.name };
    });
  }

  /**
   * Asks the server that holds a background job how it is doing (GET_STATUS).
   *
   * @param job what {@link submitBackground} resolved with
   * @returns whether the job is known and running, and its last progress
   * @throws {InvalidArgumentError} when `job.server` is not one of this client's servers
   * @throws {ConnectionError} when that server is down
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * const job = await client.submitBackground("resize", "cat.png");
   * console.log(await client.status(job)); // { known: true, running: false, numerator: 0, denominator: 0 }
   * client.close();
   * ```
   */
  async status(job: BackgroundJob): Promise<JobStatus> {
    const server = this.#router.servers.find((s) => s.link.name === job.server);
    if (server === undefined) {
      throw InvalidArgumentError.format("job", `server ${job.server} is not one of this client's`);
    }
    const reply = await server.link.request(T.GET_STATUS, [job.handle]);
    return parseStatus(reply, false);
  }

  /**
   * Asks for the status of the job with this unique id, on the server the id
   * hashes to (GET_STATUS_UNIQUE, gearmand 1.1.9 and later).
   *
   * @param unique the unique id the job was submitted with
   * @returns the job's status, with `waiting`: the clients waiting on it
   * @throws {ConnectionError} when every server is down
   * @throws {InvalidArgumentError} when `unique` contains a NUL byte
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * await client.submitBackground("resize", "cat.png", { unique: "cat" });
   * console.log((await client.statusByUnique("cat")).known); // true
   * client.close();
   * ```
   */
  statusByUnique(unique: string): Promise<JobStatus> {
    let key: Uint8Array;
    try {
      key = nameBytes("unique", unique);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#router.route(unique, new Uint8Array(0), async (server) => {
      const reply = await server.link.request(T.GET_STATUS_UNIQUE, [key]);
      return parseStatus(reply, true);
    });
  }

  /**
   * Sends ECHO_REQ to the next reachable server and resolves with its answer:
   * a cheap check that a server is up.
   *
   * @param payload bytes or UTF-8 text to echo
   * @returns the bytes the server echoed
   * @throws {ConnectionError} when every server is down
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * console.log(new TextDecoder().decode(await client.echo("ping"))); // "ping"
   * client.close();
   * ```
   */
  echo(payload: Payload): Promise<Uint8Array> {
    return this.#router.route("", payloadBytes(payload), async (server) => {
      const reply = await server.link.request(T.ECHO_REQ, [payloadBytes(payload)]);
      return reply.args[0] as Uint8Array;
    });
  }

  /**
   * Closes every connection; jobs still waiting fail with ConnectionError
   * (code `CLOSED`), and later calls reject the same way.
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * await client.submitBackground("resize", "cat.png");
   * client.close();
   * ```
   */
  close(): void {
    for (const server of this.#router.servers) {
      server.link.close();
      const closed = new ConnectionError(`connection to ${server.link.name} closed`, {
        code: "CLOSED",
      });
      server.jobs.failAll(closed);
    }
  }
}

const SETTLED: Promise<undefined> = Promise.resolve(undefined);

/**
 * Creates a client; it connects on first use.
 *
 * @param options servers (default `127.0.0.1:4730`), socket implementation, timeouts
 * @returns a new {@link GearmanClient}
 * @throws {InvalidArgumentError} when a server address is malformed
 *
 * @example
 * ```ts
 * import { createClient } from "./mod.ts";
 * const client = createClient({ servers: "127.0.0.1:4730", exceptions: true });
 * const job = client.submit("reverse", "hello", { priority: "high", timeoutMs: 5000 });
 * console.log((await job).text());
 * client.close();
 * ```
 */
export function createClient(options: ClientOptions = {}): GearmanClient {
  return new GearmanClient(options);
}
