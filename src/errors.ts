/**
 * Every error gearman-ts throws is a {@link GearmanError} with a stable
 * string `code`, so callers can branch on `err.code` on every runtime.
 *
 * @module
 */

/**
 * Base class of all gearman-ts errors: `instanceof GearmanError` catches
 * every one of them, and `code` tells them apart.
 *
 * @example
 * ```ts
 * import { createClient, GearmanError } from "./mod.ts";
 * const client = createClient();
 * try {
 *   await client.submit("reverse", "hello");
 * } catch (err) {
 *   if (err instanceof GearmanError) console.error(err.code, err.message);
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class GearmanError extends Error {
  /** A stable, machine-readable code such as `"ECONNREFUSED"` or `"PROTOCOL"`. */
  readonly code: string;

  /**
   * Creates the error.
   *
   * @param code the stable code, e.g. `"TIMEOUT"`
   * @param message what went wrong, naming the peer where there is one
   * @param options `cause`: the error this one wraps
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GearmanError";
    this.code = code;
  }
}

/**
 * A connection could not be made or was lost. `cause` is the runtime's
 * error and `code` its code (`ECONNREFUSED`, `ECONNRESET`, ...), or
 * `CLOSED` after `close()`.
 *
 * @example
 * ```ts
 * import { ConnectionError, createClient } from "./mod.ts";
 * const client = createClient({ servers: "127.0.0.1:1" });
 * try {
 *   await client.submit("reverse", "hello");
 * } catch (err) {
 *   if (err instanceof ConnectionError) console.error(err.code); // "ECONNREFUSED"
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class ConnectionError extends GearmanError {
  /**
   * Creates the error.
   *
   * @param message what failed, naming the server
   * @param options `cause`, and `code` (default `"CONNECTION"`)
   */
  constructor(message: string, options?: ErrorOptions & { code?: string }) {
    super(options?.code ?? "CONNECTION", message, options);
    this.name = "ConnectionError";
  }

  /**
   * Wraps a runtime's socket error as `<what>: <message>`, keeping its `code`
   * (ECONNREFUSED, ...); a ConnectionError is returned as it is.
   *
   * @param err the runtime's error
   * @param what the operation, e.g. `connect 127.0.0.1:4730`
   * @returns the wrapped error, with `err` as its `cause`
   *
   * @example
   * ```ts
   * import { ConnectionError } from "./mod.ts";
   * const raw = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
   * console.log(ConnectionError.from(raw, "connect 127.0.0.1:4730").code); // "ECONNREFUSED"
   * ```
   */
  static from(err: unknown, what: string): ConnectionError {
    if (err instanceof ConnectionError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const text = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    return new ConnectionError(
      text,
      typeof code === "string" ? { code, cause: err } : { cause: err },
    );
  }
}

