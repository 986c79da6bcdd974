import { latin1 } from "../util/bytes.ts";
import type { JobStatus } from "./client_types.ts";
import type { Reply } from "./link.ts";

/**
 * A decimal argument (of STATUS_RES or WORK_STATUS) as a number; 0 when it
 * is missing or not a number.
 */
export function decimalArg(bytes: Uint8Array | undefined): number {
  const n = Number(latin1(bytes ?? new Uint8Array(0)));
  return Number.isFinite(n) ? n : 0;
}

/** A STATUS_RES, or with `byUnique` a STATUS_RES_UNIQUE, as a {@link JobStatus}. */
export function parseStatus(reply: Reply, byUnique: boolean): JobStatus {
  const a = reply.args;
  const status = {
    known: latin1(a[1] as Uint8Array) === "1",
    running: latin1(a[2] as Uint8Array) === "1",
    numerator: decimalArg(a[3]),
    denominator: decimalArg(a[4]),
  };
  return byUnique ? { ...status, waiting: decimalArg(a[5]) } : status;
}
