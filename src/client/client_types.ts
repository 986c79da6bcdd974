/**
 * The public types of the client (`GearmanClient`): payloads, priorities,
 * the options of the client and of its submits, and what it resolves with.
 *
 * @module
 */
import type { Net } from "../net/net.ts";

/**
 * A job priority: which SUBMIT_JOB variant is sent. Workers get high jobs
 * before normal ones, and normal before low.
 *
 * @example
 * ```ts
 * import { createClient, type Priority } from "./mod.ts";
 * const priority: Priority = "high";
 * const client = createClient();
 * await client.submitBackground("report", "q3", { priority });
 * client.close();
 * ```
 */
export type Priority = "high" | "normal" | "low";

/**
 * A job payload or result: bytes as they are, or text sent as UTF-8.
 *
 * @example
 * ```ts
 * import { createClient, type Payload } from "./mod.ts";
 * const payloads: Payload[] = ["text", new Uint8Array([0, 1, 2])];
 * const client = createClient();
 * for (const p of payloads) await client.submitBackground("store", p);
 * client.close();
 * ```
 */
export type Payload = Uint8Array | string;

/**
 * Settings of a {@link GearmanClient}.
 *
 * @example
 * ```ts
 * import { type ClientOptions, createClient } from "./mod.ts";
 * const options: ClientOptions = {
 *   servers: "10.0.0.1:4730,10.0.0.2:4730",
 *   exceptions: true,
 *   connectTimeoutMs: 2000,
 * };
 * const client = createClient(options);
 * client.close();
 * ```
 */
export interface ClientOptions {
  /** Servers as `host:port`, a list or comma-separated (default `127.0.0.1:4730`). */
  readonly servers?: string | readonly string[];
  /** Socket implementation; defaults to the runtime's. */
  readonly net?: Net;
  /** Ask servers to forward WORK_EXCEPTION (else exceptions arrive as failures). */
  readonly exceptions?: boolean;
  /** Give up connecting to a server after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * Options of a foreground {@link GearmanClient.submit}.
 *
 * @example
 * ```ts
 * import { createClient, type SubmitOptions } from "./mod.ts";
 * const options: SubmitOptions = { priority: "high", unique: "user-42", timeoutMs: 5000 };
 * const client = createClient();
 * console.log((await client.submit("profile", "42", options)).text());
 * client.close();
 * ```
 */
export interface SubmitOptions {
  /** Which queue the job joins (default `"normal"`). */
  readonly priority?: Priority;
  /** Jobs with the same function and unique run once; `-` means "the payload". */
  readonly unique?: string;
  /** Stops waiting (the job itself is not cancelled on the server). */
  readonly signal?: AbortSignal;
  /** Stops waiting after this many milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * Options of a {@link GearmanClient.submitBackground}.
 *
 * @example
 * ```ts
 * import { type BackgroundOptions, createClient } from "./mod.ts";
 * const options: BackgroundOptions = { unique: "nightly", runAt: Date.now() + 60_000 };
 * const client = createClient();
 * await client.submitBackground("cleanup", "", options);
 * client.close();
 * ```
 */
export interface BackgroundOptions {
  /** Which queue the job joins (default `"normal"`). */
  readonly priority?: Priority;
  /** Jobs with the same function and unique are queued once; `-` means "the payload". */
  readonly unique?: string;
  /** Run no earlier than this (SUBMIT_JOB_EPOCH; normal priority only). */
  readonly runAt?: Date | number;
}

/**
 * A background job: its handle and the server that holds it, as
 * {@link GearmanClient.submitBackground} resolves it.
 *
 * @example
 * ```ts
 * import { type BackgroundJob, createClient } from "./mod.ts";
 * const client = createClient();
 * const job: BackgroundJob = await client.submitBackground("resize", "cat.png");
 * console.log(job.handle, job.server); // "H:host:1" "127.0.0.1:4730"
 * client.close();
 * ```
 */
export interface BackgroundJob {
  /** The job handle the server gave, e.g. `H:host:12`. */
  readonly handle: string;
  /** `host:port` of the server that created it. */
  readonly server: string;
}

/**
 * What GET_STATUS / GET_STATUS_UNIQUE report about a job.
 *
 * @example
 * ```ts
 * import { createClient, type JobStatus } from "./mod.ts";
 * const client = createClient();
 * const job = await client.submitBackground("resize", "cat.png");
 * const status: JobStatus = await client.status(job);
 * if (status.known && status.running) console.log(`${status.numerator}/${status.denominator}`);
 * client.close();
 * ```
 */
export interface JobStatus {
  /** The server knows the job: it is queued or running. */
  readonly known: boolean;
  /** A worker is running it. */
  readonly running: boolean;
  /** Progress as the worker last reported it (WORK_STATUS), 0 before any. */
  readonly numerator: number;
  /** The total that `numerator` counts towards, 0 before any report. */
  readonly denominator: number;
  /** Clients waiting on the job (status by unique only). */
  readonly waiting?: number;
}
