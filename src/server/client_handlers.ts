import { PacketType, Priority } from "../protocol/constants.ts";
import { latin1 } from "../util/bytes.ts";
import type { ServerConnection } from "./connection.ts";
import { JobState } from "./job.ts";
import { JobQueue } from "./job_queue.ts";

/** Longest unique id accepted (gearmand's GEARMAN_MAX_UNIQUE_SIZE). */
export const MAX_UNIQUE_SIZE = 64;

const T = PacketType;

/** How each submit type lays out its arguments and what it asks for (PROTOCOL.md §5.1). */
interface SubmitKind {
  readonly priority: Priority;
  readonly background: boolean;
  readonly layout: "plain" | "epoch" | "reduce";
}

const SUBMITS: ReadonlyMap<number, SubmitKind> = new Map([
  [T.SUBMIT_JOB, { priority: Priority.NORMAL, background: false, layout: "plain" }],
  [T.SUBMIT_JOB_BG, { priority: Priority.NORMAL, background: true, layout: "plain" }],
  [T.SUBMIT_JOB_HIGH, { priority: Priority.HIGH, background: false, layout: "plain" }],
  [T.SUBMIT_JOB_HIGH_BG, { priority: Priority.HIGH, background: true, layout: "plain" }],
  [T.SUBMIT_JOB_LOW, { priority: Priority.LOW, background: false, layout: "plain" }],
  [T.SUBMIT_JOB_LOW_BG, { priority: Priority.LOW, background: true, layout: "plain" }],
  [T.SUBMIT_JOB_EPOCH, { priority: Priority.NORMAL, background: true, layout: "epoch" }],
  [T.SUBMIT_REDUCE_JOB, { priority: Priority.NORMAL, background: false, layout: "reduce" }],
  [
    T.SUBMIT_REDUCE_JOB_BACKGROUND,
    { priority: Priority.NORMAL, background: true, layout: "reduce" },
  ],
] as const);

/** Handles the packets a client sends; returns false for any other type. */
export function handleClientPacket(c: ServerConnection, type: number, args: Uint8Array[]): boolean {
  const submit = SUBMITS.get(type);
  if (submit !== undefined) {
    handleSubmit(c, submit, args);
    return true;
  }
  switch (type) {
    case T.GET_STATUS:
      handleGetStatus(c, args[0] as Uint8Array);
      return true;
    case T.GET_STATUS_UNIQUE:
      handleGetStatusUnique(c, args[0] as Uint8Array);
      return true;
    case T.OPTION_REQ:
      handleOption(c, args[0] as Uint8Array);
      return true;
    case T.ECHO_REQ:
      c.replyPacket(T.ECHO_RES, [args[0] as Uint8Array]);
      return true;
    default:
      return false;
  }
}

function handleSubmit(c: ServerConnection, kind: SubmitKind, args: Uint8Array[]): void {
  const uniqueBytes = args[1] as Uint8Array;
  if (uniqueBytes.length > MAX_UNIQUE_SIZE) {
    c.sendError("ARGUMENT_TOO_LARGE", "Unique value too large");
    return;
  }
  const core = c.core;
  const data = args[args.length - 1] as Uint8Array;
  const unique = latin1(uniqueBytes);
  const fn = core.queue.fn(latin1(args[0] as Uint8Array));
  const key = JobQueue.keyOf(unique, data);
  const existing = key === undefined ? undefined : fn.byKey.get(key);
  if (existing !== undefined && existing.state !== JobState.DONE) {
    // Coalesce: the first submitter's payload and priority stand (PROTOCOL.md §5.2).
    existing.ignored = false;
    if (kind.background) {
      existing.background = true;
      core.acknowledgeBackground(existing, c);
    } else {
      core.attach(existing, c);
      c.replyPacket(T.JOB_CREATED, [existing.handle]);
    }
    return;
  }
  if (core.queue.isFull(fn, kind.priority)) {
    c.sendError("QUEUE_ERROR", "Job queue is full");
    return;
  }
  let when = 0;
  let reducer = "";
  if (kind.layout === "epoch") {
    const seconds = Number.parseInt(latin1(args[2] as Uint8Array), 10);
    when = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  } else if (kind.layout === "reduce") {
    reducer = latin1(args[2] as Uint8Array);
  }
  // A background job waits, not runnable, until its row is committed (Core.committed).
  const pending = kind.background && core.journal !== undefined;
  const job = core.queue.create(fn, key, {
    unique,
    data: data.slice(),
    reducer,
    priority: kind.priority,
    background: kind.background,
    when,
  }, pending);
  if (kind.background) {
    core.acknowledgeBackground(job, c);
  } else {
    core.attach(job, c);
    c.replyPacket(T.JOB_CREATED, [job.handle]);
  }
}

function handleGetStatus(c: ServerConnection, handleBytes: Uint8Array): void {
  const job = c.core.queue.jobs.get(latin1(handleBytes));
  if (job === undefined) {
    c.replyPacket(T.STATUS_RES, [handleBytes, "0", "0", "0", "0"]);
    return;
  }
  const running = job.state === JobState.RUNNING ? "1" : "0";
  c.replyPacket(T.STATUS_RES, [handleBytes, "1", running, job.numerator, job.denominator]);
}

function handleGetStatusUnique(c: ServerConnection, uniqueBytes: Uint8Array): void {
  const job = c.core.queue.findByUnique(latin1(uniqueBytes));
  if (job === undefined) {
    c.replyPacket(T.STATUS_RES_UNIQUE, [uniqueBytes, "0", "0", "0", "0", "0"]);
    return;
  }
  c.replyPacket(T.STATUS_RES_UNIQUE, [
    uniqueBytes,
    "1",
    job.state === JobState.RUNNING ? "1" : "0",
    job.numerator,
    job.denominator,
    String(job.clients?.length ?? 0),
  ]);
}

function handleOption(c: ServerConnection, name: Uint8Array): void {
  if (latin1(name).toLowerCase() === "exceptions") {
    c.exceptions = true;
    c.replyPacket(T.OPTION_RES, [name]);
  } else {
    c.sendError("UNKNOWN_OPTION", "Server does not recognize given option");
  }
}
