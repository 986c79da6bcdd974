import type { Conn } from "../net/net.ts";
import { ProtocolError } from "../errors.ts";
import { type Magic, MAGIC_RES, PACKET_NAMES, PacketType } from "../protocol/constants.ts";
import { Decoder, type FrameHandlers } from "../protocol/decoder.ts";
import type { Frame } from "../protocol/frame.ts";
import { type Arg, encodeResponse } from "../protocol/encoder.ts";
import { latin1Bytes, writeLatin1 } from "../util/bytes.ts";
import { adminError, runAdminCommand } from "./admin_commands.ts";
import { handleClientPacket } from "./client_handlers.ts";
import type { Core } from "./core.ts";
import { SleepState } from "./dispatcher.ts";
import type { FunctionEntry, Job } from "./job.ts";
import { INLINE_LIMIT, Output } from "./output.ts";
import type { CreatedHolder } from "./held_created.ts";
import type { ParkedWorker } from "./parked_grabs.ts";
import { grab, handleWorkerPacket, releaseWorker } from "./worker_handlers.ts";

/**
 * One peer of the server: its decoder, its coalesced output, and what it is
 * as a client (jobs it waits on) and as a worker (abilities, jobs it holds).
 * Roles are not declared in Gearman; any connection may be both.
 */
export class ServerConnection extends Output implements FrameHandlers, ParkedWorker, CreatedHolder {
  readonly id: number;
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
  parkedGrab = 0;
  parks = 0;
  createdJob: Job | undefined = undefined;
  createdHolds = 0;
  /** The highest job `seq` whose JOB_CREATED was queued behind replies waiting for a commit. */
  #createdBehind = 0;
  /** Jobs this worker is running, in no order; each knows its index (`heldAt`). */
  readonly held: Job[] = [];
  /**
   * Foreground jobs this client waits on, once per attach. Jobs that ended
   * stay until the list is compacted (a Set would allocate on every delete).
   */
  #waiting: Job[] = [];
  #waitingLive = 0;

