/** Something a worker reported while the job runs. */
export type JobEvent =
  | { readonly type: "data"; readonly data: Uint8Array }
  | { readonly type: "warning"; readonly data: Uint8Array }
  | { readonly type: "status"; readonly numerator: number; readonly denominator: number };

const decoder = new TextDecoder();

/** The result of a finished foreground job. */
export class JobResult {
  /** The job handle the server gave. */
  readonly handle: string;
  /** The bytes the worker sent with WORK_COMPLETE. */
  readonly data: Uint8Array;

  constructor(handle: string, data: Uint8Array) {
    this.handle = handle;
    this.data = data;
  }

  /** The result decoded as UTF-8. */
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
  readonly [Symbol.toStringTag] = "ForegroundJob";
  /** The function the job was submitted to. */
  readonly function: string;
  /** Resolves with the job handle once the server created the job. */
  readonly handle: Promise<string>;
  readonly #result: Promise<JobResult>;
  #events: JobEvent[] = [];
  #wake: (() => void) | undefined;
  #error: Error | undefined;
  #done = false;

  private constructor(fn: string, result: Promise<JobResult>, handle: Promise<string>) {
    this.function = fn;
    this.#result = result;
    this.handle = handle;
    // Failures are reported to whoever awaits; none is an unhandled rejection.
    result.catch(() => {});
    handle.catch(() => {});
  }

  /** Creates a job and the control the client settles it with. */
  static create(fn: string): [ForegroundJob, JobControl] {
    let resolveResult!: (r: JobResult) => void;
    let rejectResult!: (e: Error) => void;
    let resolveHandle!: (h: string) => void;
    let rejectHandle!: (e: Error) => void;
    const result = new Promise<JobResult>((res, rej) => {
      resolveResult = res;
      rejectResult = rej;
    });
    const handlePromise = new Promise<string>((res, rej) => {
      resolveHandle = res;
      rejectHandle = rej;
    });
    const job = new ForegroundJob(fn, result, handlePromise);
    let handle = "";
    const control: JobControl = {
      get settled() {
        return job.#done;
      },
      created(h) {
        handle = h;
        resolveHandle(h);
      },
      event(e) {
        if (job.#done) return;
        job.#events.push(e);
        job.#notify();
      },
      complete(data) {
        if (job.#done) return;
        job.#done = true;
        resolveResult(new JobResult(handle, data));
        job.#notify();
      },
      fail(err) {
        if (job.#done) return;
        job.#done = true;
        job.#error = err;
        rejectHandle(err);
        rejectResult(err);
        job.#notify();
      },
    };
    return [job, control];
  }

  then<A = JobResult, B = never>(
    onFulfilled?: ((value: JobResult) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#result.then(onFulfilled, onRejected);
  }

  catch<B = never>(
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<JobResult | B> {
    return this.#result.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<JobResult> {
    return this.#result.finally(onFinally);
  }

  /** Resolves with the result decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.#result).text();
  }

  /** Yields events until the job ends; throws the job's error if it failed. */
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
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
