import { PacketType } from "../protocol/constants.ts";
import type { Frame } from "../protocol/frame.ts";
import { encodeResponse } from "../protocol/encoder.ts";
import { concatBytes, latin1, latin1At } from "../util/bytes.ts";
import type { ServerConnection } from "./connection.ts";
import type { FunctionEntry, Job } from "./job.ts";
import { JobState } from "./job.ts";

const T = PacketType;

/** Handles longer than this cannot be gearmand's (GEARMAND_JOB_HANDLE_SIZE includes the NUL). */
const MAX_HANDLE_SIZE = 63;

/** CAN_DO_TIMEOUT values below this are raised to it, as gearmand does. */
const MIN_TIMEOUT_MS = 1000;

/** CAN_DO_TIMEOUT values above this (about 24.8 days, the most a timer holds) are lowered to it. */
const MAX_TIMEOUT_MS = 0x7fffffff;

const NOT_FOUND_RESULT = "Job given in work result not found";
const NOT_FOUND_DATA = "Job does not exist on server";
const NOT_FOUND_EXCEPTION = "An exception was received for a job that does not exist";

/** Handles the packets a worker sends; returns false for any other type. */
export function handleWorkerPacket(c: ServerConnection, type: number, f: Frame): boolean {
  switch (type) {
    case T.CAN_DO:
      register(c, text(f, 0), 0);
      return true;
    case T.CAN_DO_TIMEOUT: {
      const ms = Number.parseInt(text(f, 1), 10);
      register(c, text(f, 0), Number.isFinite(ms) ? ms : 0);
      return true;
    }
    case T.CANT_DO: {
      const fn = c.core.queue.functions.get(text(f, 0));
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
      const id = text(f, 0).slice(0, 127);
      c.clientId = id.length > 0 ? id : "-";
      return true;
    }
    case T.WORK_STATUS: {
      const job = heldJob(c, f, NOT_FOUND_RESULT);
      if (job === undefined) return true;
      job.numerator = text(f, 1);
      job.denominator = text(f, 2);
      forward(c, job, type, f);
      return true;
    }
    case T.WORK_DATA:
    case T.WORK_WARNING: {
      const job = heldJob(c, f, NOT_FOUND_DATA);
      if (job !== undefined) forward(c, job, type, f);
      return true;
    }
    case T.WORK_COMPLETE: {
      const job = heldJob(c, f, NOT_FOUND_RESULT);
      if (job === undefined) return true;
      forward(c, job, type, f);
      c.core.end(job, undefined);
      return true;
    }
    case T.WORK_FAIL: {
      if (f.size(0) > MAX_HANDLE_SIZE) {
        c.sendError(
          "ARGUMENT_TOO_LARGE",
          "Error occurred due to GEARMAN_JOB_HANDLE_SIZE being too small from snprintf",
        );
        return true;
      }
      const job = heldJob(c, f, NOT_FOUND_RESULT);
      if (job !== undefined) c.core.fail(job);
      return true;
    }
    case T.WORK_EXCEPTION: {
      const job = heldJob(c, f, NOT_FOUND_EXCEPTION);
      if (job === undefined) return true;
      // Clients that did not ask for exceptions get a plain WORK_FAIL (PROTOCOL.md §7.1, §16).
      c.core.end(
        job,
        encodeResponse(type, [f.arg(0), f.arg(1)]),
        encodeResponse(T.WORK_FAIL, [job.handle]),
      );
      return true;
    }
    default:
      return false;
  }
}

/** Argument `i` of a frame as a (latin1) string. */
function text(f: Frame, i: number): string {
  if (f.rest.length > 0 && i === f.count - 1) return latin1(f.arg(i));
  return latin1At(f.buf, f.starts[i] as number, f.ends[i] as number);
}

/** Sends a worker's WORK_* packet on to every client waiting on the job, as it came. */
function forward(c: ServerConnection, job: Job, type: number, f: Frame): void {
  const clients = job.clients;
  if (clients === undefined) return;
  if (clients.length === 1) {
    (clients[0] as ServerConnection).forward(job, type, f);
    return;
  }
  // Several clients share one copy; the payload is one argument here, NULs and all.
  const first = f.buf.subarray(f.start, f.end);
  const payload = f.rest.length === 0 ? first : concatBytes([first, ...f.rest]);
  c.core.notify(job, encodeResponse(type, [payload]));
}

/** The worker is gone: its jobs go back to their queues, its abilities are dropped. */
export function releaseWorker(c: ServerConnection): void {
  const core = c.core;
  core.parked.forget(c);
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
  // Copies of the exact size: most workers register once and then idle.
  c.registrations = [...c.registrations, fn];
  if (timeoutMs > 0) {
    const ms = Math.min(Math.max(timeoutMs, MIN_TIMEOUT_MS), MAX_TIMEOUT_MS);
    (c.timeouts ??= new Map()).set(fn, ms);
  } else {
    c.timeouts?.delete(fn);
  }
  if (!c.abilities.includes(fn)) {
    c.abilities = [...c.abilities, fn];
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

/** GRAB_JOB*: the next job for this worker, or (after a short wait, see ParkedGrabs) NO_JOB. */
export function grab(c: ServerConnection, type: number): void {
  const core = c.core;
  const wasWoken = core.dispatcher.grabbing(c);
  const job = c.abilities.length === 0 ? undefined : core.queue.take(c.abilities, c.rr);
  if (job === undefined) {
    if (!core.parked.park(c, type)) c.sendNoJob();
  } else {
    c.rr = core.queue.takenIndex + 1;
    assign(c, job);
    if (type === T.GRAB_JOB) c.sendAssign(T.JOB_ASSIGN, job);
    else if (type === T.GRAB_JOB_ALL && job.reducer.length > 0) c.sendAssign(T.JOB_ASSIGN_ALL, job);
    else c.sendAssign(T.JOB_ASSIGN_UNIQ, job);
  }
  if (wasWoken) core.dispatcher.afterGrab(c);
}

function assign(c: ServerConnection, job: Job): void {
  job.state = JobState.RUNNING;
  job.worker = c;
  job.fn.running++;
  c.hold(job);
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

/** The job named by the frame's first argument if this connection holds it; else ERROR JOB_NOT_FOUND. */
function heldJob(c: ServerConnection, f: Frame, notFound: string): Job | undefined {
  const job = c.core.queue.byHandleAt(f.buf, f.starts[0] as number, f.ends[0] as number);
  if (job === undefined || job.worker !== c) {
    c.sendError("JOB_NOT_FOUND", notFound);
    return undefined;
  }
  return job;
}
