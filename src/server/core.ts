import type { Logger } from "../log.ts";
import { PacketType } from "../protocol/constants.ts";
import { encodeResponse } from "../protocol/encoder.ts";
import type { CommitListener, GroupCommit } from "../store/group_commit.ts";
import { Slab } from "../util/slab.ts";
import type { ServerConnection } from "./connection.ts";
import { Dispatcher } from "./dispatcher.ts";
import { type Job, JobState, Persisted, type ReplySlot } from "./job.ts";
import { JobQueue } from "./job_queue.ts";
import { CreatedHolds } from "./held_created.ts";
import { ParkedGrabs } from "./parked_grabs.ts";

/** Server settings after defaults are applied. */
export interface CoreSettings {
  readonly jobRetries: number;
  readonly workerWakeup: number;
  readonly grabWaitMs: number;
  readonly createdWaitMs: number;
  readonly jobHandlePrefix: string;
  readonly exceptions: boolean;
  readonly maxPacketSize: number;
  readonly pid: number;
  readonly now: () => number;
}

/**
 * The state every connection shares: the job queue, the wake-up policy, the
 * connections, and the rules for how a job ends or goes back to its queue.
 */
export class Core implements CommitListener<Job> {
  readonly settings: CoreSettings;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  readonly parked: ParkedGrabs;
  readonly created: CreatedHolds;
  readonly queue: JobQueue;
  readonly connections = new Set<ServerConnection>();
  /** Where every connection's output is written (see {@link Slab}). */
  readonly slab = new Slab();
  /** Set by the server: what admin `shutdown` does. */
  onShutdownRequest: (graceful: boolean) => void = () => {};
  /**
   * Group commits of background jobs to a durable store; undefined for the
   * memory store and with `--store-queue-on-shutdown`.
   */
  journal: GroupCommit<Job> | undefined = undefined;
  #storeFailing = false;

  constructor(settings: CoreSettings, logger: Logger) {
    this.settings = settings;
    this.logger = logger;
    this.dispatcher = new Dispatcher(settings.workerWakeup);
    this.parked = new ParkedGrabs(settings.grabWaitMs);
    this.created = new CreatedHolds(settings.createdWaitMs);
    this.queue = new JobQueue(
      settings.jobHandlePrefix,
      settings.now,
      (fn) => {
        if (fn.parked.size > 0) this.parked.serve(fn);
        this.dispatcher.runnable(fn);
      },
      (job) => this.#forget(job),
    );
  }

  /**
   * Answers a background submit that created or joined `job`. Without a
   * journal, or when the job's row is committed already, JOB_CREATED goes
   * out now; otherwise the reply's place is reserved and filled once the
   * row is committed (or with ERROR QUEUE_ERROR if it cannot be).
   */
  acknowledgeBackground(job: Job, client: ServerConnection): void {
    const journal = this.journal;
    if (journal === undefined || job.persisted === Persisted.YES) {
      client.sendHandle(PacketType.JOB_CREATED, job, true);
      return;
    }
    const slot = client.reserve();
    slot.next = job.waiters;
    job.waiters = slot;
    if (job.persisted === Persisted.NO) {
      job.persisted = Persisted.INSERTING;
      journal.insert(job);
    }
  }

  /** A group commit wrote these jobs' rows: answer their submitters, let them run. */
  committed(jobs: readonly Job[]): void {
    if (this.#storeFailing) {
      this.#storeFailing = false;
      this.logger.notice("store: commits succeed again");
    }
    for (const job of jobs) {
      if (job.persisted === Persisted.INSERTING) job.persisted = Persisted.YES;
      if (job.waiters !== undefined) {
        answer(job, encodeResponse(PacketType.JOB_CREATED, [job.handle]));
      }
      this.queue.release(job);
    }
  }

  /** A group commit failed: its submitters get QUEUE_ERROR and its new jobs are dropped. */
  failed(jobs: readonly Job[], err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    if (jobs.length > 0 || !this.#storeFailing) {
      this.logger.error(`store: could not store ${jobs.length} background job(s): ${text}`);
    }
    this.#storeFailing = true;
    const error = encodeResponse(PacketType.ERROR, ["QUEUE_ERROR", text]);
    for (const job of jobs) {
      const inserting = job.persisted === Persisted.INSERTING;
      if (inserting) job.persisted = Persisted.NO;
      answer(job, error);
      if (job.state !== JobState.PENDING) {
        // A foreground job that background submits joined: they were refused,
        // so it is wanted only by its own clients, as before they came.
        if (inserting) job.background = false;
        continue;
      }
      if (job.clients !== undefined && job.clients.length > 0) {
        // Foreground submitters joined it: it runs for them, unstored.
        job.background = false;
        this.queue.release(job);
      } else {
        this.queue.finish(job);
      }
    }
  }

