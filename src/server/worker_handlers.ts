import { PacketType } from "../protocol/constants.ts";
import { encodeResponse } from "../protocol/encoder.ts";
import { latin1 } from "../util/bytes.ts";
import type { ServerConnection } from "./connection.ts";
import type { FunctionEntry, Job } from "./job.ts";
import { JobState } from "./job.ts";

const T = PacketType;

/** Handles longer than this cannot be gearmand's (GEARMAND_JOB_HANDLE_SIZE includes the NUL). */
const MAX_HANDLE_SIZE = 63;

/** CAN_DO_TIMEOUT values below this are raised to it, as gearmand does. */
const MIN_TIMEOUT_MS = 1000;

const NOT_FOUND_RESULT = "Job given in work result not found";
const NOT_FOUND_DATA = "Job does not exist on server";
const NOT_FOUND_EXCEPTION = "An exception was received for a job that does not exist";

/** Handles the packets a worker sends; returns false for any other type. */
export function handleWorkerPacket(c: ServerConnection, type: number, args: Uint8Array[]): boolean {
  switch (type) {
    case T.CAN_DO:
      register(c, latin1(args[0] as Uint8Array), 0);
      return true;
    case T.CAN_DO_TIMEOUT: {
      const ms = Number.parseInt(latin1(args[1] as Uint8Array), 10);
      register(c, latin1(args[0] as Uint8Array), Number.isFinite(ms) ? ms : 0);
      return true;
    }
    case T.CANT_DO: {
      const fn = c.core.queue.functions.get(latin1(args[0] as Uint8Array));
      if (fn !== undefined) unregister(c, fn);
      return true;
    }
    case T.RESET_ABILITIES:
      for (const fn of [...c.abilities]) unregister(c, fn);
      return true;
    case T.PRE_SLEEP:
      c.core.dispatcher.preSleep(c);
      return true;
    case T.GRAB_JOB:
    case T.GRAB_JOB_UNIQ:
    case T.GRAB_JOB_ALL:
      grab(c, type);
      return true;
    case T.SET_CLIENT_ID: {
      const id = latin1(args[0] as Uint8Array).slice(0, 127);
      c.clientId = id.length > 0 ? id : "-";
      return true;
    }
    case T.WORK_STATUS: {
      const job = heldJob(c, args[0] as Uint8Array, NOT_FOUND_RESULT);
      if (job === undefined) return true;
      job.numerator = latin1(args[1] as Uint8Array);
      job.denominator = latin1(args[2] as Uint8Array);
      c.core.notify(job, encodeResponse(type, args));
      return true;
    }
    case T.WORK_DATA:
    case T.WORK_WARNING: {
      const job = heldJob(c, args[0] as Uint8Array, NOT_FOUND_DATA);
      if (job !== undefined) c.core.notify(job, encodeResponse(type, args));
      return true;
    }
    case T.WORK_COMPLETE: {
      const job = heldJob(c, args[0] as Uint8Array, NOT_FOUND_RESULT);
      if (job !== undefined) c.core.end(job, encodeResponse(type, args));
      return true;
    }
    case T.WORK_FAIL: {
      const handle = args[0] as Uint8Array;
      if (handle.length > MAX_HANDLE_SIZE) {
        c.sendError(
          "ARGUMENT_TOO_LARGE",
          "Error occurred due to GEARMAND_JOB_HANDLE_SIZE being too small from snprintf",
        );
        return true;
      }
      const job = heldJob(c, handle, NOT_FOUND_RESULT);
      if (job !== undefined) c.core.fail(job);
      return true;
    }
    case T.WORK_EXCEPTION: {
      const job = heldJob(c, args[0] as Uint8Array, NOT_FOUND_EXCEPTION);
      if (job === undefined) return true;
      // Clients that did not ask for exceptions get a plain WORK_FAIL (PROTOCOL.md §7.1, §16).
      c.core.end(
        job,
        encodeResponse(type, args),
        encodeResponse(T.WORK_FAIL, [job.handle]),
      );
      return true;
    }
    default:
      return false;
  }
}

/** The worker is gone: its jobs go back to their queues, its abilities are dropped. */
export function releaseWorker(c: ServerConnection): void {
  const core = c.core;
  core.dispatcher.closed(c);
  for (const job of [...c.held]) core.requeue(job);
  for (const fn of c.registrations) fn.workers--;
  c.registrations = [];
  c.abilities = [];
  c.timeouts = undefined;
}

function register(c: ServerConnection, name: string, timeoutMs: number): void {
  const fn = c.core.queue.fn(name);
  fn.workers++;
  c.registrations.push(fn);
  if (timeoutMs > 0) (c.timeouts ??= new Map()).set(fn, Math.max(timeoutMs, MIN_TIMEOUT_MS));
  else c.timeouts?.delete(fn);
  if (!c.abilities.includes(fn)) {
    c.abilities.push(fn);
    c.core.dispatcher.added(c, fn);
  }
}

function unregister(c: ServerConnection, fn: FunctionEntry): void {
  if (!c.abilities.includes(fn)) return;
  c.core.dispatcher.removed(c, fn);
  c.abilities = c.abilities.filter((f) => f !== fn);
  const kept = c.registrations.filter((f) => f !== fn);
  fn.workers -= c.registrations.length - kept.length;
  c.registrations = kept;
  c.timeouts?.delete(fn);
  // A job of a dropped function goes back to its queue, as on disconnect (PROTOCOL.md §3).
  for (const job of [...c.held]) if (job.fn === fn) c.core.requeue(job);
}

function grab(c: ServerConnection, type: number): void {
  const core = c.core;
  const wasWoken = core.dispatcher.grabbing(c);
  const taken = c.abilities.length === 0 ? undefined : core.queue.take(c.abilities, c.rr);
  if (taken === undefined) {
    c.sendPacket(T.NO_JOB);
  } else {
    const [job, index] = taken;
    c.rr = index + 1;
    assign(c, job);
    if (type === T.GRAB_JOB) {
      c.sendPacket(T.JOB_ASSIGN, [job.handle, job.fn.nameBytes, job.data]);
    } else if (type === T.GRAB_JOB_ALL && job.reducer.length > 0) {
      c.sendPacket(T.JOB_ASSIGN_ALL, [
        job.handle,
        job.fn.nameBytes,
        job.unique,
        job.reducer,
        job.data,
      ]);
    } else {
      c.sendPacket(T.JOB_ASSIGN_UNIQ, [job.handle, job.fn.nameBytes, job.unique, job.data]);
    }
  }
  if (wasWoken) core.dispatcher.afterGrab(c);
}

function assign(c: ServerConnection, job: Job): void {
  job.state = JobState.RUNNING;
  job.worker = c;
  job.fn.running++;
  c.held.add(job);
  const timeout = c.timeouts?.get(job.fn);
  if (timeout !== undefined) {
    job.timer = setTimeout(() => {
      job.timer = undefined;
      if (job.worker !== c) return;
      c.core.logger.notice(`Worker timeout reached on job, requeueing: ${job.handle}`);
      c.core.requeue(job);
    }, timeout);
  }
}

/** The job named by `handle` if this connection holds it; else ERROR JOB_NOT_FOUND. */
function heldJob(c: ServerConnection, handle: Uint8Array, notFound: string): Job | undefined {
  const job = c.core.queue.jobs.get(latin1(handle));
  if (job === undefined || job.worker !== c) {
    c.sendError("JOB_NOT_FOUND", notFound);
    return undefined;
  }
  return job;
}
