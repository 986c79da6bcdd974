import { PacketType, Priority } from "../protocol/constants.ts";
import type { Frame } from "../protocol/frame.ts";
import { latin1At } from "../util/bytes.ts";
import type { ServerConnection } from "./connection.ts";
import { JobState } from "./job.ts";
import { keyOf, payloadOf } from "./payload.ts";

/** Longest unique id accepted (gearmand's GEARMAN_MAX_UNIQUE_SIZE). */
export const MAX_UNIQUE_SIZE = 64;

const T = PacketType;

/** How each submit type lays out its arguments and what it asks for (PROTOCOL.md §5.1). */
interface SubmitKind {
  readonly priority: Priority;
  readonly background: boolean;
  readonly layout: "plain" | "epoch" | "reduce";
}

/** Submit kinds by packet type. */
const SUBMITS: readonly (SubmitKind | undefined)[] = (() => {
  const kinds: (SubmitKind | undefined)[] = [];
  const kind = (
    type: number,
    priority: Priority,
    background: boolean,
    layout: SubmitKind["layout"],
  ) => (kinds[type] = { priority, background, layout });
  kind(T.SUBMIT_JOB, Priority.NORMAL, false, "plain");
  kind(T.SUBMIT_JOB_BG, Priority.NORMAL, true, "plain");
  kind(T.SUBMIT_JOB_HIGH, Priority.HIGH, false, "plain");
  kind(T.SUBMIT_JOB_HIGH_BG, Priority.HIGH, true, "plain");
  kind(T.SUBMIT_JOB_LOW, Priority.LOW, false, "plain");
  kind(T.SUBMIT_JOB_LOW_BG, Priority.LOW, true, "plain");
  kind(T.SUBMIT_JOB_EPOCH, Priority.NORMAL, true, "epoch");
  kind(T.SUBMIT_REDUCE_JOB, Priority.NORMAL, false, "reduce");
  kind(T.SUBMIT_REDUCE_JOB_BACKGROUND, Priority.NORMAL, true, "reduce");
  for (let t = 0; t <= T.STATUS_RES_UNIQUE; t++) kinds[t] ??= undefined;
  return kinds;
})();

/** Handles the packets a client sends; returns false for any other type. */
export function handleClientPacket(c: ServerConnection, type: number, f: Frame): boolean {
  const submit = SUBMITS[type];
  if (submit !== undefined) {
    handleSubmit(c, submit, f);
    return true;
  }
  switch (type) {
    case T.GET_STATUS:
      handleGetStatus(c, f);
      return true;
    case T.GET_STATUS_UNIQUE:
      handleGetStatusUnique(c, f.arg(0));
      return true;
    case T.OPTION_REQ:
      handleOption(c, f.arg(0));
      return true;
    case T.ECHO_REQ:
      c.replyPacket(T.ECHO_RES, [f.arg(0)]);
      return true;
    default:
      return false;
  }
}

function handleSubmit(c: ServerConnection, kind: SubmitKind, f: Frame): void {
  const starts = f.starts;
  const ends = f.ends;
  if (f.size(1) > MAX_UNIQUE_SIZE) {
    c.sendError("ARGUMENT_TOO_LARGE", "Unique value too large");
    return;
  }
  const core = c.core;
  const queue = core.queue;
  const buf = f.buf;
  const last = f.count - 1;
  const unique = latin1At(buf, starts[1] as number, ends[1] as number);
  const fn = queue.fns.getAt(buf, starts[0] as number, ends[0] as number);
  // The key of "-" is the payload: only then is the payload needed before the job exists.
  const key = unique === "-" ? keyOf(unique, f.arg(last)) : keyOf(unique, "");
  const existing = key === undefined ? undefined : fn.byKey.get(key);
  if (existing !== undefined && existing.state !== JobState.DONE) {
    // Coalesce: the first submitter's payload and priority stand (PROTOCOL.md §5.2).
    existing.ignored = false;
    if (kind.background) {
      existing.background = true;
      core.acknowledgeBackground(existing, c);
    } else {
      core.attach(existing, c);
      c.sendCreated(existing);
    }
    return;
  }
  if (queue.isFull(fn, kind.priority)) {
    c.sendError("QUEUE_ERROR", "Job queue is full");
    return;
  }
  let when = 0;
  let reducer = "";
  if (kind.layout === "epoch") {
    const seconds = Number.parseInt(latin1At(buf, starts[2] as number, ends[2] as number), 10);
    when = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  } else if (kind.layout === "reduce") {
    reducer = latin1At(buf, starts[2] as number, ends[2] as number);
  }
  // A background job waits, not runnable, until its row is committed (Core.committed).
  const pending = kind.background && core.journal !== undefined;
  const job = queue.create(
    fn,
    key,
    unique,
    payloadOf(f),
    reducer,
    kind.priority,
    kind.background,
    when,
    pending,
  );
  if (kind.background) {
    core.acknowledgeBackground(job, c);
  } else {
    core.attach(job, c);
    if (!core.created.hold(c, job)) c.sendCreated(job);
  }
}

function handleGetStatus(c: ServerConnection, f: Frame): void {
  const handleBytes = f.arg(0);
  // A handle that spans reads (see PIECES_FROM) is far longer than any handle:
  // its first piece alone must not be taken for one.
  const job = f.rest.length > 0
    ? undefined
    : c.core.queue.byHandleAt(f.buf, f.starts[0] as number, f.ends[0] as number);
  if (job === undefined) {
    c.replyPacket(T.STATUS_RES, [handleBytes, "0", "0", "0", "0"]);
    return;
  }
  const running = job.state === JobState.RUNNING ? "1" : "0";
  c.replyPacket(T.STATUS_RES, [handleBytes, "1", running, job.numerator, job.denominator]);
}

function handleGetStatusUnique(c: ServerConnection, uniqueBytes: Uint8Array): void {
  const job = c.core.queue.findByUnique(latin1At(uniqueBytes, 0, uniqueBytes.length));
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
  if (latin1At(name, 0, name.length).toLowerCase() === "exceptions") {
    c.exceptions = true;
    c.replyPacket(T.OPTION_RES, [name]);
  } else {
    c.sendError("UNKNOWN_OPTION", "Server does not recognize given option");
  }
}
