/**
 * Something a worker reported while the job runs: WORK_DATA, WORK_WARNING or
 * WORK_STATUS, yielded by iterating a {@link ForegroundJob}.
 *
 * @example
 * ```ts
 * import { createClient, type JobEvent } from "./mod.ts";
 * const client = createClient();
 * const job = client.submit("resize", "cat.png");
 * const show = (event: JobEvent) =>
 *   event.type === "status" ? `${event.numerator}/${event.denominator}` : new TextDecoder().decode(event.data);
 * for await (const event of job) console.log(event.type, show(event));
 * client.close();
 * ```
 */
export type JobEvent =
  | { readonly type: "data"; readonly data: Uint8Array }
  | { readonly type: "warning"; readonly data: Uint8Array }
  | { readonly type: "status"; readonly numerator: number; readonly denominator: number };

const decoder = new TextDecoder();

/**
 * The result of a finished foreground job: what a {@link ForegroundJob}
 * resolves with.
 *
 * @example
 * ```ts
 * import { createClient, type JobResult } from "./mod.ts";
 * const client = createClient();
 * const result: JobResult = await client.submit("reverse", "hello");
 * console.log(result.handle, result.data.length, result.text());
 * client.close();
 * ```
 */
export class JobResult {
  /** The job handle the server gave. */
  readonly handle: string;
  /** The bytes the worker sent with WORK_COMPLETE. */
  readonly data: Uint8Array;

  /**
   * Wraps a result; the client makes these, applications only read them.
   * @param handle the job handle
   * @param data the bytes of WORK_COMPLETE (not copied)
   */
  constructor(handle: string, data: Uint8Array) {
    this.handle = handle;
    this.data = data;
  }

  /**
   * The result decoded as UTF-8.
   * @returns the text (invalid bytes become U+FFFD)
   *
   * @example
   * ```ts
   * import { JobResult } from "./mod.ts";
   * console.log(new JobResult("H:host:1", new TextEncoder().encode("olleh")).text()); // "olleh"
   * ```
   */
  text(): string {
    return decoder.decode(this.data);
  }
}

/** How the client drives a {@link ForegroundJob}. */
export interface JobControl {
  created(handle: string): void;
  event(event: JobEvent): void;
  complete(data: Uint8Array): void;
  fail(err: Error): void;
  readonly settled: boolean;
}

/**
 * A submitted foreground job: a promise of its {@link JobResult} and an
 * async iterable of the WORK_DATA, WORK_WARNING and WORK_STATUS events that
 * arrive before it. WORK_FAIL rejects with `JobFailedError`, WORK_EXCEPTION
 * with `JobExceptionError`.
 *
 * @example
 * ```ts
 * import { createClient } from "./mod.ts";
 * const client = createClient({ servers: "127.0.0.1:4730" });
 * const job = client.submit("reverse", "hello");
 * for await (const event of job) console.log(event.type);
 * console.log((await job).text());
 * client.close();
 * ```
 */
export class ForegroundJob implements Promise<JobResult>, AsyncIterable<JobEvent> {
  /** `"ForegroundJob"`, for `Object.prototype.toString`. */
  readonly [Symbol.toStringTag] = "ForegroundJob";
  /** The function the job was submitted to. */
  readonly function: string;
  readonly #result: Promise<JobResult>;
  #events: JobEvent[] = [];
  /** Iterators waiting for an event or the end. */
  #wakers: (() => void)[] = [];
  #error: Error | undefined;
  #done = false;
  #handle: string | undefined;
  /** Made on first use of {@link handle}: most callers never ask for it. */
  #handlePromise: Promise<string> | undefined;
  #resolveHandle: ((h: string) => void) | undefined;
  #rejectHandle: ((e: Error) => void) | undefined;

  private constructor(fn: string, result: Promise<JobResult>) {
    this.function = fn;
    this.#result = result;
    // Failures are reported to whoever awaits; none is an unhandled rejection.
    result.catch(() => {});
  }

  /**
   * Resolves with the job handle once the server created the job (JOB_CREATED);
   * rejects like the job when it fails before that.
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * const job = client.submit("resize", "cat.png");
   * console.log(await job.handle); // "H:host:7"
   * await job;
   * client.close();
   * ```
   */
  get handle(): Promise<string> {
    if (this.#handlePromise === undefined) {
      if (this.#handle !== undefined) this.#handlePromise = Promise.resolve(this.#handle);
      else if (this.#error !== undefined) this.#handlePromise = Promise.reject(this.#error);
      else {
        this.#handlePromise = new Promise<string>((resolve, reject) => {
          this.#resolveHandle = resolve;
          this.#rejectHandle = reject;
        });
      }
      this.#handlePromise.catch(() => {});
    }
    return this.#handlePromise;
  }

