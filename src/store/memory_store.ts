import type { JobStore, StoredQueue } from "./store.ts";

/**
 * gearmand's `builtin` queue: background jobs live only in the server's
 * memory and are gone when it stops. The server sends JOB_CREATED at once and
 * never calls {@link commit}.
 */
export class MemoryStore implements JobStore {
  readonly name = "memory";
  readonly durable = false;

  open(): Promise<StoredQueue> {
    return Promise.resolve({ jobs: [], counter: 0 });
  }

  commit(): void {}

  replace(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
