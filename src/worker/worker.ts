import { ConnectionError, InvalidArgumentError } from "../errors.ts";
import type { Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { latin1, utf8Bytes } from "../util/bytes.ts";
import type { Payload } from "../client/client.ts";
import { type Greeting, Link, type Reply } from "../client/link.ts";
import { parseServers } from "../client/servers.ts";
import { JobContext } from "./job_context.ts";

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
  /** Shown by the server's `workers` listing. */
  readonly clientId?: string;
  /** A throwing handler sends WORK_EXCEPTION with the message instead of WORK_FAIL. */
  readonly exceptions?: boolean;
  /** Give up connecting to a server after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * Runs one job; what it returns or resolves with (bytes or text) is the
 * result (WORK_COMPLETE), a throw or rejection fails the job (WORK_FAIL, or
 * WORK_EXCEPTION with `exceptions: true`).
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

interface Ability {
  readonly handler: JobHandler;
  readonly timeoutMs: number;
}

interface ServerState {
  readonly link: Link;
  /** GRAB_JOB_UNIQ requests in flight on this server. */
  grabbing: number;
  /** Got NO_JOB: no more grabs here until a job is assigned or a NOOP comes. */
  sleeping: boolean;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * A Gearman worker: registers its functions on every server, sleeps until a
 * server wakes it (PRE_SLEEP / NOOP, no polling), runs up to `concurrency`
 * jobs at once, and re-registers after a server restarts.
 *
 * @example
 * ```ts
 * import { createWorker } from "./mod.ts";
 * const worker = createWorker({ servers: "127.0.0.1:4730", concurrency: 4 });
 * worker.register("reverse", (job) => job.text().split("").reverse().join(""));
 * worker.start();
 * // later
 * await worker.stop();
 * ```
 */
export class GearmanWorker {
  readonly #abilities = new Map<string, Ability>();
  readonly #servers: ServerState[] = [];
  readonly #options: WorkerOptions;
  readonly #concurrency: number;
  #active = 0;
  /** GRAB_JOB_UNIQ requests in flight on all servers; with #active, at most `concurrency`. */
  #grabs = 0;
  /** Where the next #pumpAll starts, so servers take turns at free slots. */
  #nextServer = 0;
  /** Jobs running per function. */
  readonly #running = new Map<string, number>();
  /** Functions unregistered while jobs of theirs ran: CANT_DO once those end. */
  readonly #dropLater = new Set<string>();
  #started = false;
  #stopping = false;
  #idle: (() => void) | undefined;
  #netPromise: Promise<Net> | undefined;

  /**
   * Creates a worker; call {@link register}, then {@link start}.
   * @param options servers, concurrency, client id, socket implementation
   * @throws {InvalidArgumentError} when `concurrency` is not a whole number
   *   of at least 1, or a server address is malformed
   */
  constructor(options: WorkerOptions = {}) {
    this.#options = options;
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw InvalidArgumentError.format("concurrency", "must be a whole number of at least 1");
    }
    const net: Net = {
      runtime: "node",
      listen: async (a, h, o) => (await this.#net()).listen(a, h, o),
      connect: async (a, h, o) => (await this.#net()).connect(a, h, o),
    };
    for (const addr of parseServers(options.servers)) {
      const state: ServerState = { link: undefined as unknown as Link, grabbing: 0, sleeping: false };
      const link = new Link(net, addr, {
        onPacket: (reply) => this.#onPacket(state, reply),
        onConnect: () => this.#greetings(),
        onDisconnect: () => {
          // The grabs in flight are rejected, and their handlers count them off.
          state.sleeping = false;
          if (!this.#stopping) this.#reconnect(state);
        },
      }, options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs });
      (state as { link: Link }).link = link;
      this.#servers.push(state);
    }
  }

  /**
   * Jobs running now.
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * const worker = createWorker({ concurrency: 4 }).register("upper", (job) => job.text().toUpperCase());
   * worker.start();
   * setInterval(() => console.log(`${worker.active} of 4 slots busy`), 1000);
   * ```
   */
  get active(): number {
    return this.#active;
  }

  /**
   * Registers a function (CAN_DO, or CAN_DO_TIMEOUT with `timeoutMs`).
   * Registering after `start()` tells connected servers at once; registering
   * a name again replaces its handler.
   *
   * @param fn the function name clients submit to
   * @param handler runs each job
   * @param options the server-side timeout of a job
   * @returns this worker, for chaining
   * @throws {InvalidArgumentError} when `fn` is empty
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * createWorker()
   *   .register("upper", (job) => job.text().toUpperCase())
   *   .register("resize", async (job) => job.workload, { timeoutMs: 30_000 })
   *   .start();
   * ```
   */
  register(fn: string, handler: JobHandler, options: RegisterOptions = {}): this {
    if (fn.length === 0) throw InvalidArgumentError.format("function", "name is empty");
    const timeoutMs = options.timeoutMs ?? 0;
    this.#abilities.set(fn, { handler, timeoutMs });
    if (this.#started) {
      for (const s of this.#servers) {
        if (s.link.connected) s.link.post(...canDo(fn, timeoutMs));
      }
      this.#pumpAll();
    }
    return this;
  }

  /**
   * Stops taking jobs of a function. Servers are told (CANT_DO) once no job
   * of it is running here, since they requeue the jobs of a function a
   * worker drops. Unknown names are ignored.
   *
   * @param fn the function name
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * const worker = createWorker().register("upper", (job) => job.text().toUpperCase());
   * worker.start();
   * worker.unregister("upper");
   * ```
   */
  unregister(fn: string): void {
    if (!this.#abilities.delete(fn)) return;
    if ((this.#running.get(fn) ?? 0) > 0) this.#dropLater.add(fn);
    else this.#tellAll(T.CANT_DO, [fn]);
  }

  /**
   * Connects to every server and starts taking jobs; a server that is down
   * is retried with backoff until {@link stop}. Calling it again does nothing.
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * const worker = createWorker({ servers: "127.0.0.1:4730" });
   * worker.register("upper", (job) => job.text().toUpperCase());
   * worker.start();
   * ```
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const s of this.#servers) this.#reconnect(s);
  }

  /**
   * Graceful stop: takes no new job and lets running ones finish (their
   * results are delivered), then disconnects.
   *
   * @returns a promise that resolves once every connection is closed
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * const worker = createWorker().register("upper", (job) => job.text().toUpperCase());
   * worker.start();
   * await worker.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#tellAll(T.RESET_ABILITIES, []);
    for (const s of this.#servers) s.link.close();
  }

  #tellAll(type: number, args: string[]): void {
    for (const s of this.#servers) {
      if (s.link.connected) s.link.post(type, args);
    }
  }

  #net(): Promise<Net> {
    return this.#netPromise ??= this.#options.net !== undefined
      ? Promise.resolve(this.#options.net)
      : defaultNet();
  }

  #greetings(): Greeting[] {
    const out: Greeting[] = [];
    if (this.#options.clientId !== undefined) {
      out.push({ type: T.SET_CLIENT_ID, args: [utf8Bytes(this.#options.clientId)] });
    }
    for (const [fn, ability] of this.#abilities) {
      const [type, args] = canDo(fn, ability.timeoutMs);
      out.push({ type, args });
    }
    return out;
  }

  /** Connects (waiting out backoff as often as needed), then starts grabbing. */
  #reconnect(s: ServerState): void {
    if (this.#stopping) return;
    s.link.connect().then(
      () => this.#pumpAll(),
      (err: unknown) => {
        if (err instanceof ConnectionError && !this.#stopping) this.#reconnect(s);
      },
    );
  }

  /**
   * Hands the free slots (`concurrency` minus jobs running minus grabs in
   * flight) to the servers that may have work, one grab each in turn, so a
   * worker with several slots keeps several grabs in flight (like as many
   * single-job workers) and never holds more than `concurrency` jobs.
   */
  #pumpAll(): void {
    if (this.#stopping || this.#abilities.size === 0) return;
    const servers = this.#servers;
    const n = servers.length;
    let granted = true;
    while (granted && this.#active + this.#grabs < this.#concurrency) {
      granted = false;
      for (let i = 0; i < n && this.#active + this.#grabs < this.#concurrency; i++) {
        const s = servers[(this.#nextServer + i) % n] as ServerState;
        if (s.sleeping || !s.link.connected) continue;
        this.#grab(s);
        granted = true;
      }
      this.#nextServer = (this.#nextServer + 1) % n;
    }
  }

  #grab(s: ServerState): void {
    s.grabbing++;
    this.#grabs++;
    s.link.request(T.GRAB_JOB_UNIQ).then((reply) => {
      s.grabbing--;
      this.#grabs--;
      if (reply.type === T.NO_JOB) {
        // Sleep once every grab sent before this answer has come back: one of
        // them may still bring a job (which wakes this server again).
        s.sleeping = true;
        if (s.grabbing === 0) s.link.post(T.PRE_SLEEP);
        this.#pumpAll();
        return;
      }
      s.sleeping = false;
      this.#run(s, reply);
      this.#pumpAll();
    }, () => {
      // The link closed: its slot may go to another server.
      s.grabbing--;
      this.#grabs--;
      this.#pumpAll();
    });
  }

  #onPacket(s: ServerState, reply: Reply): void {
    if (reply.type === T.NOOP) {
      s.sleeping = false;
      this.#pumpAll();
    }
  }

  #run(s: ServerState, reply: Reply): void {
    const [handleBytes, fnBytes, uniqueBytes, workload] = reply.args as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const handle = latin1(handleBytes);
    const fn = decoder.decode(fnBytes);
    const ability = this.#abilities.get(fn);
    const link = s.link;
    const send = (type: number, args: (string | Uint8Array)[]) => link.post(type, [handle, ...args]);
    if (ability === undefined) {
      link.post(T.WORK_FAIL, [handle]);
      return;
    }
    this.#active++;
    this.#running.set(fn, (this.#running.get(fn) ?? 0) + 1);
    const job = new JobContext(fn, handle, decoder.decode(uniqueBytes), workload, send);
    const done = (): void => {
      this.#active--;
      const left = (this.#running.get(fn) ?? 1) - 1;
      this.#running.set(fn, left);
      if (left === 0 && this.#dropLater.delete(fn)) this.#tellAll(T.CANT_DO, [fn]);
      if (this.#active === 0 && this.#idle !== undefined) this.#idle();
      this.#pumpAll();
    };
    const complete = (result: Payload | void): void => {
      let bytes: Uint8Array;
      try {
        bytes = result === undefined ? EMPTY : toBytes(result);
      } catch (err) {
        fail(err);
        return;
      }
      link.post(T.WORK_COMPLETE, [handle, bytes]);
      done();
    };
    const fail = (err: unknown): void => {
      if (this.#options.exceptions === true) {
        link.post(T.WORK_EXCEPTION, [handle, utf8Bytes(err instanceof Error ? err.message : String(err))]);
      } else {
        link.post(T.WORK_FAIL, [handle]);
      }
      done();
    };
    // The handler runs in this (promise) turn, not inside packet decoding; a
    // result that is not a promise is answered at once, without promise hops.
    let result: ReturnType<JobHandler>;
    try {
      result = ability.handler(job);
    } catch (err) {
      fail(err);
      return;
    }
    if (isThenable(result)) {
      result.then(complete, fail);
    } else {
      complete(result);
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<Payload | void> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function toBytes(payload: Payload): Uint8Array {
  return typeof payload === "string" ? utf8Bytes(payload) : payload;
}

function canDo(fn: string, timeoutMs: number): [number, (string | Uint8Array)[]] {
  return timeoutMs > 0
    ? [T.CAN_DO_TIMEOUT, [utf8Bytes(fn), String(timeoutMs)]]
    : [T.CAN_DO, [utf8Bytes(fn)]];
}

/**
 * Creates a worker; register functions, then call `start()`.
 *
 * @param options servers (default `127.0.0.1:4730`), concurrency (default 1), client id
 * @returns a new {@link GearmanWorker}
 * @throws {InvalidArgumentError} when `concurrency` is not a whole number of
 *   at least 1, or a server address is malformed
 *
 * @example
 * ```ts
 * import { createWorker } from "./mod.ts";
 * const worker = createWorker({ concurrency: 2 });
 * worker.register("upper", (job) => job.text().toUpperCase()).start();
 * ```
 */
export function createWorker(options: WorkerOptions = {}): GearmanWorker {
  return new GearmanWorker(options);
}
