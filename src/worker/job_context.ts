import { PacketType as T } from "../protocol/constants.ts";
import type { Payload } from "../client/client_types.ts";
import { payloadOf } from "./job_payload.ts";

type Send = (type: number, args: (string | Uint8Array)[]) => void;

const decoder = new TextDecoder();

/**
 * The job a handler runs: what was submitted, and the means to report
 * progress to the waiting clients.
 *
 * @example
 * ```ts
 * import { createWorker } from "./mod.ts";
 * createWorker().register("count", async (job) => {
 *   for (let i = 1; i <= 3; i++) job.status(i, 3);
 *   job.data("partial");
 *   return `done with ${job.text()}`;
 * }).start();
 * ```
 */
export class JobContext {
  /** The function name. */
  readonly function: string;
  /** The job handle. */
  readonly handle: string;
  /** The unique id it was submitted with ("" when none). */
  readonly unique: string;
  /** The payload. */
  readonly workload: Uint8Array;
  readonly #send: Send;

  /**
   * Made by the worker for each job; handlers only use it.
   * @param fn the function name
   * @param handle the job handle
   * @param unique the unique id ("" when none)
   * @param workload the payload (owned by the job)
   * @param send writes a WORK_* packet for this job
   */
  constructor(fn: string, handle: string, unique: string, workload: Uint8Array, send: Send) {
    this.function = fn;
    this.handle = handle;
    this.unique = unique;
    this.workload = workload;
    this.#send = send;
  }

  /**
   * The payload decoded as UTF-8.
   * @returns the text (invalid bytes become U+FFFD)
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * createWorker().register("upper", (job) => job.text().toUpperCase()).start();
   * ```
   */
  text(): string {
    return decoder.decode(this.workload);
  }

  /**
   * Sends partial result data (WORK_DATA) to the waiting clients.
   * @param payload bytes or UTF-8 text
   * @throws {InvalidArgumentError} when `payload` is neither a string nor a
   *   Uint8Array (thrown in the handler, so the job fails unless it catches it)
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * createWorker().register("lines", (job) => {
   *   for (const line of job.text().split("\n")) job.data(line.toUpperCase());
   * }).start();
   * ```
   */
  data(payload: Payload): void {
    this.#send(T.WORK_DATA, [payloadOf(payload, "job.data() got")]);
  }

  /**
   * Sends a warning (WORK_WARNING) to the waiting clients.
   * @param payload bytes or UTF-8 text
   * @throws {InvalidArgumentError} when `payload` is neither a string nor a
   *   Uint8Array (thrown in the handler, so the job fails unless it catches it)
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * createWorker().register("parse", (job) => {
   *   if (job.workload.length === 0) job.warning("empty input");
   *   return "ok";
   * }).start();
   * ```
   */
  warning(payload: Payload): void {
    this.#send(T.WORK_WARNING, [payloadOf(payload, "job.warning() got")]);
  }

  /**
   * Reports progress as numerator / denominator (WORK_STATUS), to waiting
   * clients and to GET_STATUS.
   * @param numerator the part done
   * @param denominator the whole
   *
   * @example
   * ```ts
   * import { createWorker } from "./mod.ts";
   * createWorker().register("batch", async (job) => {
   *   for (let i = 1; i <= 10; i++) job.status(i, 10);
   *   return "done";
   * }).start();
   * ```
   */
  status(numerator: number, denominator: number): void {
    this.#send(T.WORK_STATUS, [String(numerator), String(denominator)]);
  }
}
