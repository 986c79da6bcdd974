/** Slots a queue starts with on its first push. */
const FIRST_CAPACITY = 8;
/** An empty queue gives back a ring larger than this. */
const KEEP_CAPACITY = 1024;

/**
 * A first-in first-out queue with O(1) push and shift: a ring of slots that
 * doubles when full. A queue that keeps moving allocates nothing, so its
 * slots never outlive a young-generation collection as garbage would; one
 * that empties after a burst gives its large ring back.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  /** Index of the oldest item; the ring's size is a power of two. */
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    const items = this.#items;
    if (this.#size === items.length) {
      this.#grow();
      this.#items[this.#size++] = item;
      return;
    }
    items[(this.#head + this.#size++) & (items.length - 1)] = item;
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const items = this.#items;
    const item = items[this.#head];
    items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (items.length - 1);
    if (--this.#size === 0) {
      this.#head = 0;
      if (items.length > KEEP_CAPACITY) this.#items = [];
    }
    return item;
  }

  /** Iterates from oldest to newest. */
  *[Symbol.iterator](): IterableIterator<T> {
    const items = this.#items;
    for (let i = 0; i < this.#size; i++) yield items[(this.#head + i) & (items.length - 1)] as T;
  }

  /**
   * A ring twice as large, with the items from index 0 in order. Filled by
   * push, since V8 gives `new Array(n)` slow dictionary elements for large n.
   */
  #grow(): void {
    const old = this.#items;
    const capacity = old.length === 0 ? FIRST_CAPACITY : old.length * 2;
    const items: (T | undefined)[] = [];
    for (let i = 0; i < this.#size; i++) items.push(old[(this.#head + i) & (old.length - 1)]);
    while (items.length < capacity) items.push(undefined);
    this.#items = items;
    this.#head = 0;
  }
}