  /**
   * Creates a job and the control its client settles it with; for client
   * implementations (applications get jobs from {@link GearmanClient.submit}).
   *
   * @param fn the function name the job is for
   * @returns the job, and the control that reports its events and outcome
   *
   * @example
   * ```ts
   * import { ForegroundJob } from "./mod.ts";
   * const [job, control] = ForegroundJob.create("reverse");
   * control.created("H:host:1");
   * control.complete(new TextEncoder().encode("olleh"));
   * console.log((await job).text()); // "olleh"
   * ```
   */
  static create(fn: string): [ForegroundJob, JobControl] {
    let resolveResult!: (r: JobResult) => void;
    let rejectResult!: (e: Error) => void;
    const result = new Promise<JobResult>((res, rej) => {
      resolveResult = res;
      rejectResult = rej;
    });
    const job = new ForegroundJob(fn, result);
    const control: JobControl = {
      get settled() {
        return job.#done;
      },
      created(h) {
        job.#handle = h;
        job.#resolveHandle?.(h);
      },
      event(e) {
        if (job.#done) return;
        job.#events.push(e);
        job.#notify();
      },
      complete(data) {
        if (job.#done) return;
        job.#done = true;
        resolveResult(new JobResult(job.#handle ?? "", data));
        job.#notify();
      },
      fail(err) {
        if (job.#done) return;
        job.#done = true;
        job.#error = err;
        job.#rejectHandle?.(err);
        rejectResult(err);
        job.#notify();
      },
    };
    return [job, control];
  }

  /**
   * Attaches callbacks for the result or the failure, as `Promise.then` does.
   *
   * @param onFulfilled called with the {@link JobResult}
   * @param onRejected called with the error (JobFailedError, TimeoutError, ...)
   * @returns a promise of what the callback returns
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * await client.submit("reverse", "hello").then((r) => console.log(r.text()));
   * client.close();
   * ```
   */
  then<A = JobResult, B = never>(
    onFulfilled?: ((value: JobResult) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#result.then(onFulfilled, onRejected);
  }

  /**
   * Attaches a callback for the failure only, as `Promise.catch` does.
   *
   * @param onRejected called with the error
   * @returns a promise of the result, or of what the callback returns
   *
   * @example
   * ```ts
   * import { createClient, JobFailedError } from "./mod.ts";
   * const client = createClient();
   * await client.submit("flaky", "x").catch((err) => {
   *   if (err instanceof JobFailedError) console.error("failed:", err.handle);
   * });
   * client.close();
   * ```
   */
  catch<B = never>(
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<JobResult | B> {
    return this.#result.catch(onRejected);
  }

  /**
   * Runs a callback once the job has ended either way, as `Promise.finally` does.
   *
   * @param onFinally called without arguments
   * @returns a promise that settles like the job
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * await client.submit("reverse", "hello").finally(() => client.close());
   * ```
   */
  finally(onFinally?: (() => void) | null): Promise<JobResult> {
    return this.#result.finally(onFinally);
  }

  /**
   * Resolves with the result decoded as UTF-8.
   * @returns the result's text
   * @throws {JobFailedError} (as a rejection) like the job itself
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * console.log(await client.submit("reverse", "hello").text()); // "olleh"
   * client.close();
   * ```
   */
  async text(): Promise<string> {
    return (await this.#result).text();
  }

  /**
   * Yields the job's events until it ends; throws the job's error if it
   * failed. Events that arrived before iterating are kept and yielded first.
   * Loops over one job share its events (each goes to one of them), and
   * every loop ends when the job does.
   *
   * @returns an iterator of {@link JobEvent}s
   *
   * @example
   * ```ts
   * import { createClient } from "./mod.ts";
   * const client = createClient();
   * const job = client.submit("resize", "cat.png");
   * for await (const event of job) console.log(event);
   * client.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<JobEvent> {
    for (;;) {
      const event = this.#events.shift();
      if (event !== undefined) {
        yield event;
        continue;
      }
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => this.#wakers.push(resolve));
    }
  }

  #notify(): void {
    if (this.#wakers.length === 0) return;
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}
