import { ConnectionError, InvalidArgumentError } from "../errors.ts";
import type { Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { latin1, utf8Bytes } from "../util/bytes.ts";
import type { Payload } from "../client/client.ts";
import { type Greeting, Link, type Reply } from "../client/link.ts";
import { parseServers } from "../client/servers.ts";
import { JobContext } from "./job_context.ts";

/** Settings of a {@link GearmanWorker}. */
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

/** Runs one job; what it returns (bytes or text) is the result, a throw fails the job. */
export type JobHandler = (job: JobContext) => Payload | void | Promise<Payload | void>;

/** Options of one registered function. */
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
  grabbing: boolean;
  sleeping: boolean;
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
  readonly #abilities = new Map<string, Ability>();
  readonly #servers: ServerState[] = [];
  readonly #options: WorkerOptions;
  readonly #concurrency: number;
  #active = 0;
  /** Jobs running per function. */
  readonly #running = new Map<string, number>();
  /** Functions unregistered while jobs of theirs ran: CANT_DO once those end. */
  readonly #dropLater = new Set<string>();
  #started = false;
  #stopping = false;
  #idle: (() => void) | undefined;
  #netPromise: Promise<Net> | undefined;

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
      const state: ServerState = { link: undefined as unknown as Link, grabbing: false, sleeping: false };
      const link = new Link(net, addr, {
        onPacket: (reply) => this.#onPacket(state, reply),
        onConnect: () => this.#greetings(),
        onDisconnect: () => {
          state.grabbing = false;
          state.sleeping = false;
          if (!this.#stopping) this.#reconnect(state);
        },
      }, options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs });
      (state as { link: Link }).link = link;
      this.#servers.push(state);
    }
  }

  /** Jobs running now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Registers a function. Registering after `start()` tells connected servers at once.
   * @returns this worker, for chaining
   */
  register(fn: string, handler: JobHandler, options: RegisterOptions = {}): this {
    if (fn.length === 0) throw InvalidArgumentError.format("function", "name is empty");
    const timeoutMs = options.timeoutMs ?? 0;
    this.#abilities.set(fn, { handler, timeoutMs });
    if (this.#started) {
      for (const s of this.#servers) {
        if (s.link.connected) void s.link.send(...canDo(fn, timeoutMs)).catch(() => {});
        this.#pump(s);
      }
    }
    return this;
  }

  /**
   * Stops taking jobs of a function. Servers are told once no job of it is
   * running here, since they requeue the jobs of a function a worker drops.
   */
  unregister(fn: string): void {
    if (!this.#abilities.delete(fn)) return;
    if ((this.#running.get(fn) ?? 0) > 0) this.#dropLater.add(fn);
    else this.#tellAll(T.CANT_DO, [fn]);
  }

  /** Connects to every server and starts taking jobs. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const s of this.#servers) this.#reconnect(s);
  }

  /**
   * Graceful stop: takes no new job and lets running ones finish (their
   * results are delivered), then disconnects.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#tellAll(T.RESET_ABILITIES, []);
    for (const s of this.#servers) s.link.close();
  }

  #tellAll(type: number, args: string[]): void {
    for (const s of this.#servers) {
      if (s.link.connected) void s.link.send(type, args).catch(() => {});
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
      () => this.#pump(s),
      (err: unknown) => {
        if (err instanceof ConnectionError && !this.#stopping) this.#reconnect(s);
      },
    );
  }

  #pump(s: ServerState): void {
    if (this.#stopping || s.grabbing || s.sleeping || !s.link.connected) return;
    if (this.#active >= this.#concurrency || this.#abilities.size === 0) return;
    s.grabbing = true;
    s.link.request(T.GRAB_JOB_UNIQ).then((reply) => {
      s.grabbing = false;
      if (reply.type === T.NO_JOB) {
        s.sleeping = true;
        void s.link.send(T.PRE_SLEEP).catch(() => {});
        return;
      }
      this.#run(s, reply);
      this.#pump(s);
    }, () => {
      s.grabbing = false;
    });
  }

  #onPacket(s: ServerState, reply: Reply): void {
    if (reply.type === T.NOOP) {
      s.sleeping = false;
      this.#pump(s);
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
    const fn = new TextDecoder().decode(fnBytes);
    const ability = this.#abilities.get(fn);
    const link = s.link;
    const send = (type: number, args: (string | Uint8Array)[]) => {
      void link.send(type, [handle, ...args]).catch(() => {});
    };
    if (ability === undefined) {
      send(T.WORK_FAIL, []);
      return;
    }
    this.#active++;
    this.#running.set(fn, (this.#running.get(fn) ?? 0) + 1);
    const job = new JobContext(fn, handle, new TextDecoder().decode(uniqueBytes), workload, send);
    Promise.resolve()
      .then(() => ability.handler(job))
      .then(
        (result) => send(T.WORK_COMPLETE, [result === undefined ? new Uint8Array(0) : toBytes(result)]),
        (err: unknown) => {
          if (this.#options.exceptions === true) {
            send(T.WORK_EXCEPTION, [utf8Bytes(err instanceof Error ? err.message : String(err))]);
          } else {
            send(T.WORK_FAIL, []);
          }
        },
      )
      .finally(() => {
        this.#active--;
        const left = (this.#running.get(fn) ?? 1) - 1;
        this.#running.set(fn, left);
        if (left === 0 && this.#dropLater.delete(fn)) this.#tellAll(T.CANT_DO, [fn]);
        if (this.#active === 0 && this.#idle !== undefined) this.#idle();
        for (const other of this.#servers) this.#pump(other);
      });
  }
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
