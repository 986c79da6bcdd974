/**
 * Bounded waiting for tests: polling with a deadline and a timeout around any
 * promise. Never a blocking wait, since our server may run in this very
 * process.
 */

/** Resolves after `ms` milliseconds (for polling intervals only, never as a wait for an event). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Pause between polls (default 20 ms). */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

/**
 * Polls `predicate` until it returns a truthy value and returns that value;
 * throws when the deadline passes. A predicate that throws counts as falsy.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.what ?? "a condition"}${why}`,
      );
    }
    await delay(opts.intervalMs ?? 20);
  }
}

/** Rejects if `promise` has not settled within `ms`; clears its timer either way. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
