import { Fifo } from "../util/fifo.ts";
import { latin1Bytes } from "../util/bytes.ts";
import { type Payload, payloadBytes } from "./payload.ts";
import type { Priority } from "../protocol/constants.ts";
import type { ServerConnection } from "./connection.ts";
import type { Sleeper } from "./dispatcher.ts";
import type { Handles } from "./handles.ts";
import type { ParkedWorker } from "./parked_grabs.ts";

/**
 * A job's life: waiting in a queue or for its run-at time, held by a worker,
 * or (PENDING) created but not runnable until its store commit is done.
 */
export const JobState = { QUEUED: 0, DELAYED: 1, RUNNING: 2, DONE: 3, PENDING: 4 } as const;
/** One of {@link JobState}. */
export type JobState = typeof JobState[keyof typeof JobState];

/** Whether a job has a row in the store: none, insert not yet committed, committed. */
export const Persisted = { NO: 0, INSERTING: 1, YES: 2 } as const;
/** One of {@link Persisted}. */
export type Persisted = typeof Persisted[keyof typeof Persisted];

/** A reply held in a connection's ordered output until its bytes are known. */
export class ReplySlot {
  bytes: Uint8Array | undefined = undefined;
  /** The next slot waiting on the same job's commit. */
  next: ReplySlot | undefined = undefined;
  readonly owner: { fill(slot: ReplySlot, bytes: Uint8Array): void };

  constructor(owner: { fill(slot: ReplySlot, bytes: Uint8Array): void }) {
    this.owner = owner;
  }
}

/** What few jobs need: kept apart so that a queued plain job stays small. */
class JobExtra {
  /** A handle that is not `<prefix>:<seq>` (replayed from a store written under another prefix). */
  handle: string | undefined = undefined;
  reducer = "";
  when = 0;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  numerator = "0";
  denominator = "0";
  waiters: ReplySlot | undefined = undefined;
}

/** Who a job is with; made when it first has a foreground client or a worker. */
class JobLinks {
  clients: ServerConnection[] | undefined = undefined;
  worker: ServerConnection | undefined = undefined;
  heldAt = -1;
}

// Layout of Job.#bits.
const STATE = 0x7;
const PRIORITY_SHIFT = 3;
const PRIORITY = 0x3 << PRIORITY_SHIFT;
const PERSISTED_SHIFT = 5;
const PERSISTED = 0x3 << PERSISTED_SHIFT;
const BACKGROUND = 1 << 7;
const IGNORED = 1 << 8;
const RETRIES_SHIFT = 9;
/** Retries are counted up to this (the flags stay a small integer on every engine). */
const MAX_RETRIES = (1 << 21) - 1;

/**
 * One unit of work. Strings are latin1 (one char per byte) so any bytes
 * round-trip. A million of these may wait in memory, so a job is one small
 * object: its handle is its counter (see {@link Handles}), its flags share
 * one number, a small payload is a string, its clients and worker live in
 * an object made when it has either, and rarely used fields in another.
 */
export class Job {
  /** The counter value in the handle: creation order, and the store's row key. */
  readonly seq: number;
  readonly fn: FunctionEntry;
  readonly unique: string;
  /** The payload (see {@link Payload}); emptied when the job is done (see `JobQueue.finish`). */
  payload: Payload;
  #bits: number;
  #links: JobLinks | undefined = undefined;
  #extra: JobExtra | undefined = undefined;

  constructor(
    seq: number,
    fn: FunctionEntry,
    unique: string,
    payload: Payload,
    reducer: string,
    priority: Priority,
    background: boolean,
    when: number,
  ) {
    this.seq = seq;
    this.fn = fn;
    this.unique = unique;
    this.payload = payload;
    this.#bits = (priority << PRIORITY_SHIFT) | (background ? BACKGROUND : 0);
    if (reducer.length > 0) this.#more().reducer = reducer;
    if (when !== 0) this.#more().when = when;
  }

  /** The job handle, `<prefix>:<seq>` unless replayed under another prefix. */
  get handle(): string {
    return this.#extra?.handle ?? this.fn.handles.format(this.seq);
  }

  /** A handle other than `<prefix>:<seq>`, if the job has one. */
  get customHandle(): string | undefined {
    return this.#extra?.handle;
  }

