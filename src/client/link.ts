import { ConnectionError, ServerError } from "../errors.ts";
import type { Addr, Conn, Net } from "../net/net.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { Decoder } from "../protocol/decoder.ts";
import { type Arg, encodeRequest } from "../protocol/encoder.ts";
import { concatBytes, latin1 } from "../util/bytes.ts";
import { Fifo } from "../util/fifo.ts";
import { setImmediate } from "node:timers";
import { formatAddr } from "./servers.ts";

/** A packet received from a server; arguments are owned copies. */
export interface Reply {
  readonly type: number;
  readonly args: Uint8Array[];
}

/** What a {@link Link} tells its owner. */
export interface LinkHandlers {
  /** Packets that answer no request: WORK_*, NOOP, and ERRORs with no request waiting. */
  onPacket(reply: Reply): void;
  /**
   * The connection is up (again). The packets returned are written before
   * any waiting request: options, a worker's registrations. Their replies
   * are not reported.
   */
  onConnect?(): readonly Greeting[];
  /** The connection was lost; requests in flight were rejected. */
  onDisconnect?(err: ConnectionError): void;
}

/** A packet sent first on every new connection. */
export interface Greeting {
  readonly type: number;
  readonly args?: readonly Arg[];
  /** True when the server answers it (OPTION_REQ), so its reply is skipped. */
  readonly answered?: boolean;
}

/** Settings of a {@link Link}. */
export interface LinkOptions {
  readonly connectTimeoutMs?: number;
  /** Requests written and not yet answered, at most (default 1024); more wait their turn. */
  readonly maxInFlight?: number;
  /** Backoff after a failed connect: first and longest wait in ms (default 100 and 5000). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

/** Reply types that answer the oldest request, in order (PROTOCOL.md §3 notes). */
const IN_ORDER = new Set<number>([
  T.JOB_CREATED,
  T.ECHO_RES,
  T.STATUS_RES,
  T.STATUS_RES_UNIQUE,
  T.OPTION_RES,
  T.NO_JOB,
  T.JOB_ASSIGN,
  T.JOB_ASSIGN_UNIQ,
  T.JOB_ASSIGN_ALL,
]);

interface Request {
  readonly packet: Uint8Array;
  readonly wantsReply: boolean;
  readonly onReply?: ((reply: Reply) => void) | undefined;
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

const NO_REPLY: Reply = { type: 0, args: [] };
const EMPTY = new Uint8Array(0);
const ignore = (): void => {};

/**
 * One connection to one server, opened on demand: requests are written in
 * the order they are made, coalesced per turn, at most `maxInFlight`
 * unanswered at once, and matched with the in-order replies. After a failed
 * connect the server counts as down until its backoff has passed.
 */
export class Link {
  readonly addr: Addr;
  /** Epoch ms before which a new connect is not tried (0 = any time). */
  downUntil = 0;
  readonly #net: Net;
  readonly #handlers: LinkHandlers;
  readonly #opts: Required<LinkOptions>;
  #conn: Conn | undefined;
  #connecting = false;
  #closed = false;
  #failures = 0;
  #blocked = false;
  readonly #waiting = new Fifo<Request>();
  readonly #inFlight = new Fifo<Request>();
  #out: Uint8Array[] = [];
  #outSize = 0;
  #scheduled = false;
  #decoder: Decoder | undefined;
  /** Ends the backoff wait before a reconnect, while one is under way. */
  #wakeEarly: (() => void) | undefined;
  readonly #flushLater = (): void => this.#flush();

  constructor(net: Net, addr: Addr, handlers: LinkHandlers, opts: LinkOptions = {}) {
    this.#net = net;
    this.addr = addr;
    this.#handlers = handlers;
    this.#opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      maxInFlight: opts.maxInFlight ?? 1024,
      retryMinMs: opts.retryMinMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 5000,
    };
  }

  /** `host:port`. */
  get name(): string {
    return formatAddr(this.addr);
  }

  /** True while connected. */
  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /** True when a request now would not wait out a backoff. */
  get available(): boolean {
    return this.#conn !== undefined || Date.now() >= this.downUntil;
  }

  /**
   * Sends a request and resolves with its in-order reply; an ERROR reply
   * rejects. `onReply` runs as the reply is decoded, before any packet after
   * it: the place to start listening for a job's WORK_* packets.
   */
  request(
    type: number,
    args: readonly Arg[] = [],
    onReply?: (reply: Reply) => void,
  ): Promise<Reply> {
    return this.#enqueue(encodeRequest(type, args), true, onReply);
  }

  /**
   * Sends a packet that gets no reply, fire and forget (a worker's WORK_*
   * packets, PRE_SLEEP). Dropped when the connection is lost before it is
   * written; {@link close} still sends it.
   */
  post(type: number, args: readonly Arg[] = []): void {
    if (this.#closed) return;
    this.#waiting.push({
      packet: encodeRequest(type, args),
      wantsReply: false,
      resolve: ignore,
      reject: ignore,
    });
    this.#pump();
  }

  /** Opens the connection now if it is not open. */
  connect(): Promise<void> {
    return this.#enqueue(encodeRequest(T.ECHO_REQ, ["ping"]), true).then(() => {});
  }

