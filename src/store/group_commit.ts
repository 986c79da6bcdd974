/**
 * Group commit in front of a {@link JobStore}: operations collect while a
 * commit is in flight (or until the end of the event-loop turn) and go to the
 * store together, in one transaction (in the order {@link StoreBatch} gives).
 * There is no fsync per job; `--fsync always` syncs once per group.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { JobStore, StoreBatch, StoredJob } from "./store.ts";

/**
 * What the owner of a {@link GroupCommit} is told about the jobs a group
 * wrote (jobs left out by `keep` are not mentioned).
 */
export interface CommitListener<J extends StoredJob> {
  /** The group's rows are durable. */
  committed(jobs: readonly J[]): void;
  /** The group could not be stored: none of its rows is durable. */
  failed(jobs: readonly J[], err: unknown): void;
}

/** A group as the store gets it. */
interface Batch<J extends StoredJob> extends StoreBatch {
  readonly inserts: J[];
  readonly updates: J[];
}

/**
 * How long deletes and updates may wait for a group of their own when no
 * insert comes to take them along. Nobody waits for them, and a delete lost
 * in a crash only runs a finished job once more, so a draining queue commits
 * a hundred times a second instead of once per event-loop turn.
 */
export const LAZY_MS = 10;

/** How long a failed group's deletes and updates wait before they are tried again. */
export const RETRY_MS = 1000;

/**
 * Collects inserts, retry updates and deletes for a store and commits them in
 * groups. A group that fails loses its inserts (their submitters are told)
 * but keeps its deletes and updates for a later group: they are idempotent,
 * and dropping one would resurrect a finished job after a restart. Inserts
 * (someone waits for them) start a commit at the end of the turn; deletes and
 * updates wait up to {@link LAZY_MS} for one, or {@link RETRY_MS} while the
 * store fails.
 */
export class GroupCommit<J extends StoredJob> {
  readonly #store: JobStore;
  readonly #listener: CommitListener<J>;
  readonly #counter: () => number;
  readonly #keep: (job: J) => boolean;
  #inserts: J[] = [];
  #updates: J[] = [];
  #deletes: number[] = [];
  #busy = false;
  #scheduled = false;
  #failing = false;
  #closed = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  /** Groups started and groups answered, for {@link flush}. */
  #started = 0;
  #finished = 0;
  #flushes: { readonly upTo: number; readonly resolve: () => void }[] = [];
  readonly #runLater = (): void => this.#run();
  readonly #runLazy = (): void => {
    this.#lazyTimer = undefined;
    this.#run();
  };

  /**
   * `counter` reads the handle counter's current high-water mark; `keep`
   * says whether an inserted job still wants its row when its group starts
   * (a job cancelled or ended before then is left out, and its delete, which
   * runs first, is a no-op).
   */
  constructor(
    store: JobStore,
    listener: CommitListener<J>,
    counter: () => number,
    keep: (job: J) => boolean = () => true,
  ) {
    this.#store = store;
    this.#listener = listener;
    this.#counter = counter;
    this.#keep = keep;
  }

  /** True while nothing is waiting and no commit is in flight. */
  get idle(): boolean {
    return !this.#busy && !this.#pending();
  }

  /** Queues a new row; the listener hears when its group commits or fails. */
  insert(job: J): void {
    this.#inserts.push(job);
    this.#schedule();
  }

  /** Queues a retry-count update. */
  update(job: J): void {
    this.#updates.push(job);
    this.#scheduleLazy();
  }

  /** Queues the deletion of a row. */
  delete(seq: number): void {
    this.#deletes.push(seq);
    this.#scheduleLazy();
  }

  /**
   * Commits everything queued so far (now, unless a commit is in flight) and
   * resolves once the store has answered for all of it, success or not.
   */
  flush(): Promise<void> {
    const pending = this.#pending();
    if (!pending && !this.#busy) return Promise.resolve();
    const upTo = this.#started + (pending ? 1 : 0);
    const done = new Promise<void>((resolve) => this.#flushes.push({ upTo, resolve }));
    if (!this.#busy) this.#run();
    return done;
  }

  /** Flushes, then accepts nothing more (later operations are dropped). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#clearTimers();
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#lazyTimer);
    this.#retryTimer = undefined;
    this.#lazyTimer = undefined;
  }

  #pending(): boolean {
    return this.#inserts.length + this.#updates.length + this.#deletes.length > 0;
  }

  #schedule(): void {
    if (this.#scheduled || this.#busy || this.#closed) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every connection's data read in this
    // turn of the event loop joins the group.
    setImmediate(this.#runLater);
  }

  #scheduleLazy(): void {
    if (
      this.#scheduled || this.#busy || this.#closed || this.#failing ||
      this.#lazyTimer !== undefined
    ) return;
    this.#lazyTimer = setTimeout(this.#runLazy, LAZY_MS);
  }

  #run(): void {
    this.#scheduled = false;
    if (this.#busy || this.#closed || !this.#pending()) return;
    this.#clearTimers();
    const inserts = this.#inserts;
    let writes = inserts;
    for (const job of inserts) {
      if (!this.#keep(job)) {
        writes = inserts.filter(this.#keep);
        break;
      }
    }
    const batch: Batch<J> = {
      inserts: writes,
      updates: this.#updates,
      deletes: this.#deletes,
      counter: this.#counter(),
    };
    this.#inserts = [];
    this.#updates = [];
    this.#deletes = [];
    this.#busy = true;
    this.#started++;
    let result: void | Promise<void>;
    try {
      result = this.#store.commit(batch);
    } catch (err) {
      this.#done(batch, err);
      return;
    }
    if (result === undefined) this.#done(batch, undefined);
    else {result.then(() =>
        this.#done(batch, undefined), (err: unknown) =>
        this.#done(batch, err ?? "failed"));}
  }

  #done(batch: Batch<J>, err: unknown): void {
    this.#busy = false;
    this.#finished++;
    this.#failing = err !== undefined;
    if (err === undefined) {
      this.#listener.committed(batch.inserts);
    } else {
      // Older operations go first; order within the lists does not matter
      // (updates and deletes are idempotent and never precede their insert).
      if (batch.updates.length > 0) this.#updates = batch.updates.concat(this.#updates);
      if (batch.deletes.length > 0) this.#deletes = batch.deletes.concat(this.#deletes);
      this.#listener.failed(batch.inserts, err);
    }
    if (this.#flushes.length > 0) {
      const finished = this.#finished;
      const ready = this.#flushes.filter((f) => f.upTo <= finished);
      this.#flushes = this.#flushes.filter((f) => f.upTo > finished);
      for (const f of ready) f.resolve();
    }
    if (!this.#pending() || this.#closed) return;
    if (this.#inserts.length > 0 || this.#flushes.length > 0) {
      this.#schedule();
    } else if (!this.#failing) {
      this.#scheduleLazy();
    } else {
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.#run();
      }, RETRY_MS);
    }
  }
}