  set customHandle(handle: string | undefined) {
    if (handle !== undefined || this.#extra !== undefined) this.#more().handle = handle;
  }

  /** The payload as bytes (a new array unless it is kept as one). */
  get data(): Uint8Array {
    return payloadBytes(this.payload);
  }

  get reducer(): string {
    return this.#extra?.reducer ?? "";
  }

  /** Run-at time in epoch milliseconds; 0 = now. */
  get when(): number {
    return this.#extra?.when ?? 0;
  }

  /** Attempts that ended with the worker gone (PROTOCOL.md §7.2); counts up to 2^21 - 1. */
  get retries(): number {
    return this.#bits >>> RETRIES_SHIFT;
  }

  set retries(n: number) {
    const kept = n > MAX_RETRIES ? MAX_RETRIES : n < 0 ? 0 : n;
    this.#bits = (this.#bits & ((1 << RETRIES_SHIFT) - 1)) | (kept << RETRIES_SHIFT);
  }

  get priority(): Priority {
    return ((this.#bits & PRIORITY) >> PRIORITY_SHIFT) as Priority;
  }

  get state(): JobState {
    return (this.#bits & STATE) as JobState;
  }

  set state(state: JobState) {
    this.#bits = (this.#bits & ~STATE) | state;
  }

  /** Its row in the store. */
  get persisted(): Persisted {
    return ((this.#bits & PERSISTED) >> PERSISTED_SHIFT) as Persisted;
  }

  set persisted(p: Persisted) {
    this.#bits = (this.#bits & ~PERSISTED) | (p << PERSISTED_SHIFT);
  }

  /** True while a background submit wants this job run. */
  get background(): boolean {
    return (this.#bits & BACKGROUND) !== 0;
  }

  set background(on: boolean) {
    this.#bits = on ? this.#bits | BACKGROUND : this.#bits & ~BACKGROUND;
  }

  /** No one wants the result any more: drop instead of running. */
  get ignored(): boolean {
    return (this.#bits & IGNORED) !== 0;
  }

  set ignored(on: boolean) {
    this.#bits = on ? this.#bits | IGNORED : this.#bits & ~IGNORED;
  }

  /** Worker timeout timer (CAN_DO_TIMEOUT). */
  get timer(): ReturnType<typeof setTimeout> | undefined {
    return this.#extra?.timer;
  }

  set timer(timer: ReturnType<typeof setTimeout> | undefined) {
    if (timer !== undefined || this.#extra !== undefined) this.#more().timer = timer;
  }

  /** WORK_STATUS progress, as the worker sent it. */
  get numerator(): string {
    return this.#extra?.numerator ?? "0";
  }

  set numerator(n: string) {
    if (n !== "0" || this.#extra !== undefined) this.#more().numerator = n;
  }

  get denominator(): string {
    return this.#extra?.denominator ?? "0";
  }

  set denominator(n: string) {
    if (n !== "0" || this.#extra !== undefined) this.#more().denominator = n;
  }

  /** Background submitters whose JOB_CREATED waits for the row's commit. */
  get waiters(): ReplySlot | undefined {
    return this.#extra?.waiters;
  }

  set waiters(slot: ReplySlot | undefined) {
    if (slot !== undefined || this.#extra !== undefined) this.#more().waiters = slot;
  }

  /** Foreground clients waiting for the result, in attach order. */
  get clients(): ServerConnection[] | undefined {
    return this.#links?.clients;
  }

  set clients(clients: ServerConnection[] | undefined) {
    if (clients !== undefined || this.#links !== undefined) this.#linked().clients = clients;
  }

  /** The worker running the job. */
  get worker(): ServerConnection | undefined {
    return this.#links?.worker;
  }

  set worker(worker: ServerConnection | undefined) {
    if (worker !== undefined || this.#links !== undefined) this.#linked().worker = worker;
  }

  /** Index in the worker's `held` list while it runs; -1 otherwise. */
  get heldAt(): number {
    return this.#links?.heldAt ?? -1;
  }

  set heldAt(at: number) {
    if (at !== -1 || this.#links !== undefined) this.#linked().heldAt = at;
  }

  /** True while someone is waiting for or wants the job. */
  get wanted(): boolean {
    return this.background || (this.clients !== undefined && this.clients.length > 0);
  }

  #more(): JobExtra {
    return (this.#extra ??= new JobExtra());
  }

  #linked(): JobLinks {
    return (this.#links ??= new JobLinks());
  }
}

/** Everything the server keeps per function name. */
export class FunctionEntry {
  readonly name: string;
  readonly nameBytes: Uint8Array;
  /** How this server writes and reads job handles. */
  readonly handles: Handles;
  /** The next entry whose name has the same hash (JobQueue's lookup by bytes). */
  nextSameHash: FunctionEntry | undefined = undefined;
  /** Runnable jobs at high, normal and low priority. */
  readonly queues: readonly [Fifo<Job>, Fifo<Job>, Fifo<Job>] = [
    new Fifo(),
    new Fifo(),
    new Fifo(),
  ];
  /** Jobs of this function that exist: queued, delayed or running. */
  total = 0;
  running = 0;
  /** Epoch jobs not yet due. */
  delayed = 0;
  /** Worker registrations (a duplicate CAN_DO counts twice, as in gearmand). */
  workers = 0;
  /** `maxqueue` limits per priority; 0 = unlimited. */
  maxQueue: [number, number, number] = [0, 0, 0];
  /** Jobs by coalescing key. */
  readonly byKey = new Map<string, Job>();
  /** Workers that said PRE_SLEEP and have not been woken, oldest first. */
  readonly sleepers = new Set<Sleeper>();
  /** Workers whose empty grab waits for a job of this function (see ParkedGrabs). */
  readonly parked = new Set<ParkedWorker>();
  /** Workers woken (NOOP sent) that have not grabbed yet. */
  woken = 0;
  /** Pending re-check of late wakers. */
  wakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(name: string, handles: Handles) {
    this.name = name;
    this.nameBytes = latin1Bytes(name);
    this.handles = handles;
  }

  /** Runnable jobs in the queues (including cancelled ones not reaped yet). */
  get queued(): number {
    return this.queues[0].length + this.queues[1].length + this.queues[2].length;
  }
}
