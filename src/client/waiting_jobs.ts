import { JobExceptionError, JobFailedError } from "../errors.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { latin1 } from "../util/bytes.ts";
import type { JobControl } from "./foreground_job.ts";
import type { Reply } from "./link.ts";
import { decimalArg } from "./status_reply.ts";

/**
 * The foreground jobs waiting on one server for their WORK_* packets, by
 * handle. Submits the server coalesced share a handle, so one packet may
 * go to several jobs.
 */
export class WaitingJobs {
  readonly #jobs = new Map<string, JobControl[]>();

  /** Starts passing the WORK_* packets of `handle` on to `control`. */
  add(handle: string, control: JobControl): void {
    const list = this.#jobs.get(handle);
    if (list === undefined) this.#jobs.set(handle, [control]);
    else list.push(control);
  }

  /** Stops passing packets on to `control` (it timed out or was aborted). */
  remove(handle: string, control: JobControl): void {
    const list = this.#jobs.get(handle);
    if (list === undefined) return;
    const kept = list.filter((c) => c !== control);
    if (kept.length === 0) this.#jobs.delete(handle);
    else this.#jobs.set(handle, kept);
  }

  /** Fails every waiting job and forgets it: the connection was lost. */
  failAll(err: Error): void {
    for (const list of this.#jobs.values()) for (const ctl of list) ctl.fail(err);
    this.#jobs.clear();
  }

  /**
   * Passes a WORK_* packet on to the jobs of its handle; WORK_COMPLETE,
   * WORK_FAIL and WORK_EXCEPTION settle them. Packets of unknown handles are
   * dropped.
   */
  onPacket(reply: Reply): void {
    const args = reply.args;
    // gearmand sends a converted WORK_FAIL as the handle plus one NUL (PROTOCOL.md §7.1).
    const handle = latin1(args[0] ?? new Uint8Array(0)).replace(/\0$/, "");
    const list = this.#jobs.get(handle);
    if (list === undefined) return;
    switch (reply.type) {
      case T.WORK_DATA:
        for (const c of list) c.event({ type: "data", data: args[1] as Uint8Array });
        return;
      case T.WORK_WARNING:
        for (const c of list) c.event({ type: "warning", data: args[1] as Uint8Array });
        return;
      case T.WORK_STATUS:
        for (const c of list) {
          c.event({
            type: "status",
            numerator: decimalArg(args[1]),
            denominator: decimalArg(args[2]),
          });
        }
        return;
      case T.WORK_COMPLETE:
        this.#jobs.delete(handle);
        for (const c of list) c.complete(args[1] as Uint8Array);
        return;
      case T.WORK_FAIL:
        this.#jobs.delete(handle);
        for (const c of list) c.fail(new JobFailedError(handle));
        return;
      case T.WORK_EXCEPTION:
        this.#jobs.delete(handle);
        for (const c of list) c.fail(new JobExceptionError(handle, args[1] as Uint8Array));
        return;
    }
  }
}