  constructor(id: number, conn: Conn, core: Core) {
    super(conn, core.slab);
    this.id = id;
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

  onFrame(magic: Magic, type: number, frame: Frame): void {
    this.#settle();
    if (magic === MAGIC_RES) {
      this.sendError("INVALID_MAGIC", "Request magic expected");
      return;
    }
    if (handleClientPacket(this, type, frame)) return;
    if (handleWorkerPacket(this, type, frame)) return;
    this.core.logger.debug(`${this.ip}: unexpected ${PACKET_NAMES[type]}`);
    this.sendError("INVALID_COMMAND", "Command not expected");
  }

  onAdminLine(line: string): void {
    this.#settle();
    runAdminCommand(this, line);
  }

  onBadPacket(_magic: Magic, type: number, problem: string): void {
    this.#settle();
    this.core.logger.warning(`${this.ip}: bad ${PACKET_NAMES[type]}: ${problem}`);
    this.sendError("INVALID_PACKET", `${PACKET_NAMES[type]}: ${problem}`);
  }

  /** Queues an asynchronous packet (NOOP, WORK_*, JOB_ASSIGN): never held back. */
  sendPacket(type: number, args: readonly Arg[] = []): void {
    this.send(encodeResponse(type, args));
  }

  replyPacket(type: number, args: readonly Arg[] = []): void {
    this.reply(encodeResponse(type, args));
  }

  /** Queues a packet whose one argument is the job's handle (JOB_CREATED, WORK_FAIL). */
  sendHandle(type: number, job: Job, reply = false): void {
    const custom = job.customHandle;
    if (custom !== undefined) {
      const at = this.startPacket(type, custom.length, reply);
      writeLatin1(this.out, at, custom);
      return;
    }
    const handles = this.core.queue.handles;
    const at = this.startPacket(type, handles.length(job.seq), reply);
    handles.write(this.out, at, job.seq);
  }

  /**
   * Queues JOB_ASSIGN, JOB_ASSIGN_UNIQ or JOB_ASSIGN_ALL for a job: handle,
   * function, then (per type) unique and reducer, then the payload.
   */
  sendAssign(type: number, job: Job): void {
    const custom = job.customHandle;
    const handles = this.core.queue.handles;
    const handleLen = custom === undefined ? handles.length(job.seq) : custom.length;
    const name = job.fn.nameBytes;
    const unique = type === PacketType.JOB_ASSIGN ? undefined : job.unique;
    const reducer = type === PacketType.JOB_ASSIGN_ALL ? job.reducer : undefined;
    const payload = job.payload;
    // Large payloads go out as they are, after the rest written into the slab.
    const inline = typeof payload === "string" ||
      (payload instanceof Uint8Array && payload.length <= INLINE_LIMIT);
    let head = handleLen + 1 + name.length + 1 + (inline ? payload.length : 0);
    if (unique !== undefined) head += unique.length + 1;
    if (reducer !== undefined) head += reducer.length + 1;
    if (head > INLINE_LIMIT) {
      // A long handle, unique or reducer: the plain encoder copes with any size.
      const args: Arg[] = [job.handle, name];
      if (unique !== undefined) args.push(unique);
      if (reducer !== undefined) args.push(reducer);
      args.push(job.data);
      this.sendPacket(type, args);
      return;
    }
    let at = this.startPacket(type, head, false, inline ? undefined : payload);
    const out = this.out;
    at = custom === undefined ? handles.write(out, at, job.seq) : writeLatin1(out, at, custom);
    out[at++] = 0;
    for (let i = 0; i < name.length; i++) out[at + i] = name[i] as number;
    at += name.length;
    out[at++] = 0;
    if (unique !== undefined) {
      at = writeLatin1(out, at, unique);
      out[at++] = 0;
    }
    if (reducer !== undefined) {
      at = writeLatin1(out, at, reducer);
      out[at++] = 0;
    }
    if (typeof payload === "string") writeLatin1(out, at, payload);
    else if (inline) out.set(payload as Uint8Array, at);
  }

  /** Queues a foreground job's JOB_CREATED, in reply order. */
  sendCreated(job: Job): void {
    if (this.repliesHeld && job.seq > this.#createdBehind) this.#createdBehind = job.seq;
    this.sendHandle(PacketType.JOB_CREATED, job, true);
  }

  /**
   * Queues a packet about a job this client waits on (WORK_*). It is not
   * held back by replies waiting for a commit, unless the job's own
   * JOB_CREATED is among them; a held JOB_CREATED goes out first.
   */
  sendAbout(job: Job, bytes: Uint8Array): void {
    this.releaseCreated();
    if (this.#behindCreated(job)) this.reply(bytes);
    else this.send(bytes);
  }

  /** As {@link sendAbout}, with the payload of a received frame, as it came. */
  forward(job: Job, type: number, frame: Frame): void {
    this.releaseCreated();
    const inOrder = this.#behindCreated(job);
    const { buf, start, end, rest } = frame;
    const size = end - start;
    if (rest.length > 0) {
      this.startPacket(type, 0, inOrder, [buf.subarray(start, end), ...rest]);
    } else if (size > INLINE_LIMIT) {
      this.startPacket(type, 0, inOrder, buf.subarray(start, end));
    } else {
      const at = this.startPacket(type, size, inOrder);
      const out = this.out;
      for (let i = 0; i < size; i++) out[at + i] = buf[start + i] as number;
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
    this.startPacket(PacketType.NOOP, 0);
  }

  /** Sends a held JOB_CREATED now (see CreatedHolds). */
  releaseCreated(): void {
    if (this.createdJob !== undefined) this.core.created.release(this);
  }

  sendNoJob(): void {
    this.startPacket(PacketType.NO_JOB, 0);
  }

  regrab(type: number): void {
    grab(this, type);
  }

  /** This worker runs the job now. */
  hold(job: Job): void {
    job.heldAt = this.held.length;
    this.held.push(job);
  }

  /** This worker no longer runs the job. */
  unhold(job: Job): void {
    const held = this.held;
    const at = job.heldAt;
    if (held[at] !== job) return;
    const last = held.pop() as Job;
    if (last !== job) {
      held[at] = last;
      last.heldAt = at;
    }
    job.heldAt = -1;
  }

  /** This client waits on the job (once per attach). */
  wait(job: Job): void {
    const waiting = this.#waiting;
    waiting.push(job);
    this.#waitingLive++;
    if (waiting.length >= 64 && waiting.length > 2 * this.#waitingLive) {
      this.#waiting = waiting.filter((j) => j.clients !== undefined && j.clients.includes(this));
    }
  }

  /**
   * One attach of this client to `job` is over (the job ended or was
   * cancelled). Jobs no longer waited on are dropped from the end of the
   * list at once: with one job at a time, the list never holds an ended
   * job (nor its payload) until the next compaction.
   */
  unwait(job: Job): void {
    this.#waitingLive--;
    const waiting = this.#waiting;
    if (waiting[waiting.length - 1] !== job) return;
    waiting.pop();
    let last = waiting[waiting.length - 1];
    while (last !== undefined && !(last.clients?.includes(this) ?? false)) {
      waiting.pop();
      last = waiting[waiting.length - 1];
    }
  }

  /** Takes the list of jobs this client waits on; ended ones may be among them. */
  takeWaiting(): Job[] {
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#waitingLive = 0;
    return waiting;
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
    this.discard();
    releaseWorker(this);
    this.core.detach(this);
  }

  #behindCreated(job: Job): boolean {
    return job.seq <= this.#createdBehind && this.repliesHeld;
  }

  /** A request came: what waited for it (a parked grab, a held JOB_CREATED) is answered first. */
  #settle(): void {
    if (this.parkedGrab !== 0) this.core.parked.answer(this);
    this.releaseCreated();
  }

  #fault(err: unknown): void {
    // The bad input is a request too: what waits for one goes out before its answer.
    this.#settle();
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ProtocolError) {
      this.core.logger.warning(`${this.ip}: ${message}; closing connection`);
      const code = err.errorCode;
      if (code !== undefined && err.adminLine) this.sendText(adminError(code, message));
      else if (code !== undefined) this.sendError(code, message);
    } else {
      this.core.logger.error(`${this.ip}: internal error: ${message}; closing connection`);
    }
    this.end();
  }
}
