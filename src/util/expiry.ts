import { Fifo } from "./fifo.ts";

/**
 * Items that each expire a fixed `delayMs` after they were added, on one
 * timer: since every delay is the same, arrival order is expiry order, so
 * adding and expiring are O(1). An item added again gets a new entry; the
 * `token` given with each entry (a counter of the owner's) lets `onExpire`
 * tell a stale entry from the live one.
 */
export class Expiry<T> {
  readonly #delayMs: number;
  readonly #onExpire: (item: T, token: number) => void;
  readonly #items = new Fifo<T>();
  readonly #tokens = new Fifo<number>();
  readonly #due = new Fifo<number>();
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(delayMs: number, onExpire: (item: T, token: number) => void) {
    this.#delayMs = delayMs;
    this.#onExpire = onExpire;
  }

  /** `onExpire(item, token)` runs `delayMs` from now, unless {@link flush} runs it first. */
  add(item: T, token: number): void {
    this.#items.push(item);
    this.#tokens.push(token);
    this.#due.push(performance.now() + this.#delayMs);
    this.#timer ??= setTimeout(this.#expire, this.#delayMs);
  }

  /** Runs `onExpire` for every entry now and stops the timer. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let item = this.#items.shift(); item !== undefined; item = this.#items.shift()) {
      this.#due.shift();
      this.#onExpire(item, this.#tokens.shift() as number);
    }
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    for (let due = this.#due.peek(); due !== undefined; due = this.#due.peek()) {
      if (due > now) {
        this.#timer = setTimeout(this.#expire, due - now);
        return;
      }
      this.#due.shift();
      this.#onExpire(this.#items.shift() as T, this.#tokens.shift() as number);
    }
  };
}
