import type { Priority } from "../protocol/constants.ts";
import { latin1, latin1At } from "../util/bytes.ts";
import type { StoredJob } from "../store/store.ts";
import { Functions } from "./functions.ts";
import { Handles } from "./handles.ts";
import { type FunctionEntry, Job, JobState, Persisted } from "./job.ts";
import { keyOf, type Payload, SMALL_PAYLOAD } from "./payload.ts";
import { JobTable } from "./job_table.ts";

/**
 * The server's jobs: functions with their per-priority FIFOs, the handle and
 * unique-id indexes, and the epoch jobs waiting for their time. Every
 * operation on the hot path is O(1) in the number of jobs.
 */
export class JobQueue {
  /** Every live job by its handle's counter. */
  readonly jobs = new JobTable();
  /** How handles are written and parsed. */
  readonly handles: Handles;
  /** The functions, also found by the bytes of their names. */
  readonly fns: Functions;
  /** Jobs whose handle is not `<prefix>:<seq>` (replayed under another prefix), by handle. */
  #odd: Map<string, Job> | undefined;
  #counter = 0;
  /** Index in the abilities of the job {@link take} returned last. */
  takenIndex = 0;
  /** Epoch jobs not yet due, ordered by run-at time. */
  #delayed: Job[] = [];
  #delayTimer: ReturnType<typeof setTimeout> | undefined;
  #delayAt = 0;
  readonly #now: () => number;
  readonly #onRunnable: (fn: FunctionEntry) => void;
  readonly #onForget: (job: Job) => void;
  /**
   * Called when the last job has left the queue, however it left (ended,
   * cancelled and reaped at a grab, dropped with its function, failed to store).
   */
  onEmpty: (() => void) | undefined = undefined;

  /**
   * `onRunnable` is told whenever a function gains a runnable job;
   * `onForget` when a job that has a row in the store is forgotten.
   */
  constructor(
    prefix: string,
    now: () => number,
    onRunnable: (fn: FunctionEntry) => void,
    onForget: (job: Job) => void = () => {},
  ) {
    this.handles = new Handles(prefix);
    this.fns = new Functions(this.handles);
    this.#now = now;
    this.#onRunnable = onRunnable;
    this.#onForget = onForget;
  }

  /** The last handle number given out. */
  get counter(): number {
    return this.#counter;
  }

  /** Every function by (latin1) name, in creation order. */
  get functions(): ReadonlyMap<string, FunctionEntry> {
    return this.fns.byName;
  }

  /** The entry for a function, created on first use. */
  fn(name: string): FunctionEntry {
    return this.fns.get(name);
  }

  /** The live job with this handle. */
  byHandle(handle: string): Job | undefined {
    const seq = this.handles.parseText(handle);
    if (seq >= 0) {
      const job = this.jobs.get(seq);
      if (job !== undefined && job.customHandle === undefined) return job;
    }
    return this.#odd?.get(handle);
  }

  /** The live job whose handle is `buf[start..end)`. */
  byHandleAt(buf: Uint8Array, start: number, end: number): Job | undefined {
    const seq = this.handles.parse(buf, start, end);
    if (seq >= 0) {
      const job = this.jobs.get(seq);
      if (job !== undefined && job.customHandle === undefined) return job;
    }
    return this.#odd === undefined ? undefined : this.#odd.get(latin1At(buf, start, end));
  }

  /** True when a new job at `priority` would exceed the function's `maxqueue`. */
  isFull(fn: FunctionEntry, priority: Priority): boolean {
    const limit = fn.maxQueue[priority];
    return limit > 0 && fn.total >= limit;
  }

  /**
   * Creates a job and indexes it under `key` (see `keyOf`). `payload`
   * must be owned by the job (see `payloadOf`). The job is queued now,
   * or, when `pending`, left PENDING until {@link release}.
   */
  create(
    fn: FunctionEntry,
    key: string | undefined,
    unique: string,
    payload: Payload,
    reducer: string,
    priority: Priority,
    background: boolean,
    when: number,
    pending = false,
  ): Job {
    const seq = ++this.#counter;
    const job = new Job(seq, fn, unique, payload, reducer, priority, background, when);
    this.jobs.add(job);
    if (key !== undefined) fn.byKey.set(key, job);
    fn.total++;
    if (pending) job.state = JobState.PENDING;
    else this.#enqueue(job);
    return job;
  }

  /** A PENDING job's commit is done: it becomes runnable. */
  release(job: Job): void {
    if (job.state === JobState.PENDING) this.#enqueue(job);
  }

