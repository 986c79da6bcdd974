import { ConnectionError, InvalidArgumentError } from "../errors.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { utf8Bytes } from "../util/bytes.ts";
import { lazyNet } from "../client/lazy_net.ts";
import { type Greeting, Link, type Reply } from "../client/link.ts";
import { checkName } from "../client/names.ts";
import { parseServers } from "../client/servers.ts";
import { Abilities } from "./abilities.ts";
import { assignedJob, runJob } from "./job_runner.ts";
import type { JobHandler, RegisterOptions, WorkerOptions } from "./worker_types.ts";

// The worker's types stay importable from here, where they were declared before.
export type * from "./worker_types.ts";

interface ServerState {
  readonly link: Link;
  /** GRAB_JOB_UNIQ requests in flight on this server. */
  grabbing: number;
  /** Got NO_JOB: no more grabs here until a job is assigned or a NOOP comes. */
  sleeping: boolean;
}

/** A job assigned by a server, kept unanswered while its function waits for CANT_DO. */
interface HeldJob {
  readonly s: ServerState;
  readonly reply: Reply;
}

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
  readonly #abilities = new Abilities<HeldJob>();
  readonly #servers: ServerState[] = [];
  readonly #options: WorkerOptions;
  readonly #concurrency: number;
  #active = 0;
  /** GRAB_JOB_UNIQ requests in flight on all servers; with #active, at most `concurrency`. */
  #grabs = 0;
  /** Where the next #pumpAll starts, so servers take turns at free slots. */
  #nextServer = 0;
  #started = false;
  #stopping = false;
  /** What every stop() call returns. */
  #stopped: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  /**
   * Creates a worker; call {@link register}, then {@link start}.
   * @param options servers, concurrency, client id, socket implementation
   * @throws {InvalidArgumentError} when `concurrency` is not a whole number
   *   of at least 1, a server address is malformed, or `clientId` contains
   *   a NUL byte
   */
  constructor(options: WorkerOptions = {}) {
    if (options.clientId !== undefined) checkName("clientId", options.clientId);
    this.#options = options;
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw InvalidArgumentError.format("concurrency", "must be a whole number of at least 1");
    }
    const net = lazyNet(options.net);
    for (const addr of parseServers(options.servers)) {
      // The handlers run once connected, by which time `state` is set.
      const link = new Link(
        net,
        addr,
        {
          onPacket: (reply) => this.#onPacket(state, reply),
          onConnect: () => this.#greetings(),
          onDisconnect: () => {
            // The grabs in flight are rejected, and their handlers count them off;
            // the server requeues the jobs held from it.
            state.sleeping = false;
            this.#abilities.forget((job) => job.s === state);
            if (!this.#stopping) this.#reconnect(state);
          },
        },
        options.connectTimeoutMs === undefined
          ? {}
          : { connectTimeoutMs: options.connectTimeoutMs },
      );
      const state: ServerState = { link, grabbing: 0, sleeping: false };
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
   * a name again replaces its handler (servers are told again only when its
   * timeout changes, since each CAN_DO counts as one more worker in their
   * status).
   *
   * @param fn the function name clients submit to
   * @param handler runs each job
   * @param options the server-side timeout of a job
   * @returns this worker, for chaining
   * @throws {InvalidArgumentError} when `fn` is empty or contains a NUL byte
   *   (the protocol's argument separator)
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
    checkName("function", fn);
    const { greeting, held } = this.#abilities.add(fn, handler, options.timeoutMs ?? 0);
    if (this.#started) {
      for (const s of this.#servers) {
        if (greeting === undefined || !s.link.connected) continue;
        s.link.post(greeting.type, greeting.args);
        // A server need not wake a sleeping worker for a function it learns
        // of (gearmand sends no NOOP on CAN_DO), so ask it once more.
        s.sleeping = false;
      }
      for (const job of held) this.#run(job.s, job.reply);
      this.#pumpAll();
    }
    return this;
  }

  /**
   * Stops taking jobs of a function. Servers are told (CANT_DO) once no job
   * of it is running here, since they requeue the jobs of a function a
   * worker drops. Jobs of it that servers assign meanwhile are not run:
   * they go back to the queue with the CANT_DO (or run after all if the
   * function is registered again first). Unknown names are ignored.
   *
   * @param fn the function name
   * @throws {InvalidArgumentError} when `fn` contains a NUL byte
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
    checkName("function", fn);
    if (this.#abilities.remove(fn)) this.#tellAll(T.CANT_DO, [utf8Bytes(fn)]);
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
   * results are delivered), then disconnects. Calling it again returns the
   * same promise.
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
  stop(): Promise<void> {
    return this.#stopped ??= this.#stop();
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#tellAll(T.RESET_ABILITIES, []);
    for (const s of this.#servers) s.link.close();
  }

  #tellAll(type: number, args: readonly Uint8Array[]): void {
    for (const s of this.#servers) {
      if (s.link.connected) s.link.post(type, args);
    }
  }

  #greetings(): Greeting[] {
    const out: Greeting[] = [];
    if (this.#options.clientId !== undefined) {
      out.push({ type: T.SET_CLIENT_ID, args: [utf8Bytes(this.#options.clientId)] });
    }
    out.push(...this.#abilities.greetings());
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
   * Hands the free slots (see {@link #free}) to the servers that may have
   * work, one grab each in turn, so a worker with several slots keeps
   * several grabs in flight (like as many single-job workers) and never
   * holds more than `concurrency` jobs.
   */
  #pumpAll(): void {
    if (this.#stopping || this.#abilities.size === 0) return;
    const servers = this.#servers;
    const n = servers.length;
    let granted = true;
    while (granted && this.#free > 0) {
      granted = false;
      for (let i = 0; i < n && this.#free > 0; i++) {
        const s = servers[(this.#nextServer + i) % n] as ServerState;
        if (s.sleeping || !s.link.connected) continue;
        this.#grab(s);
        granted = true;
      }
      this.#nextServer = (this.#nextServer + 1) % n;
    }
  }

  /** `concurrency` minus the jobs running, the jobs held and the grabs in flight. */
  get #free(): number {
    return this.#concurrency - this.#active - this.#abilities.held - this.#grabs;
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
    const job = assignedJob(s.link, reply);
    const fn = job.function;
    const handler = this.#abilities.start(fn);
    if (handler === undefined) {
      if (!this.#abilities.hold(fn, { s, reply })) s.link.post(T.WORK_FAIL, [job.handle]);
      return;
    }
    this.#active++;
    runJob(s.link, job, handler, this.#options.exceptions === true, () => this.#done(fn));
  }

  /** A job of `fn` was answered: frees its slot. */
  #done(fn: string): void {
    this.#active--;
    if (this.#abilities.end(fn)) this.#tellAll(T.CANT_DO, [utf8Bytes(fn)]);
    if (this.#active === 0 && this.#idle !== undefined) this.#idle();
    this.#pumpAll();
  }
}

/**
 * Creates a worker; register functions, then call `start()`.
 *
 * @param options servers (default `127.0.0.1:4730`), concurrency (default 1), client id
 * @returns a new {@link GearmanWorker}
 * @throws {InvalidArgumentError} when `concurrency` is not a whole number of
 *   at least 1, a server address is malformed, or `clientId` contains a NUL byte
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
