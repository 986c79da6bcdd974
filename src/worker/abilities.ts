import { PacketType as T } from "../protocol/constants.ts";
import { utf8Bytes } from "../util/bytes.ts";
import type { Greeting } from "../client/link.ts";
import type { JobHandler } from "./worker_types.ts";

interface Ability {
  readonly handler: JobHandler;
  readonly timeoutMs: number;
}

/**
 * The functions a worker can do, with the jobs of each it is running. A
 * function unregistered while jobs of it run is withdrawn from the servers
 * (CANT_DO) only once those end, since servers requeue the jobs of a
 * function a worker drops. Until then a server may still assign jobs of
 * it: those are held unanswered (`J` is whatever the worker keeps of one),
 * and the CANT_DO hands them back to their servers' queues.
 */
export class Abilities<J> {
  readonly #abilities = new Map<string, Ability>();
  /** Jobs running per function. */
  readonly #running = new Map<string, number>();
  /**
   * Functions unregistered while jobs of theirs ran (CANT_DO once those end):
   * the timeout the servers still have for each, and the jobs held since.
   */
  readonly #dropLater = new Map<string, { readonly timeoutMs: number; readonly held: J[] }>();
  #held = 0;

  /** How many functions are registered. */
  get size(): number {
    return this.#abilities.size;
  }

  /** How many jobs are held (see {@link hold}). */
  get held(): number {
    return this.#held;
  }

  /**
   * Registers `fn`, or replaces its handler. Returns the packet that tells
   * the servers (none when they have `fn` with this timeout already: each
   * CAN_DO counts as one more worker in their status), and the jobs held for
   * `fn` since it was unregistered, to run now.
   */
  add(
    fn: string,
    handler: JobHandler,
    timeoutMs: number,
  ): { greeting: Greeting | undefined; held: J[] } {
    const dropping = this.#dropLater.get(fn);
    const told = this.#abilities.get(fn)?.timeoutMs ?? dropping?.timeoutMs;
    this.#abilities.set(fn, { handler, timeoutMs });
    this.#dropLater.delete(fn);
    const held = dropping?.held ?? [];
    this.#held -= held.length;
    return { greeting: told === timeoutMs ? undefined : canDo(fn, timeoutMs), held };
  }

  /**
   * Unregisters `fn`. Returns true when the servers are to be told now
   * (CANT_DO): `fn` was registered and no job of it runs. While jobs of it
   * run, {@link end} reports when the last one is over.
   */
  remove(fn: string): boolean {
    const ability = this.#abilities.get(fn);
    if (ability === undefined) return false;
    this.#abilities.delete(fn);
    if ((this.#running.get(fn) ?? 0) === 0) return true;
    this.#dropLater.set(fn, { timeoutMs: ability.timeoutMs, held: [] });
    return false;
  }

  /**
   * Returns the handler of `fn` and counts a job of it as running, or
   * returns undefined when `fn` is not registered.
   */
  start(fn: string): JobHandler | undefined {
    const ability = this.#abilities.get(fn);
    if (ability === undefined) return undefined;
    this.#running.set(fn, (this.#running.get(fn) ?? 0) + 1);
    return ability.handler;
  }

  /**
   * Keeps `job`, assigned for `fn` after `fn` was unregistered but before the
   * servers were told: returns false when `fn` is not waiting for its CANT_DO.
   */
  hold(fn: string, job: J): boolean {
    const dropping = this.#dropLater.get(fn);
    if (dropping === undefined) return false;
    dropping.held.push(job);
    this.#held++;
    return true;
  }

  /** Forgets the held jobs `lost` picks (their connection closed, which requeued them). */
  forget(lost: (job: J) => boolean): void {
    for (const { held } of this.#dropLater.values()) {
      const kept = held.filter((job) => !lost(job));
      this.#held -= held.length - kept.length;
      held.splice(0, held.length, ...kept);
    }
  }

  /**
   * Counts a job of `fn` as over. Returns true when it was the last job of
   * a function unregistered meanwhile: the servers are to be told now
   * (CANT_DO), which also hands its held jobs back.
   */
  end(fn: string): boolean {
    const left = (this.#running.get(fn) ?? 1) - 1;
    this.#running.set(fn, left);
    const dropping = this.#dropLater.get(fn);
    if (left > 0 || dropping === undefined) return false;
    this.#held -= dropping.held.length;
    this.#dropLater.delete(fn);
    return true;
  }

  /** The packets that register every function, for a new connection. */
  greetings(): Greeting[] {
    const out: Greeting[] = [];
    for (const [fn, ability] of this.#abilities) out.push(canDo(fn, ability.timeoutMs));
    return out;
  }
}

/** CAN_DO, or CAN_DO_TIMEOUT when the server is to requeue a job after `timeoutMs`. */
function canDo(fn: string, timeoutMs: number): Greeting {
  return timeoutMs > 0
    ? { type: T.CAN_DO_TIMEOUT, args: [utf8Bytes(fn), String(timeoutMs)] }
    : { type: T.CAN_DO, args: [utf8Bytes(fn)] };
}