  /**
   * Queues a job read back from the store, with its handle, retry count and
   * run-at time; later handles continue after the highest one seen.
   */
  restore(stored: StoredJob): Job {
    if (stored.seq > this.#counter) this.#counter = stored.seq;
    const fn = this.fn(stored.fn.name);
    const data = stored.data;
    const payload = data.length <= SMALL_PAYLOAD ? latin1(data) : data;
    const key = keyOf(stored.unique, payload);
    const job = new Job(
      stored.seq,
      fn,
      stored.unique,
      payload,
      stored.reducer,
      stored.priority,
      true,
      stored.when,
    );
    job.retries = stored.retries;
    job.persisted = Persisted.YES;
    if (stored.handle !== this.handles.format(stored.seq)) {
      job.customHandle = stored.handle;
      (this.#odd ??= new Map()).set(stored.handle, job);
    }
    this.jobs.add(job);
    if (key !== undefined && !fn.byKey.has(key)) fn.byKey.set(key, job);
    fn.total++;
    this.#enqueue(job);
    return job;
  }

  /** Raises the handle counter (never lowers it). */
  raiseCounter(counter: number): void {
    if (counter > this.#counter) this.#counter = counter;
  }

  /** Puts a job that lost its worker back at the tail of its priority list. */
  requeue(job: Job): void {
    job.worker = undefined;
    job.fn.running--;
    job.numerator = "0";
    job.denominator = "0";
    this.#enqueue(job);
  }

  /**
   * Takes the next runnable job for a worker whose distinct functions are
   * `abilities`: highest priority first across all of them, and among
   * functions at that priority round-robin from `start` (gearmand 2.0's
   * order). Jobs nobody wants any more are dropped on the way.
   * Returns the job, with the index of its function in {@link takenIndex},
   * or undefined.
   */
  take(abilities: readonly FunctionEntry[], start: number): Job | undefined {
    const n = abilities.length;
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < n; i++) {
        const index = (start + i) % n;
        const queue = (abilities[index] as FunctionEntry).queues[p as Priority];
        let job = queue.shift();
        while (job !== undefined && job.ignored) {
          this.finish(job);
          job = queue.shift();
        }
        if (job !== undefined) {
          this.takenIndex = index;
          return job;
        }
      }
    }
    return undefined;
  }

  /** Forgets a job that ended, whatever its state. */
  finish(job: Job): void {
    if (job.state === JobState.DONE) return;
    if (job.state === JobState.RUNNING) job.fn.running--;
    if (job.state === JobState.DELAYED) {
      job.fn.delayed--;
      const at = this.#delayed.indexOf(job);
      if (at >= 0) this.#delayed.splice(at, 1);
    }
    job.state = JobState.DONE;
    job.worker = undefined;
    if (job.timer !== undefined) {
      clearTimeout(job.timer);
      job.timer = undefined;
    }
    this.jobs.delete(job);
    const custom = job.customHandle;
    if (custom !== undefined && this.#odd?.get(custom) === job) this.#odd.delete(custom);
    const key = keyOf(job.unique, job.payload);
    if (key !== undefined && job.fn.byKey.get(key) === job) job.fn.byKey.delete(key);
    // Whoever still holds the job does not need its payload (a large one is
    // megabytes), unless the store has yet to write the job's row.
    if (job.persisted !== Persisted.INSERTING) job.payload = "";
    job.fn.total--;
    if (job.persisted !== Persisted.NO) this.#onForget(job);
    if (this.jobs.size === 0) this.onEmpty?.();
  }

  /** Removes a function and its queued jobs; returns the jobs so their clients can be told. */
  dropFunction(fn: FunctionEntry): Job[] {
    const dropped: Job[] = [];
    for (const job of this.jobs.values()) if (job.fn === fn) dropped.push(job);
    for (const job of dropped) this.finish(job);
    this.fns.delete(fn);
    return dropped;
  }

  /** Finds a live job by unique across all functions (GET_STATUS_UNIQUE ignores the function). */
  findByUnique(unique: string): Job | undefined {
    for (const fn of this.functions.values()) {
      const job = fn.byKey.get(unique);
      if (job !== undefined) return job;
    }
    return undefined;
  }

  /** Stops the epoch timer. */
  close(): void {
    if (this.#delayTimer !== undefined) clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
  }

  #enqueue(job: Job): void {
    if (job.when > this.#now()) {
      job.state = JobState.DELAYED;
      job.fn.delayed++;
      this.#insertDelayed(job);
      return;
    }
    job.state = JobState.QUEUED;
    job.fn.queues[job.priority].push(job);
    this.#onRunnable(job.fn);
  }

  #insertDelayed(job: Job): void {
    const list = this.#delayed;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as Job).when <= job.when) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, job);
    this.#armDelay();
  }

  #armDelay(): void {
    const first = this.#delayed[0];
    if (first === undefined) return;
    if (this.#delayTimer !== undefined && this.#delayAt <= first.when) return;
    if (this.#delayTimer !== undefined) clearTimeout(this.#delayTimer);
    this.#delayAt = first.when;
    // setTimeout caps at 2^31-1 ms; far-future jobs re-arm when it fires.
    const wait = Math.min(Math.max(first.when - this.#now(), 0), 0x7fffffff);
    this.#delayTimer = setTimeout(() => this.#releaseDue(), wait);
  }

  #releaseDue(): void {
    this.#delayTimer = undefined;
    const now = this.#now();
    let due = 0;
    while (due < this.#delayed.length && (this.#delayed[due] as Job).when <= now) due++;
    const ready = this.#delayed.splice(0, due);
    for (const job of ready) {
      job.fn.delayed--;
      if (job.ignored) {
        job.state = JobState.QUEUED;
        this.finish(job);
        continue;
      }
      job.state = JobState.QUEUED;
      job.fn.queues[job.priority].push(job);
      this.#onRunnable(job.fn);
    }
    this.#armDelay();
  }
}
