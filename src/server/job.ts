import { Fifo } from "../util/fifo.ts";
import { latin1Bytes } from "../util/bytes.ts";
import type { Priority } from "../protocol/constants.ts";
import type { ServerConnection } from "./connection.ts";
import type { Sleeper } from "./dispatcher.ts";

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

/** One unit of work. Strings are latin1 (one char per byte) so any bytes round-trip. */
export class Job {
  readonly handle: string;
  /** The counter value in the handle: creation order, and the store's row key. */
  readonly seq: number;
  readonly fn: FunctionEntry;
  readonly unique: string;
  /** Coalescing key within the function; undefined when the job never coalesces. */
  readonly key: string | undefined;
  readonly data: Uint8Array;
  readonly reducer: string;
  readonly priority: Priority;
  /** Run-at time in epoch milliseconds; 0 = now. */
  readonly when: number;
  /** Foreground clients waiting for the result, in attach order. */
  clients: ServerConnection[] | undefined = undefined;
  /** True while a background submit wants this job run. */
  background: boolean;
  worker: ServerConnection | undefined = undefined;
  state: JobState = JobState.QUEUED;
  /** No one wants the result any more: drop instead of running. */
  ignored = false;
  retries = 0;
  numerator = "0";
  denominator = "0";
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Its row in the store. */
  persisted: Persisted = Persisted.NO;
  /** Background submitters whose JOB_CREATED waits for the row's commit. */
  waiters: ReplySlot | undefined = undefined;

  constructor(
    handle: string,
    seq: number,
    fn: FunctionEntry,
    unique: string,
    key: string | undefined,
    data: Uint8Array,
    reducer: string,
    priority: Priority,
    background: boolean,
    when: number,
  ) {
    this.handle = handle;
    this.seq = seq;
    this.fn = fn;
    this.unique = unique;
    this.key = key;
    this.data = data;
    this.reducer = reducer;
    this.priority = priority;
    this.background = background;
    this.when = when;
  }

  /** True while someone is waiting for or wants the job. */
  get wanted(): boolean {
    return this.background || (this.clients !== undefined && this.clients.length > 0);
  }
}

/** Everything the server keeps per function name. */
export class FunctionEntry {
  readonly name: string;
  readonly nameBytes: Uint8Array;
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
  /** Workers woken (NOOP sent) that have not grabbed yet. */
  woken = 0;
  /** Pending re-check of late wakers. */
  wakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(name: string) {
    this.name = name;
    this.nameBytes = latin1Bytes(name);
  }

  /** Runnable jobs in the queues (including cancelled ones not reaped yet). */
  get queued(): number {
    return this.queues[0].length + this.queues[1].length + this.queues[2].length;
  }
}
