/**
 * Every error gearman-ts throws is a {@link GearmanError} with a stable
 * string `code`, so callers can branch on `err.code` on every runtime.
 *
 * @module
 */

/** Base class of all gearman-ts errors. */
export class GearmanError extends Error {
  /** A stable, machine-readable code such as `"ECONNREFUSED"` or `"PROTOCOL"`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GearmanError";
    this.code = code;
  }
}

/** A connection could not be made or was lost. `cause` is the runtime's error. */
export class ConnectionError extends GearmanError {
  constructor(message: string, options?: ErrorOptions & { code?: string }) {
    super(options?.code ?? "CONNECTION", message, options);
    this.name = "ConnectionError";
  }

  /** Wraps a runtime's socket error as `<what>: <message>`, keeping its `code` (ECONNREFUSED, ...). */
  static from(err: unknown, what: string): ConnectionError {
    if (err instanceof ConnectionError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const text = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    return new ConnectionError(text, typeof code === "string" ? { code, cause: err } : { cause: err });
  }
}

/** `err` if it is an Error, else an Error with its text. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Something took longer than allowed. */
export class TimeoutError extends GearmanError {
  constructor(message: string, options?: ErrorOptions) {
    super("TIMEOUT", message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A peer broke the wire protocol. `errorCode` is the gearmand ERROR code to
 * answer with, or undefined when the only answer is to close the connection.
 */
export class ProtocolError extends GearmanError {
  readonly errorCode: string | undefined;
  readonly packetType: number | undefined;

  constructor(
    message: string,
    options?: ErrorOptions & { errorCode?: string; packetType?: number },
  ) {
    super("PROTOCOL", message, options);
    this.name = "ProtocolError";
    this.errorCode = options?.errorCode;
    this.packetType = options?.packetType;
  }
}

/** A server answered with an ERROR packet. */
export class ServerError extends GearmanError {
  /** The server's error code, e.g. `QUEUE_ERROR`. */
  readonly serverCode: string;

  constructor(serverCode: string, text: string, options?: ErrorOptions) {
    super("SERVER_ERROR", `server error ${serverCode}: ${text}`, options);
    this.name = "ServerError";
    this.serverCode = serverCode;
  }

  /** Builds the error from the two arguments of an ERROR packet. */
  static fromPacket(code: string, text: string): ServerError {
    return new ServerError(code, text);
  }
}

/** A caller passed a value that cannot be used. */
export class InvalidArgumentError extends GearmanError {
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_ARGUMENT", message, options);
    this.name = "InvalidArgumentError";
  }

  /** A uniform message: `invalid <field>: <problem>`. */
  static format(field: string, problem: string): InvalidArgumentError {
    return new InvalidArgumentError(`invalid ${field}: ${problem}`);
  }
}

/** A worker reported WORK_FAIL for the job (or the server gave up on it). */
export class JobFailedError extends GearmanError {
  /** The job handle. */
  readonly handle: string;

  constructor(handle: string, options?: ErrorOptions) {
    super("JOB_FAILED", `job ${handle} failed`, options);
    this.name = "JobFailedError";
    this.handle = handle;
  }
}

/** A worker reported WORK_EXCEPTION for the job; `data` is the exception text. */
export class JobExceptionError extends GearmanError {
  /** The job handle. */
  readonly handle: string;
  /** The exception payload the worker sent. */
  readonly data: Uint8Array;

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

/** The caller aborted the operation through its AbortSignal. */
export class AbortedError extends GearmanError {
  constructor(message = "aborted", options?: ErrorOptions) {
    super("ABORTED", message, options);
    this.name = "AbortedError";
  }
}
