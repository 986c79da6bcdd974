import type { FunctionEntry } from "./job.ts";

/** Where a worker is in the PRE_SLEEP / NOOP cycle (PROTOCOL.md §6.3). */
export const SleepState = { AWAKE: 0, SLEEPING: 1, WOKEN: 2 } as const;
/** One of {@link SleepState}. */
export type SleepState = typeof SleepState[keyof typeof SleepState];

/** The part of a connection the dispatcher needs. */
export interface Sleeper {
  sleep: SleepState;
  /** The distinct functions the worker can do. */
  readonly abilities: readonly FunctionEntry[];
  sendNoop(): void;
}

/** How long a woken worker may take to grab before another one is woken. */
export const LATE_WAKE_MS = 50;

/**
 * Decides which sleeping workers get a NOOP. gearmand wakes every sleeper of
 * a function for every job; here a function keeps as many woken workers as
 * it has runnable jobs (at most `-w` at a time), and wakes more when the
 * woken ones have not grabbed within {@link LATE_WAKE_MS} (they may be busy
 * on another server). No runnable job waits while a sleeper could take it.
 */
export class Dispatcher {
  readonly #cap: number;
  readonly #lateMs: number;
  readonly #armed = new Set<FunctionEntry>();

  constructor(cap: number, lateMs = LATE_WAKE_MS) {
    this.#cap = cap > 0 ? cap : Infinity;
    this.#lateMs = lateMs;
  }

  /** A function gained a runnable job. */
  runnable(fn: FunctionEntry): void {
    if (fn.sleepers.size === 0) return;
    let need = Math.min(fn.queued, this.#cap) - fn.woken;
    while (need > 0 && fn.sleepers.size > 0) {
      this.#wake(fn.sleepers.values().next().value as Sleeper);
      need--;
    }
    if (fn.queued > 0 && fn.sleepers.size > 0) this.#armLate(fn);
  }

  /** A worker sent PRE_SLEEP: NOOP it at once if work is waiting, else let it sleep. */
  preSleep(w: Sleeper): void {
    if (w.sleep === SleepState.SLEEPING) return;
    // A woken worker that goes to sleep again without grabbing is woken
    // again while a job waits, as gearmand does: it will wait for a NOOP.
    this.#leave(w);
    for (const fn of w.abilities) {
      if (fn.queued > 0) {
        this.#wake(w);
        return;
      }
    }
    w.sleep = SleepState.SLEEPING;
    for (const fn of w.abilities) fn.sleepers.add(w);
  }

  /**
   * A worker is about to grab. Returns true when it had been woken, so the
   * caller calls {@link afterGrab} once the grab is done.
   */
  grabbing(w: Sleeper): boolean {
    const was = w.sleep;
    this.#leave(w);
    return was === SleepState.WOKEN;
  }

  /** After a woken worker grabbed: jobs it left behind get other sleepers. */
  afterGrab(w: Sleeper): void {
    for (const fn of w.abilities) if (fn.queued > fn.woken) this.runnable(fn);
  }

  /** The worker registered a function. */
  added(w: Sleeper, fn: FunctionEntry): void {
    if (w.sleep === SleepState.SLEEPING) {
      fn.sleepers.add(w);
      if (fn.queued > 0) this.runnable(fn);
    } else if (w.sleep === SleepState.WOKEN) {
      fn.woken++;
    }
  }

  /** The worker dropped a function (before `abilities` changes). */
  removed(w: Sleeper, fn: FunctionEntry): void {
    if (w.sleep === SleepState.SLEEPING) fn.sleepers.delete(w);
    else if (w.sleep === SleepState.WOKEN) fn.woken--;
  }

  /** The worker is gone. */
  closed(w: Sleeper): void {
    this.#leave(w);
  }

  /** Cancels pending re-checks. */
  close(): void {
    for (const fn of this.#armed) {
      clearTimeout(fn.wakeTimer);
      fn.wakeTimer = undefined;
    }
    this.#armed.clear();
  }

  #wake(w: Sleeper): void {
    for (const fn of w.abilities) {
      if (w.sleep === SleepState.SLEEPING) fn.sleepers.delete(w);
      fn.woken++;
    }
    w.sleep = SleepState.WOKEN;
    w.sendNoop();
  }

  #leave(w: Sleeper): void {
    if (w.sleep === SleepState.SLEEPING) {
      for (const fn of w.abilities) fn.sleepers.delete(w);
    } else if (w.sleep === SleepState.WOKEN) {
      for (const fn of w.abilities) fn.woken--;
    }
    w.sleep = SleepState.AWAKE;
  }

  #armLate(fn: FunctionEntry): void {
    if (fn.wakeTimer !== undefined) return;
    this.#armed.add(fn);
    fn.wakeTimer = setTimeout(() => {
      fn.wakeTimer = undefined;
      this.#armed.delete(fn);
      // Workers woken earlier have not grabbed: wake more, as if they were not there.
      let need = Math.min(fn.queued, this.#cap);
      while (need > 0 && fn.sleepers.size > 0) {
        this.#wake(fn.sleepers.values().next().value as Sleeper);
        need--;
      }
      if (fn.queued > 0 && fn.sleepers.size > 0) this.#armLate(fn);
    }, this.#lateMs);
  }
}