/** `err` if it is an Error, else an Error with its text. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Something took longer than allowed, such as a submit with `timeoutMs`.
 *
 * @example
 * ```ts
 * import { createClient, TimeoutError } from "./mod.ts";
 * const client = createClient();
 * try {
 *   await client.submit("slow", "x", { timeoutMs: 100 });
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.error("gave up waiting");
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class TimeoutError extends GearmanError {
  /**
   * Creates the error.
   *
   * @param message what took too long, and the limit
   * @param options `cause`
   */
  constructor(message: string, options?: ErrorOptions) {
    super("TIMEOUT", message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A peer broke the wire protocol. `errorCode` is the gearmand ERROR code to
 * answer with, or undefined when the only answer is to close the connection.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "./mod.ts";
 * const err = new ProtocolError("protocol: bad magic from 127.0.0.1:51234", { errorCode: "INVALID_MAGIC" });
 * console.log(err.code, err.errorCode); // "PROTOCOL" "INVALID_MAGIC"
 * ```
 */
export class ProtocolError extends GearmanError {
  /** The ERROR packet code to answer with, or undefined to just close. */
  readonly errorCode: string | undefined;
  /** The type number of the offending packet, when known. */
  readonly packetType: number | undefined;
  /** The offending input was an admin text line: the answer is an `ERR` line, not a packet. */
  readonly adminLine: boolean;

  /**
   * Creates the error.
   *
   * @param message what arrived and what was expected, naming the peer
   * @param options `cause`, `errorCode`, `packetType`, `adminLine`
   */
  constructor(
    message: string,
    options?: ErrorOptions & { errorCode?: string; packetType?: number; adminLine?: boolean },
  ) {
    super("PROTOCOL", message, options);
    this.name = "ProtocolError";
    this.errorCode = options?.errorCode;
    this.packetType = options?.packetType;
    this.adminLine = options?.adminLine ?? false;
  }
}

/**
 * A server answered with an ERROR packet (or the admin protocol with `ERR`);
 * `serverCode` is its code, e.g. `QUEUE_ERROR`.
 *
 * @example
 * ```ts
 * import { createClient, ServerError } from "./mod.ts";
 * const client = createClient();
 * try {
 *   await client.submitBackground("resize", "cat.png");
 * } catch (err) {
 *   if (err instanceof ServerError && err.serverCode === "QUEUE_ERROR") console.error("queue full");
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class ServerError extends GearmanError {
  /** The server's error code, e.g. `QUEUE_ERROR`. */
  readonly serverCode: string;

  /**
   * Creates the error.
   *
   * @param serverCode the server's code
   * @param text the server's message
   * @param options `cause`
   */
  constructor(serverCode: string, text: string, options?: ErrorOptions) {
    super("SERVER_ERROR", `server error ${serverCode}: ${text}`, options);
    this.name = "ServerError";
    this.serverCode = serverCode;
  }

  /**
   * Builds the error from the two arguments of an ERROR packet.
   *
   * @param code the first argument, the error code
   * @param text the second argument, the message
   * @returns the error
   *
   * @example
   * ```ts
   * import { ServerError } from "./mod.ts";
   * const err = ServerError.fromPacket("QUEUE_ERROR", "queue full");
   * console.log(err.message); // "server error QUEUE_ERROR: queue full"
   * ```
   */
  static fromPacket(code: string, text: string): ServerError {
    return new ServerError(code, text);
  }
}

/**
 * A caller passed a value that cannot be used.
 *
 * @example
 * ```ts
 * import { createWorker, InvalidArgumentError } from "./mod.ts";
 * try {
 *   createWorker({ concurrency: 0 });
 * } catch (err) {
 *   if (err instanceof InvalidArgumentError) console.error(err.message); // "invalid concurrency: ..."
 * }
 * ```
 */
export class InvalidArgumentError extends GearmanError {
  /**
   * Creates the error.
   *
   * @param message what was wrong with which argument
   * @param options `cause`
   */
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_ARGUMENT", message, options);
    this.name = "InvalidArgumentError";
  }

  /**
   * Builds the error with a uniform message: `invalid <field>: <problem>`.
   *
   * @param field the argument or option
   * @param problem what is wrong with it
   * @returns the error
   *
   * @example
   * ```ts
   * import { InvalidArgumentError } from "./mod.ts";
   * console.log(InvalidArgumentError.format("port", "must be 1-65535").message); // "invalid port: must be 1-65535"
   * ```
   */
  static format(field: string, problem: string): InvalidArgumentError {
    return new InvalidArgumentError(`invalid ${field}: ${problem}`);
  }
}

/**
 * A worker reported WORK_FAIL for the job (or the server gave up on it, or
 * cancelled it).
 *
 * @example
 * ```ts
 * import { createClient, JobFailedError } from "./mod.ts";
 * const client = createClient();
 * try {
 *   await client.submit("flaky", "x");
 * } catch (err) {
 *   if (err instanceof JobFailedError) console.error("job failed:", err.handle);
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class JobFailedError extends GearmanError {
  /** The job handle. */
  readonly handle: string;

  /**
   * Creates the error.
   *
   * @param handle the job handle
   * @param options `cause`
   */
  constructor(handle: string, options?: ErrorOptions) {
    super("JOB_FAILED", `job ${handle} failed`, options);
    this.name = "JobFailedError";
    this.handle = handle;
  }
}

/**
 * A worker reported WORK_EXCEPTION for the job; `data` is the exception
 * text. Clients get it only with `exceptions: true` (else a JobFailedError).
 *
 * @example
 * ```ts
 * import { createClient, JobExceptionError } from "./mod.ts";
 * const client = createClient({ exceptions: true });
 * try {
 *   await client.submit("parse", "{");
 * } catch (err) {
 *   if (err instanceof JobExceptionError) console.error(new TextDecoder().decode(err.data));
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class JobExceptionError extends GearmanError {
  /** The job handle. */
  readonly handle: string;
  /** The exception payload the worker sent. */
  readonly data: Uint8Array;

  /**
   * Creates the error.
   *
   * @param handle the job handle
   * @param data the exception payload
   * @param options `cause`
   */
  constructor(handle: string, data: Uint8Array, options?: ErrorOptions) {
    super(
      "JOB_EXCEPTION",
      `job ${handle} raised: ${new TextDecoder().decode(data)}`,
      options,
    );
    this.name = "JobExceptionError";
    this.handle = handle;
    this.data = data;
  }
}

/**
 * The caller aborted the operation through its AbortSignal; `cause` is the
 * signal's reason.
 *
 * @example
 * ```ts
 * import { AbortedError, createClient } from "./mod.ts";
 * const client = createClient();
 * const controller = new AbortController();
 * const job = client.submit("slow", "x", { signal: controller.signal });
 * controller.abort();
 * try {
 *   await job;
 * } catch (err) {
 *   if (err instanceof AbortedError) console.error("stopped waiting");
 * } finally {
 *   client.close();
 * }
 * ```
 */
export class AbortedError extends GearmanError {
  /**
   * Creates the error.
   *
   * @param message what was aborted (default `"aborted"`)
   * @param options `cause`: the signal's reason
   */
  constructor(message = "aborted", options?: ErrorOptions) {
    super("ABORTED", message, options);
    this.name = "AbortedError";
  }
}
