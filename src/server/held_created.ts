import { Expiry } from "../util/expiry.ts";
import type { Job } from "./job.ts";

/** The part of a client connection a held JOB_CREATED needs. */
export interface CreatedHolder {
  /** The foreground job whose JOB_CREATED is held, if any. */
  createdJob: Job | undefined;
  /** Counts holds, so an expiry left by an earlier hold is recognised. */
  createdHolds: number;
  /** True while replies wait behind a reserved place (a store commit). */
  readonly repliesHeld: boolean;
  /** Queues JOB_CREATED for `job`, in reply order. */
  sendCreated(job: Job): void;
}

/**
 * JOB_CREATED of new foreground jobs, held back for up to `waitMs`. A short
 * job then ends within the wait, and its JOB_CREATED leaves together with
 * the result: one write and one wake-up of the client instead of two. The
 * hold ends, and JOB_CREATED goes out first, as soon as anything else is
 * sent to the client for any job (WORK_DATA, WORK_STATUS, a result), the
 * client sends anything, the time is up or the server stops; so replies
 * keep request order and every packet of a job follows its JOB_CREATED.
 * That is also why it needs no reserved place in the reply order: nothing
 * can be due to the client before it. One job per client at a time, and
 * none while the client's replies wait for a store commit.
 */
export class CreatedHolds {
  readonly #waitMs: number;
  readonly #expiry: Expiry<CreatedHolder>;

  constructor(waitMs: number) {
    this.#waitMs = waitMs;
    this.#expiry = new Expiry(waitMs, (c, holds) => {
      if (c.createdHolds === holds) this.release(c);
    });
  }

  /** Holds the JOB_CREATED of `job` for `c`; false when it must go out now. */
  hold(c: CreatedHolder, job: Job): boolean {
    if (this.#waitMs <= 0 || c.createdJob !== undefined || c.repliesHeld) return false;
    c.createdJob = job;
    c.createdHolds++;
    this.#expiry.add(c, c.createdHolds);
    return true;
  }

  /** Sends the held JOB_CREATED of `c`, if any. */
  release(c: CreatedHolder): void {
    const job = c.createdJob;
    if (job === undefined) return;
    c.createdJob = undefined;
    c.sendCreated(job);
  }

  /** The server is closing: every held JOB_CREATED goes out now. */
  close(): void {
    this.#expiry.flush();
  }
}