  /** Attaches a foreground client to a job. */
  attach(job: Job, client: ServerConnection): void {
    if (job.clients === undefined) job.clients = [client];
    else job.clients.push(client);
    client.wait(job);
  }

  /** Sends one encoded packet to every client waiting on the job. */
  notify(job: Job, packet: Uint8Array): void {
    if (job.clients === undefined) return;
    for (const client of job.clients) client.sendAbout(job, packet);
  }

  /**
   * Ends a job: `packet` goes to every waiting client (or, for an exception,
   * `failPacket` to those that did not ask for exceptions), then the job is
   * forgotten.
   */
  end(job: Job, packet: Uint8Array | undefined, failPacket?: Uint8Array): void {
    if (job.clients !== undefined) {
      for (const client of job.clients) {
        const wantsIt = failPacket === undefined || client.exceptions || this.settings.exceptions;
        const out = wantsIt ? packet : failPacket;
        if (out !== undefined) client.sendAbout(job, out);
        client.unwait(job);
      }
      job.clients = undefined;
    }
    job.worker?.unhold(job);
    this.queue.finish(job);
  }

  /** Ends a job with WORK_FAIL to its clients. */
  fail(job: Job): void {
    this.end(job, encodeResponse(PacketType.WORK_FAIL, [job.handle]));
  }

  /**
   * A worker lost a job (disconnect, dropped ability, timeout): back to the
   * tail of its queue, or dropped with WORK_FAIL once `-j` attempts are used up.
   */
  requeue(job: Job): void {
    job.worker?.unhold(job);
    if (job.timer !== undefined) {
      clearTimeout(job.timer);
      job.timer = undefined;
    }
    job.retries++;
    const limit = this.settings.jobRetries;
    if (limit > 0 && job.retries >= limit) {
      this.logger.notice(`Dropped job due to max retry count: ${job.handle}`);
      this.fail(job);
    } else if (!job.wanted) {
      this.end(job, undefined);
    } else {
      this.queue.requeue(job);
      if (job.persisted !== Persisted.NO) this.journal?.update(job);
    }
  }

  /** A foreground client went away: jobs nobody wants any more will not run. */
  detach(client: ServerConnection): void {
    for (const job of client.takeWaiting()) {
      const clients = job.clients;
      if (clients === undefined) continue; // ended already
      const at = clients.indexOf(client);
      if (at < 0) continue;
      clients.splice(at, 1);
      if (!job.wanted) job.ignored = true;
    }
  }

  /** Admin `cancel job`: clients get WORK_FAIL and the job will not run. */
  cancel(job: Job): void {
    this.notify(job, encodeResponse(PacketType.WORK_FAIL, [job.handle]));
    if (job.clients !== undefined) {
      for (const client of job.clients) client.unwait(job);
      job.clients = undefined;
    }
    job.background = false;
    job.ignored = true;
    // gearmand deletes the row now; the job itself is reaped by the next grab.
    if (job.persisted !== Persisted.NO) this.#forget(job);
  }

  /**
   * The job no longer wants its row. A submitter still waiting for the row's
   * commit is answered now (the job will not run, so there is nothing to
   * keep), and a PENDING job is queued so the next grab reaps it.
   */
  #forget(job: Job): void {
    job.persisted = Persisted.NO;
    this.journal?.delete(job.seq);
    if (job.waiters !== undefined) {
      answer(job, encodeResponse(PacketType.JOB_CREATED, [job.handle]));
    }
    this.queue.release(job);
  }
}

/** Fills every reply slot waiting on the job's commit. */
function answer(job: Job, bytes: Uint8Array): void {
  let slot: ReplySlot | undefined = job.waiters;
  job.waiters = undefined;
  while (slot !== undefined) {
    const next: ReplySlot | undefined = slot.next;
    slot.owner.fill(slot, bytes);
    slot = next;
  }
}
