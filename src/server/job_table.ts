import type { Job } from "./job.ts";

const MIN_CAPACITY = 64;

/**
 * Live jobs by their handle counter (`seq`): an open-addressing table with
 * Robin Hood linear probing on `seq & mask`. Counters are handed out in
 * order and jobs mostly end in about that order, so a job nearly always sits
 * in its home slot, next to its neighbours in time: probes are short and
 * cache-friendly, and a deletion stops at the first entry that is at home.
 * Unlike a `Map`, adding and removing never allocate (a `Map` rehashes away
 * its deleted entries), so a steady stream of jobs makes no garbage here.
 */
export class JobTable {
  #slots: (Job | undefined)[] = new Array<Job | undefined>(MIN_CAPACITY).fill(undefined);
  #mask = MIN_CAPACITY - 1;
  #size = 0;

  /** Number of jobs. */
  get size(): number {
    return this.#size;
  }

  get(seq: number): Job | undefined {
    const at = this.#find(seq);
    return at < 0 ? undefined : this.#slots[at];
  }

  /** Adds a job; its `seq` must not be in the table yet. */
  add(job: Job): void {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#resize(this.#slots.length * 2);
    this.#place(job);
    this.#size++;
  }

  /** Removes `job` if the table holds it; returns whether it did. */
  delete(job: Job): boolean {
    let i = this.#find(job.seq);
    const slots = this.#slots;
    if (i < 0 || slots[i] !== job) return false;
    const mask = this.#mask;
    // Backward shift: pull the displaced entries after the hole one slot back.
    for (;;) {
      const j = (i + 1) & mask;
      const next = slots[j];
      if (next === undefined || ((j - next.seq) & mask) === 0) break;
      slots[i] = next;
      i = j;
    }
    slots[i] = undefined;
    this.#size--;
    const cap = slots.length;
    if (cap > MIN_CAPACITY && this.#size * 8 < cap) this.#resize(cap / 2);
    return true;
  }

  /** The jobs, oldest first. */
  values(): Job[] {
    const out: Job[] = [];
    for (const job of this.#slots) if (job !== undefined) out.push(job);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** The slot of `seq`, or -1. */
  #find(seq: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = seq & mask, d = 0;; i = (i + 1) & mask, d++) {
      const job = slots[i];
      if (job === undefined) return -1;
      if (job.seq === seq) return i;
      // Robin Hood order: `seq` would sit before any entry closer to its home.
      if (((i - job.seq) & mask) < d) return -1;
    }
  }

  #place(job: Job): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let carry = job;
    for (let i = job.seq & mask, d = 0;; i = (i + 1) & mask, d++) {
      const there = slots[i];
      if (there === undefined) {
        slots[i] = carry;
        return;
      }
      const theirs = (i - there.seq) & mask;
      if (theirs < d) {
        slots[i] = carry;
        carry = there;
        d = theirs;
      }
    }
  }

  #resize(capacity: number): void {
    const old = this.#slots;
    this.#slots = new Array<Job | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    for (const job of old) if (job !== undefined) this.#place(job);
  }
}