  /**
   * Closes for good: requests waiting for a reply are rejected, while
   * packets that get none (a worker's last WORK_COMPLETE, even one queued
   * behind back-pressure) still go out before the connection ends.
   */
  close(): void {
    this.#closed = true;
    this.#wakeEarly?.();
    const err = new ConnectionError(`connection to ${this.name} closed`, { code: "CLOSED" });
    for (let r = this.#inFlight.shift(); r !== undefined; r = this.#inFlight.shift()) r.reject(err);
    for (let r = this.#waiting.shift(); r !== undefined; r = this.#waiting.shift()) {
      if (r.wantsReply) r.reject(err);
      else if (this.#conn !== undefined) this.#write(r.packet);
    }
    this.#flush();
    this.#conn?.end();
    this.#conn = undefined;
  }

  #enqueue(
    packet: Uint8Array,
    wantsReply: boolean,
    onReply?: (reply: Reply) => void,
  ): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.#closed) {
        reject(new ConnectionError(`connection to ${this.name} closed`, { code: "CLOSED" }));
        return;
      }
      this.#waiting.push({ packet, wantsReply, resolve, reject, onReply });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#conn === undefined) {
      if (!this.#connecting) void this.#open();
      return;
    }
    while (
      !this.#blocked && this.#waiting.length > 0 && this.#inFlight.length < this.#opts.maxInFlight
    ) {
      const req = this.#waiting.shift() as Request;
      if (req.wantsReply) this.#inFlight.push(req);
      this.#write(req.packet);
      if (!req.wantsReply) req.resolve(NO_REPLY);
    }
  }

  async #open(): Promise<void> {
    this.#connecting = true;
    const wait = this.downUntil - Date.now();
    if (wait > 0) {
      // close() cuts the backoff short, so that no timer keeps the process alive.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wakeEarly = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeEarly = undefined;
      if (this.#closed) {
        this.#connecting = false;
        return;
      }
    }
    const decoder = new Decoder({
      onPacket: (_magic, type, args) => this.#receive(type, args),
      onAdminLine: () => {},
      onBadPacket: () => {},
    }, 0xffffffff);
    try {
      const conn = await this.#net.connect(this.addr, {
        onData: (_c, chunk) => {
          try {
            decoder.push(chunk);
          } catch (err) {
            conn.destroy(err instanceof Error ? err : new Error(String(err)));
          }
        },
        onDrain: () => {
          this.#blocked = false;
          this.#pump();
        },
        onClose: (c, err) => this.#lost(c, err),
      }, { timeoutMs: this.#opts.connectTimeoutMs });
      this.#connecting = false;
      if (this.#closed) {
        conn.destroy();
        return;
      }
      this.#conn = conn;
      this.#decoder = decoder;
      this.#failures = 0;
      this.downUntil = 0;
      for (const g of this.#handlers.onConnect?.() ?? []) {
        if (g.answered === true) {
          this.#inFlight.push({ packet: EMPTY, wantsReply: true, resolve: ignore, reject: ignore });
        }
        this.#write(encodeRequest(g.type, g.args ?? []));
      }
      this.#pump();
    } catch (err) {
      this.#connecting = false;
      this.#failures++;
      const backoff = Math.min(
        this.#opts.retryMaxMs,
        this.#opts.retryMinMs * 2 ** Math.min(this.#failures - 1, 16),
      );
      this.downUntil = Date.now() + backoff * (0.75 + Math.random() * 0.5);
      const code = (err as { code?: string }).code ?? "CONNECTION";
      this.#fail(
        new ConnectionError(`server ${this.name} is down: ${describe(err)}`, { cause: err, code }),
      );
    }
  }

  #lost(conn: Conn, err?: Error): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#decoder?.stop();
    this.#blocked = false;
    this.#out = [];
    this.#outSize = 0;
    const lost = new ConnectionError(
      `lost connection to ${this.name}${err ? `: ${err.message}` : ""}`,
      { code: "ECONNRESET", ...(err ? { cause: err } : {}) },
    );
    this.#fail(lost);
    this.#handlers.onDisconnect?.(lost);
  }

  #fail(err: ConnectionError): void {
    for (let r = this.#inFlight.shift(); r !== undefined; r = this.#inFlight.shift()) r.reject(err);
    for (let r = this.#waiting.shift(); r !== undefined; r = this.#waiting.shift()) r.reject(err);
  }

  #receive(type: number, views: Uint8Array[]): void {
    const args = views.map((v) => v.slice());
    const reply = { type, args };
    if (
      IN_ORDER.has(type) || (type === T.ERROR && this.#inFlight.length > 0 && !isJobError(args))
    ) {
      const req = this.#inFlight.shift();
      if (req !== undefined) {
        if (type === T.ERROR) {
          req.reject(
            ServerError.fromPacket(latin1(args[0] as Uint8Array), latin1(args[1] as Uint8Array)),
          );
        } else {
          req.onReply?.(reply);
          req.resolve(reply);
        }
        this.#pump();
        return;
      }
    }
    this.#handlers.onPacket(reply);
  }

  #write(packet: Uint8Array): void {
    this.#out.push(packet);
    this.#outSize += packet.length;
    if (this.#outSize >= 65536) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // After this turn's I/O callbacks and their promise reactions, not at the
      // first microtask: a worker's WORK_COMPLETE and its next GRAB_JOB, or a
      // client's submits made as results arrive, go out in one write.
      setImmediate(this.#flushLater);
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const conn = this.#conn;
    if (conn === undefined || this.#out.length === 0) return;
    const out = this.#out;
    const size = this.#outSize;
    this.#out = [];
    this.#outSize = 0;
    const ok = out.length === 1
      ? conn.write(out[0] as Uint8Array)
      : size <= 65536
      ? conn.write(concatBytes(out, size))
      : conn.writev(out);
    if (!ok) this.#blocked = true;
  }
}

/** JOB_NOT_FOUND answers a worker's WORK_* packet, which is no request. */
function isJobError(args: Uint8Array[]): boolean {
  return latin1(args[0] ?? new Uint8Array(0)) === "JOB_NOT_FOUND";
}

function describe(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ETIMEDOUT" || code === "TIMEOUT") return "connect timed out";
  return err instanceof Error ? err.message : String(err);
}
