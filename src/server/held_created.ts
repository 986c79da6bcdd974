import { PacketType } from "../protocol/constants.ts";
import { encodeResponse } from "../protocol/encoder.ts";
import { Expiry } from "../util/expiry.ts";
import type { Job, ReplySlot } from "./job.ts";

/** The part of a client connection a held JOB_CREATED needs. */
export interface CreatedHolder {
  /** The foreground job whose JOB_CREATED is held, if any, and the reply's place. */
  createdJob: Job | undefined;
  createdSlot: ReplySlot | undefined;
  /** Counts holds, so an expiry left by an earlier hold is recognised. */
  createdHolds: number;
  /** True while replies wait behind a reserved place (a store commit). */
  readonly repliesHeld: boolean;
  reserve(): ReplySlot;
  fill(slot: ReplySlot, bytes: Uint8Array): void;
}

/**
 * JOB_CREATED of new foreground jobs, held back for up to `waitMs`. A short
 * job then ends within the wait, and its JOB_CREATED leaves together with
 * the result: one write and one wake-up of the client instead of two. The
 * hold ends, and JOB_CREATED goes out first, as soon as anything else is
 * sent to the client for any job (WORK_DATA, WORK_STATUS, a result), the
 * client sends anything, the time is up or the server stops; so replies
 * keep request order and every packet of a job follows its JOB_CREATED.
 * One job per client at a time, and none while the client's replies wait
 * for a store commit.
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
    c.createdSlot = c.reserve();
    c.createdJob = job;
    c.createdHolds++;
    this.#expiry.add(c, c.createdHolds);
    return true;
  }

  /** Sends the held JOB_CREATED of `c`, if any, in its place. */
  release(c: CreatedHolder): void {
    const job = c.createdJob;
    if (job === undefined) return;
    const slot = c.createdSlot as ReplySlot;
    c.createdJob = undefined;
    c.createdSlot = undefined;
    c.fill(slot, encodeResponse(PacketType.JOB_CREATED, [job.handle]));
  }

  /** The server is closing: every held JOB_CREATED goes out now. */
  close(): void {
    this.#expiry.flush();
  }
}
