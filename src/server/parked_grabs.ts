import { Expiry } from "../util/expiry.ts";
import type { FunctionEntry } from "./job.ts";

/** The part of a worker connection a parked grab needs. */
export interface ParkedWorker {
  /** The GRAB_JOB type waiting for a job; 0 when none is parked. */
  parkedGrab: number;
  /** Counts parks, so an expiry left by an earlier park is recognised. */
  parks: number;
  /** The distinct functions the worker can do. */
  readonly abilities: readonly FunctionEntry[];
  /** Grabs again with the parked type (a job of its functions has arrived). */
  regrab(type: number): void;
  sendNoJob(): void;
}

/**
 * Grabs that found no job. gearmand answers NO_JOB at once; the worker then
 * sends PRE_SLEEP, waits for NOOP and grabs again, so a job that arrives a
 * moment later costs four more packets and two round trips before it runs.
 * Here an empty grab waits up to `waitMs` for a job of its worker's
 * functions, which then goes out at once as the grab's JOB_ASSIGN; when the
 * time is up, or the worker sends anything else, it gets its NO_JOB as
 * gearmand would have sent it. Oldest parked grab first.
 */
export class ParkedGrabs {
  readonly #waitMs: number;
  readonly #expiry: Expiry<ParkedWorker>;

  constructor(waitMs: number) {
    this.#waitMs = waitMs;
    this.#expiry = new Expiry(waitMs, (w, parks) => {
      if (w.parks === parks) this.answer(w);
    });
  }

  /** Parks a grab that found nothing; false when grabs do not wait (`waitMs` 0). */
  park(w: ParkedWorker, type: number): boolean {
    if (this.#waitMs <= 0 || w.abilities.length === 0) return false;
    w.parkedGrab = type;
    w.parks++;
    for (const fn of w.abilities) fn.parked.add(w);
    this.#expiry.add(w, w.parks);
    return true;
  }

  /** The worker sent something, or time is up: a parked grab gets its NO_JOB now. */
  answer(w: ParkedWorker): void {
    if (w.parkedGrab === 0) return;
    this.#unpark(w);
    w.sendNoJob();
  }

  /** The worker is gone: forget its parked grab. */
  forget(w: ParkedWorker): void {
    if (w.parkedGrab !== 0) this.#unpark(w);
  }

  /** A job of `fn` is runnable: parked grabs of its workers take what is queued. */
  serve(fn: FunctionEntry): void {
    const parked = fn.parked;
    while (parked.size > 0 && fn.queued > 0) {
      const w = parked.values().next().value as ParkedWorker;
      const type = w.parkedGrab;
      this.#unpark(w);
      w.regrab(type);
    }
  }

  /** The server is closing: every parked grab gets its NO_JOB now. */
  close(): void {
    this.#expiry.flush();
  }

  #unpark(w: ParkedWorker): void {
    for (const fn of w.abilities) fn.parked.delete(w);
    w.parkedGrab = 0;
  }
}
