import type { Conn } from "../net/net.ts";
import { ProtocolError } from "../errors.ts";
import { type Magic, MAGIC_RES, PACKET_NAMES, PacketType } from "../protocol/constants.ts";
import { Decoder, type DecoderHandlers } from "../protocol/decoder.ts";
import { type Arg, encodeResponse } from "../protocol/encoder.ts";
import { concatBytes, latin1Bytes } from "../util/bytes.ts";
import { Fifo } from "../util/fifo.ts";
import { runAdminCommand } from "./admin_commands.ts";
import { handleClientPacket } from "./client_handlers.ts";
import type { Core } from "./core.ts";
import { SleepState } from "./dispatcher.ts";
import { type FunctionEntry, type Job, ReplySlot } from "./job.ts";
import { handleWorkerPacket, releaseWorker } from "./worker_handlers.ts";

/** Writes smaller than this are copied into one buffer per flush. */
const COALESCE_LIMIT = 65536;
/** Queued output above this is flushed at once instead of at the end of the turn. */
const FLUSH_THRESHOLD = 262144;

const NOOP = encodeResponse(PacketType.NOOP);

/**
 * One peer of the server: its decoder, its coalesced output, and what it is
 * as a client (jobs it waits on) and as a worker (abilities, jobs it holds).
 * Roles are not declared in Gearman; any connection may be both.
 */
export class ServerConnection implements DecoderHandlers {
  readonly id: number;
  readonly conn: Conn;
  readonly core: Core;
  readonly #decoder: Decoder;
  /** Set by SET_CLIENT_ID; shown by `workers`. */
  clientId = "-";
  /** Set by OPTION_REQ exceptions. */
  exceptions = false;
  /** CAN_DO registrations in order, duplicates kept (as `workers` lists them). */
  registrations: FunctionEntry[] = [];
  /** Distinct functions this worker can do. */
  abilities: FunctionEntry[] = [];
  /** CAN_DO_TIMEOUT per function, in milliseconds. */
  timeouts: Map<FunctionEntry, number> | undefined = undefined;
  /** Round-robin position in `abilities` for the next grab. */
  rr = 0;
  sleep: SleepState = SleepState.AWAKE;
  /** Jobs this worker is running. */
  readonly held = new Set<Job>();
  /** Foreground jobs this client waits on. */
  readonly waiting = new Set<Job>();
  closed = false;
  #out: Uint8Array[] = [];
  #outSize = 0;
  #scheduled = false;
  /** Replies queued behind a {@link ReplySlot} not filled yet, in request order. */
  #held: Fifo<Uint8Array | ReplySlot> | undefined = undefined;
  readonly #flushLater = (): void => this.flush();

  constructor(id: number, conn: Conn, core: Core) {
    this.id = id;
    this.conn = conn;
    this.core = core;
    this.#decoder = new Decoder(this, core.settings.maxPacketSize);
  }

  /** The peer's IP address without an IPv4-mapped prefix. */
  get ip(): string {
    const host = this.conn.remote.hostname;
    return host.startsWith("::ffff:") ? host.slice(7) : host;
  }

  /** Feeds received bytes. Never throws: a broken peer is closed. */
  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#fault(err);
    }
  }

  onPacket(magic: Magic, type: number, args: Uint8Array[]): void {
    if (magic === MAGIC_RES) {
      this.sendError("INVALID_MAGIC", "Request magic expected");
      return;
    }
    if (handleClientPacket(this, type, args)) return;
    if (handleWorkerPacket(this, type, args)) return;
    this.core.logger.debug(`${this.ip}: unexpected ${PACKET_NAMES[type]}`);
    this.sendError("INVALID_COMMAND", "Command not expected");
  }

  onAdminLine(line: string): void {
    runAdminCommand(this, line);
  }

  onBadPacket(_magic: Magic, type: number, problem: string): void {
    this.core.logger.warning(`${this.ip}: bad ${PACKET_NAMES[type]}: ${problem}`);
    this.sendError("INVALID_PACKET", `${PACKET_NAMES[type]}: ${problem}`);
  }

  /** Queues a packet; everything queued in one turn goes out in one write. */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.#out.push(bytes);
    this.#outSize += bytes.length;
    if (this.#outSize >= FLUSH_THRESHOLD) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushLater);
    }
  }

  /** Queues an asynchronous packet (NOOP, WORK_*, JOB_ASSIGN): never held back. */
  sendPacket(type: number, args: readonly Arg[] = []): void {
    this.send(encodeResponse(type, args));
  }

  /**
   * Queues the reply to a request (SUBMIT, GET_STATUS, ECHO, OPTION, admin
   * lines, ERROR). Replies leave in request order (PROTOCOL.md §3), so one
   * that follows a reserved slot waits until the slot is filled.
   */
  reply(bytes: Uint8Array): void {
    const held = this.#held;
    if (held === undefined || held.length === 0) this.send(bytes);
    else held.push(bytes);
  }

  replyPacket(type: number, args: readonly Arg[] = []): void {
    this.reply(encodeResponse(type, args));
  }

  /** Holds the next place in the reply order for bytes known later (see {@link fill}). */
  reserve(): ReplySlot {
    const slot = new ReplySlot(this);
    (this.#held ??= new Fifo()).push(slot);
    return slot;
  }

  /** Gives a reserved slot its bytes and sends every reply that no longer waits. */
  fill(slot: ReplySlot, bytes: Uint8Array): void {
    slot.bytes = bytes;
    const held = this.#held;
    if (held === undefined) return;
    for (let head = held.peek(); head !== undefined; head = held.peek()) {
      if (!(head instanceof ReplySlot)) this.send(head);
      else if (head.bytes !== undefined) this.send(head.bytes);
      else return;
      held.shift();
    }
  }

  sendError(code: string, text: string): void {
    this.replyPacket(PacketType.ERROR, [code, text]);
  }

  /** Sends admin-protocol text (latin1) as one piece, in reply order. */
  sendText(text: string): void {
    this.reply(latin1Bytes(text));
  }

  sendNoop(): void {
    this.send(NOOP);
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#out.length === 0 || this.closed) return;
    const out = this.#out;
    const size = this.#outSize;
    this.#out = [];
    this.#outSize = 0;
    if (out.length === 1) {
      this.conn.write(out[0] as Uint8Array);
    } else if (size <= COALESCE_LIMIT) {
      this.conn.write(concatBytes(out, size));
    } else {
      for (const bytes of out) this.conn.write(bytes);
    }
  }

  /** Flushes pending output and closes the connection. */
  end(): void {
    this.flush();
    this.#decoder.stop();
    this.conn.end();
  }

  /** The socket closed: give back held jobs, drop unwanted ones, forget abilities. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.#decoder.stop();
    this.#out = [];
    this.#held = undefined;
    releaseWorker(this);
    this.core.detach(this);
  }

  #fault(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ProtocolError) {
      this.core.logger.warning(`${this.ip}: ${message}; closing connection`);
      if (err.errorCode !== undefined) this.sendError(err.errorCode, message);
    } else {
      this.core.logger.error(`${this.ip}: internal error: ${message}; closing connection`);
    }
    this.end();
  }
}
