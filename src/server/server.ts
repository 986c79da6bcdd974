import type { Addr, Conn, Listener, Net } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { type Logger, silentLogger } from "../log.ts";
import { GroupCommit } from "../store/group_commit.ts";
import { createStore, type JobStore } from "../store/store.ts";
import { ServerConnection } from "./connection.ts";
import { Core } from "./core.ts";
import { type Job, JobState, Persisted } from "./job.ts";
import {
  DEFAULT_CREATED_WAIT_MS,
  DEFAULT_GRAB_WAIT_MS,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_PORT,
  type ServerOptions,
} from "./options.ts";

/** How long close() waits for a store commit in flight. */
const STORE_CLOSE_MS = 10000;

/**
 * A Gearman job server, wire-compatible with gearmand 1.1.x: the binary
 * protocol and the text admin protocol on one port.
 *
 * @example
 * ```ts
 * import { createServer } from "./mod.ts";
 * const server = createServer({ port: 4730 });
 * const [addr] = await server.listen();
 * console.log(`listening on ${addr.hostname}:${addr.port}`);
 * await server.close();
 * ```
 */
export class GearmanServer {
  /** Where log lines go. */
  readonly logger: Logger;
  /** Resolves once the server has stopped: by close, drain or admin `shutdown`. */
  readonly stopped: Promise<void>;
  readonly #options: ServerOptions;
  readonly #core: Core;
  readonly #byConn = new Map<Conn, ServerConnection>();
  #listeners: Listener[] = [];
  #store: JobStore | undefined;
  #storeInfo: { readonly name: string; readonly replayed: number } | undefined;
  #nextId = 1;
  #state: "new" | "listening" | "draining" | "stopped" = "new";
  #resolveStopped!: () => void;

