import { JobExceptionError, JobFailedError } from "../errors.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { latin1 } from "../util/bytes.ts";
import type { JobControl } from "./foreground_job.ts";
import type { Reply } from "./link.ts";
import { decimalArg } from "./status_reply.ts";

/**
 * The submits waiting on one handle, one place each, in the order the
 * server attached them. Submits the server coalesced share a handle, and
 * the server sends every WORK_* packet once per attached submit, so the
 * copies are dealt out one per place. A submit that stopped waiting keeps
 * its place, empty, since the server still sends its copy.
 */
interface Attached {
  readonly places: (JobControl | undefined)[];
  /** The place the next copy of a progress packet goes to. */
  next: number;
  /** Copies of the job's end still to come, after the first one settled every place. */
  endsToSkip: number;
}

/**
 * The foreground jobs waiting on one server for their WORK_* packets, by
 * handle.
 */
export class WaitingJobs {
  readonly #jobs = new Map<string, Attached>();

  /** Starts passing the WORK_* packets of `handle` on to `control`. */
  add(handle: string, control: JobControl): void {
    const attached = this.#jobs.get(handle);
    if (attached === undefined || attached.endsToSkip > 0) {
      this.#jobs.set(handle, { places: [control], next: 0, endsToSkip: 0 });
    } else {
      attached.places.push(control);
    }
  }

  /** Stops passing packets on to `control` (it timed out or was aborted). */
  remove(handle: string, control: JobControl): void {
    const attached = this.#jobs.get(handle);
    if (attached === undefined) return;
    const at = attached.places.indexOf(control);
    if (at >= 0) attached.places[at] = undefined;
    if (attached.places.every((c) => c === undefined)) this.#jobs.delete(handle);
  }

  /** Fails every waiting job and forgets it: the connection was lost. */
  failAll(err: Error): void {
    for (const { places } of this.#jobs.values()) for (const ctl of places) ctl?.fail(err);
    this.#jobs.clear();
  }

  /**
   * Passes a WORK_* packet on to the job of its handle that this copy is
   * for; WORK_COMPLETE, WORK_FAIL and WORK_EXCEPTION settle every job of
   * the handle at the first copy. Packets of unknown handles are dropped.
   */
  onPacket(reply: Reply): void {
    const args = reply.args;
    // gearmand sends a converted WORK_FAIL as the handle plus one NUL (PROTOCOL.md §7.1).
    const handle = latin1(args[0] ?? new Uint8Array(0)).replace(/\0$/, "");
    const attached = this.#jobs.get(handle);
    if (attached === undefined) return;
    const { places } = attached;
    if (
      reply.type === T.WORK_COMPLETE || reply.type === T.WORK_FAIL ||
      reply.type === T.WORK_EXCEPTION
    ) {
      if (attached.endsToSkip > 0) {
        if (--attached.endsToSkip === 0) this.#jobs.delete(handle);
        return;
      }
      attached.endsToSkip = places.length - 1;
      if (attached.endsToSkip === 0) this.#jobs.delete(handle);
      for (const c of places) if (c !== undefined) end(c, reply, handle);
      return;
    }
    const c = places[attached.next];
    attached.next = (attached.next + 1) % places.length;
    switch (reply.type) {
      case T.WORK_DATA:
        c?.event({ type: "data", data: args[1] as Uint8Array });
        return;
      case T.WORK_WARNING:
        c?.event({ type: "warning", data: args[1] as Uint8Array });
        return;
      case T.WORK_STATUS:
        c?.event({
          type: "status",
          numerator: decimalArg(args[1]),
          denominator: decimalArg(args[2]),
        });
        return;
    }
  }
}

/** Settles `c` with the job's end: its result or its failure. */
function end(c: JobControl, reply: Reply, handle: string): void {
  const args = reply.args;
  if (reply.type === T.WORK_COMPLETE) c.complete(args[1] as Uint8Array);
  else if (reply.type === T.WORK_FAIL) c.fail(new JobFailedError(handle));
  else c.fail(new JobExceptionError(handle, args[1] as Uint8Array));
}
