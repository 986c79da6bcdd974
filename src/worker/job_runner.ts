import { PacketType as T } from "../protocol/constants.ts";
import { latin1, payloadBytes, utf8Bytes } from "../util/bytes.ts";
import type { Payload } from "../client/client_types.ts";
import type { Link, Reply } from "../client/link.ts";
import { JobContext } from "./job_context.ts";
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
 * WORK_COMPLETE with the result, or, when the handler throws or rejects,
 * WORK_FAIL (WORK_EXCEPTION with the error's message when `exceptions` is
 * set). Calls `done` once the answer is posted.
 */
export function runJob(
  link: Link,
  job: JobContext,
  handler: JobHandler,
  exceptions: boolean,
  done: () => void,
): void {
  const handle = job.handle;
  const complete = (result: Payload | void): void => {
    let bytes: Uint8Array;
    try {
      bytes = result === undefined ? EMPTY : payloadBytes(result);
    } catch (err) {
      fail(err);
      return;
    }
    link.post(T.WORK_COMPLETE, [handle, bytes]);
    done();
  };
  const fail = (err: unknown): void => {
    if (exceptions) {
      link.post(T.WORK_EXCEPTION, [
        handle,
        utf8Bytes(err instanceof Error ? err.message : String(err)),
      ]);
    } else {
      link.post(T.WORK_FAIL, [handle]);
    }
    done();
  };
  // The handler runs in this (promise) turn, not inside packet decoding; a
  // result that is not a promise is answered at once, without promise hops.
  let result: ReturnType<JobHandler>;
  try {
    result = handler(job);
  } catch (err) {
    fail(err);
    return;
  }
  if (isThenable(result)) {
    result.then(complete, fail);
  } else {
    complete(result);
  }
}

function isThenable(value: unknown): value is PromiseLike<Payload | void> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