  constructor(options: ServerOptions = {}) {
    this.#options = options;
    this.logger = options.logger ?? silentLogger();
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    const pid = options.pid ??
      (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
    this.#core = new Core({
      jobRetries: options.jobRetries ?? 0,
      workerWakeup: options.workerWakeup ?? 0,
      grabWaitMs: options.grabWait ?? DEFAULT_GRAB_WAIT_MS,
      createdWaitMs: options.createdWait ?? DEFAULT_CREATED_WAIT_MS,
      jobHandlePrefix: options.jobHandlePrefix ?? "H:gearman-ts",
      exceptions: options.exceptions ?? false,
      maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
      pid,
      now: options.now ?? Date.now,
    }, this.logger);
    this.#core.onShutdownRequest = (graceful) => {
      this.logger.notice(graceful ? "Graceful shutdown requested" : "Shutdown requested");
      void (graceful ? this.drain() : this.close());
    };
  }

  /** Where background jobs are kept and how many were replayed at start (after {@link listen}). */
  get store(): { readonly name: string; readonly replayed: number } | undefined {
    return this.#storeInfo;
  }

  /** The bound addresses (after {@link listen}). */
  get addresses(): readonly Addr[] {
    return this.#listeners.map((l) => l.addr);
  }

  /**
   * Binds every address in `options.listen` (default 127.0.0.1) on
   * `options.port` (default 4730; 0 picks a free port, shared by all).
   * @returns the bound addresses
   * @throws {ConnectionError} when an address cannot be bound
   */
  async listen(): Promise<readonly Addr[]> {
    if (this.#state !== "new") throw new Error("server: listen() may be called once");
    this.#state = "listening";
    try {
      await this.#openStore();
    } catch (err) {
      this.#state = "stopped";
      this.#core.queue.close();
      this.#resolveStopped();
      throw err;
    }
    const net: Net = this.#options.net ?? await defaultNet();
    const hosts = this.#options.listen ?? ["127.0.0.1"];
    let port = this.#options.port ?? DEFAULT_PORT;
    const opts = {
      backlog: this.#options.backlog ?? 1024,
      keepalive: this.#options.keepalive ?? false,
    };
    try {
      for (const hostname of hosts) {
        const listener = await net.listen({ hostname, port }, this.#handlers, opts);
        this.#listeners.push(listener);
        port = listener.addr.port;
        this.logger.info(`Listening on ${hostname}:${port}`);
      }
    } catch (err) {
      await Promise.all(this.#listeners.map((l) => l.close()));
      this.#listeners = [];
      this.#state = "stopped";
      await this.#closeStore(false).catch(() => {});
      this.#core.queue.close();
      this.#resolveStopped();
      throw err;
    }
    return this.addresses;
  }

  /** Opens the store (if any) and replays its queue: same handles, retries and run-at times. */
  async #openStore(): Promise<void> {
    const spec = this.#options.store;
    if (spec === undefined) {
      this.#storeInfo = { name: "memory", replayed: 0 };
      return;
    }
    const core = this.#core;
    const store = typeof spec === "string"
      ? await createStore(spec, {
        fsync: this.#options.fsync ?? "os",
        owner: core.settings.jobHandlePrefix,
      })
      : spec;
    const { jobs, counter } = await store.open();
    this.#store = store;
    for (const stored of jobs) core.queue.restore(stored);
    core.queue.raiseCounter(counter);
    if (store.durable && !(this.#options.storeQueueOnShutdown ?? false)) {
      core.journal = new GroupCommit<Job>(
        store,
        core,
        () => core.queue.counter,
        (job) => job.persisted !== Persisted.NO,
      );
    }
    this.#storeInfo = { name: store.name, replayed: jobs.length };
    this.logger.notice(`store: ${store.name}: ${jobs.length} background job(s) replayed`);
  }

  /**
   * Waits (at most {@link STORE_CLOSE_MS}) for commits in flight, writes the
   * queue if it is kept only at shutdown, and closes the store.
   */
  async #closeStore(snapshot: boolean): Promise<void> {
    const store = this.#store;
    if (store === undefined) return;
    this.#store = undefined;
    const core = this.#core;
    const journal = core.journal;
    let error: unknown;
    if (journal !== undefined) {
      // Submits that arrive meanwhile still wait for a commit; after close()
      // none comes, so they are never acknowledged (and so never lost).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<boolean>((
        resolve,
      ) => (timer = setTimeout(() => resolve(true), STORE_CLOSE_MS)));
      if (await Promise.race([journal.close().then(() => false), late])) {
        this.logger.warning(
          `store: ${store.name}: a commit still runs after ${STORE_CLOSE_MS} ms; closing anyway`,
        );
      }
      clearTimeout(timer);
    }
    if (snapshot && store.durable && (this.#options.storeQueueOnShutdown ?? false)) {
      const jobs = [...core.queue.jobs.values()]
        .filter((j) => j.background && !j.ignored && j.state !== JobState.DONE)
        .sort((a, b) => a.seq - b.seq);
      try {
        await store.replace(jobs, core.queue.counter);
        this.logger.notice(
          `store: ${store.name}: ${jobs.length} background job(s) written at shutdown`,
        );
      } catch (err) {
        this.logger.error(`store: could not write the queue at shutdown: ${String(err)}`);
        error = err;
      }
    }
    try {
      await store.close();
    } catch (err) {
      error ??= err;
    }
    if (error !== undefined) throw error;
  }

  /**
   * Stops now: listeners close, commits in flight finish (so their
   * JOB_CREATED replies go out), every connection is flushed and closed, and
   * the store is closed.
   * @throws {StoreError} when the queue could not be written at shutdown
   */
  async close(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#core.queue.onEmpty = undefined;
    await Promise.all(this.#listeners.map((l) => l.close()));
    let error: unknown;
    try {
      await this.#closeStore(true);
    } catch (err) {
      error = err;
    }
    this.#core.parked.close();
    this.#core.created.close();
    for (const sc of this.#byConn.values()) sc.end();
    this.#core.dispatcher.close();
    this.#core.queue.close();
    for (const job of this.#core.queue.jobs.values()) {
      if (job.timer !== undefined) clearTimeout(job.timer);
    }
    this.#resolveStopped();
    if (error !== undefined) throw error;
  }

  /**
   * Graceful stop (gearmand's SIGUSR1): stop accepting, keep serving the
   * connections there are, and close once no job is queued or running.
   */
  async drain(): Promise<void> {
    if (this.#state === "stopped" || this.#state === "draining") return this.stopped;
    this.#state = "draining";
    await Promise.all(this.#listeners.map((l) => l.close()));
    this.#listeners = [];
    if (this.#core.queue.jobs.size === 0) await this.close();
    else this.#core.queue.onEmpty = () => void this.close();
    return this.stopped;
  }

  readonly #handlers = {
    onOpen: (conn: Conn): void => {
      this.#open(conn);
    },
    onData: (conn: Conn, chunk: Uint8Array): void => {
      (this.#byConn.get(conn) ?? this.#open(conn)).receive(chunk);
    },
    onClose: (conn: Conn, err?: Error): void => {
      const sc = this.#byConn.get(conn);
      if (sc === undefined) return;
      this.#byConn.delete(conn);
      this.#core.connections.delete(sc);
      // Release first: nothing said about the connection may keep its jobs from being requeued.
      try {
        sc.release();
      } catch (cause) {
        this.logger.error(`releasing ${sc.ip}: ${String(cause)}`);
      }
      if (err !== undefined) this.logger.debug(`${sc.ip}: ${err.message}`);
    },
  };

  #open(conn: Conn): ServerConnection {
    const existing = this.#byConn.get(conn);
    if (existing !== undefined) return existing;
    const sc = new ServerConnection(this.#nextId++, conn, this.#core);
    this.#byConn.set(conn, sc);
    this.#core.connections.add(sc);
    if (this.#state === "stopped") sc.end();
    return sc;
  }
}

/**
 * Creates a job server; call `listen()` on it to start serving.
 *
 * @example
 * ```ts
 * import { createServer } from "./mod.ts";
 * const server = createServer({ port: 0 });
 * const [addr] = await server.listen();
 * await server.close();
 * ```
 */
export function createServer(options: ServerOptions = {}): GearmanServer {
  return new GearmanServer(options);
}
