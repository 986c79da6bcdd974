import { Fifo } from "../util/fifo.ts";
import type { FunctionEntry } from "./job.ts";

/** The part of a worker connection a parked grab needs. */
export interface ParkedWorker {
  /** The GRAB_JOB type waiting for a job; 0 when none is parked. */
  parkedGrab: number;
  /** When the grab was parked (`performance.now()`). */
  parkedAt: number;
  /** Counts parks, so an expiry entry left by an earlier park is recognised. */
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
 * gearmand would have sent it. Oldest parked grab first. Every wait is
 * equally long, so one timer serves them all, in arrival order.
 */
export class ParkedGrabs {
  readonly #waitMs: number;
  /** Parked workers in arrival order, with the park count each entry is for. */
  readonly #workers = new Fifo<ParkedWorker>();
  readonly #parks = new Fifo<number>();
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(waitMs: number) {
    this.#waitMs = waitMs;
  }

  /** Parks a grab that found nothing; false when grabs do not wait (`waitMs` 0). */
  park(w: ParkedWorker, type: number): boolean {
    if (this.#waitMs <= 0 || w.abilities.length === 0) return false;
    w.parkedGrab = type;
    w.parkedAt = performance.now();
    w.parks++;
    for (const fn of w.abilities) fn.parked.add(w);
    this.#workers.push(w);
    this.#parks.push(w.parks);
    this.#timer ??= setTimeout(this.#expire, this.#waitMs);
    return true;
  }

  /** The worker sent something or is gone: a parked grab gets its NO_JOB now. */
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
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let w = this.#workers.shift(); w !== undefined; w = this.#workers.shift()) {
      if (w.parks === this.#parks.shift()) this.answer(w);
    }
  }

  #unpark(w: ParkedWorker): void {
    for (const fn of w.abilities) fn.parked.delete(w);
    w.parkedGrab = 0;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const workers = this.#workers;
    const parks = this.#parks;
    for (let w = workers.peek(); w !== undefined; w = workers.peek()) {
      const live = w.parkedGrab !== 0 && w.parks === parks.peek();
      if (live && w.parkedAt + this.#waitMs > now) {
        this.#timer = setTimeout(this.#expire, w.parkedAt + this.#waitMs - now);
        return;
      }
      workers.shift();
      parks.shift();
      if (live) this.answer(w);
    }
  };
}
