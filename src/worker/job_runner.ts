import { PacketType as T } from "../protocol/constants.ts";
import { latin1, utf8Bytes } from "../util/bytes.ts";
import type { Link, Reply } from "../client/link.ts";
import { JobContext } from "./job_context.ts";
import { payloadOf } from "./job_payload.ts";
import type { JobHandler } from "./worker_types.ts";

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * The job a JOB_ASSIGN_UNIQ assigns; its progress reports (WORK_DATA,
 * WORK_WARNING, WORK_STATUS) go out on `link`.
 */
export function assignedJob(link: Link, reply: Reply): JobContext {
  const [handleBytes, fnBytes, uniqueBytes, workload] = reply.args as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const handle = latin1(handleBytes);
  const send = (type: number, args: (string | Uint8Array)[]) => link.post(type, [handle, ...args]);
  return new JobContext(
    decoder.decode(fnBytes),
    handle,
    decoder.decode(uniqueBytes),
    workload,
    send,
  );
}

/**
 * Runs a job with its handler and answers the server that assigned it:
 * WORK_COMPLETE with the result, or, when the handler throws, rejects or
 * returns something other than a string, a Uint8Array or undefined,
 * WORK_FAIL (WORK_EXCEPTION with the error's message when `exceptions` is
 * set). Calls `done` exactly once, after the answer is posted, even when
 * posting it throws.
 */
export function runJob(
  link: Link,
  job: JobContext,
  handler: JobHandler,
  exceptions: boolean,
  done: () => void,
): void {
  const handle = job.handle;
  const complete = (result: unknown): void => {
    try {
      const bytes = result === undefined ? EMPTY : payloadOf(result, "handler returned");
      link.post(T.WORK_COMPLETE, [handle, bytes]);
    } catch (err) {
      // Not a payload, or too large to encode: the job fails instead.
      fail(err);
      return;
    }
    done();
  };
  const fail = (err: unknown): void => {
    try {
      if (exceptions) link.post(T.WORK_EXCEPTION, [handle, utf8Bytes(errorText(err))]);
      else link.post(T.WORK_FAIL, [handle]);
    } finally {
      done();
    }
  };
  // The handler runs in this (promise) turn, not inside packet decoding; a
  // result that is not a promise is answered at once, without promise hops.
  let result: unknown;
  try {
    result = handler(job);
  } catch (err) {
    fail(err);
    return;
  }
  if (isThenable(result)) {
    // Promise.resolve settles once even when a hand-made thenable calls back
    // twice or throws, so the slot is freed exactly once. A native promise
    // is returned as it is.
    Promise.resolve(result).then(complete, fail);
  } else {
    complete(result);
  }
}

/** The text of a WORK_EXCEPTION (`String()` throws for some values, such as `Object.create(null)`). */
function errorText(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return "handler threw a value that cannot be converted to a string";
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
