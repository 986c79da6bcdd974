import {
  AbortedError,
  ConnectionError,
  InvalidArgumentError,
  JobExceptionError,
  JobFailedError,
  TimeoutError,
} from "../errors.ts";
import type { Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { latin1, utf8Bytes } from "../util/bytes.ts";
import { crc32 } from "../util/crc32.ts";
import { ForegroundJob, type JobControl } from "./foreground_job.ts";
import { Link, type Reply } from "./link.ts";
import { parseServers } from "./servers.ts";

/**
 * A job priority: which SUBMIT_JOB variant is sent. Workers get high jobs
 * before normal ones, and normal before low.
 *
 * @example
 * ```ts
 * import { createClient, type Priority } from "./mod.ts";
 * const priority: Priority = "high";
 * const client = createClient();
 * await client.submitBackground("report", "q3", { priority });
 * client.close();
 * ```
 */
export type Priority = "high" | "normal" | "low";

/**
 * A job payload or result: bytes as they are, or text sent as UTF-8.
 *
 * @example
 * ```ts
 * import { createClient, type Payload } from "./mod.ts";
 * const payloads: Payload[] = ["text", new Uint8Array([0, 1, 2])];
 * const client = createClient();
 * for (const p of payloads) await client.submitBackground("store", p);
 * client.close();
 * ```
 */
export type Payload = Uint8Array | string;

/**
 * Settings of a {@link GearmanClient}.
 *
 * @example
 * ```ts
 * import { type ClientOptions, createClient } from "./mod.ts";
 * const options: ClientOptions = {
 *   servers: "10.0.0.1:4730,10.0.0.2:4730",
 *   exceptions: true,
 *   connectTimeoutMs: 2000,
 * };
 * const client = createClient(options);
 * client.close();
 * ```
 */
export interface ClientOptions {
  /** Servers as `host:port`, a list or comma-separated (default `127.0.0.1:4730`). */
  readonly servers?: string | readonly string[];
  /** Socket implementation; defaults to the runtime's. */
  readonly net?: Net;
  /** Ask servers to forward WORK_EXCEPTION (else exceptions arrive as failures). */
  readonly exceptions?: boolean;
  /** Give up connecting to a server after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * Options of a foreground {@link GearmanClient.submit}.
 *
 * @example
 * ```ts
 * import { createClient, type SubmitOptions } from "./mod.ts";
 * const options: SubmitOptions = { priority: "high", unique: "user-42", timeoutMs: 5000 };
 * const client = createClient();
 * console.log((await client.submit("profile", "42", options)).text());
 * client.close();
 * ```
 */
export interface SubmitOptions {
  /** Which queue the job joins (default `"normal"`). */
  readonly priority?: Priority;
  /** Jobs with the same function and unique run once; `-` means "the payload". */
  readonly unique?: string;
  /** Stops waiting (the job itself is not cancelled on the server). */
  readonly signal?: AbortSignal;
  /** Stops waiting after this many milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * Options of a {@link GearmanClient.submitBackground}.
 *
 * @example
 * ```ts
 * import { type BackgroundOptions, createClient } from "./mod.ts";
 * const options: BackgroundOptions = { unique: "nightly", runAt: Date.now() + 60_000 };
 * const client = createClient();
 * await client.submitBackground("cleanup", "", options);
 * client.close();
 * ```
 */
export interface BackgroundOptions {
  /** Which queue the job joins (default `"normal"`). */
  readonly priority?: Priority;
  /** Jobs with the same function and unique are queued once; `-` means "the payload". */
  readonly unique?: string;
  /** Run no earlier than this (SUBMIT_JOB_EPOCH; normal priority only). */
  readonly runAt?: Date | number;
}

/**
 * A background job: its handle and the server that holds it, as
 * {@link GearmanClient.submitBackground} resolves it.
 *
 * @example
 * ```ts
 * import { type BackgroundJob, createClient } from "./mod.ts";
 * const client = createClient();
 * const job: BackgroundJob = await client.submitBackground("resize", "cat.png");
 * console.log(job.handle, job.server); // "H:host:1" "127.0.0.1:4730"
 * client.close();
 * ```
 */
export interface BackgroundJob {
  /** The job handle the server gave, e.g. `H:host:12`. */
  readonly handle: string;
  /** `host:port` of the server that created it. */
  readonly server: string;
}

/**
 * What GET_STATUS / GET_STATUS_UNIQUE report about a job.
 *
 * @example
 * ```ts
 * import { createClient, type JobStatus } from "./mod.ts";
 * const client = createClient();
 * const job = await client.submitBackground("resize", "cat.png");
 * const status: JobStatus = await client.status(job);
 * if (status.known && status.running) console.log(`${status.numerator}/${status.denominator}`);
 * client.close();
 * ```
 */
export interface JobStatus {
  /** The server knows the job: it is queued or running. */
  readonly known: boolean;
  /** A worker is running it. */
  readonly running: boolean;
  /** Progress as the worker last reported it (WORK_STATUS), 0 before any. */
  readonly numerator: number;
  /** The total that `numerator` counts towards, 0 before any report. */
  readonly denominator: number;
  /** Clients waiting on the job (status by unique only). */
  readonly waiting?: number;
}

const SUBMIT = {
  high: [T.SUBMIT_JOB_HIGH, T.SUBMIT_JOB_HIGH_BG],
  normal: [T.SUBMIT_JOB, T.SUBMIT_JOB_BG],
  low: [T.SUBMIT_JOB_LOW, T.SUBMIT_JOB_LOW_BG],
} as const;

interface Server {
  readonly link: Link;
  /** Foreground jobs waiting for WORK_* packets, by handle. */
  readonly jobs: Map<string, JobControl[]>;
}

function toBytes(payload: Payload): Uint8Array {
  return typeof payload === "string" ? utf8Bytes(payload) : payload;
}

function toNumber(bytes: Uint8Array | undefined): number {
  const n = Number(latin1(bytes ?? new Uint8Array(0)));
  return Number.isFinite(n) ? n : 0;
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
  readonly #servers: Server[] = [];
  readonly #options: ClientOptions;
  #next = 0;
  #netPromise: Promise<Net> | undefined;

  /**
   * Creates a client; it connects to each server on first use.
   * @param options servers, socket implementation, timeouts
   * @throws {InvalidArgumentError} when a server address is malformed
   */
  constructor(options: ClientOptions = {}) {
    this.#options = options;
    for (const addr of parseServers(options.servers)) {
      const jobs = new Map<string, JobControl[]>();
      const link = new Link(
        lazyNet(() => this.#net()),
        addr,
        {
          onPacket: (reply) => this.#onPacket(jobs, reply),
          onConnect: () => options.exceptions === true
            ? [{ type: T.OPTION_REQ, args: ["exceptions"], answered: true }]
            : [],
          onDisconnect: (err) => {
            for (const list of jobs.values()) for (const ctl of list) ctl.fail(err);
            jobs.clear();
          },
        },
        options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs },
      );
      this.#servers.push({ link, jobs });
    }
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
    const data = toBytes(payload);
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
    this.#route(unique, data, (server) => {
      if (control.settled) return SETTLED;
      return server.link.request(type, [utf8Bytes(fn), utf8Bytes(unique), data], (reply) => {
        const handle = latin1(reply.args[0] as Uint8Array);
        if (control.settled) return;
        const list = server.jobs.get(handle);
        if (list === undefined) server.jobs.set(handle, [control]);
        else list.push(control);
        forget = () => removeJob(server.jobs, handle, control);
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
   * @throws {InvalidArgumentError} when `runAt` is combined with a priority other than normal
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
  submitBackground(fn: string, payload: Payload, options: BackgroundOptions = {}): Promise<BackgroundJob> {
    const unique = options.unique ?? "";
    const data = toBytes(payload);
    let type: number = SUBMIT[options.priority ?? "normal"][1];
    let args: (string | Uint8Array)[] = [utf8Bytes(fn), utf8Bytes(unique), data];
    if (options.runAt !== undefined) {
      if ((options.priority ?? "normal") !== "normal") {
        return Promise.reject(InvalidArgumentError.format("runAt", "epoch jobs run at normal priority"));
      }
      const ms = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
      type = T.SUBMIT_JOB_EPOCH;
      args = [utf8Bytes(fn), utf8Bytes(unique), String(Math.floor(ms / 1000)), data];
    }
    return this.#route(unique, data, async (server) => {
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
    const server = this.#servers.find((s) => s.link.name === job.server);
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
    return this.#route(unique, new Uint8Array(0), async (server) => {
      const reply = await server.link.request(T.GET_STATUS_UNIQUE, [utf8Bytes(unique)]);
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
    return this.#route("", toBytes(payload), async (server) => {
      const reply = await server.link.request(T.ECHO_REQ, [toBytes(payload)]);
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
    for (const server of this.#servers) server.link.close();
  }

  #net(): Promise<Net> {
    return this.#netPromise ??= this.#options.net !== undefined
      ? Promise.resolve(this.#options.net)
      : defaultNet();
  }

  /**
   * Runs `attempt` on the server chosen for `unique`, then on each other
   * server in turn while the error is a connection failure.
   */
  #route<R>(unique: string, data: Uint8Array, attempt: (s: Server) => Promise<R>): Promise<R> {
    // One server: nothing to choose or fall back to, so no extra promise.
    if (this.#servers.length === 1) {
      try {
        return attempt(this.#servers[0] as Server);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#routeMany(unique, data, attempt);
  }

  async #routeMany<R>(unique: string, data: Uint8Array, attempt: (s: Server) => Promise<R>): Promise<R> {
    const servers = this.#servers;
    const n = servers.length;
    let first: number;
    if (unique.length > 0 && n > 1) {
      const key = unique === "-" ? data : utf8Bytes(unique);
      first = ((crc32(key) >>> 16) & 0x7fff) % n;
    } else {
      first = this.#next++ % n;
    }
    // Servers in backoff go last: they are tried only when no other is left.
    const order: Server[] = [];
    const later: Server[] = [];
    for (let i = 0; i < n; i++) {
      const server = servers[(first + i) % n] as Server;
      (server.link.available ? order : later).push(server);
    }
    let lastError: unknown;
    for (const server of [...order, ...later]) {
      try {
        return await attempt(server);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        lastError = err;
      }
    }
    if (n === 1) throw lastError;
    throw new ConnectionError(
      `every server is down (${servers.map((s) => s.link.name).join(", ")})`,
      { cause: lastError, code: (lastError as ConnectionError).code },
    );
  }

  #onPacket(jobs: Map<string, JobControl[]>, reply: Reply): void {
    const args = reply.args;
    // gearmand sends a converted WORK_FAIL as the handle plus one NUL (PROTOCOL.md §7.1).
    const handle = latin1(args[0] ?? new Uint8Array(0)).replace(/\0$/, "");
    const list = jobs.get(handle);
    if (list === undefined) return;
    switch (reply.type) {
      case T.WORK_DATA:
        for (const c of list) c.event({ type: "data", data: args[1] as Uint8Array });
        return;
      case T.WORK_WARNING:
        for (const c of list) c.event({ type: "warning", data: args[1] as Uint8Array });
        return;
      case T.WORK_STATUS:
        for (const c of list) {
          c.event({ type: "status", numerator: toNumber(args[1]), denominator: toNumber(args[2]) });
        }
        return;
      case T.WORK_COMPLETE:
        jobs.delete(handle);
        for (const c of list) c.complete(args[1] as Uint8Array);
        return;
      case T.WORK_FAIL:
        jobs.delete(handle);
        for (const c of list) c.fail(new JobFailedError(handle));
        return;
      case T.WORK_EXCEPTION:
        jobs.delete(handle);
        for (const c of list) c.fail(new JobExceptionError(handle, args[1] as Uint8Array));
        return;
    }
  }
}

const SETTLED: Promise<undefined> = Promise.resolve(undefined);

function removeJob(jobs: Map<string, JobControl[]>, handle: string, control: JobControl): void {
  const list = jobs.get(handle);
  if (list === undefined) return;
  const kept = list.filter((c) => c !== control);
  if (kept.length === 0) jobs.delete(handle);
  else jobs.set(handle, kept);
}

function parseStatus(reply: Reply, byUnique: boolean): JobStatus {
  const a = reply.args;
  const status = {
    known: latin1(a[1] as Uint8Array) === "1",
    running: latin1(a[2] as Uint8Array) === "1",
    numerator: toNumber(a[3]),
    denominator: toNumber(a[4]),
  };
  return byUnique ? { ...status, waiting: toNumber(a[5]) } : status;
}

/** A Net whose real instance is resolved on first use. */
function lazyNet(get: () => Promise<Net>): Net {
  return {
    runtime: "node",
    listen: async (addr, handlers, opts) => (await get()).listen(addr, handlers, opts),
    connect: async (addr, handlers, opts) => (await get()).connect(addr, handlers, opts),
  };
}

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
